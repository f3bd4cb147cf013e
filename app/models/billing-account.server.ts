// An account's billing state as the webhook path reads and writes it: its Stripe customer and
// subscription, the tier they grant, and the one-paid-tier facts across Stripe and Whop. The account
// is locked with the fact row in one round trip and written with one UPDATE.
import { Prisma } from "~/generated/prisma/client.ts";
import type { PaymentProvider } from "~/generated/prisma/enums.ts";
import { LOOKUP_KEY_OWNERS_VERSION, noteLookupKeyOwnersVersion } from "./tier.server.ts";
import { prisma } from "~/db/db.server.ts";
import type { Db } from "./transaction.server.ts";
import { isUniqueViolation } from "./user.server.ts";
import { notifyAccountChanged, seatMarkAfter } from "./seats.server.ts";
import { ANY_WEBHOOK_ENDPOINT, noteWebhookEndpoints } from "./webhook-outbox.server.ts";

/** The billing fields of an account, as the webhook path reads and writes them. */
export type BillingAccount = {
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
 * The kind of the account's stored tier: none, exempt or paid. A subquery, not a join: when FOR UPDATE
 * waits for another transaction that changed the account's tier, PostgreSQL rechecks the locked row's
 * new version against the *old* joined tier row, and the join would come back empty ("none").
 * Evaluated on the new version, the subquery finds the tier the other transaction left.
 */
export const TIER_KIND = Prisma.sql`COALESCE((
  SELECT CASE WHEN t.is_billing_exempt OR t.billing_provider = 'exempt' THEN 'exempt' ELSE 'paid' END
    FROM subscription_tier t WHERE t.id = a.tier_id), 'none')`;

/** What lockBillingAccount reads of `accounts a`, with the lookup-key owners' fingerprint. */
export const BILLING_ACCOUNT_COLUMNS = Prisma.sql`
  a.id, a.tier_id AS "tierId", a.stripe_customer_id AS "stripeCustomerId",
  a.stripe_subscription_id AS "stripeSubscriptionId", a.subscription_status AS "subscriptionStatus",
  a.subscription_synced_at AS "subscriptionSyncedAt", ${TIER_KIND} AS "tier",
  a.billing_source AS "billingSource", a.billing_since AS "billingSince",
  a.whop_membership_id AS "whopMembershipId", a.whop_membership_status AS "whopMembershipStatus",
  a.whop_product_id AS "whopProductId", ${LOOKUP_KEY_OWNERS_VERSION} AS "ownersVersion",
  ${ANY_WEBHOOK_ENDPOINT} AS "webhooksOn"`;

export type LockedBillingAccountRow = BillingAccount & { ownersVersion: string; webhooksOn: boolean };

/** A row read with BILLING_ACCOUNT_COLUMNS under FOR UPDATE, as the billing account it is (notes the fingerprint). */
export function lockedBillingAccount(tx: Db, row: LockedBillingAccountRow): BillingAccount {
  const { ownersVersion, webhooksOn, ...account } = row;
  noteLookupKeyOwnersVersion(tx, ownersVersion);
  noteWebhookEndpoints(tx, webhooksOn);
  return account;
}

/**
 * The account, locked until the caller's transaction ends, so concurrent events for one account are
 * applied one after the other and each sees the state the previous one left. The same round trip
 * reads the lookup-key owners' fingerprint, so resolving the subscription's tier needs no query of
 * its own while the tiers are unchanged (findLookupKeyOwners).
 */
export async function lockBillingAccount(
  tx: Db,
  by: { id: number } | { stripeCustomerId: string },
): Promise<BillingAccount | null> {
  const where = "id" in by ? Prisma.sql`a.id = ${by.id}` : Prisma.sql`a.stripe_customer_id = ${by.stripeCustomerId}`;
  const rows = await tx.$queryRaw<LockedBillingAccountRow[]>`
    SELECT ${BILLING_ACCOUNT_COLUMNS} FROM accounts a WHERE ${where} FOR UPDATE`;
  const row = rows[0];
  return row ? lockedBillingAccount(tx, row) : null;
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

/** Writes an account's billing state (one UPDATE); StripeCustomerTakenError when another account has that customer. */
export async function updateBillingAccount(tx: Db, accountId: number, data: BillingUpdate) {
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
  // A new tier, status or provider moves the seat mark and the API caches: in this same statement.
  const seatsMove =
    data.tierId !== undefined || data.subscriptionStatus !== undefined || data.billingSource !== undefined;
  if (seatsMove) {
    assignments.push(
      seatMarkAfter({
        tierId: data.tierId !== undefined ? Prisma.sql`${data.tierId}::int` : Prisma.sql`accounts.tier_id`,
        source:
          data.billingSource !== undefined
            ? Prisma.sql`${data.billingSource}::payment_provider`
            : Prisma.sql`accounts.billing_source`,
        status:
          data.subscriptionStatus !== undefined
            ? Prisma.sql`${data.subscriptionStatus}::text`
            : Prisma.sql`accounts.subscription_status`,
      }),
    );
  }
  let updated: number;
  try {
    const update = Prisma.sql`UPDATE accounts SET ${Prisma.join(assignments, ", ")} WHERE id = ${accountId} RETURNING id`;
    // pg_notify is void: tested (never null) so the row stays one `id`, and it is sent at COMMIT.
    const rows = await tx.$queryRaw<Array<{ id: number }>>`
      WITH updated AS (${update})
      SELECT id FROM updated ${seatsMove ? Prisma.sql`WHERE ${notifyAccountChanged(Prisma.sql`id`)} IS NOT NULL` : Prisma.empty}`;
    updated = rows.length;
  } catch (error) {
    if (violatesUniqueIndex(error)) {
      throw new StripeCustomerTakenError(
        `Stripe customer ${String(data.stripeCustomerId)} is already linked to another Tierdesk account.`,
      );
    }
    throw error;
  }
  if (updated !== 1) throw new Error(`Tierdesk account ${accountId} does not exist.`);
}

/** The account that has this Stripe customer (support's event page links to it). */
export function findAccountByStripeCustomer(customerId: string) {
  return prisma.account.findUnique({ where: { stripeCustomerId: customerId }, select: { id: true, name: true } });
}

/** An account with its stored tier (support's pages, the customer's own). */
export function getBillingAccount(id: number, db: Db = prisma) {
  return db.account.findUnique({ where: { id }, include: { tier: true } });
}

export type AccountWithTier = NonNullable<Awaited<ReturnType<typeof getBillingAccount>>>;

/** The account locked for an admin's change (exempt tier), with its tier. */
export async function lockAccountForAdmin(tx: Db, id: number) {
  const rows = await tx.$queryRaw<Array<{ id: number }>>`SELECT id FROM accounts WHERE id = ${id} FOR UPDATE`;
  return rows.length ? getBillingAccount(id, tx) : null;
}

export async function setAccountTier(tx: Db, id: number, tierId: number | null) {
  await tx.account.update({
    where: { id },
    data: { tierId, billingVersion: { increment: 1 } },
    select: { id: true },
  });
}

/**
 * A user's personal account: the oldest one they own (sign-up creates it; the migration that moved
 * billing to accounts moved each user's state there). Null only for a user who owns none.
 */
export async function personalAccountIdOf(userId: number, db: Db = prisma): Promise<number | null> {
  const first = await db.membership.findFirst({
    where: { userId, role: "owner" },
    orderBy: { accountId: "asc" },
    select: { accountId: true },
  });
  return first?.accountId ?? null;
}

/** The account linked to this Stripe customer, with its tier, locked until the caller's transaction ends. */
export async function lockAccountByStripeCustomer(tx: Db, customerId: string) {
  const rows = await tx.$queryRaw<
    Array<{ id: number }>
  >`SELECT id FROM accounts WHERE stripe_customer_id = ${customerId} FOR UPDATE`;
  const row = rows[0];
  return row ? getBillingAccount(row.id, tx) : null;
}

/**
 * Links a Stripe customer just created for the account (checkout), unless one was linked meanwhile:
 * the account's customer either way.
 */
export async function linkNewStripeCustomer(accountId: number, customerId: string): Promise<string> {
  const rows = await prisma.$queryRaw<Array<{ customer: string | null }>>`
    WITH linked AS (
      UPDATE accounts SET stripe_customer_id = ${customerId}, billing_version = billing_version + 1
       WHERE id = ${accountId} AND stripe_customer_id IS NULL RETURNING stripe_customer_id)
    SELECT COALESCE((SELECT stripe_customer_id FROM linked),
                    (SELECT stripe_customer_id FROM accounts WHERE id = ${accountId})) AS customer`;
  return rows[0]?.customer ?? customerId;
}

/** The accounts of these Stripe customers (one query), for naming a subscription's account. */
export function listAccountsByStripeCustomers(customerIds: readonly string[]) {
  if (!customerIds.length) return Promise.resolve([]);
  return prisma.account.findMany({
    where: { stripeCustomerId: { in: [...customerIds] } },
    select: { id: true, name: true, stripeCustomerId: true },
  });
}
