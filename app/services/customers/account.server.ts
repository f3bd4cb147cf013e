// /account as the customer sees it: plan, price and interval (Stripe's: the price on the
// subscription's item), the subscription's state in words with its date, what the plan includes,
// and the one next action that fits: resume, update the payment method, change plan, subscribe.
// Also "Resume": a subscription set to cancel at period end goes on renewing.
import Stripe from "stripe";
import type { AccountWithTier } from "~/models/billing-account.server.ts";
import { logger } from "~/utils/logger.server.ts";
import { getEntitlements } from "./entitlements.server.ts";
import { planPriceOf } from "~/services/stripe/subscription-tier.server.ts";
import { isLiveSubscriptionStatus, type PlanPrice, type PriceText } from "~/rules/stripe-subscriptions.ts";
import { FREE_TIER_KEY } from "~/rules/tiers.ts";
import { billingMode, describeStripeError, getStripe } from "~/services/stripe/client.server.ts";
import {
  forgetSubscriptionDetails,
  subscriptionDetailsFor,
  type SubscriptionDetails,
} from "~/services/stripe/subscription-details.server.ts";

type NextAction =
  /** Set to cancel at period end: undo that before the date. */
  | { kind: "resume" }
  /** A renewal failed (past_due, unpaid) or the first payment is pending: fix the card in the portal. */
  | { kind: "update-payment" }
  /** A live subscription: other plans are on /pricing, billing details in the portal. */
  | { kind: "change-plan" }
  /** No subscription: choose one on /pricing. */
  | { kind: "subscribe" }
  /** An exempt tier, or billing that cannot be used: nothing to do. */
  | { kind: "none" };

/** Where the subscription stands, in words, with the date that matters. */
export type SubscriptionState =
  | { kind: "active"; renewsAt: string | null }
  | { kind: "trialing"; renewsAt: string | null }
  | { kind: "ending"; endsAt: string }
  | { kind: "past-due"; since: string | null }
  | { kind: "incomplete" }
  | { kind: "ended"; status: string }
  | { kind: "none" };

export type AccountView = {
  email: string;
  plan: { key: string | null; name: string; exempt: boolean };
  /** "£29.00 per month"; null without a live Stripe price. */
  price: {
    amount: string;
    interval: string;
    label: string;
    /**
     * A legacy price (kept from when they subscribed; the plan costs new subscribers `current` now,
     * null when Stripe cannot tell us just now or the plan has no price for the same terms).
     */
    legacy: { current: { amount: string; interval: string; label: string } | null } | null;
  } | null;
  state: SubscriptionState;
  /** Stripe could not be asked just now: dates and price are missing, the plan is still right. */
  stripeUnavailable: boolean;
  /** What the plan includes, for people: the permissions' descriptions. */
  includes: Array<{ name: string; description: string }>;
  nextAction: NextAction;
  /** A Stripe customer to open the portal for. */
  canManageBilling: boolean;
  /** The plan's user limit: an account's seats. */
  userLimit: number | null;
};

/** "per month", "per year", "every 3 months". */
function perInterval(interval: string) {
  return /^\d/.test(interval) ? `every ${interval}` : `per ${interval}`;
}

const labelled = ({ amount, interval }: PriceText) => ({
  amount,
  interval,
  label: `${amount} ${perInterval(interval)}`,
});

/** The price the customer pays: the one on the subscription's item, as Stripe returned it (a price's
 * amount and interval never change in Stripe), and for a legacy price what the plan costs now. */
function livePriceOf(price: PlanPrice | null): AccountView["price"] {
  if (!price) return null;
  const current = price.legacy?.current;
  return {
    ...labelled(price.paying),
    legacy: price.legacy ? { current: current ? labelled(current) : null } : null,
  };
}

function stateOf(status: string | null, details: SubscriptionDetails | null): SubscriptionState {
  if (!status) return { kind: "none" };
  // A failed renewal: the unpaid period started when the payment was due.
  if (status === "past_due" || status === "unpaid") return { kind: "past-due", since: details?.periodStart ?? null };
  if (status === "incomplete") return { kind: "incomplete" };
  if (!isLiveSubscriptionStatus(status)) return { kind: "ended", status };
  if (details?.dates.cancelsAt) return { kind: "ending", endsAt: details.dates.cancelsAt };
  const renewsAt = details?.dates.renewsAt ?? null;
  return status === "trialing" ? { kind: "trialing", renewsAt } : { kind: "active", renewsAt };
}

function nextActionFor(
  state: SubscriptionState,
  { exempt, billing }: { exempt: boolean; billing: boolean },
): NextAction {
  if (!billing) return { kind: "none" };
  switch (state.kind) {
    case "ending":
      return { kind: "resume" };
    case "past-due":
    case "incomplete":
      return { kind: "update-payment" };
    case "active":
    case "trialing":
      return { kind: "change-plan" };
    case "ended":
    case "none":
      return exempt ? { kind: "none" } : { kind: "subscribe" };
  }
}

/**
 * Everything /account shows for the account the person acts for: the database's plan, Stripe's price
 * and dates (one subscription read, cached). `email` is the signed-in person's.
 */
export async function accountView(user: AccountWithTier, email: string): Promise<AccountView> {
  const billing = billingMode() !== "disabled";
  const subscriptionId = billing ? user.stripeSubscriptionId : null;
  const [entitlements, details] = await Promise.all([
    getEntitlements(user),
    subscriptionId ? subscriptionDetailsFor(user) : Promise.resolve(null),
  ]);
  const live = isLiveSubscriptionStatus(user.subscriptionStatus);
  const planKey = entitlements.tier?.key ?? null;
  // A tier other than Free in force without a subscription is granted otherwise (exempt, arranged directly).
  const exempt = planKey !== null && planKey !== FREE_TIER_KEY && !live;
  const state = stateOf(user.subscriptionStatus, details);
  // A legacy price also asks what the plan costs now (the cached catalog); any other costs nothing.
  const price = live ? await planPriceOf(details) : null;
  return {
    email,
    plan: { key: planKey, name: entitlements.tier?.name ?? "Free", exempt },
    price: livePriceOf(price),
    state,
    stripeUnavailable: Boolean(subscriptionId) && details === null,
    includes: entitlements.permissionDetails.map(({ name, description }) => ({
      name,
      description: description || name,
    })),
    nextAction: nextActionFor(state, { exempt, billing }),
    // A customer is created when checkout starts; there is something to manage once it subscribed.
    canManageBilling: billing && Boolean(user.stripeCustomerId && user.stripeSubscriptionId),
    userLimit: entitlements.userLimit,
  };
}

export type ResumeOutcome = { ok: true } | { ok: false; message: string };

/** Undoes a cancellation at period end (the portal's "Renew"), here in one click. */
export async function resumeSubscription(user: AccountWithTier): Promise<ResumeOutcome> {
  if (billingMode() === "disabled" || !user.stripeSubscriptionId) {
    return { ok: false, message: "You have no subscription to resume." };
  }
  try {
    await getStripe().subscriptions.update(user.stripeSubscriptionId, { cancel_at_period_end: false });
    forgetSubscriptionDetails(user.stripeSubscriptionId);
    return { ok: true };
  } catch (error) {
    logger.warn({ stripe: describeStripeError(error) }, "resuming a subscription failed");
    if (error instanceof Stripe.errors.StripeInvalidRequestError) {
      return { ok: false, message: "This subscription can no longer be resumed: choose a plan on the pricing page." };
    }
    return { ok: false, message: "Stripe could not be reached. Please try again in a moment." };
  }
}
