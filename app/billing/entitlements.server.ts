// What a user may do: the tier in force and its permissions. The rest of a product asks this,
// never how the user pays.
import { getTierWithPermissions, getTierWithPermissionsByKey } from "~/models/tier.server.ts";
import type { User } from "~/models/user.server.ts";
import { FREE_TIER_KEY, tierIsInForce } from "./rules.ts";

export type Entitlements = {
  tier: { key: string; name: string } | null;
  /** Stripe's subscription status, or null when the user never subscribed. */
  status: string | null;
  /** Permission names, sorted. */
  permissions: string[];
  /** The same permissions with their descriptions, for people. */
  permissionDetails: Array<{ name: string; description: string }>;
};

export async function getEntitlements(user: Pick<User, "tierId" | "subscriptionStatus">): Promise<Entitlements> {
  const stored = user.tierId ? await getTierWithPermissions(user.tierId) : null;
  const tier =
    stored && tierIsInForce({ tier: stored, subscriptionStatus: user.subscriptionStatus })
      ? stored
      : await getTierWithPermissionsByKey(FREE_TIER_KEY);
  const permissions = (tier?.permissions ?? [])
    .map(({ permission }) => ({ name: permission.name, description: permission.description }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return {
    tier: tier ? { key: tier.key, name: tier.name } : null,
    status: user.subscriptionStatus,
    permissions: permissions.map((permission) => permission.name),
    permissionDetails: permissions,
  };
}
