import { prisma } from "~/utils/db.server.ts";

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
