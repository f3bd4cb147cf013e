// Subscription tiers, their Stripe price lookup keys and their permissions.
import { prisma } from "~/utils/db.server.ts";
import type { Db } from "./transaction.server.ts";

const withPermissions = { include: { permissions: { include: { permission: true } } } } as const;

/** Tiers customers may see on /pricing, with their lookup keys (in order) and permissions. */
export function listCustomerFacingTiers() {
  return prisma.subscriptionTier.findMany({
    where: { isCustomerFacing: true },
    orderBy: { id: "asc" },
    include: {
      prices: { orderBy: { position: "asc" } },
      permissions: { include: { permission: true } },
    },
  });
}

export function getTierWithPermissions(id: number) {
  return prisma.subscriptionTier.findUnique({ where: { id }, ...withPermissions });
}

export function getTierWithPermissionsByKey(key: string) {
  return prisma.subscriptionTier.findUnique({ where: { key }, ...withPermissions });
}

/** The tiers owning these lookup keys (one query, whatever the number of keys). */
export async function findLookupKeyOwners(db: Db, lookupKeys: readonly string[]) {
  if (!lookupKeys.length) return [];
  const owned = await db.subscriptionTierPrice.findMany({
    where: { lookupKey: { in: [...lookupKeys] } },
    select: { lookupKey: true, tier: { select: { id: true, key: true } } },
  });
  return owned;
}

/** The tier that owns one lookup key, for checkout. */
export function findLookupKeyOwner(lookupKey: string) {
  return prisma.subscriptionTierPrice.findUnique({ where: { lookupKey }, include: { tier: true } });
}

export function countTiers() {
  return prisma.subscriptionTier.count();
}
