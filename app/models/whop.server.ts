// Whop's side of an account's billing (the membership, its status and how it was linked) and the tiers
// sold through Whop. The webhook path locks the account, reads the rules' facts in one row, writes once.
import { Prisma } from "~/generated/prisma/client.ts";
import type { PaymentProvider } from "~/generated/prisma/enums.ts";
import { prisma } from "~/db/db.server.ts";
import type { Db } from "./transaction.server.ts";
import { TIER_KIND } from "./billing-account.server.ts";

export type { PaymentProvider } from "~/generated/prisma/enums.ts";

/** An account as the Whop webhook path and the overlap rules read it. */
export type WhopBillingAccount = {
  id: number;
  tierId: number | null;
  /** The stored tier: none, an exempt one, or a paid one. */
  tier: "none" | "exempt" | "paid";
  billingSource: PaymentProvider | null;
  billingSince: Date | null;
  stripeSubscriptionId: string | null;
  subscriptionStatus: string | null;
  whopUserId: string | null;
  whopMembershipId: string | null;
  whopMembershipStatus: string | null;
  whopProductId: string | null;
  whopSyncedAt: Date | null;
};

const COLUMNS = Prisma.sql`
  a.id, a.tier_id AS "tierId",
  ${TIER_KIND} AS "tier",
  a.billing_source AS "billingSource", a.billing_since AS "billingSince",
  a.stripe_subscription_id AS "stripeSubscriptionId", a.subscription_status AS "subscriptionStatus",
  a.whop_user_id AS "whopUserId", a.whop_membership_id AS "whopMembershipId",
  a.whop_membership_status AS "whopMembershipStatus", a.whop_product_id AS "whopProductId",
  a.whop_synced_at AS "whopSyncedAt"`;

/** How a Whop event finds its account: by id (checkout metadata), membership, Whop user, or the email of an owner. */
export type WhopAccountKey = { id: number } | { whopMembershipId: string } | { whopUserId: string } | { email: string };

function condition(by: WhopAccountKey): Prisma.Sql {
  if ("id" in by) return Prisma.sql`a.id = ${by.id}`;
  if ("whopMembershipId" in by) return Prisma.sql`a.whop_membership_id = ${by.whopMembershipId}`;
  if ("whopUserId" in by) return Prisma.sql`a.whop_user_id = ${by.whopUserId}`;
  // The buyer's personal account: the oldest one the user with that email owns.
  return Prisma.sql`a.id = (SELECT min(m.account_id) FROM memberships m JOIN users u ON u.id = m.user_id
                            WHERE u.email = ${by.email.trim().toLowerCase()} AND m.role = 'owner')`;
}

/**
 * The account, locked until the caller's transaction ends (events for one account apply one after the
 * other, whichever provider sent them). The oldest account wins when several match.
 */
export async function lockWhopBillingAccount(tx: Db, by: WhopAccountKey): Promise<WhopBillingAccount | null> {
  const rows = await tx.$queryRaw<WhopBillingAccount[]>`
    SELECT ${COLUMNS}
      FROM accounts a
     WHERE ${condition(by)}
     ORDER BY a.id LIMIT 1
       FOR UPDATE`;
  return rows[0] ?? null;
}

export type WhopBillingUpdate = {
  tierId?: number | null;
  billingSource?: PaymentProvider | null;
  billingSince?: Date | null;
  whopUserId?: string | null;
  whopMembershipId?: string | null;
  whopMembershipStatus?: string | null;
  whopProductId?: string | null;
  whopManageUrl?: string | null;
  whopLinkedBy?: "metadata" | "email" | null;
  whopSyncedAt?: Date;
};

const WHOP_BILLING_COLUMNS: Record<keyof WhopBillingUpdate, Prisma.Sql> = {
  tierId: Prisma.sql`tier_id`,
  billingSource: Prisma.sql`billing_source`,
  billingSince: Prisma.sql`billing_since`,
  whopUserId: Prisma.sql`whop_user_id`,
  whopMembershipId: Prisma.sql`whop_membership_id`,
  whopMembershipStatus: Prisma.sql`whop_membership_status`,
  whopProductId: Prisma.sql`whop_product_id`,
  whopManageUrl: Prisma.sql`whop_manage_url`,
  whopLinkedBy: Prisma.sql`whop_linked_by`,
  whopSyncedAt: Prisma.sql`whop_synced_at`,
};

// One tagged UPDATE, not Prisma's update: Stripe's fulfilment calls it for every applied event,
// and tagged SQL in a transaction skips Prisma's query layer (bench/webhook.ts).
export async function updateWhopBillingAccount(tx: Db, accountId: number, data: WhopBillingUpdate) {
  const assignments = (Object.keys(WHOP_BILLING_COLUMNS) as Array<keyof WhopBillingUpdate>).flatMap((field) => {
    const value = data[field];
    // As with Prisma's update, a field left undefined keeps its value.
    if (value === undefined) return [];
    const column = WHOP_BILLING_COLUMNS[field];
    return field === "billingSource"
      ? [Prisma.sql`${column} = ${value}::payment_provider`]
      : [Prisma.sql`${column} = ${value}`];
  });
  if (!assignments.length) return;
  assignments.push(Prisma.sql`billing_version = billing_version + 1`);
  const updated = await tx.$executeRaw`UPDATE accounts SET ${Prisma.join(assignments, ", ")} WHERE id = ${accountId}`;
  if (updated !== 1) throw new Error(`Tierdesk account ${accountId} does not exist.`);
}

export type WhopTier = { id: number; key: string; name: string; isCustomerFacing: boolean };

/** The Whop tier that sells this Whop product (a tier's `whop_product_key`), or null. */
export async function findWhopTier(db: Db, productId: string): Promise<WhopTier | null> {
  return db.subscriptionTier.findFirst({
    where: { whopProductKey: productId, billingProvider: "whop" },
    select: { id: true, key: true, name: true, isCustomerFacing: true },
  });
}

/** A Whop tier by its own key, with its product, for checkout. */
export function getWhopTierByKey(key: string) {
  return prisma.subscriptionTier.findUnique({
    where: { key },
    select: { id: true, key: true, name: true, billingProvider: true, isCustomerFacing: true, whopProductKey: true },
  });
}

export function findAccountByWhopUserId(whopUserId: string) {
  return prisma.account.findFirst({ where: { whopUserId }, orderBy: { id: "asc" }, select: { id: true, name: true } });
}

/** The Whop products Tierdesk sells (every Whop tier's product key). */
export async function listWhopProductKeys(): Promise<string[]> {
  const tiers = await prisma.subscriptionTier.findMany({
    where: { billingProvider: "whop", whopProductKey: { not: null } },
    select: { whopProductKey: true },
  });
  return tiers.flatMap((tier) => (tier.whopProductKey ? [tier.whopProductKey] : []));
}
