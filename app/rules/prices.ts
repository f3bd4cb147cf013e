// Rules of changing a price: which of a product's prices is current or legacy for a tier, which legacy
// prices move to a lookup key's current price, amounts typed by a person in Stripe's smallest unit, and
// how fast a background job may ask Stripe (its published limits: 25 requests/s in test mode, 100 live).

/** A Stripe price as these rules need it. */
export type PriceFacts = {
  id: string;
  lookupKey: string | null;
  active: boolean;
  currency: string;
  unitAmount: number | null;
  interval: string | null;
  intervalCount: number;
  productId: string;
};

/**
 * `current`: it carries one of the tier's lookup keys (what new customers pay); `legacy`: no lookup key,
 * or archived, so only existing subscriptions can be on it; `other`: another lookup key's price.
 */
export type PriceRole = "current" | "legacy" | "other";

export function priceRole(price: PriceFacts, tierLookupKeys: readonly string[]): PriceRole {
  if (price.lookupKey && tierLookupKeys.includes(price.lookupKey)) return "current";
  if (!price.lookupKey || !price.active) return "legacy";
  return "other";
}

/**
 * The legacy prices whose subscriptions move to `target` (a lookup key's current price): prices of the
 * same product without a lookup key, billed in the same currency and cycle. Another cycle is not
 * moved: Stripe would restart the subscription's period and bill at once.
 */
export function legacyPricesMovingTo<P extends PriceFacts>(target: PriceFacts, productPrices: readonly P[]): P[] {
  return productPrices.filter(
    (price) =>
      price.id !== target.id &&
      price.productId === target.productId &&
      price.lookupKey === null &&
      price.currency === target.currency &&
      price.interval === target.interval &&
      price.intervalCount === target.intervalCount,
  );
}

/** Currencies Stripe counts in whole units (no cents). */
const ZERO_DECIMAL_CURRENCIES = new Set([
  "bif",
  "clp",
  "djf",
  "gnf",
  "jpy",
  "kmf",
  "krw",
  "mga",
  "pyg",
  "rwf",
  "ugx",
  "vnd",
  "vuv",
  "xaf",
  "xof",
  "xpf",
]);

/** 100 for GBP (pence), 1 for JPY: what Stripe's `unit_amount` is divided by to show an amount. */
export function minorUnitsPerMajor(currency: string): number {
  return ZERO_DECIMAL_CURRENCIES.has(currency.toLowerCase()) ? 1 : 100;
}

/** Stripe's largest `unit_amount` (8 digits). */
export const MAX_UNIT_AMOUNT = 99_999_999;

/**
 * "35", "35.5" or "35.00" in `currency` → Stripe's `unit_amount` (3500), or null when it is not an
 * amount of that currency (more decimals than it has, negative, too large).
 */
export function toUnitAmount(amount: string, currency: string): number | null {
  const decimals = minorUnitsPerMajor(currency) === 1 ? 0 : 2;
  const match = /^(\d{1,8})(?:\.(\d+))?$/.exec(amount.trim());
  if (!match) return null;
  const [, whole = "", fraction = ""] = match;
  if (fraction.length > decimals) return null;
  const units = Number(whole) * 10 ** decimals + Number(fraction.padEnd(decimals, "0") || "0");
  return units <= MAX_UNIT_AMOUNT ? units : null;
}

/** Stripe's published global limits, per account: 100 requests/s live, 25 in test mode (and sandboxes). */
export function stripeRateLimit(apiKey: string): number {
  return /^(sk|rk)_live_/.test(apiKey) ? 100 : 25;
}

/**
 * Requests per second a background job makes: the configured number, else 80% of Stripe's limit for
 * the key, leaving room for the pages and webhooks that share the account's limit.
 */
export function jobRequestsPerSecond(apiKey: string, configured: number | null): number {
  return configured ?? Math.floor(stripeRateLimit(apiKey) * 0.8);
}

/** How long to wait after the `attempt`th 429 in a row (1, 2, …): 500 ms doubling, at most 16 s. */
export function rateLimitBackoffMs(attempt: number): number {
  return Math.min(500 * 2 ** Math.max(0, attempt - 1), 16_000);
}
