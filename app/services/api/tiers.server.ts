// GET /api/v1/tiers: the tiers customers may buy, as /pricing offers them, with Stripe's live prices
// from the cached catalog (one cached lookup; when Stripe cannot be asked, the last known prices,
// marked `pricesLive: false` with their age).
import { listCustomerFacingTiers, listTierIntegrations } from "~/models/tier.server.ts";
import { hasValidIntegration } from "~/rules/tiers.ts";
import { checkSellableTiers } from "~/services/stripe/sellable-tiers.server.ts";
import type { TiersResponse } from "./schemas.ts";

export async function customerFacingTiers(): Promise<TiersResponse> {
  const [tiers, integrations] = await Promise.all([listCustomerFacingTiers(), listTierIntegrations()]);
  const { lookup, invalid } = await checkSellableTiers(integrations);
  const offered = tiers
    .map((tier) => ({ ...tier, lookupKeys: tier.prices.map((price) => price.lookupKey) }))
    .filter((tier) => hasValidIntegration(tier) && !invalid.has(tier.key));
  return {
    pricesLive: !lookup.unavailable,
    asOf: lookup.unavailable ? lookup.asOf : null,
    tiers: offered.map((tier) => ({
      key: tier.key,
      name: tier.name,
      description: tier.description,
      userLimit: tier.userLimit,
      permissions: tier.permissions.map(({ permission }) => permission.name).sort(),
      prices: tier.lookupKeys.flatMap((lookupKey) => {
        const price = lookup.prices.get(lookupKey);
        return price
          ? [
              {
                lookupKey,
                currency: price.currency,
                unitAmount: price.unitAmount,
                interval: price.interval,
                intervalCount: price.intervalCount,
              },
            ]
          : [];
      }),
    })),
  };
}
