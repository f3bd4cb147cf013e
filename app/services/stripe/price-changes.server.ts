// Changing a price in Stripe: a new price on the same product takes the lookup key
// (`transfer_lookup_key`), and a background job moves legacy subscriptions to it. Stripe prices are
// immutable; subscriptions stay on the price they have until moved. The job's calls are paced under
// Stripe's rate limit and wait out a 429 (the SDK retries connection errors, 409 and 5xx, not 429).
import Stripe from "stripe";
import { jobRequestsPerSecond, legacyPricesMovingTo, rateLimitBackoffMs } from "~/rules/prices.ts";
import { isEndedSubscriptionStatus } from "~/rules/stripe-subscriptions.ts";
import { config } from "~/utils/config.server.ts";
import { getStripe, idOf, stripeConnection } from "./client.server.ts";
import { listProductPrices, type StripePrice, toStripePrice } from "./tier-prices.server.ts";

export type NewPrice = {
  productId: string;
  lookupKey: string;
  currency: string;
  unitAmount: number;
  interval: Stripe.PriceCreateParams.Recurring.Interval;
  intervalCount: number;
  nickname: string | null;
};

/**
 * Creates the price and moves the lookup key to it. `idempotencyKey` makes a repeated request (a
 * double click, a retry) answer the same price instead of making another; `replayed` says so.
 */
export async function createPriceTakingLookupKey(
  input: NewPrice,
  idempotencyKey: string,
): Promise<{ price: StripePrice; replayed: boolean }> {
  const price = await getStripe().prices.create(
    {
      product: input.productId,
      currency: input.currency,
      unit_amount: input.unitAmount,
      recurring: { interval: input.interval, interval_count: input.intervalCount },
      lookup_key: input.lookupKey,
      transfer_lookup_key: true,
      ...(input.nickname ? { nickname: input.nickname } : {}),
    },
    { idempotencyKey },
  );
  return { price: toStripePrice(price), replayed: price.lastResponse.headers["idempotent-replayed"] === "true" };
}

const MAX_RATE_LIMITED_ATTEMPTS = 12;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Calls Stripe at most `perSecond` times a second (spaced evenly), waiting out 429s with growing
 * pauses (up to 12 in a row, about two minutes, before giving up). One per job step.
 */
export class StripePacer {
  private next = 0;
  /** 429s answered so far. */
  rateLimited = 0;
  readonly perSecond: number;

  constructor(perSecond?: number) {
    const apiKey = stripeConnection().apiKey ?? "";
    this.perSecond = perSecond ?? jobRequestsPerSecond(apiKey, config().stripe.jobRequestsPerSecond);
  }

  async call<T>(request: (stripe: Stripe) => Promise<T>): Promise<T> {
    const stripe = getStripe();
    for (let attempt = 1; ; attempt++) {
      const now = Date.now();
      if (this.next > now) await sleep(this.next - now);
      this.next = Math.max(now, this.next) + 1000 / this.perSecond;
      try {
        return await request(stripe);
      } catch (error) {
        if (!(error instanceof Stripe.errors.StripeRateLimitError) || attempt >= MAX_RATE_LIMITED_ATTEMPTS) throw error;
        this.rateLimited++;
        const pause = rateLimitBackoffMs(attempt);
        this.next = Date.now() + pause;
      }
    }
  }
}

/** The price that has the lookup key now, and the legacy prices whose subscriptions move to it. */
export async function moveTargetAndSources(
  pacer: StripePacer,
  lookupKey: string,
): Promise<{ target: StripePrice; sources: StripePrice[] } | null> {
  const found = await pacer.call((stripe) => stripe.prices.list({ lookup_keys: [lookupKey], limit: 1 }));
  const first = found.data[0];
  if (!first) return null;
  const target = toStripePrice(first);
  const prices = await pacer.call((stripe) => listProductPrices(stripe, target.productId));
  return { target, sources: legacyPricesMovingTo(target, prices) };
}

/** One page of the subscriptions on a price (not canceled), newest first, after `startingAfter`. */
export async function subscriptionsOnPrice(pacer: StripePacer, priceId: string, startingAfter: string | null) {
  const list = await pacer.call((stripe) =>
    stripe.subscriptions.list({
      price: priceId,
      limit: 100,
      ...(startingAfter ? { starting_after: startingAfter } : {}),
    }),
  );
  return {
    ids: list.data.filter((sub) => !isEndedSubscriptionStatus(sub.status)).map((sub) => sub.id),
    last: list.data.at(-1)?.id ?? null,
    hasMore: list.has_more,
  };
}

export type MoveOutcome =
  | { kind: "moved"; customerId: string | null }
  | { kind: "already"; customerId: string | null }
  | { kind: "skipped"; customerId: string | null; reason: string };

/**
 * Moves the subscription's item on a legacy price to `targetPriceId` from its next renewal
 * (`proration_behavior: none`), reading it first: one already on the target, ended, or switched to
 * another plan meanwhile is left as it is. The idempotency key (subscription + target price) makes
 * a repeat after a crash answer the first update rather than update again.
 */
export async function moveSubscriptionToPrice(
  pacer: StripePacer,
  subscriptionId: string,
  sourcePriceIds: readonly string[],
  targetPriceId: string,
): Promise<MoveOutcome> {
  const subscription = await pacer.call((stripe) => stripe.subscriptions.retrieve(subscriptionId));
  const customerId = idOf(subscription.customer);
  if (isEndedSubscriptionStatus(subscription.status)) {
    return { kind: "skipped", customerId, reason: `the subscription is ${subscription.status}` };
  }
  const item = subscription.items.data.find((it) => sourcePriceIds.includes(it.price.id));
  if (!item) {
    return subscription.items.data.some((it) => it.price.id === targetPriceId)
      ? { kind: "already", customerId }
      : { kind: "skipped", customerId, reason: "no longer on a legacy price of this lookup key" };
  }
  await pacer.call((stripe) =>
    stripe.subscriptions.update(
      subscriptionId,
      { items: [{ id: item.id, price: targetPriceId }], proration_behavior: "none" },
      { idempotencyKey: `tierdesk-price-move:${subscriptionId}:${targetPriceId}` },
    ),
  );
  return { kind: "moved", customerId };
}
