// A subscription as customers see it (plan price, dates, cancellation), asked of Stripe: never
// stored in the database. One `subscriptions.retrieve`, bounded by a deadline; customer pages keep
// the answer briefly in process, keyed by the user's last applied webhook (see `subscriptionDetailsFor`).
import type Stripe from "stripe";
import type { AccountWithTier } from "~/models/billing-account.server.ts";
import { logger } from "~/utils/logger.server.ts";
import { singleton } from "~/utils/singleton.server.ts";
import { guardedStripeRead, PAGE_BUDGET_MS, StripeUnavailableError } from "./breaker.server.ts";
import type { SubscriptionItemPrice } from "~/rules/stripe-subscriptions.ts";
import { describeStripeError, idOf } from "./client.server.ts";

type SubscriptionDates = {
  renewsAt: string | null;
  cancelsAt: string | null;
  endedAt: string | null;
};

const iso = (seconds: number | null | undefined) => (seconds ? new Date(seconds * 1000).toISOString() : null);

type LegacyPeriod = { current_period_start?: number; current_period_end?: number };

/** Since API version 2025-03-31 the billing period lives on the items; older versions had it on the subscription. */
function periodEndOf(subscription: Stripe.Subscription): number | null {
  const legacy = subscription as Stripe.Subscription & LegacyPeriod;
  return subscription.items?.data?.[0]?.current_period_end ?? legacy.current_period_end ?? null;
}

function periodStartOf(subscription: Stripe.Subscription): number | null {
  const legacy = subscription as Stripe.Subscription & LegacyPeriod;
  return subscription.items?.data?.[0]?.current_period_start ?? legacy.current_period_start ?? null;
}

function subscriptionDates(subscription: Stripe.Subscription): SubscriptionDates {
  const periodEnd = periodEndOf(subscription);
  const cancelsAt = subscription.cancel_at ?? (subscription.cancel_at_period_end ? periodEnd : null);
  const ended = subscription.status === "canceled" || subscription.status === "incomplete_expired";
  return {
    renewsAt: !ended && !cancelsAt ? iso(periodEnd) : null,
    cancelsAt: !ended ? iso(cancelsAt) : null,
    endedAt: ended ? iso(subscription.ended_at ?? subscription.canceled_at) : null,
  };
}

export type SubscriptionDetails = {
  id: string;
  status: string;
  /** Set to end at the period's end (the portal's default cancellation): resumable until then. */
  cancelAtPeriodEnd: boolean;
  dates: SubscriptionDates;
  /** The current period; for a past_due subscription its start is when the unpaid renewal was due. */
  periodStart: string | null;
  periodEnd: string | null;
  /** The subscription's plan: its one item (flows and plan switches act on it). */
  item: {
    id: string;
    priceId: string;
    /** Null for a legacy price: its lookup key was moved to a new price (transfer_lookup_key). */
    lookupKey: string | null;
    productId: string | null;
    unitAmount: number | null;
    currency: string;
    interval: string | null;
    intervalCount: number;
  } | null;
  /** More than one item: plan switches go through the portal's homepage, not a one-item flow. */
  multipleItems: boolean;
  /** Every item's price, as the tier rule reads them (tierForSubscription). */
  prices: SubscriptionItemPrice[];
};

function subscriptionDetails(subscription: Stripe.Subscription): SubscriptionDetails {
  const items = subscription.items?.data ?? [];
  const first = items[0];
  return {
    id: subscription.id,
    status: subscription.status,
    cancelAtPeriodEnd: Boolean(subscription.cancel_at_period_end || subscription.cancel_at),
    dates: subscriptionDates(subscription),
    periodStart: iso(periodStartOf(subscription)),
    periodEnd: iso(periodEndOf(subscription)),
    item: first
      ? {
          id: first.id,
          priceId: first.price.id,
          lookupKey: first.price.lookup_key,
          productId: idOf(first.price.product),
          unitAmount: first.price.unit_amount,
          currency: first.price.currency,
          interval: first.price.recurring?.interval ?? null,
          intervalCount: first.price.recurring?.interval_count ?? 1,
        }
      : null,
    multipleItems: items.length > 1,
    prices: items.map((item) => ({
      priceId: item.price.id,
      lookupKey: item.price.lookup_key,
      productId: idOf(item.price.product),
    })),
  };
}

/** The subscription as customers see it, or null when Stripe cannot tell us quickly (pages still render). */
export async function fetchSubscriptionDetails(
  subscriptionId: string,
  deadlineMs = PAGE_BUDGET_MS,
): Promise<SubscriptionDetails | null> {
  try {
    return subscriptionDetails(
      await guardedStripeRead((stripe) => stripe.subscriptions.retrieve(subscriptionId), deadlineMs),
    );
  } catch (error) {
    // Expected now and then (an outage, a slow answer): one line, no stack; while the breaker is
    // open, nothing (it said so once when it opened).
    if (!(error instanceof StripeUnavailableError))
      logger.warn(
        { subscriptionId, stripe: describeStripeError(error) },
        "could not read the subscription from Stripe",
      );
    return null;
  }
}

// Customer pages (/account, /pricing) ask for the subscription on every visit; a page must not wait a
// Stripe round trip each time. An entry is keyed by the subscription and the account's `billingVersion`,
// which every applied webhook increments: once any instance applies a change (a cancellation, a
// renewal, a plan switch), every instance misses and asks Stripe again. The TTL bounds what an
// instance could show otherwise (a change whose webhook is still on its way).
const DETAILS_TTL_MS = 5 * 60_000;
const DETAILS_MAX_ENTRIES = 10_000;
type DetailsEntry = { key: string; details: SubscriptionDetails; expiresAt: number };
const detailsCache = singleton("subscription-details-cache", () => new Map<string, DetailsEntry>());

type SubscribedUser = Pick<AccountWithTier, "stripeSubscriptionId" | "billingVersion">;

const cacheKeyOf = (user: SubscribedUser) => `${user.stripeSubscriptionId}#${user.billingVersion}`;

/**
 * The account's subscription as customers see it: from this process' cache while no newer webhook has
 * been applied to the account, else one `subscriptions.retrieve`. Null when Stripe cannot tell us quickly
 * (nothing is cached then). Decisions that act on Stripe (plan switches) read it fresh instead.
 */
export async function subscriptionDetailsFor(
  user: SubscribedUser,
  deadlineMs = PAGE_BUDGET_MS,
): Promise<SubscriptionDetails | null> {
  const subscriptionId = user.stripeSubscriptionId;
  if (!subscriptionId) return null;
  const key = cacheKeyOf(user);
  const cached = detailsCache.get(subscriptionId);
  if (cached && cached.key === key && cached.expiresAt > Date.now()) return cached.details;
  const details = await fetchSubscriptionDetails(subscriptionId, deadlineMs);
  if (details) {
    detailsCache.delete(subscriptionId); // re-inserted last: the oldest entries go first when full
    detailsCache.set(subscriptionId, { key, details, expiresAt: Date.now() + DETAILS_TTL_MS });
    if (detailsCache.size > DETAILS_MAX_ENTRIES) {
      const oldest = detailsCache.keys().next().value;
      if (oldest !== undefined) detailsCache.delete(oldest);
    }
  }
  return details;
}

/** Forgets a subscription this process changed itself (resume), before its webhook arrives. */
export function forgetSubscriptionDetails(subscriptionId: string | null | undefined) {
  if (subscriptionId) detailsCache.delete(subscriptionId);
}

/** Drops every cached subscription: a price changed in Stripe (its lookup key moved), and tests. */
export function clearSubscriptionDetailsCache() {
  detailsCache.clear();
}
