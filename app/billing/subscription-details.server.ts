// A subscription as customers see it (plan price, dates, cancellation), asked of Stripe: never
// stored here. One `subscriptions.retrieve` per page, bounded by a deadline.
import type Stripe from "stripe";
import { withDeadline } from "~/utils/deadline.ts";
import { logger } from "~/utils/logger.server.ts";
import { describeStripeError, getStripe } from "./stripe.server.ts";

export type SubscriptionDates = {
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

export function subscriptionDates(subscription: Stripe.Subscription): SubscriptionDates {
  const periodEnd = periodEndOf(subscription);
  const cancelsAt = subscription.cancel_at ?? (subscription.cancel_at_period_end ? periodEnd : null);
  const ended = subscription.status === "canceled" || subscription.status === "incomplete_expired";
  return {
    renewsAt: !ended && !cancelsAt ? iso(periodEnd) : null,
    cancelsAt: !ended ? iso(cancelsAt) : null,
    endedAt: ended ? iso(subscription.ended_at ?? subscription.canceled_at) : null,
  };
}

/** The subscription's dates, or null when Stripe cannot tell us quickly (the page still renders). */
export async function fetchSubscriptionDates(
  subscriptionId: string,
  deadlineMs = 2_500,
): Promise<SubscriptionDates | null> {
  const details = await fetchSubscriptionDetails(subscriptionId, deadlineMs);
  return details ? details.dates : null;
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
    lookupKey: string | null;
    unitAmount: number | null;
    currency: string;
    interval: string | null;
    intervalCount: number;
  } | null;
  /** More than one item: plan switches go through the portal's homepage, not a one-item flow. */
  multipleItems: boolean;
};

export function subscriptionDetails(subscription: Stripe.Subscription): SubscriptionDetails {
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
          unitAmount: first.price.unit_amount,
          currency: first.price.currency,
          interval: first.price.recurring?.interval ?? null,
          intervalCount: first.price.recurring?.interval_count ?? 1,
        }
      : null,
    multipleItems: items.length > 1,
  };
}

/** The subscription as customers see it, or null when Stripe cannot tell us quickly (pages still render). */
export async function fetchSubscriptionDetails(
  subscriptionId: string,
  deadlineMs = 2_500,
): Promise<SubscriptionDetails | null> {
  try {
    return subscriptionDetails(await withDeadline(getStripe().subscriptions.retrieve(subscriptionId), deadlineMs));
  } catch (error) {
    // Expected now and then (an outage, a slow answer): one line, no stack.
    logger.warn({ subscriptionId, stripe: describeStripeError(error) }, "could not read the subscription from Stripe");
    return null;
  }
}
