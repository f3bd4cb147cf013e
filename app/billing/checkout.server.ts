// Customer-facing billing actions: hosted Checkout and the Customer Portal. Each returns a typed
// outcome: a Stripe URL to send the customer to, or the problem; routes decide the HTTP answer.
import { createHash } from "node:crypto";
import type Stripe from "stripe";
import { findLookupKeyOwner } from "~/models/tier.server.ts";
import type { User } from "~/models/user.server.ts";
import { config } from "~/utils/config.server.ts";
import { lookupPrices } from "./prices.server.ts";
import { isLiveSubscriptionStatus, USER_ID_METADATA_KEY } from "./rules.ts";
import { logger } from "~/utils/logger.server.ts";
import { BillingDisabledError, billingMode, describeStripeError, getStripe } from "./stripe.server.ts";

export type BillingProblem =
  | "billing-disabled"
  | "invalid-request"
  | "not-offered"
  | "already-subscribed"
  | "no-billing-account"
  | "stripe-unreachable";

export type BillingOutcome = { ok: true; url: string } | { ok: false; problem: BillingProblem; message: string };

/** Thrown inside this module only, to leave a flow early with its outcome. */
class Refusal extends Error {
  constructor(
    readonly problem: BillingProblem,
    message: string,
  ) {
    super(message);
  }
}

async function outcomeOf(produce: () => Promise<string>): Promise<BillingOutcome> {
  try {
    return { ok: true, url: await produce() };
  } catch (error) {
    if (error instanceof Refusal) return { ok: false, problem: error.problem, message: error.message };
    throw error;
  }
}

function requireBilling() {
  if (billingMode() === "disabled") throw new Refusal("billing-disabled", new BillingDisabledError().message);
}

/** The app's public origin: APP_URL when set (behind proxies), else the request's own. */
export function appOrigin(request: Request) {
  return config().appUrl ?? new URL(request.url).origin;
}

function stripeFailure(error: unknown): never {
  logger.warn({ stripe: describeStripeError(error) }, "Stripe request failed");
  throw new Refusal("stripe-unreachable", "Stripe could not be reached. Please try again in a moment.");
}

// Stripe's own limit for lookup keys; control characters are never part of one.
const LOOKUP_KEY_MAX = 200;
const INVALID_LOOKUP_KEY = /[\u0000-\u001f\u007f]/;

export function createCheckoutSession(user: User, lookupKey: string, origin: string): Promise<BillingOutcome> {
  return outcomeOf(() => checkoutUrl(user, lookupKey, origin));
}

async function checkoutUrl(user: User, lookupKey: string, origin: string): Promise<string> {
  requireBilling();
  const key = lookupKey.trim();
  if (!key) throw new Refusal("invalid-request", "lookup_key is required: choose a price on /pricing.");
  const shown = JSON.stringify(key.length > 60 ? `${key.slice(0, 60)}…` : key);
  if (key.length > LOOKUP_KEY_MAX || INVALID_LOOKUP_KEY.test(key)) {
    throw new Refusal("invalid-request", `Price ${shown} is not a valid lookup key.`);
  }
  const owner = await findLookupKeyOwner(key);
  if (!owner || owner.tier.billingProvider !== "stripe" || !owner.tier.isCustomerFacing) {
    throw new Refusal("not-offered", `Price ${shown} is not offered: it does not belong to a customer-facing Stripe tier.`);
  }
  if (isLiveSubscriptionStatus(user.subscriptionStatus)) {
    throw new Refusal("already-subscribed", "You already have a subscription. Change or cancel it in the customer portal.");
  }

  const lookup = await lookupPrices([key], { deadlineMs: 8_000 });
  if (lookup.unavailable) stripeFailure(lookup.error);
  const price = lookup.prices.get(key);
  if (!price) throw new Refusal("not-offered", `Price "${key}" is not an active price in Stripe.`);

  const params: Stripe.Checkout.SessionCreateParams = {
    mode: "subscription",
    line_items: [{ price: price.id, quantity: 1 }],
    client_reference_id: String(user.id),
    ...(user.stripeCustomerId ? { customer: user.stripeCustomerId } : { customer_email: user.email }),
    allow_promotion_codes: true,
    subscription_data: { metadata: { [USER_ID_METADATA_KEY]: String(user.id) } },
    metadata: { [USER_ID_METADATA_KEY]: String(user.id), lookup_key: key },
    success_url: `${origin}/billing/success?session_id={CHECKOUT_SESSION_ID}`,
    cancel_url: `${origin}/pricing`,
  };
  // The same request within a minute → the same Checkout Session (a double click opens one).
  // The key covers every parameter, since Stripe refuses a reused key with different ones.
  const minute = Math.floor(Date.now() / 60_000);
  const idempotencyKey = `checkout-${createHash("sha256").update(JSON.stringify([params, minute])).digest("hex")}`;
  try {
    const session = await getStripe().checkout.sessions.create(params, { idempotencyKey });
    if (!session.url) throw new Error(`Checkout Session ${session.id} has no url`);
    return session.url;
  } catch (error) {
    stripeFailure(error);
  }
}

export function createPortalSession(user: User, origin: string): Promise<BillingOutcome> {
  return outcomeOf(() => portalUrl(user, origin));
}

async function portalUrl(user: User, origin: string): Promise<string> {
  requireBilling();
  if (!user.stripeCustomerId) {
    throw new Refusal("no-billing-account", "You have no billing account yet: subscribe to a plan on /pricing first.");
  }
  try {
    const session = await getStripe().billingPortal.sessions.create({
      customer: user.stripeCustomerId,
      return_url: `${origin}/account`,
    });
    return session.url;
  } catch (error) {
    stripeFailure(error);
  }
}
