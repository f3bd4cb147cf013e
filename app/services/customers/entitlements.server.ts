// What an account may do: the tier in force and its permissions. The rest of a product asks this,
// never how the user pays. `provider` and `manageUrl` say where the tier comes from, for people.
import { getTierWithPermissions, getTierWithPermissionsByKey } from "~/models/tier.server.ts";
import type { AccountWithTier as Account } from "~/models/billing-account.server.ts";
import { tierSource } from "~/rules/paid-tier.ts";
import { tierIsInForce } from "~/rules/paid-tier.ts";
import { FREE_TIER_KEY } from "~/rules/tiers.ts";

export type Entitlements = {
  tier: { key: string; name: string } | null;
  /** How many people the tier in force allows in an account (its seats); null without a tier. */
  userLimit: number | null;
  /**
   * The status of what pays for the tier in force: Stripe's subscription status, or Whop's membership
   * status for a tier bought through Whop; else the Stripe status (null when the account never subscribed).
   */
  status: string | null;
  /** Where the tier in force comes from: "stripe", "whop", "exempt" (no payment), or null (the free tier). */
  provider: "stripe" | "whop" | "exempt" | null;
  /** Whop's page to manage the membership (cancel, change plan) when the tier comes from Whop. */
  manageUrl: string | null;
  /** The account's Whop membership, in force or not (support sees both providers). */
  whop: { membershipId: string; status: string | null; manageUrl: string | null; linkedBy: string | null } | null;
  /** Permission names, sorted. */
  permissions: string[];
  /** The same permissions with their descriptions, for people. */
  permissionDetails: Array<{ name: string; description: string }>;
};

export type EntitlementsAccount = Pick<Account, "tierId" | "subscriptionStatus"> &
  Partial<
    Pick<Account, "billingSource" | "whopMembershipId" | "whopMembershipStatus" | "whopManageUrl" | "whopLinkedBy">
  >;

export async function getEntitlements(user: EntitlementsAccount): Promise<Entitlements> {
  const stored = user.tierId ? await getTierWithPermissions(user.tierId) : null;
  const inForce =
    stored &&
    tierIsInForce({
      tier: stored,
      subscriptionStatus: user.subscriptionStatus,
      billingSource: user.billingSource ?? null,
      whopMembershipStatus: user.whopMembershipStatus ?? null,
    });
  const tier = inForce ? stored : await getTierWithPermissionsByKey(FREE_TIER_KEY);
  const permissions = (tier?.permissions ?? [])
    .map(({ permission }) => ({ name: permission.name, description: permission.description }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const exempt = Boolean(inForce && stored && (stored.isBillingExempt || stored.billingProvider === "exempt"));
  const provider = !inForce ? null : exempt ? "exempt" : tierSource(user);
  return {
    tier: tier ? { key: tier.key, name: tier.name } : null,
    userLimit: tier?.userLimit ?? null,
    status: provider === "whop" ? (user.whopMembershipStatus ?? null) : user.subscriptionStatus,
    provider,
    manageUrl: provider === "whop" ? (user.whopManageUrl ?? null) : null,
    whop: user.whopMembershipId
      ? {
          membershipId: user.whopMembershipId,
          status: user.whopMembershipStatus ?? null,
          manageUrl: user.whopManageUrl ?? null,
          linkedBy: user.whopLinkedBy ?? null,
        }
      : null,
    permissions: permissions.map((permission) => permission.name),
    permissionDetails: permissions,
  };
}
