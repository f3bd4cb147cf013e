// What a tier is and whether its configuration is valid: the free tier's key, each provider's
// integration, and a tier's prices as Stripe has them (missing, inactive, archived, shared).
// Pure functions of plain values: no database, no Stripe, no clock (docs/decisions/004).
import type { BillingProvider } from "~/generated/prisma/enums.ts";
import { type WhopCheck, type WhopProductState, whopProductState } from "./whop.ts";

/** The key of the tier users fall back to when they have none in force. */
export { FREE_TIER_KEY } from "~/utils/granting-statuses.ts";

export type TierIntegration = {
  billingProvider: BillingProvider;
  isBillingExempt: boolean;
  whopProductKey: string | null;
  /** The tier's Stripe price lookup keys. */
  lookupKeys: readonly string[];
};

/**
 * Whether a tier can actually be paid for (or needs no payment): exempt tiers and billing-exempt
 * tiers always; `stripe` needs at least one price lookup key; `whop` needs a Whop product key.
 */
export function hasValidIntegration(tier: TierIntegration): boolean {
  if (tier.isBillingExempt || tier.billingProvider === "exempt") return true;
  if (tier.billingProvider === "stripe") return tier.lookupKeys.some((key) => key.trim().length > 0);
  if (tier.billingProvider === "whop") return Boolean(tier.whopProductKey?.trim());
  return false;
}

// ---------------------------------------------------------------------------------------------
// Subscription status

/** What Stripe says about one lookup key (null: Stripe knows no price with that key). */
export type StripePriceFact = {
  active: boolean;
  productActive: boolean;
  productId: string | null;
  currency: string;
} | null;

export type LookupKeyState = "found" | "missing" | "inactive-price" | "archived-product";

export function lookupKeyState(price: StripePriceFact): LookupKeyState {
  if (!price) return "missing";
  if (!price.active) return "inactive-price";
  if (!price.productActive) return "archived-product";
  return "found";
}

export type TierHealth =
  | { state: "valid" }
  | { state: "invalid"; problems: string[] }
  | { state: "unverified"; reason: string }
  | { state: "not-applicable"; reason: string };

const KEY_PROBLEM: Record<Exclude<LookupKeyState, "found">, string> = {
  missing: "missing in Stripe",
  "inactive-price": "its price is inactive",
  "archived-product": "its product is archived",
};

/**
 * Whether a tier's billing configuration is valid as Stripe has it now. A `stripe` tier is valid
 * only when every lookup key is found and active, its prices share one currency and one product.
 * When Stripe could not be asked, the tier is "unverified", never "valid".
 */
export function tierHealth(
  tier: TierIntegration,
  prices: ReadonlyMap<string, StripePriceFact>,
  stripe: { unavailable: boolean; reason?: string },
  whop: WhopCheck = { products: new Map(), unavailable: true, reason: "Whop was not asked" },
): TierHealth {
  if (tier.isBillingExempt || tier.billingProvider === "exempt") {
    return { state: "not-applicable", reason: "exempt: no payment needed" };
  }
  if (tier.billingProvider === "whop") return whopTierHealth(tier.whopProductKey, whop);
  if (!tier.lookupKeys.length) return { state: "invalid", problems: ["a Stripe tier needs at least one lookup key"] };
  if (stripe.unavailable)
    return { state: "unverified", reason: `could not verify: ${stripe.reason ?? "Stripe did not answer"}` };

  const problems: string[] = [];
  const found: Array<NonNullable<StripePriceFact>> = [];
  for (const key of tier.lookupKeys) {
    const price = prices.get(key) ?? null;
    const state = lookupKeyState(price);
    if (state !== "found") problems.push(`"${key}": ${KEY_PROBLEM[state]}`);
    if (price) found.push(price);
  }
  const currencies = [...new Set(found.map((price) => price.currency.toUpperCase()))];
  if (currencies.length > 1) problems.push(`prices disagree in currency (${currencies.join(", ")})`);
  const products = [...new Set(found.map((price) => price.productId).filter(Boolean))];
  if (products.length > 1) problems.push(`lookup keys point at different products (${products.join(", ")})`);
  return problems.length ? { state: "invalid", problems } : { state: "valid" };
}

/**
 * Products that more than one Stripe tier's lookup keys point at, by tier: a price without a lookup
 * key (a legacy price) is known only by its product, so its subscribers could not be told apart.
 */
export function sharedProductProblems(
  tiers: readonly (TierIntegration & { key: string })[],
  prices: ReadonlyMap<string, StripePriceFact>,
): Map<string, string[]> {
  const tiersOfProduct = new Map<string, Set<string>>();
  for (const tier of tiers) {
    if (tier.billingProvider !== "stripe" || tier.isBillingExempt) continue;
    for (const key of tier.lookupKeys) {
      const productId = prices.get(key)?.productId;
      if (!productId) continue;
      tiersOfProduct.set(productId, (tiersOfProduct.get(productId) ?? new Set()).add(tier.key));
    }
  }
  const problems = new Map<string, string[]>();
  for (const [productId, keys] of tiersOfProduct) {
    if (keys.size < 2) continue;
    for (const key of keys) {
      const others = [...keys].filter((other) => other !== key).join(", ");
      problems.set(key, [
        ...(problems.get(key) ?? []),
        `product ${productId} is also sold by tier ${others}: subscribers on a price without a lookup key could not be told apart; give each tier its own product`,
      ]);
    }
  }
  return problems;
}

/** Every tier's health (tierHealth), with the problems only seen across tiers (sharedProductProblems). */
export function tiersHealth(
  tiers: readonly (TierIntegration & { key: string })[],
  prices: ReadonlyMap<string, StripePriceFact>,
  stripe: { unavailable: boolean; reason?: string },
  whop?: WhopCheck,
): Map<string, TierHealth> {
  const shared = stripe.unavailable ? new Map<string, string[]>() : sharedProductProblems(tiers, prices);
  return new Map(
    tiers.map((tier) => {
      const health = tierHealth(tier, prices, stripe, whop);
      const extra = shared.get(tier.key) ?? [];
      if (!extra.length || (health.state !== "valid" && health.state !== "invalid")) return [tier.key, health];
      const problems = health.state === "invalid" ? [...health.problems, ...extra] : extra;
      return [tier.key, { state: "invalid", problems }];
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Support: which subscription governs a customer, and why a user is on their plan

const WHOP_PRODUCT_PROBLEM: Record<Exclude<WhopProductState, "found">, string> = {
  missing: "missing in Whop",
  "archived-product": "the product is archived in Whop",
  "no-plan": "the product has no plan for sale (none is visible and buy-now)",
};

/** A `whop` tier is valid when its product exists, is not archived and has a plan for sale. */
function whopTierHealth(productKey: string | null, whop: WhopCheck): TierHealth {
  const key = productKey?.trim();
  if (!key) return { state: "invalid", problems: ["a Whop tier needs a Whop product key"] };
  if (whop.unavailable)
    return { state: "unverified", reason: `could not verify: ${whop.reason ?? "Whop did not answer"}` };
  const state = whopProductState(whop.products.get(key) ?? null);
  return state === "found"
    ? { state: "valid" }
    : { state: "invalid", problems: [`"${key}": ${WHOP_PRODUCT_PROBLEM[state]}`] };
}
