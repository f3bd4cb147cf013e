import { hash, verify } from "@node-rs/argon2";
import { Prisma, type Role } from "~/generated/prisma/client.ts";
import type { PaymentProvider } from "~/generated/prisma/enums.ts";
import { prisma } from "~/db/db.server.ts";
import { escapeLike } from "./sql.server.ts";
import { LOOKUP_KEY_OWNERS_VERSION, noteLookupKeyOwnersVersion } from "./tier.server.ts";
import { createPersonalAccount } from "./account.server.ts";
import { type Db, inTransaction } from "./transaction.server.ts";

export type { Role, User } from "~/generated/prisma/client.ts";

/** Emails are compared case-insensitively: they are always stored lower-cased. */
function normalizeEmail(email: string) {
  return email.trim().toLowerCase();
}

// argon2id is @node-rs/argon2's default algorithm.
export function hashPassword(password: string) {
  return hash(password);
}

export async function createUser({
  email,
  password,
  role = "customer",
}: {
  email: string;
  password: string;
  role?: Role;
}) {
  const passwordHash = await hashPassword(password);
  // Every user owns a personal account from the start (issue 19): both or neither.
  return inTransaction(async (tx) => {
    const user = await tx.user.create({ data: { email: normalizeEmail(email), passwordHash, role } });
    await createPersonalAccount(tx, user);
    return user;
  });
}

export function getUserByEmail(email: string) {
  return prisma.user.findUnique({ where: { email: normalizeEmail(email) } });
}

export function getUserById(id: number) {
  return prisma.user.findUnique({ where: { id } });
}

// Verifying against a real hash even for unknown emails keeps the response time the same,
// so timing does not reveal which emails have accounts.
let dummyHash: Promise<string> | undefined;

export async function verifyLogin(email: string, password: string) {
  const user = await getUserByEmail(email);
  const passwordHash = user?.passwordHash ?? (await (dummyHash ??= hashPassword("not-a-real-password")));
  const ok = await verify(passwordHash, password).catch(() => false);
  return ok && user ? user : null;
}

/** Whether `password` is the user's current one (changing a password asks for it). */
export async function verifyUserPassword(userId: number, password: string) {
  const user = await prisma.user.findUnique({ where: { id: userId }, select: { passwordHash: true } });
  return user ? verify(user.passwordHash, password).catch(() => false) : false;
}

export async function setPasswordHash(tx: Db, userId: number, passwordHash: string) {
  await tx.user.update({ where: { id: userId }, data: { passwordHash }, select: { id: true } });
}

/** A write lost a race for a unique value (e.g. two sign-ups with one email). */
export function isUniqueViolation(error: unknown) {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002";
}

/** The billing fields of a user, as the webhook path reads and writes them. */
export type BillingUser = {
  id: number;
  tierId: number | null;
  stripeCustomerId: string | null;
  stripeSubscriptionId: string | null;
  subscriptionStatus: string | null;
  subscriptionSyncedAt: Date | null;
  // The one-paid-tier rules' facts (docs/decisions/006), read with the lock rather than after it.
  /** The stored tier: none, an exempt one, or a paid one. */
  tier: "none" | "exempt" | "paid";
  billingSource: PaymentProvider | null;
  billingSince: Date | null;
  whopMembershipId: string | null;
  whopMembershipStatus: string | null;
  whopProductId: string | null;
};

/**
 * The kind of the user's stored tier: none, exempt or paid. A subquery, not a join: when FOR UPDATE
 * waits for another transaction that changed the user's tier, PostgreSQL rechecks the locked row's
 * new version against the *old* joined tier row, and the join would come back empty ("none").
 * Evaluated on the new version, the subquery finds the tier the other transaction left.
 */
export const TIER_KIND = Prisma.sql`COALESCE((
  SELECT CASE WHEN t.is_billing_exempt OR t.billing_provider = 'exempt' THEN 'exempt' ELSE 'paid' END
    FROM subscription_tier t WHERE t.id = u.tier_id), 'none')`;

/** What lockBillingUser reads of `users u`, with the lookup-key owners' fingerprint. */
export const BILLING_USER_COLUMNS = Prisma.sql`
  u.id, u.tier_id AS "tierId", u.stripe_customer_id AS "stripeCustomerId",
  u.stripe_subscription_id AS "stripeSubscriptionId", u.subscription_status AS "subscriptionStatus",
  u.subscription_synced_at AS "subscriptionSyncedAt", ${TIER_KIND} AS "tier",
  u.billing_source AS "billingSource", u.billing_since AS "billingSince",
  u.whop_membership_id AS "whopMembershipId", u.whop_membership_status AS "whopMembershipStatus",
  u.whop_product_id AS "whopProductId", ${LOOKUP_KEY_OWNERS_VERSION} AS "ownersVersion"`;

export type LockedBillingUserRow = BillingUser & { ownersVersion: string };

/** A row read with BILLING_USER_COLUMNS under FOR UPDATE, as the billing user it is (notes the fingerprint). */
export function lockedBillingUser(tx: Db, row: LockedBillingUserRow): BillingUser {
  const { ownersVersion, ...user } = row;
  noteLookupKeyOwnersVersion(tx, ownersVersion);
  return user;
}

/**
 * The user, locked until the caller's transaction ends, so concurrent events for one user are
 * applied one after the other and each sees the state the previous one left. The same round trip
 * reads the lookup-key owners' fingerprint, so resolving the subscription's tier needs no query of
 * its own while the tiers are unchanged (findLookupKeyOwners).
 */
export async function lockBillingUser(
  tx: Db,
  by: { id: number } | { stripeCustomerId: string },
): Promise<BillingUser | null> {
  const where = "id" in by ? Prisma.sql`u.id = ${by.id}` : Prisma.sql`u.stripe_customer_id = ${by.stripeCustomerId}`;
  const rows = await tx.$queryRaw<LockedBillingUserRow[]>`
    SELECT ${BILLING_USER_COLUMNS} FROM users u WHERE ${where} FOR UPDATE`;
  const row = rows[0];
  return row ? lockedBillingUser(tx, row) : null;
}

export type BillingUpdate = {
  tierId?: number | null;
  stripeCustomerId?: string | null;
  stripeSubscriptionId?: string | null;
  subscriptionStatus?: string | null;
  /** Which provider granted the stored tier, and since when (the one-paid-tier rules). */
  billingSource?: PaymentProvider | null;
  billingSince?: Date | null;
  /** The `created` time of the Stripe state applied: older events are stale from now on. */
  subscriptionSyncedAt: Date;
};

export class StripeCustomerTakenError extends Error {
  name = "StripeCustomerTakenError";
}

/** Whether a unique index refused a write, through Prisma's model API, its raw SQL, or node-postgres. */
function violatesUniqueIndex(error: unknown): boolean {
  if (isUniqueViolation(error)) return true;
  if (error instanceof Prisma.PrismaClientKnownRequestError) {
    const adapterError = error.meta?.driverAdapterError as
      { cause?: { originalCode?: unknown; kind?: unknown } } | undefined;
    const cause = adapterError?.cause;
    return cause?.originalCode === "23505" || cause?.kind === "UniqueConstraintViolation";
  }
  return (error as { code?: unknown } | null)?.code === "23505";
}

/** Writes a user's billing state (one UPDATE); StripeCustomerTakenError when another user has that customer. */
export async function updateBillingUser(tx: Db, userId: number, data: BillingUpdate) {
  const assignments = [
    Prisma.sql`subscription_synced_at = ${data.subscriptionSyncedAt}`,
    Prisma.sql`billing_version = billing_version + 1`,
  ];
  // As with Prisma's update, a field left undefined keeps its value.
  if (data.tierId !== undefined) assignments.push(Prisma.sql`tier_id = ${data.tierId}`);
  const { stripeCustomerId, stripeSubscriptionId, subscriptionStatus } = data;
  if (stripeCustomerId !== undefined) assignments.push(Prisma.sql`stripe_customer_id = ${stripeCustomerId}`);
  if (stripeSubscriptionId !== undefined)
    assignments.push(Prisma.sql`stripe_subscription_id = ${stripeSubscriptionId}`);
  if (subscriptionStatus !== undefined) assignments.push(Prisma.sql`subscription_status = ${subscriptionStatus}`);
  if (data.billingSource !== undefined)
    assignments.push(Prisma.sql`billing_source = ${data.billingSource}::payment_provider`);
  if (data.billingSince !== undefined) assignments.push(Prisma.sql`billing_since = ${data.billingSince}`);
  let updated: number;
  try {
    updated = await tx.$executeRaw`UPDATE users SET ${Prisma.join(assignments, ", ")} WHERE id = ${userId}`;
  } catch (error) {
    if (violatesUniqueIndex(error)) {
      throw new StripeCustomerTakenError(
        `Stripe customer ${String(data.stripeCustomerId)} is already linked to another Tierdesk user.`,
      );
    }
    throw error;
  }
  if (updated !== 1) throw new Error(`Tierdesk user ${userId} does not exist.`);
}

// ---------------------------------------------------------------------------------------------
// Support: finding users and changing roles and exempt tiers

const USERS_PAGE_SIZE = 50;

export type UserSearch = {
  /** An email (or its beginning), a Stripe customer id (cus_…) or subscription id (sub_…), a Whop user (user_…) or membership (mem_…). */
  q?: string;
  role?: Role;
  /** A tier key; "free" also matches users without a tier. */
  tierKey?: string;
  /** A subscription status, or "none" for users who never subscribed. */
  status?: string;
};

function userConditions({ q, role, tierKey, status }: UserSearch): Prisma.Sql[] {
  const where: Prisma.Sql[] = [];
  if (q) {
    if (q.startsWith("cus_")) where.push(Prisma.sql`u.stripe_customer_id = ${q}`);
    else if (q.startsWith("sub_")) where.push(Prisma.sql`u.stripe_subscription_id = ${q}`);
    // Whop ids (never an email: those have an "@").
    else if (/^user_[A-Za-z0-9]+$/.test(q)) where.push(Prisma.sql`u.whop_user_id = ${q}`);
    else if (/^mem_[A-Za-z0-9]+$/.test(q)) where.push(Prisma.sql`u.whop_membership_id = ${q}`);
    else where.push(Prisma.sql`u.email LIKE ${`${escapeLike(q.trim().toLowerCase())}%`}`);
  }
  if (role) where.push(Prisma.sql`u.role = ${role}::user_role`);
  if (tierKey) {
    where.push(
      tierKey === "free"
        ? Prisma.sql`(u.tier_id IS NULL OR u.tier_id = (SELECT id FROM subscription_tier WHERE key = 'free'))`
        : Prisma.sql`u.tier_id = (SELECT id FROM subscription_tier WHERE key = ${tierKey})`,
    );
  }
  if (status)
    where.push(
      status === "none" ? Prisma.sql`u.subscription_status IS NULL` : Prisma.sql`u.subscription_status = ${status}`,
    );
  return where;
}

export type UserListRow = {
  id: number;
  email: string;
  role: Role;
  tierKey: string | null;
  tierName: string | null;
  subscriptionStatus: string | null;
  stripeCustomerId: string | null;
  createdAt: Date;
};

/** Newest users first, keyset-paged on id (`after`: older, `before`: newer); one extra row tells if more exist. */
export async function listUsersPage(
  search: UserSearch,
  page: { after?: number; before?: number } = {},
  take = USERS_PAGE_SIZE,
) {
  const where = userConditions(search);
  if (page.after) where.push(Prisma.sql`u.id < ${page.after}`);
  if (page.before) where.push(Prisma.sql`u.id > ${page.before}`);
  const clause = where.length ? Prisma.sql`WHERE ${Prisma.join(where, " AND ")}` : Prisma.empty;
  const order = page.before ? Prisma.sql`ORDER BY u.id ASC` : Prisma.sql`ORDER BY u.id DESC`;
  const rows = await prisma.$queryRaw<UserListRow[]>`
    SELECT u.id, u.email, u.role, t.key AS "tierKey", t.name AS "tierName", u.subscription_status AS "subscriptionStatus",
           u.stripe_customer_id AS "stripeCustomerId", u.created_at AS "createdAt"
      FROM users u LEFT JOIN subscription_tier t ON t.id = u.tier_id
      ${clause} ${order} LIMIT ${take + 1}`;
  const more = rows.length > take;
  const pageRows = rows.slice(0, take);
  if (page.before) pageRows.reverse();
  return {
    rows: pageRows,
    hasOlder: page.before ? true : more,
    hasNewer: page.before ? more : Boolean(page.after),
  };
}

export function getUserWithTier(id: number, db: Db = prisma) {
  return db.user.findUnique({ where: { id }, include: { tier: true } });
}

export type UserWithTier = NonNullable<Awaited<ReturnType<typeof getUserWithTier>>>;

/** The user, locked for a role or tier change; with every admin locked too, so "the last admin" is decided once. */
export async function lockUserForRoleChange(tx: Db, id: number) {
  const admins = await tx.$queryRaw<
    Array<{ id: number }>
  >`SELECT id FROM users WHERE role = 'admin' ORDER BY id FOR UPDATE`;
  const rows = await tx.$queryRaw<Array<{ id: number }>>`SELECT id FROM users WHERE id = ${id} FOR UPDATE`;
  if (!rows.length) return null;
  const user = await tx.user.findUnique({ where: { id }, include: { tier: true } });
  return user ? { user, adminCount: admins.length } : null;
}

export async function setUserRole(tx: Db, id: number, role: Role) {
  await tx.user.update({ where: { id }, data: { role }, select: { id: true } });
}

export async function setUserTier(tx: Db, id: number, tierId: number | null) {
  await tx.user.update({ where: { id }, data: { tierId }, select: { id: true } });
}

export function findUserByStripeCustomer(customerId: string) {
  return prisma.user.findUnique({ where: { stripeCustomerId: customerId }, select: { id: true, email: true } });
}

/** The user linked to this Stripe customer, with their tier, locked until the caller's transaction ends. */
export async function lockUserByStripeCustomer(tx: Db, customerId: string) {
  const rows = await tx.$queryRaw<
    Array<{ id: number }>
  >`SELECT id FROM users WHERE stripe_customer_id = ${customerId} FOR UPDATE`;
  const row = rows[0];
  return row ? tx.user.findUnique({ where: { id: row.id }, include: { tier: true } }) : null;
}
