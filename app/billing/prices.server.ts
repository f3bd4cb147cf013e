// Live prices by lookup key. Stripe is the source of truth: tiers store only lookup keys, and
// amounts/intervals are asked of Stripe (cached briefly in process, dropped on price.* and
// product.* webhooks). When Stripe cannot answer in time, callers get `unavailable` and show the
// tier's fallback price instead.
import type Stripe from "stripe";
import { withDeadline } from "~/utils/deadline.ts";
import { singleton } from "~/utils/singleton.server.ts";
import { getStripe } from "./stripe.server.ts";

export type LivePrice = {
  id: string;
  lookupKey: string;
  active: boolean;
  currency: string;
  unitAmount: number | null;
  interval: string | null;
  intervalCount: number;
  productName: string | null;
};

export type PriceLookup = {
  /** Prices found, by lookup key. A key missing here is not an active price in Stripe. */
  prices: Map<string, LivePrice>;
  /** Stripe could not be asked (timeout, outage, billing disabled): show fallback prices. */
  unavailable: boolean;
  error?: string;
};

const CACHE_TTL_MS = 5 * 60_000;
const LOOKUP_KEYS_PER_CALL = 10; // Stripe's limit for prices.list({ lookup_keys })
const DEFAULT_DEADLINE_MS = 2_500;

type CacheEntry = { price: LivePrice | null; expiresAt: number };
const cache = singleton("price-cache", () => ({ entries: new Map<string, CacheEntry>(), generation: 0 }));

/** Drops every cached price (a price or product changed in Stripe). */
export function invalidatePriceCache() {
  cache.entries.clear();
  cache.generation++;
}

export function toLivePrice(price: Stripe.Price): LivePrice | null {
  if (!price.lookup_key) return null;
  const product = typeof price.product === "object" && price.product && !("deleted" in price.product && price.product.deleted)
    ? (price.product as Stripe.Product)
    : null;
  return {
    id: price.id,
    lookupKey: price.lookup_key,
    active: price.active,
    currency: price.currency,
    unitAmount: price.unit_amount,
    interval: price.recurring?.interval ?? null,
    intervalCount: price.recurring?.interval_count ?? 1,
    productName: product?.name ?? null,
  };
}

async function fetchChunk(stripe: Stripe, keys: string[]): Promise<LivePrice[]> {
  const list = await stripe.prices.list({ lookup_keys: keys, active: true, expand: ["data.product"], limit: 100 });
  return list.data.map(toLivePrice).filter((price): price is LivePrice => price !== null);
}

/**
 * Resolves lookup keys to live prices: cached keys from memory, the rest from Stripe in calls of
 * at most 10 keys, made in parallel.
 */
export async function lookupPrices(
  lookupKeys: readonly string[],
  { deadlineMs = DEFAULT_DEADLINE_MS, now = Date.now() }: { deadlineMs?: number; now?: number } = {},
): Promise<PriceLookup> {
  const prices = new Map<string, LivePrice>();
  const missing: string[] = [];
  for (const key of new Set(lookupKeys)) {
    const entry = cache.entries.get(key);
    if (entry && entry.expiresAt > now) {
      if (entry.price) prices.set(key, entry.price);
    } else missing.push(key);
  }
  if (!missing.length) return { prices, unavailable: false };

  try {
    const stripe = getStripe();
    const generation = cache.generation;
    const chunks: string[][] = [];
    for (let i = 0; i < missing.length; i += LOOKUP_KEYS_PER_CALL) chunks.push(missing.slice(i, i + LOOKUP_KEYS_PER_CALL));
    const found = (await withDeadline(Promise.all(chunks.map((chunk) => fetchChunk(stripe, chunk))), deadlineMs)).flat();
    const byKey = new Map(found.map((price) => [price.lookupKey, price]));
    // A webhook may have invalidated the cache while we waited: then do not cache what may be stale.
    const cacheable = generation === cache.generation;
    for (const key of missing) {
      const price = byKey.get(key) ?? null;
      if (price) prices.set(key, price);
      if (cacheable) cache.entries.set(key, { price, expiresAt: Date.now() + CACHE_TTL_MS });
    }
    return { prices, unavailable: false };
  } catch (error) {
    return { prices, unavailable: true, error: (error as Error).message };
  }
}

const ZERO_DECIMAL_CURRENCIES = new Set([
  "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf",
]);

/** "£29.00", from Stripe's amount in the currency's smallest unit. */
export function formatAmount(unitAmount: number, currency: string) {
  const divisor = ZERO_DECIMAL_CURRENCIES.has(currency.toLowerCase()) ? 1 : 100;
  return new Intl.NumberFormat("en-GB", { style: "currency", currency: currency.toUpperCase() }).format(unitAmount / divisor);
}

/** "month", "year", "3 months". */
export function formatInterval(price: Pick<LivePrice, "interval" | "intervalCount">) {
  if (!price.interval) return "one-off";
  return price.intervalCount > 1 ? `${price.intervalCount} ${price.interval}s` : price.interval;
}
