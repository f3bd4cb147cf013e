// Stripe objects and signed webhook deliveries for tests, built from Stripe's own fixtures.
import Stripe from "stripe";
import checkoutSessionFixture from "./fixtures/stripe/checkout.session.json" with { type: "json" };
import eventFixture from "./fixtures/stripe/event.json" with { type: "json" };
import invoiceFixture from "./fixtures/stripe/invoice.json" with { type: "json" };
import subscriptionFixture from "./fixtures/stripe/subscription.json" with { type: "json" };

export const TEST_WEBHOOK_SECRET = "whsec_test_secret";

const clone = <T>(value: T): T => structuredClone(value);
let counter = 0;
const uniqueId = (prefix: string) => `${prefix}_test${Date.now().toString(36)}${(counter++).toString(36)}`;

export function subscription({
  id = uniqueId("sub"),
  customer,
  status = "active",
  lookupKey,
  metadata = {},
  periodEnd = Math.floor(Date.now() / 1000) + 30 * 86400,
}: {
  id?: string;
  customer: string;
  status?: string;
  lookupKey: string | null;
  metadata?: Record<string, string>;
  periodEnd?: number;
}): Stripe.Subscription {
  const sub = clone(subscriptionFixture) as unknown as Stripe.Subscription;
  const item = sub.items.data[0]!;
  Object.assign(sub, {
    id,
    customer,
    status,
    metadata,
    cancel_at: null,
    canceled_at: null,
    ended_at: null,
    cancel_at_period_end: false,
  });
  Object.assign(item, {
    subscription: id,
    current_period_end: periodEnd,
    current_period_start: periodEnd - 30 * 86400,
  });
  Object.assign(item.price, { lookup_key: lookupKey, id: `price_for_${lookupKey ?? "nothing"}` });
  return sub;
}

export function checkoutSession({
  id = uniqueId("cs_test"),
  clientReferenceId,
  customer,
  subscriptionId,
}: {
  id?: string;
  clientReferenceId: string | null;
  customer: string;
  subscriptionId: string | Stripe.Subscription;
}): Stripe.Checkout.Session {
  const session = clone(checkoutSessionFixture) as unknown as Stripe.Checkout.Session;
  return Object.assign(session, {
    id,
    mode: "subscription",
    status: "complete",
    payment_status: "paid",
    client_reference_id: clientReferenceId,
    customer,
    subscription: subscriptionId,
    payment_intent: null,
  });
}

export function invoice(customer: string): Stripe.Invoice {
  return Object.assign(clone(invoiceFixture) as unknown as Stripe.Invoice, { customer });
}

export function event(
  type: string,
  object: unknown,
  { id = uniqueId("evt"), created = Math.floor(Date.now() / 1000) } = {},
) {
  const evt = clone(eventFixture) as unknown as Record<string, unknown>;
  return Object.assign(evt, {
    id,
    type,
    created,
    api_version: "2026-10-28.endive",
    data: { object },
  }) as unknown as Stripe.Event;
}

/** A webhook delivery as Stripe sends it: pretty JSON, signed with `secret` at `timestamp`. */
export function webhookRequest(
  evt: unknown,
  {
    secret = TEST_WEBHOOK_SECRET,
    timestamp,
    signature,
  }: { secret?: string; timestamp?: number; signature?: string | null } = {},
) {
  const payload = typeof evt === "string" ? evt : JSON.stringify(evt, null, 2);
  const headers: Record<string, string> = { "Content-Type": "application/json; charset=utf-8" };
  const header =
    signature === undefined ? Stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp }) : signature;
  if (header !== null) headers["Stripe-Signature"] = header;
  return new Request("http://localhost:3000/api/stripe/webhook", { method: "POST", body: payload, headers });
}
