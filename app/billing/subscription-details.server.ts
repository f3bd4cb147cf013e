// Renewal and cancellation dates for the account page, asked of Stripe (never stored here).
import type Stripe from "stripe";
import { withDeadline } from "~/utils/deadline.ts";
import { getStripe } from "./stripe.server.ts";

export type SubscriptionDates = {
  renewsAt: string | null;
  cancelsAt: string | null;
  endedAt: string | null;
};

const iso = (seconds: number | null | undefined) => (seconds ? new Date(seconds * 1000).toISOString() : null);

export function subscriptionDates(subscription: Stripe.Subscription): SubscriptionDates {
  // Since API version 2025-03-31 the billing period lives on the items; older versions had it on the subscription.
  const legacy = subscription as Stripe.Subscription & { current_period_end?: number };
  const periodEnd = subscription.items?.data?.[0]?.current_period_end ?? legacy.current_period_end ?? null;
  const cancelsAt = subscription.cancel_at ?? (subscription.cancel_at_period_end ? periodEnd : null);
  const ended = subscription.status === "canceled" || subscription.status === "incomplete_expired";
  return {
    renewsAt: !ended && !cancelsAt ? iso(periodEnd) : null,
    cancelsAt: !ended ? iso(cancelsAt) : null,
    endedAt: ended ? iso(subscription.ended_at ?? subscription.canceled_at) : null,
  };
}

/** The subscription's dates, or null when Stripe cannot tell us quickly (the page still renders). */
export async function fetchSubscriptionDates(subscriptionId: string, deadlineMs = 2_500): Promise<SubscriptionDates | null> {
  try {
    return subscriptionDates(await withDeadline(getStripe().subscriptions.retrieve(subscriptionId), deadlineMs));
  } catch {
    return null;
  }
}
