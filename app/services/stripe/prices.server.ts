// Live prices by lookup key. Stripe is the source of truth: tiers store only lookup keys, and
// amounts/intervals are asked of Stripe (cached briefly in process, dropped on price.* and
// product.* webhooks on every instance: PostgreSQL NOTIFY). Each answer is also kept in the database
// as the last good answer (app/models/price-snapshot.server.ts). When Stripe cannot answer within the
// caller's deadline, or the breaker says it is down (./breaker.server.ts), callers get `unavailable`
// with that last answer and its age, shown as such ("could not verify", "as of …"), never as live.
import type Stripe from "stripe";
import { type CatalogChangeHandlers, listenForStripeCatalogChanges } from "~/models/catalog-changes.server.ts";
import { readStripePriceSnapshot, saveStripePriceSnapshot } from "~/models/price-snapshot.server.ts";
import { minorUnitsPerMajor } from "~/rules/prices.ts";
import { logger } from "~/utils/logger.server.ts";
import { singleton } from "~/utils/singleton.server.ts";
import { guardedStripeRead, PAGE_BUDGET_MS } from "./breaker.server.ts";
import { BillingDisabledError } from "./client.server.ts";
import { clearSubscriptionDetailsCache } from "./subscription-details.server.ts";

export type LivePrice = {
  id: string;
  lookupKey: string;
  active: boolean;
  currency: string;
  unitAmount: number | null;
  interval: string | null;
  intervalCount: number;
  productId: string | null;
  productName: string | null;
  /** False when the product is archived (or deleted): its prices cannot be sold. */
  productActive: boolean;
};

export type PriceLookup = {
  /** Prices that can be sold now (price and product active), by lookup key. */
  prices: Map<string, LivePrice>;
  /** Every price Stripe has for the keys, whatever its state, by lookup key. A key missing here is unknown to Stripe. */
  found: Map<string, LivePrice>;
  /**
   * Stripe could not be asked (timeout, outage, billing disabled): `prices` and `found` then hold what
   * was known (the cache, the last good answer in the database), to show as such, never to act on.
   */
  unavailable: boolean;
  error?: string;
  /** When the oldest last-known answer used was fetched (ISO); null when none was used. */
  asOf: string | null;
};

const CACHE_TTL_MS = 5 * 60_000;
const LOOKUP_KEYS_PER_CALL = 10; // Stripe's limit for prices.list({ lookup_keys })
const CATALOG_PAGE_SIZE = 100; // Stripe's maximum page size
const CATALOG_MAX_PAGES = 10;
const DEFAULT_DEADLINE_MS = PAGE_BUDGET_MS;

export type StripeCatalog = {
  /** Active prices that carry a lookup key. */
  prices: LivePrice[];
  /** False when the account has more active prices than one listing reads. */
  complete: boolean;
};

type CacheEntry = { price: LivePrice | null; expiresAt: number };
const cache = singleton("price-cache", () => ({
  entries: new Map<string, CacheEntry>(),
  catalog: undefined as { value: StripeCatalog; expiresAt: number } | undefined,
  generation: 0,
}));

/** Drops every cached price in this instance (a price or product changed in Stripe). */
export function invalidatePriceCache() {
  cache.entries.clear();
  cache.catalog = undefined;
  cache.generation++;
}

// On PostgreSQL, this instance caches prices only while it listens for other instances' changes: a
// change it cannot hear about would otherwise be served for the whole TTL.
const sync = singleton("price-cache-sync", () => ({
  starting: undefined as Promise<unknown> | undefined,
  /** null: the embedded database (one process), where local invalidation suffices. */
  listening: false as boolean | null,
}));

const syncHandlers: CatalogChangeHandlers = {
  onChange() {
    invalidatePriceCache();
    // A lookup key moved to a new price leaves the subscriptions on the old one without it.
    clearSubscriptionDetailsCache();
  },
  onListening() {
    sync.listening = true;
    invalidatePriceCache(); // changes sent while not listening were missed
  },
  onLost() {
    sync.listening = false; // until the listener's reconnect calls onListening
  },
  onClosed() {
    sync.listening = false;
    sync.starting = undefined; // the next database gets a listener of its own
  },
};

/**
 * Starts listening once per database (the first call waits for the LISTEN). Caching in memory is safe
 * while `sync.listening` is not false: listening, or on a database with no other instance.
 */
async function startListening(): Promise<void> {
  sync.starting ??= listenForStripeCatalogChanges(syncHandlers).then(
    (listener) => {
      if (!listener) sync.listening = null;
    },
    (error: unknown) => {
      logger.warn({ err: error }, "could not listen for Stripe catalog changes");
      sync.starting = undefined;
    },
  );
  await sync.starting;
}

/**
 * For caches of other Stripe reads that must be dropped with the prices (a tier's prices and their
 * subscriber counts, ./tier-prices.server.ts): the generation an answer is cached under (any change
 * since makes it stale), and whether caching is safe now (this instance hears other instances' changes).
 */
export async function priceCacheGeneration(): Promise<{ generation: number; cacheable: boolean }> {
  await startListening();
  return { generation: cache.generation, cacheable: sync.listening !== false };
}

/** Whether an answer cached under `generation` may still be served. */
export function isCurrentPriceCacheGeneration(generation: number): boolean {
  return generation === cache.generation && sync.listening !== false;
}

function errorText(error: unknown) {
  return error instanceof Error ? error.message : String(error);
}

/** Keeps a Stripe answer as the last good one, in the background: a page never waits on it. */
function persist(prices: LivePrice[], options: { absentKeys?: string[]; complete?: boolean }) {
  saveStripePriceSnapshot(prices, { fetchedAt: new Date(), ...options }).catch((error: unknown) =>
    logger.warn({ err: error }, "could not store the last Stripe prices"),
  );
}

function isLivePrice(value: unknown): value is LivePrice {
  return typeof value === "object" && value !== null && typeof (value as LivePrice).lookupKey === "string";
}

/**
 * Stripe's last good answer for `lookupKeys` as kept in the database, and when the oldest of them was
 * fetched: for showing when Stripe cannot be asked (with that age), never for acting on.
 */
export async function lastKnownPrices(
  lookupKeys: readonly string[],
): Promise<{ prices: Map<string, LivePrice>; asOf: string | null }> {
  const prices = new Map<string, LivePrice>();
  let oldest: Date | null = null;
  try {
    for (const row of await readStripePriceSnapshot(lookupKeys)) {
      if (!isLivePrice(row.price)) continue;
      prices.set(row.lookupKey, row.price);
      if (!oldest || row.fetchedAt < oldest) oldest = row.fetchedAt;
    }
  } catch (error) {
    logger.warn({ err: error }, "could not read the last Stripe prices");
  }
  return { prices, asOf: oldest ? oldest.toISOString() : null };
}

function isSellable(price: LivePrice) {
  return price.active && price.productActive;
}

/** What a price charges, as the app's price types hold it. */
export function billedAs(price: Stripe.Price) {
  return {
    currency: price.currency,
    unitAmount: price.unit_amount,
    interval: price.recurring?.interval ?? null,
    intervalCount: price.recurring?.interval_count ?? 1,
  };
}

function toLivePrice(price: Stripe.Price): LivePrice | null {
  if (!price.lookup_key) return null;
  const product = typeof price.product === "object" && price.product !== null ? price.product : null;
  const deleted = product !== null && "deleted" in product && product.deleted === true;
  const liveProduct = product !== null && !deleted && "active" in product ? product : null;
  return {
    id: price.id,
    lookupKey: price.lookup_key,
    active: price.active,
    ...billedAs(price),
    productId: typeof price.product === "string" ? price.product : (product?.id ?? null),
    productName: liveProduct?.name ?? null,
    productActive: liveProduct ? liveProduct.active : !deleted,
  };
}

function lookup(
  prices: Map<string, LivePrice>,
  unavailable: boolean,
  { error, asOf = null }: { error?: string; asOf?: string | null } = {},
): PriceLookup {
  const sellable = new Map([...prices].filter(([, price]) => isSellable(price)));
  return { prices: sellable, found: prices, unavailable, asOf, ...(error ? { error } : {}) };
}

async function fetchChunk(stripe: Stripe, keys: string[]): Promise<LivePrice[]> {
  // No `active` filter: an inactive price still answers for its key, so it shows as inactive, not missing.
  const list = await stripe.prices.list({ lookup_keys: keys, expand: ["data.product"], limit: 100 });
  return list.data.map(toLivePrice).filter((price): price is LivePrice => price !== null);
}

function cached(key: string, now: number): CacheEntry | undefined {
  const entry = cache.entries.get(key);
  return entry && entry.expiresAt > now ? entry : undefined;
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
    const entry = cached(key, now);
    if (entry) {
      if (entry.price) prices.set(key, entry.price);
    } else missing.push(key);
  }
  if (!missing.length) return lookup(prices, false);

  await startListening();
  const generation = cache.generation;
  // Kept when it comes, even after the caller's deadline: the next page finds it.
  const keep = (found: LivePrice[]) => {
    if (generation !== cache.generation) return found; // a webhook came meanwhile: maybe stale
    const byKey = new Map(found.map((price) => [price.lookupKey, price]));
    if (sync.listening !== false) {
      for (const key of missing)
        cache.entries.set(key, { price: byKey.get(key) ?? null, expiresAt: Date.now() + CACHE_TTL_MS });
    }
    persist(found, { absentKeys: missing.filter((key) => !byKey.has(key)) });
    return found;
  };
  try {
    const chunks: string[][] = [];
    for (let i = 0; i < missing.length; i += LOOKUP_KEYS_PER_CALL)
      chunks.push(missing.slice(i, i + LOOKUP_KEYS_PER_CALL));
    const found = await guardedStripeRead(
      (stripe) => Promise.all(chunks.map((chunk) => fetchChunk(stripe, chunk))).then((lists) => keep(lists.flat())),
      deadlineMs,
    );
    const byKey = new Map(found.map((price) => [price.lookupKey, price]));
    for (const key of missing) {
      const price = byKey.get(key);
      if (price) prices.set(key, price);
    }
    return lookup(prices, false);
  } catch (error) {
    // Without a key there is no Stripe to have been down: nothing last known to show.
    if (error instanceof BillingDisabledError) return lookup(prices, true, { error: error.message });
    const known = await lastKnownPrices(missing);
    for (const [key, price] of known.prices) prices.set(key, price);
    return lookup(prices, true, { error: errorText(error), asOf: known.asOf });
  }
}

async function fetchCatalog(stripe: Stripe): Promise<StripeCatalog> {
  const prices: LivePrice[] = [];
  let startingAfter: string | undefined;
  for (let page = 0; page < CATALOG_MAX_PAGES; page++) {
    const list = await stripe.prices.list({
      active: true,
      expand: ["data.product"],
      limit: CATALOG_PAGE_SIZE,
      ...(startingAfter ? { starting_after: startingAfter } : {}),
    });
    for (const price of list.data) {
      const live = toLivePrice(price);
      if (live) prices.push(live);
    }
    const last = list.data.at(-1);
    if (!list.has_more || !last) return { prices, complete: true };
    startingAfter = last.id;
  }
  return { prices, complete: false };
}

/**
 * The account's active prices that carry a lookup key (paginated, cached like lookups). Reading it
 * also answers every one of those keys, so a page that needs both makes one round trip.
 */
export async function listStripeCatalog({ deadlineMs = DEFAULT_DEADLINE_MS }: { deadlineMs?: number } = {}): Promise<{
  catalog: StripeCatalog | null;
  error?: string;
}> {
  const now = Date.now();
  if (cache.catalog && cache.catalog.expiresAt > now) return { catalog: cache.catalog.value };
  await startListening();
  const generation = cache.generation;
  const keep = (catalog: StripeCatalog) => {
    if (generation !== cache.generation) return catalog;
    if (sync.listening !== false) {
      const expiresAt = Date.now() + CACHE_TTL_MS;
      cache.catalog = { value: catalog, expiresAt };
      for (const price of catalog.prices) cache.entries.set(price.lookupKey, { price, expiresAt });
    }
    persist(catalog.prices, { complete: catalog.complete });
    return catalog;
  };
  try {
    return { catalog: await guardedStripeRead((stripe) => fetchCatalog(stripe).then(keep), deadlineMs) };
  } catch (error) {
    return { catalog: null, error: errorText(error) };
  }
}

/** Stripe could not be asked for the prices (an outage, the breaker, the deadline). */
export class PricesUnavailableError extends Error {
  constructor(reason: string | undefined) {
    super(`Stripe could not be asked for its prices: ${reason ?? "no answer"}`);
    this.name = "PricesUnavailableError";
  }
}

/**
 * Each lookup key's price as Stripe has it now (null: Stripe knows no price with the key), for telling
 * which tier a legacy price (one without a lookup key) belongs to and what that tier charges now. The
 * cached catalog answers the active keys (one listing when cold); only keys it lacks are looked up,
 * ≤ 10 per call, and cached too, so a warm cache asks Stripe nothing. Throws when Stripe cannot be asked.
 */
export async function pricesOfLookupKeys(
  lookupKeys: readonly string[],
  { deadlineMs = DEFAULT_DEADLINE_MS }: { deadlineMs?: number } = {},
): Promise<Map<string, LivePrice | null>> {
  const wanted = new Set(lookupKeys);
  const prices = new Map<string, LivePrice | null>();
  if (!wanted.size) return prices;
  const listing = await listStripeCatalog({ deadlineMs });
  if (!listing.catalog) throw new PricesUnavailableError(listing.error);
  for (const price of listing.catalog.prices) if (wanted.has(price.lookupKey)) prices.set(price.lookupKey, price);
  const rest = [...wanted].filter((key) => !prices.has(key));
  if (rest.length) {
    const lookup = await lookupPrices(rest, { deadlineMs });
    if (lookup.unavailable) throw new PricesUnavailableError(lookup.error);
    for (const key of rest) prices.set(key, lookup.found.get(key) ?? null);
  }
  return prices;
}

/** The product of each lookup key's price as Stripe has it now (pricesOfLookupKeys; null: no such price). */
export async function productsOfLookupKeys(
  lookupKeys: readonly string[],
  options: { deadlineMs?: number } = {},
): Promise<Map<string, string | null>> {
  const prices = await pricesOfLookupKeys(lookupKeys, options);
  return new Map([...prices].map(([key, price]) => [key, price?.productId ?? null]));
}

/** "£29.00", from Stripe's amount in the currency's smallest unit. */
export function formatAmount(unitAmount: number, currency: string) {
  const divisor = minorUnitsPerMajor(currency);
  return new Intl.NumberFormat("en-GB", { style: "currency", currency: currency.toUpperCase() }).format(
    unitAmount / divisor,
  );
}

/** "month", "year", "3 months". */
export function formatInterval(price: Pick<LivePrice, "interval" | "intervalCount">) {
  if (!price.interval) return "one-off";
  return price.intervalCount > 1 ? `${price.intervalCount} ${price.interval}s` : price.interval;
}
