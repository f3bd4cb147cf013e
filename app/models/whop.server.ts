// Whop's side of a user's billing (the membership, its status and how it was linked) and the tiers
// sold through Whop. The webhook path locks the user, reads the rules' facts in one row, writes once.
import { Prisma } from "~/generated/prisma/client.ts";
import type { PaymentProvider } from "~/generated/prisma/enums.ts";
import { prisma } from "~/db/db.server.ts";
import type { Db } from "./transaction.server.ts";
import { TIER_KIND } from "./user.server.ts";

export type { PaymentProvider } from "~/generated/prisma/enums.ts";

/** A user as the Whop webhook path and the overlap rules read them. */
export type WhopBillingUser = {
  id: number;
  email: string;
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
  u.id, u.email, u.tier_id AS "tierId",
  ${TIER_KIND} AS "tier",
  u.billing_source AS "billingSource", u.billing_since AS "billingSince",
  u.stripe_subscription_id AS "stripeSubscriptionId", u.subscription_status AS "subscriptionStatus",
  u.whop_user_id AS "whopUserId", u.whop_membership_id AS "whopMembershipId",
  u.whop_membership_status AS "whopMembershipStatus", u.whop_product_id AS "whopProductId",
  u.whop_synced_at AS "whopSyncedAt"`;

export type WhopUserKey = { id: number } | { whopMembershipId: string } | { whopUserId: string } | { email: string };

function condition(by: WhopUserKey): Prisma.Sql {
  if ("id" in by) return Prisma.sql`u.id = ${by.id}`;
  if ("whopMembershipId" in by) return Prisma.sql`u.whop_membership_id = ${by.whopMembershipId}`;
  if ("whopUserId" in by) return Prisma.sql`u.whop_user_id = ${by.whopUserId}`;
  return Prisma.sql`u.email = ${by.email.trim().toLowerCase()}`;
}

/**
 * The user, locked until the caller's transaction ends (events for one user apply one after the
 * other, whichever provider sent them). The oldest account wins when several match.
 */
export async function lockWhopBillingUser(tx: Db, by: WhopUserKey): Promise<WhopBillingUser | null> {
  const rows = await tx.$queryRaw<WhopBillingUser[]>`
    SELECT ${COLUMNS}
      FROM users u
     WHERE ${condition(by)}
     ORDER BY u.id LIMIT 1
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
export async function updateWhopBillingUser(tx: Db, userId: number, data: WhopBillingUpdate) {
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
  const updated = await tx.$executeRaw`UPDATE users SET ${Prisma.join(assignments, ", ")} WHERE id = ${userId}`;
  if (updated !== 1) throw new Error(`Tierdesk user ${userId} does not exist.`);
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

export function findUserByWhopUserId(whopUserId: string) {
  return prisma.user.findFirst({ where: { whopUserId }, orderBy: { id: "asc" }, select: { id: true, email: true } });
}

/** The Whop products Tierdesk sells (every Whop tier's product key). */
export async function listWhopProductKeys(): Promise<string[]> {
  const tiers = await prisma.subscriptionTier.findMany({
    where: { billingProvider: "whop", whopProductKey: { not: null } },
    select: { whopProductKey: true },
  });
  return tiers.flatMap((tier) => (tier.whopProductKey ? [tier.whopProductKey] : []));
}
