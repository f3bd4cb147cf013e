// What a user may do: the tier in force and its permissions. The rest of a product asks this,
// never how the user pays.
import type { User } from "~/generated/prisma/client.ts";
import { FREE_TIER_KEY, tierIsInForce } from "~/billing/rules.ts";
import { forbidden, requireUser } from "~/utils/auth.server.ts";
import { prisma } from "~/utils/db.server.ts";

const tierWithPermissions = {
  include: { permissions: { include: { permission: true } } },
} as const;

export type Entitlements = {
  tier: { key: string; name: string } | null;
  /** Stripe's subscription status, or null when the user never subscribed. */
  status: string | null;
  permissions: string[];
};

export async function getEntitlements(user: Pick<User, "tierId" | "subscriptionStatus">): Promise<Entitlements> {
  const stored = user.tierId
    ? await prisma.subscriptionTier.findUnique({ where: { id: user.tierId }, ...tierWithPermissions })
    : null;
  const tier =
    stored && tierIsInForce({ tier: stored, subscriptionStatus: user.subscriptionStatus })
      ? stored
      : await prisma.subscriptionTier.findUnique({ where: { key: FREE_TIER_KEY }, ...tierWithPermissions });
  return {
    tier: tier ? { key: tier.key, name: tier.name } : null,
    status: user.subscriptionStatus,
    permissions: (tier?.permissions ?? []).map((p) => p.permission.name).sort(),
  };
}

/** The signed-in user when their tier grants `permission`; otherwise a 403 naming it. */
export async function requirePermission(request: Request, permission: string) {
  const user = await requireUser(request);
  const entitlements = await getEntitlements(user);
  if (!entitlements.permissions.includes(permission)) {
    throw forbidden(`Your plan does not include "${permission}". Upgrade at /pricing.`);
  }
  return { user, entitlements };
}
