import { hash, verify } from "@node-rs/argon2";
import { Prisma, type Role } from "~/generated/prisma/client.ts";
import { prisma } from "~/db/db.server.ts";
import { escapeLike } from "./sql.server.ts";
import { createPersonalAccount } from "./account.server.ts";
import { type Db, inTransaction } from "./transaction.server.ts";
import { writeWebhookMessagesAtCommit } from "./webhook-outbox.server.ts";

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
  onAnnounced,
}: {
  email: string;
  password: string;
  role?: Role;
  /** Runs after the commit when the account.created webhook was written (the caller starts its delivery). */
  onAnnounced?: () => void;
}) {
  const passwordHash = await hashPassword(password);
  // Every user owns a personal account from the start (issue 19): both or neither.
  return inTransaction(async (tx) => {
    const user = await tx.user.create({ data: { email: normalizeEmail(email), passwordHash, role } });
    const account = await createPersonalAccount(tx, user);
    await writeWebhookMessagesAtCommit(tx, [account.id], "account.created", onAnnounced);
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

// ---------------------------------------------------------------------------------------------
// Support: finding users and changing roles

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

// Billing ids and tiers live on accounts: a user matches through the accounts they belong to.
const MEMBER_OF = (accountCondition: Prisma.Sql) =>
  Prisma.sql`u.id IN (SELECT m.user_id FROM memberships m JOIN accounts a ON a.id = m.account_id WHERE ${accountCondition})`;

function userConditions({ q, role, tierKey, status }: UserSearch): Prisma.Sql[] {
  const where: Prisma.Sql[] = [];
  if (q) {
    if (q.startsWith("cus_")) where.push(MEMBER_OF(Prisma.sql`a.stripe_customer_id = ${q}`));
    else if (q.startsWith("sub_")) where.push(MEMBER_OF(Prisma.sql`a.stripe_subscription_id = ${q}`));
    // Whop ids (never an email: those have an "@").
    else if (/^user_[A-Za-z0-9]+$/.test(q)) where.push(MEMBER_OF(Prisma.sql`a.whop_user_id = ${q}`));
    else if (/^mem_[A-Za-z0-9]+$/.test(q)) where.push(MEMBER_OF(Prisma.sql`a.whop_membership_id = ${q}`));
    else where.push(Prisma.sql`u.email LIKE ${`${escapeLike(q.trim().toLowerCase())}%`}`);
  }
  if (role) where.push(Prisma.sql`u.role = ${role}::user_role`);
  // Tier and status: of the user's personal account (the plan they pay for themselves).
  if (tierKey) {
    where.push(
      tierKey === "free"
        ? Prisma.sql`(p.tier_id IS NULL OR p.tier_id = (SELECT id FROM subscription_tier WHERE key = 'free'))`
        : Prisma.sql`p.tier_id = (SELECT id FROM subscription_tier WHERE key = ${tierKey})`,
    );
  }
  if (status)
    where.push(
      status === "none" ? Prisma.sql`p.subscription_status IS NULL` : Prisma.sql`p.subscription_status = ${status}`,
    );
  return where;
}

/** The user's personal account (the oldest they own), joined as `p`. */
const PERSONAL_ACCOUNT = Prisma.sql`LEFT JOIN LATERAL (
    SELECT a.* FROM memberships m JOIN accounts a ON a.id = m.account_id
     WHERE m.user_id = u.id AND m.role = 'owner' ORDER BY m.account_id LIMIT 1) p ON true`;

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
    SELECT u.id, u.email, u.role, t.key AS "tierKey", t.name AS "tierName", p.subscription_status AS "subscriptionStatus",
           p.stripe_customer_id AS "stripeCustomerId", u.created_at AS "createdAt"
      FROM users u ${PERSONAL_ACCOUNT} LEFT JOIN subscription_tier t ON t.id = p.tier_id
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

/** The user, locked for a role change; with every admin locked too, so "the last admin" is decided once. */
export async function lockUserForRoleChange(tx: Db, id: number) {
  const admins = await tx.$queryRaw<
    Array<{ id: number }>
  >`SELECT id FROM users WHERE role = 'admin' ORDER BY id FOR UPDATE`;
  const rows = await tx.$queryRaw<Array<{ id: number }>>`SELECT id FROM users WHERE id = ${id} FOR UPDATE`;
  if (!rows.length) return null;
  const user = await tx.user.findUnique({ where: { id } });
  return user ? { user, adminCount: admins.length } : null;
}

export async function setUserRole(tx: Db, id: number, role: Role) {
  await tx.user.update({ where: { id }, data: { role }, select: { id: true } });
}

/**
 * The user with this email inside `tx`, made (with `passwordHash` and their personal account, as
 * `createUser` makes them) when there is none. A concurrent insert of the same email waits for the
 * other transaction and then reads its user (ON CONFLICT), so the caller's transaction never aborts.
 */
export async function findOrCreateUserIn(
  tx: Db,
  email: string,
  passwordHash: () => Promise<string>,
  onAnnounced?: () => void,
): Promise<{ id: number; email: string; created: boolean }> {
  const normalized = normalizeEmail(email);
  const found = await tx.user.findUnique({ where: { email: normalized }, select: { id: true, email: true } });
  if (found) return { ...found, created: false };
  const hash = await passwordHash();
  const inserted = await tx.$queryRaw<Array<{ id: number; email: string }>>`
    INSERT INTO users (email, password_hash) VALUES (${normalized}, ${hash})
    ON CONFLICT (email) DO NOTHING RETURNING id, email`;
  const user = inserted[0];
  if (!user) {
    const other = await tx.user.findUniqueOrThrow({ where: { email: normalized }, select: { id: true, email: true } });
    return { ...other, created: false };
  }
  const account = await createPersonalAccount(tx, user);
  await writeWebhookMessagesAtCommit(tx, [account.id], "account.created", onAnnounced);
  return { ...user, created: true };
}
