// Stripe's side of one paid tier across providers: when a Whop membership that held the tier lapses
// while the account's Stripe subscription is live, the subscription as Stripe has it now is applied
// again. Given to the Whop services as their ProviderFallback (they never import Stripe's).
import Stripe from "stripe";
import type { Tx } from "~/models/transaction.server.ts";
import { stripeReadAt } from "~/rules/stripe-events.ts";
import { FulfilmentError } from "~/services/billing/outcomes.ts";
import type { ProviderFallback } from "~/services/billing/paid-tier-overlap.server.ts";
import { BillingDisabledError, getStripe } from "./client.server.ts";
import { applySubscription } from "./fulfilment.server.ts";

/**
 * The Whop membership that held the tier lapsed while the account's Stripe subscription is live: apply
 * that subscription as Stripe has it now, which puts the account back on its tier. Stripe unreachable
 * fails the event (Whop retries it); no Stripe key or no such subscription leaves the account on free.
 */
export const fallBackToStripe: ProviderFallback = async (tx: Tx, user) => {
  const subscriptionId = user.stripeSubscriptionId;
  if (!subscriptionId) return "no Stripe subscription to fall back to";
  let subscription: Stripe.Response<Stripe.Subscription>;
  try {
    subscription = await getStripe().subscriptions.retrieve(subscriptionId);
  } catch (error) {
    if (error instanceof BillingDisabledError)
      return `Stripe subscription ${subscriptionId} could not be asked (no Stripe key): sync the account from Stripe`;
    if (error instanceof Stripe.errors.StripeInvalidRequestError && error.code === "resource_missing") {
      return `Stripe no longer has subscription ${subscriptionId}`;
    }
    throw error;
  }
  try {
    const outcome = await applySubscription(tx, subscription, {
      // Stripe's time for this state (whole seconds like its events), or a same-second change is lost.
      observedAt: stripeReadAt(subscription.lastResponse?.headers?.date, new Date()),
      accountHint: { accountId: user.id },
      tieSettled: true,
    });
    return `Stripe subscription ${subscriptionId}: ${outcome.detail}`;
  } catch (error) {
    if (error instanceof FulfilmentError)
      return `Stripe subscription ${subscriptionId} could not be applied: ${error.message}`;
    throw error;
  }
};
