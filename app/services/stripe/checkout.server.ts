// Customer-facing billing actions: hosted Checkout, the Customer Portal, and a plan switch through
// the portal's confirmation page (a `subscription_update_confirm` deep link). Each returns a typed
// outcome: a Stripe URL to send the customer to, or the problem; routes decide the HTTP answer.
// A customer Stripe no longer has (`resource_missing`) is unlinked on the way (customer-link.server.ts).
import { createHash } from "node:crypto";
import type Stripe from "stripe";
import { findLookupKeyOwner, listTierIntegrations } from "~/models/tier.server.ts";
import { type AccountWithTier, linkNewStripeCustomer } from "~/models/billing-account.server.ts";
import { config } from "~/utils/config.server.ts";
import { isCustomerGone, isMissingCustomerError, unlinkMissingCustomer } from "./customer-link.server.ts";
import { lookupPrices } from "./prices.server.ts";
import { checkSellableTiers } from "./sellable-tiers.server.ts";
import { BillingRefusal, billingOutcomeOf, type BillingOutcome } from "~/services/billing/outcomes.ts";
import { fetchSubscriptionDetails, forgetSubscriptionDetails } from "./subscription-details.server.ts";
import { ACCOUNT_ID_METADATA_KEY } from "~/rules/stripe-events.ts";
import { isLiveSubscriptionStatus } from "~/rules/stripe-subscriptions.ts";
import { isLiveWhopStatus } from "~/rules/whop-status.ts";
import { logger } from "~/utils/logger.server.ts";
import { BillingDisabledError, billingMode, describeStripeError, getStripe } from "./client.server.ts";

function requireBilling() {
  if (billingMode() === "disabled") throw new BillingRefusal("billing-disabled", new BillingDisabledError().message);
}

/** The app's public origin: APP_URL when set (behind proxies), else the request's own. */
export function appOrigin(request: Request) {
  return config().appUrl ?? new URL(request.url).origin;
}

function stripeFailure(error: unknown): never {
  logger.warn({ stripe: describeStripeError(error) }, "Stripe request failed");
  // Stripe answered, and refused what was asked (a return URL it does not take, say): asking again
  // would not help, so it is the request's problem, in Stripe's words, not "could not be reached".
  if ((error as { type?: unknown } | null)?.type === "StripeInvalidRequestError") {
    const message = (error as { message?: unknown }).message;
    throw new BillingRefusal("invalid-request", `Stripe refused the request: ${String(message ?? "invalid request")}`);
  }
  throw new BillingRefusal("stripe-unreachable", "Stripe could not be reached. Please try again in a moment.");
}

/** What the customer is told once a billing account Stripe no longer has was unlinked. */
const CUSTOMER_GONE =
  "Your billing account no longer exists in Stripe, so there is nothing to manage: you are on the Free plan now. Choose a plan on the pricing page to subscribe again.";

/** `resource_missing` on the account's customer: unlink it, and say so instead of "could not be reached". */
async function customerGone(customerId: string, action: string): Promise<never> {
  await unlinkMissingCustomer(customerId, action);
  throw new BillingRefusal("no-billing-account", CUSTOMER_GONE);
}

/** Where Checkout sends a customer who leaves without paying: /pricing says so. */
const CHECKOUT_CANCELLED_PATH = "/pricing?checkout=cancelled";

// Stripe's own limit for lookup keys; control characters are never part of one.
const LOOKUP_KEY_MAX = 200;
const INVALID_LOOKUP_KEY = /[\u0000-\u001f\u007f]/;

/**
 * The account a billing action is for (the session's current one), and the owner acting for it: their
 * email is the new Stripe customer's.
 */
export type BillingActor = {
  account: Pick<
    AccountWithTier,
    | "id"
    | "name"
    | "stripeCustomerId"
    | "stripeSubscriptionId"
    | "subscriptionStatus"
    | "whopMembershipStatus"
    | "billingVersion"
  >;
  email: string;
};

/** Where Checkout sends the customer: after paying (may hold `{CHECKOUT_SESSION_ID}`), or leaving without. */
export type CheckoutReturns = { successUrl: string; cancelUrl: string };

/** Checkout from Tierdesk's own pages: back to /billing/success, or /pricing when cancelled. */
export function createCheckoutSession(actor: BillingActor, lookupKey: string, origin: string): Promise<BillingOutcome> {
  return createCheckoutSessionReturningTo(actor, lookupKey, {
    successUrl: `${origin}/billing/success?session_id={CHECKOUT_SESSION_ID}`,
    cancelUrl: `${origin}${CHECKOUT_CANCELLED_PATH}`,
  });
}

/** Checkout returning to addresses of the caller's choosing (the product API's). */
export function createCheckoutSessionReturningTo(
  actor: BillingActor,
  lookupKey: string,
  returns: CheckoutReturns,
): Promise<BillingOutcome> {
  return billingOutcomeOf(() => checkoutUrl(actor, lookupKey, returns));
}

/** A lookup key a customer may buy: a valid key of a customer-facing Stripe tier. */
async function sellableKey(lookupKey: string): Promise<string> {
  const key = lookupKey.trim();
  if (!key) throw new BillingRefusal("invalid-request", "lookup_key is required: choose a price on /pricing.");
  const shown = JSON.stringify(key.length > 60 ? `${key.slice(0, 60)}…` : key);
  if (key.length > LOOKUP_KEY_MAX || INVALID_LOOKUP_KEY.test(key)) {
    throw new BillingRefusal("invalid-request", `Price ${shown} is not a valid lookup key.`);
  }
  const owner = await findLookupKeyOwner(key);
  if (!owner || owner.tier.billingProvider !== "stripe" || !owner.tier.isCustomerFacing) {
    throw new BillingRefusal(
      "not-offered",
      `Price ${shown} is not offered: it does not belong to a customer-facing Stripe tier.`,
    );
  }
  // Any key of a tier that is not valid in Stripe (even one whose own price is fine) is refused:
  // the tier as a whole is off sale until an operator fixes it. Existing subscribers are not asked.
  const { invalid } = await checkSellableTiers(await listTierIntegrations(), { deadlineMs: 8_000 });
  const problems = invalid.get(owner.tier.key);
  if (problems) {
    logger.warn({ tier: owner.tier.key, problems }, "checkout refused: the tier is not valid in Stripe");
    throw new BillingRefusal(
      "tier-unavailable",
      `${owner.tier.name} cannot be bought right now: its prices are being set up. Please choose another plan, or try again later.`,
    );
  }
  return key;
}

/** The key's price as Stripe sells it now. */
async function livePrice(key: string) {
  const lookup = await lookupPrices([key], { deadlineMs: 8_000 });
  if (lookup.unavailable) stripeFailure(lookup.error);
  const price = lookup.prices.get(key);
  if (!price) throw new BillingRefusal("not-offered", `Price "${key}" is not an active price in Stripe.`);
  return price;
}

async function checkoutUrl(actor: BillingActor, lookupKey: string, returns: CheckoutReturns): Promise<string> {
  requireBilling();
  let user = actor.account;
  const key = await sellableKey(lookupKey);
  if (isLiveSubscriptionStatus(user.subscriptionStatus)) {
    // A live subscription on a customer Stripe no longer has is no subscription at all: unlink it, go on.
    if (!user.stripeCustomerId || !(await isCustomerGone(user.stripeCustomerId))) {
      throw new BillingRefusal(
        "already-subscribed",
        "You already have a subscription. Change or cancel it in the customer portal.",
      );
    }
    await unlinkMissingCustomer(user.stripeCustomerId, "checking the customer of a second checkout");
    user = { ...user, stripeCustomerId: null, stripeSubscriptionId: null, subscriptionStatus: null };
  }
  if (isLiveWhopStatus(user.whopMembershipStatus)) {
    throw new BillingRefusal("already-on-whop", "You already have a plan through Whop. Change or cancel it on Whop.");
  }
  const price = await livePrice(key);
  try {
    return await openCheckout({ ...actor, account: user }, key, price.id, returns);
  } catch (error) {
    if (!user.stripeCustomerId || !isMissingCustomerError(error)) stripeFailure(error);
    // The customer was deleted in Stripe: unlink it and check out as a new customer, by email.
    await unlinkMissingCustomer(user.stripeCustomerId, "starting a checkout");
    try {
      return await openCheckout({ ...actor, account: { ...user, stripeCustomerId: null } }, key, price.id, returns);
    } catch (retryError) {
      stripeFailure(retryError);
    }
  }
}

/**
 * The account's Stripe customer, created for it (metadata naming the account) when it has none yet and
 * linked at once, so every later event of that customer lands on the account. Idempotent per account
 * billing state (a customer deleted and unlinked bumps it): two quick checkouts make one customer. When Stripe refuses to
 * create one, Checkout creates it from the email instead, and the completed checkout links it.
 */
async function customerOf({ account, email }: BillingActor): Promise<string | null> {
  if (account.stripeCustomerId) return account.stripeCustomerId;
  try {
    const customer = await getStripe().customers.create(
      { email, name: account.name, metadata: { [ACCOUNT_ID_METADATA_KEY]: String(account.id) } },
      { idempotencyKey: `customer-for-account-${account.id}-v${account.billingVersion}` },
    );
    return await linkNewStripeCustomer(account.id, customer.id);
  } catch (error) {
    logger.warn({ stripe: describeStripeError(error), accountId: account.id }, "creating the Stripe customer failed");
    return null;
  }
}

async function openCheckout(
  actor: BillingActor,
  key: string,
  priceId: string,
  returns: CheckoutReturns,
): Promise<string> {
  const { account } = actor;
  const customer = await customerOf(actor);
  const accountId = String(account.id);
  const params: Stripe.Checkout.SessionCreateParams = {
    mode: "subscription",
    line_items: [{ price: priceId, quantity: 1 }],
    // The account pays: Checkout, the subscription and the customer all name it.
    client_reference_id: accountId,
    ...(customer ? { customer } : { customer_email: actor.email }),
    allow_promotion_codes: true,
    subscription_data: { metadata: { [ACCOUNT_ID_METADATA_KEY]: accountId } },
    metadata: { [ACCOUNT_ID_METADATA_KEY]: accountId, lookup_key: key },
    success_url: returns.successUrl,
    cancel_url: returns.cancelUrl,
  };
  // The same request within a minute → the same Checkout Session (a double click opens one).
  // The key covers every parameter, since Stripe refuses a reused key with different ones.
  const minute = Math.floor(Date.now() / 60_000);
  const idempotencyKey = `checkout-${createHash("sha256")
    .update(JSON.stringify([params, minute]))
    .digest("hex")}`;
  const session = await getStripe().checkout.sessions.create(params, { idempotencyKey });
  if (!session.url) throw new Error(`Checkout Session ${session.id} has no url`);
  if (customer) await expireEarlierCheckouts(customer, session.id);
  return session.url;
}

/**
 * One open Checkout per account: a new one expires the customer's earlier open ones, so two tabs (or
 * two API calls for two plans) can never both be paid into two subscriptions. After the new one is made,
 * since a repeat within the minute is the same session (its idempotency key). Best effort: Stripe not
 * answering this leaves the earlier ones open, as before, rather than refusing the checkout.
 */
async function expireEarlierCheckouts(customer: string, keep: string) {
  try {
    const open = await getStripe().checkout.sessions.list({ customer, status: "open", limit: 100 });
    const earlier = open.data.filter((session) => session.id !== keep);
    await Promise.all(earlier.map((session) => getStripe().checkout.sessions.expire(session.id)));
  } catch (error) {
    logger.warn({ stripe: describeStripeError(error), customer }, "could not expire earlier open checkouts");
  }
}

/** The portal, coming back to /account (or to `returnUrl`: the product API's choice). */
export function createPortalSession(
  actor: BillingActor,
  origin: string,
  returnUrl = `${origin}/account`,
): Promise<BillingOutcome> {
  return billingOutcomeOf(() => portalUrl(actor.account, returnUrl));
}

async function portalUrl(user: BillingActor["account"], returnUrl: string): Promise<string> {
  requireBilling();
  if (!user.stripeCustomerId) {
    throw new BillingRefusal(
      "no-billing-account",
      "You have no billing account yet: subscribe to a plan on /pricing first.",
    );
  }
  try {
    const session = await getStripe().billingPortal.sessions.create({
      customer: user.stripeCustomerId,
      return_url: returnUrl,
    });
    // The customer may change the subscription there: the first page after their return asks Stripe.
    forgetSubscriptionDetails(user.stripeSubscriptionId);
    return session.url;
  } catch (error) {
    if (isMissingCustomerError(error)) return customerGone(user.stripeCustomerId, "opening the customer portal");
    stripeFailure(error);
  }
}

/**
 * Switching a subscriber to another price: the portal's confirmation page for exactly that change
 * (`flow_data[type]=subscription_update_confirm` on the subscription's one item), coming back to
 * /account once confirmed. Stripe applies it and tells Tierdesk by webhook, like any portal change.
 */
export function createPlanSwitchSession(
  actor: BillingActor,
  lookupKey: string,
  origin: string,
): Promise<BillingOutcome> {
  return billingOutcomeOf(() => planSwitchUrl(actor.account, lookupKey, origin));
}

async function planSwitchUrl(user: BillingActor["account"], lookupKey: string, origin: string): Promise<string> {
  requireBilling();
  const key = await sellableKey(lookupKey);
  const { stripeCustomerId, stripeSubscriptionId } = user;
  if (!stripeCustomerId || !stripeSubscriptionId || !isLiveSubscriptionStatus(user.subscriptionStatus)) {
    throw new BillingRefusal(
      "no-billing-account",
      "You have no subscription to switch: choose a plan on /pricing to subscribe.",
    );
  }
  const [price, subscription] = await Promise.all([
    livePrice(key),
    fetchSubscriptionDetails(stripeSubscriptionId, 8_000),
  ]);
  if (!subscription?.item) {
    throw new BillingRefusal(
      "stripe-unreachable",
      "Your subscription could not be read from Stripe just now. Please try again in a moment.",
    );
  }
  if (subscription.item.priceId === price.id)
    throw new BillingRefusal("invalid-request", "You are already on this plan.");
  if (subscription.cancelAtPeriodEnd) {
    throw new BillingRefusal(
      "invalid-request",
      "Your subscription is set to end: resume it on your account page before changing plan.",
    );
  }
  if (subscription.multipleItems) {
    throw new BillingRefusal(
      "invalid-request",
      "Your subscription has several items: change it in the customer portal.",
    );
  }
  try {
    const session = await getStripe().billingPortal.sessions.create({
      customer: stripeCustomerId,
      return_url: `${origin}/pricing`,
      flow_data: {
        type: "subscription_update_confirm",
        subscription_update_confirm: {
          subscription: subscription.id,
          items: [{ id: subscription.item.id, price: price.id, quantity: 1 }],
        },
        after_completion: { type: "redirect", redirect: { return_url: `${origin}/account?plan=changed` } },
      },
    });
    forgetSubscriptionDetails(stripeSubscriptionId);
    return session.url;
  } catch (error) {
    if (isMissingCustomerError(error)) return customerGone(stripeCustomerId, "switching plan");
    stripeFailure(error);
  }
}
