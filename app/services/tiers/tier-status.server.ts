// The live Stripe status of every tier's lookup keys, for the operator dashboard. One listing of the
// account's active prices answers every key that is live (and feeds the "Stripe's side" panel); only
// keys it does not answer are looked up, ≤10 per call, in parallel. Both go through the price cache
// that /pricing uses, so a warm page asks Stripe nothing. Never one call per row.
//
// Whop tiers' products are checked the same way, at the same time and within the same bound
// (app/services/whop/catalog.server.ts: one request per uncached product, one plan listing).
import {
  formatAmount,
  formatInterval,
  lastKnownPrices,
  type LivePrice,
  listStripeCatalog,
  lookupPrices,
} from "~/services/stripe/prices.server.ts";
import {
  type LookupKeyState,
  lookupKeyState,
  type TierHealth,
  type TierIntegration,
  tiersHealth,
} from "~/rules/tiers.ts";
import { whopProductState } from "~/rules/whop.ts";
import { PAGE_BUDGET_MS } from "~/services/stripe/breaker.server.ts";
import { billingMode } from "~/services/stripe/client.server.ts";
import { checkWhopProducts } from "~/services/whop/catalog.server.ts";
import { describeWhopProduct, type WhopProductStatus } from "~/services/whop/offers.server.ts";

// Stripe's part is bounded by a page's budget (its breaker answers at once once Stripe is known down);
// Whop's, which has no breaker, by its own bound, in parallel.
const WHOP_CHECK_DEADLINE_MS = 3_000;

export type KeyStatus = {
  lookupKey: string;
  state: LookupKeyState | "unverified";
  price: {
    id: string;
    amount: string | null;
    currency: string;
    interval: string;
    productName: string | null;
    productId: string | null;
  } | null;
};

export type StripeCheck = {
  /** null when Stripe answered; otherwise why the statuses could not be verified. */
  unverified: string | null;
  /**
   * When unverified: when the oldest of Stripe's last good answers shown was fetched (ISO), or null
   * when none is known. Prices shown then are that answer, statuses stay "could not verify".
   */
  asOf: string | null;
  /** Active Stripe prices with a lookup key no tier owns (what the admin may want to link). */
  unlinked: KeyStatus[];
  catalogComplete: boolean;
};

function describePrice(price: LivePrice): KeyStatus["price"] {
  return {
    id: price.id,
    amount: price.unitAmount === null ? null : formatAmount(price.unitAmount, price.currency),
    currency: price.currency.toUpperCase(),
    interval: formatInterval(price),
    productName: price.productName,
    productId: price.productId,
  };
}

export type TierStatus = {
  keys: KeyStatus[];
  health: TierHealth;
  /** A Whop tier's product as Whop has it (null for other tiers, or without a product key). */
  whopProduct: WhopProductStatus | null;
};

export type WhopSide = {
  /** null when Whop answered (or no tier sells through Whop); otherwise why products could not be verified. */
  unverified: string | null;
};

/**
 * Checks the tiers' lookup keys against Stripe, within a page's budget. When Stripe cannot be asked
 * the statuses say "could not verify" with the reason, and the prices shown are its last good answer
 * with their age. Pass every tier, even
 * for one tier's page: a product two tiers share is a problem of both.
 */
export async function checkTiersAgainstStripe<T extends TierIntegration & { key: string }>(
  tiers: readonly T[],
): Promise<{ byTier: Map<string, TierStatus>; stripe: StripeCheck; whop: WhopSide }> {
  const started = Date.now();
  const remaining = () => Math.max(50, PAGE_BUDGET_MS - (Date.now() - started));
  const keys = [...new Set(tiers.flatMap((tier) => (tier.billingProvider === "stripe" ? tier.lookupKeys : [])))];
  const whopProducts = tiers.flatMap((tier) =>
    tier.billingProvider === "whop" && !tier.isBillingExempt && tier.whopProductKey?.trim()
      ? [tier.whopProductKey.trim()]
      : [],
  );
  // Asked while Stripe is: both within the same bound.
  const whopCheck = checkWhopProducts(whopProducts, { deadlineMs: WHOP_CHECK_DEADLINE_MS });

  let unverified: string | null = null;
  let asOf: string | null = null;
  let found = new Map<string, LivePrice>();
  let catalog: LivePrice[] = [];
  let catalogComplete = true;
  if (billingMode() === "disabled") {
    unverified = "Stripe is not configured (STRIPE_API_KEY is not set)";
  } else {
    const listing = await listStripeCatalog({ deadlineMs: remaining() });
    if (!listing.catalog) {
      unverified = listing.error ?? "Stripe did not answer";
      ({ prices: found, asOf } = await lastKnownPrices(keys));
    } else {
      catalog = listing.catalog.prices;
      catalogComplete = listing.catalog.complete;
      const lookup = await lookupPrices(keys, { deadlineMs: remaining() });
      if (lookup.unavailable) unverified = lookup.error ?? "Stripe did not answer";
      found = lookup.found;
      asOf = lookup.asOf;
    }
  }

  const facts = new Map(keys.map((key) => [key, found.get(key) ?? null]));
  const whop = await whopCheck;
  // Across all the tiers given: two tiers on one product is a problem of both.
  const healths = tiersHealth(
    tiers,
    facts,
    { unavailable: unverified !== null, reason: unverified ?? undefined },
    whop,
  );
  const byTier = new Map<string, TierStatus>();
  for (const tier of tiers) {
    const statuses: KeyStatus[] = tier.lookupKeys.map((lookupKey) => {
      const price = found.get(lookupKey) ?? null;
      return {
        lookupKey,
        state: unverified ? "unverified" : lookupKeyState(price),
        price: price ? describePrice(price) : null,
      };
    });
    const health = healths.get(tier.key) ?? { state: "unverified", reason: "not checked" };
    const productKey = tier.billingProvider === "whop" ? tier.whopProductKey?.trim() : undefined;
    const whopProduct = productKey
      ? describeWhopProduct(
          productKey,
          whop.unavailable ? "unverified" : whopProductState(whop.products.get(productKey) ?? null),
          whop.products.get(productKey) ?? null,
        )
      : null;
    byTier.set(tier.key, { keys: statuses, health, whopProduct });
  }

  const owned = new Set(tiers.flatMap((tier) => tier.lookupKeys));
  const unlinked = catalog
    .filter((price) => !owned.has(price.lookupKey) && price.productActive)
    .map((price) => ({ lookupKey: price.lookupKey, state: "found" as const, price: describePrice(price) }));
  const whopSide: WhopSide = {
    unverified: whopProducts.length && whop.unavailable ? (whop.reason ?? "Whop did not answer") : null,
  };
  return { byTier, stripe: { unverified, asOf, unlinked, catalogComplete }, whop: whopSide };
}
