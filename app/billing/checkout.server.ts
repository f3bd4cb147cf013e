// Customer-facing billing actions: hosted Checkout and the Customer Portal.
import { createHash } from "node:crypto";
import type Stripe from "stripe";
import type { User } from "~/generated/prisma/client.ts";
import { prisma } from "~/utils/db.server.ts";
import { USER_ID_METADATA_KEY } from "./fulfilment.server.ts";
import { lookupPrices } from "./prices.server.ts";
import { isLiveSubscriptionStatus } from "./rules.ts";
import { BillingDisabledError, billingMode, getStripe } from "./stripe.server.ts";

/** A billing request that cannot go ahead; `status` is the HTTP status to answer with. */
export class BillingRequestError extends Error {
  name = "BillingRequestError";
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

function requireBilling() {
  if (billingMode() === "disabled") throw new BillingRequestError(503, new BillingDisabledError().message);
}

/** The app's public origin: APP_URL when set (behind proxies), else the request's own. */
export function appOrigin(request: Request) {
  return (process.env.APP_URL ?? new URL(request.url).origin).replace(/\/+$/, "");
}

function stripeFailure(error: unknown): never {
  console.error("Stripe request failed", error);
  throw new BillingRequestError(502, "Stripe could not be reached. Please try again in a moment.");
}

// Stripe's own limit for lookup keys; control characters are never part of one.
const LOOKUP_KEY_MAX = 200;
const INVALID_LOOKUP_KEY = /[\u0000-\u001f\u007f]/;

export async function createCheckoutSession(user: User, lookupKey: string, origin: string): Promise<{ url: string }> {
  requireBilling();
  const key = lookupKey.trim();
  if (!key) throw new BillingRequestError(400, "lookup_key is required: choose a price on /pricing.");
  const shown = JSON.stringify(key.length > 60 ? `${key.slice(0, 60)}…` : key);
  if (key.length > LOOKUP_KEY_MAX || INVALID_LOOKUP_KEY.test(key)) {
    throw new BillingRequestError(400, `Price ${shown} is not a valid lookup key.`);
  }
  const owner = await prisma.subscriptionTierPrice.findUnique({ where: { lookupKey: key }, include: { tier: true } });
  if (!owner || owner.tier.billingProvider !== "stripe" || !owner.tier.isCustomerFacing) {
    throw new BillingRequestError(400, `Price ${shown} is not offered: it does not belong to a customer-facing Stripe tier.`);
  }
  if (isLiveSubscriptionStatus(user.subscriptionStatus)) {
    throw new BillingRequestError(409, "You already have a subscription. Change or cancel it in the customer portal.", {
      portal: "/api/stripe/portal",
    });
  }

  const lookup = await lookupPrices([key], { deadlineMs: 8_000 });
  if (lookup.unavailable) stripeFailure(lookup.error);
  const price = lookup.prices.get(key);
  if (!price) throw new BillingRequestError(400, `Price "${key}" is not an active price in Stripe.`);

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
    return { url: session.url };
  } catch (error) {
    stripeFailure(error);
  }
}

export async function createPortalSession(user: User, origin: string): Promise<{ url: string }> {
  requireBilling();
  if (!user.stripeCustomerId) {
    throw new BillingRequestError(404, "You have no billing account yet: subscribe to a plan on /pricing first.");
  }
  try {
    const session = await getStripe().billingPortal.sessions.create({
      customer: user.stripeCustomerId,
      return_url: `${origin}/account`,
    });
    return { url: session.url };
  } catch (error) {
    stripeFailure(error);
  }
}
