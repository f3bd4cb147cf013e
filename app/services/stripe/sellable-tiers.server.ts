// Which Stripe tiers may be sold now: a tier whose prices are not valid in Stripe (the dashboard shows
// why) is off sale as a whole until an operator fixes it. One lookup of every Stripe tier's keys,
// through the price cache /pricing uses; an outage that cannot be seen through takes nothing off sale.
import { type TierIntegration, tiersHealth } from "~/rules/tiers.ts";
import { lookupPrices, type PriceLookup } from "./prices.server.ts";

export type Sellability = {
  /** The live prices of every Stripe tier's keys (one lookup, cached like /pricing's). */
  lookup: PriceLookup;
  /** Stripe tiers that must not be sold now, by key, with their problems (for logs and support). */
  invalid: Map<string, string[]>;
};

/**
 * Which Stripe tiers customers may not buy now: those whose integration is invalid as the dashboard
 * computes it (tiersHealth over every tier, so a product two tiers share counts), from one cached
 * price lookup. When Stripe cannot be asked no tier is invalid on that account: an outage we cannot
 * see through must not take plans off sale (checkout itself then fails with "Stripe could not be
 * reached", and /pricing shows indicative prices, as before).
 */
export async function checkSellableTiers(
  tiers: readonly (TierIntegration & { key: string })[],
  { deadlineMs }: { deadlineMs?: number } = {},
): Promise<Sellability> {
  const stripeTiers = tiers.filter((tier) => tier.billingProvider === "stripe" && !tier.isBillingExempt);
  const lookup = await lookupPrices(
    stripeTiers.flatMap((tier) => tier.lookupKeys),
    deadlineMs === undefined ? {} : { deadlineMs },
  );
  const invalid = new Map<string, string[]>();
  if (lookup.unavailable) return { lookup, invalid };
  const facts = new Map(
    stripeTiers.flatMap((tier) => tier.lookupKeys).map((key) => [key, lookup.found.get(key) ?? null]),
  );
  for (const [key, health] of tiersHealth(stripeTiers, facts, { unavailable: false })) {
    if (health.state === "invalid") invalid.set(key, health.problems);
  }
  return { lookup, invalid };
}
