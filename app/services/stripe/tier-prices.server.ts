// A tier's prices as Stripe has them: for each product its lookup keys sell, every price (current,
// legacy, archived), and how many live subscriptions each has. Both are asked of Stripe and cached
// like the catalog (5 minutes, dropped on every instance with the prices: ./prices.server.ts), so a
// warm page asks Stripe nothing and a cold one a fixed few listings. Subscriber counts come from one
// listing of the account's subscriptions, shared by every tier's page; a page waits for it at most
// its budget, and a late answer is kept for the next one ("counting…" meanwhile).
import type Stripe from "stripe";
import { isLiveSubscriptionStatus } from "~/rules/stripe-subscriptions.ts";
import type { PriceFacts } from "~/rules/prices.ts";
import { logger } from "~/utils/logger.server.ts";
import { singleton } from "~/utils/singleton.server.ts";
import { guardedStripeRead, PAGE_BUDGET_MS } from "./breaker.server.ts";
import { idOf } from "./client.server.ts";
import { billedAs, isCurrentPriceCacheGeneration, priceCacheGeneration } from "./prices.server.ts";

const CACHE_TTL_MS = 5 * 60_000;
const PAGE_SIZE = 100; // Stripe's largest page
const PRODUCT_PRICE_PAGES = 5;
// 50,000 subscriptions at most in one count; past that the counts say "at least".
const SUBSCRIPTION_PAGES = 500;
// One page of the background count may take this long before Stripe counts as not answering.
const SUBSCRIPTION_PAGE_DEADLINE_MS = 10_000;
/** Subscriptions kept per price for a preview ("first rows"). */
export const SAMPLE_SIZE = 10;

export type StripePrice = PriceFacts & { created: number };

/** A live subscription (active, trialing, past due) with the item on the price. */
type LiveSubscription = {
  id: string;
  customerId: string | null;
  status: string;
  itemId: string;
  priceId: string;
};

export type SubscriptionCounts = {
  /** Live subscriptions per price id, with the newest few. */
  byPrice: Map<string, { count: number; first: LiveSubscription[] }>;
  /** False when the account had more subscriptions than one count reads. */
  complete: boolean;
  countedAt: string;
};

type Cached<T> = { value: T; generation: number; expiresAt: number };
const cache = singleton("tier-prices-cache", () => ({
  products: new Map<string, Cached<StripePrice[]>>(),
  counts: undefined as Cached<SubscriptionCounts> | undefined,
  counting: undefined as Promise<SubscriptionCounts> | undefined,
}));

function fresh<T>(entry: Cached<T> | undefined): T | undefined {
  return entry && entry.expiresAt > Date.now() && isCurrentPriceCacheGeneration(entry.generation)
    ? entry.value
    : undefined;
}

async function cacheUnder<T>(work: () => Promise<T>, store: (entry: Cached<T>) => void): Promise<T> {
  const { generation, cacheable } = await priceCacheGeneration();
  const value = await work();
  // A price changed meanwhile: the answer may be stale, so it is used once, not kept.
  if (cacheable && isCurrentPriceCacheGeneration(generation))
    store({ value, generation, expiresAt: Date.now() + CACHE_TTL_MS });
  return value;
}

export function toStripePrice(price: Stripe.Price): StripePrice {
  return {
    id: price.id,
    lookupKey: price.lookup_key,
    active: price.active,
    ...billedAs(price),
    productId: idOf(price.product) ?? "",
    created: price.created,
  };
}

/** Every price of a product, archived ones included (Stripe lists them when `active` is not given). */
export async function listProductPrices(stripe: Stripe, productId: string): Promise<StripePrice[]> {
  const prices: StripePrice[] = [];
  let startingAfter: string | undefined;
  for (let page = 0; page < PRODUCT_PRICE_PAGES; page++) {
    const list = await stripe.prices.list({
      product: productId,
      limit: PAGE_SIZE,
      ...(startingAfter ? { starting_after: startingAfter } : {}),
    });
    prices.push(...list.data.map(toStripePrice));
    const last = list.data.at(-1);
    if (!list.has_more || !last) break;
    startingAfter = last.id;
  }
  return prices;
}

/** The products' prices (one listing per product not cached), within a page's budget. Throws when Stripe cannot answer. */
export async function productPrices(
  productIds: readonly string[],
  { deadlineMs = PAGE_BUDGET_MS }: { deadlineMs?: number } = {},
): Promise<Map<string, StripePrice[]>> {
  const result = new Map<string, StripePrice[]>();
  const missing: string[] = [];
  for (const id of new Set(productIds)) {
    const cached = fresh(cache.products.get(id));
    if (cached) result.set(id, cached);
    else missing.push(id);
  }
  if (!missing.length) return result;
  const lists = await cacheUnder(
    () =>
      guardedStripeRead(
        (stripe) =>
          Promise.all(missing.map((id) => listProductPrices(stripe, id).then((prices) => [id, prices] as const))),
        deadlineMs,
      ),
    (entry) => {
      for (const [id, prices] of entry.value) cache.products.set(id, { ...entry, value: prices });
    },
  );
  for (const [id, prices] of lists) result.set(id, prices);
  return result;
}

function liveItems(subscription: Stripe.Subscription): LiveSubscription[] {
  if (!isLiveSubscriptionStatus(subscription.status)) return [];
  return subscription.items.data.map((item) => ({
    id: subscription.id,
    customerId: idOf(subscription.customer),
    status: subscription.status,
    itemId: item.id,
    priceId: item.price.id,
  }));
}

async function countSubscriptions(): Promise<SubscriptionCounts> {
  const byPrice = new Map<string, { count: number; first: LiveSubscription[] }>();
  let startingAfter: string | undefined;
  for (let page = 0; page < SUBSCRIPTION_PAGES; page++) {
    // Each page through the breaker on its own: a long count is many quick reads, not one slow one.
    const list = await guardedStripeRead(
      (stripe) =>
        stripe.subscriptions.list({ limit: PAGE_SIZE, ...(startingAfter ? { starting_after: startingAfter } : {}) }),
      SUBSCRIPTION_PAGE_DEADLINE_MS,
    );
    for (const live of list.data.flatMap(liveItems)) {
      const entry = byPrice.get(live.priceId) ?? { count: 0, first: [] };
      entry.count++;
      if (entry.first.length < SAMPLE_SIZE) entry.first.push(live);
      byPrice.set(live.priceId, entry);
    }
    const last = list.data.at(-1);
    if (!list.has_more || !last) return { byPrice, complete: true, countedAt: new Date().toISOString() };
    startingAfter = last.id;
  }
  return { byPrice, complete: false, countedAt: new Date().toISOString() };
}

/**
 * Live subscriptions per price, from the cache or one listing of the account's subscriptions (one at
 * a time per instance, however many pages ask). Waits at most `waitMs`: null means still counting.
 * Throws when Stripe cannot be asked.
 */
/**
 * Drops this instance's subscriber counts: it applied a subscription change (a webhook, a sync), so its
 * tier pages count again. Memory only, no query on the webhook path; other instances recount within
 * the cache's 5 minutes, and each page says when it counted.
 */
export function forgetSubscriptionCounts(): void {
  cache.counts = undefined;
}

export async function liveSubscriptionCounts({ waitMs = PAGE_BUDGET_MS }: { waitMs?: number } = {}) {
  const cached = fresh(cache.counts);
  if (cached) return cached;
  cache.counting ??= cacheUnder(countSubscriptions, (entry) => (cache.counts = entry)).finally(() => {
    cache.counting = undefined;
  });
  const counting = cache.counting;
  let timer: NodeJS.Timeout | undefined;
  const giveUp = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), waitMs)));
  const counts = await Promise.race([counting, giveUp]).finally(() => clearTimeout(timer));
  // Not done in time: it goes on, and the next page finds its answer.
  if (!counts) counting.catch((late: unknown) => logger.warn({ err: late }, "could not count subscriptions per price"));
  return counts;
}
