// Contract: every object the emulator serves (API answers, expanded fields, webhook payloads and the
// objects inside them) has the shape of Stripe's own published fixtures, compared recursively both
// ways by tests/stripe-shape.ts. The fixtures are read at test time from the shared folder beside
// the repository, as CI's clean clone has it.
import fs from "node:fs";
import path from "node:path";
import Stripe from "stripe";
import { beforeAll, describe, expect, it } from "vitest";
import { loadSdkTypes, type SdkTypes } from "../stripe-sdk-types.ts";
import { compareWithFixtures, type Fixtures, formatMismatches, type ShapeRules } from "../stripe-shape.ts";
import { createCheckout, payCheckout, useHarness } from "./helpers.ts";

const FIXTURES_FILE = path.resolve(import.meta.dirname, "../../../shared/stripe/fixtures3.json");
const fixturesPresent = fs.existsSync(FIXTURES_FILE);
if (!fixturesPresent && process.env.CI) {
  throw new Error(`Stripe's fixtures are missing: ${FIXTURES_FILE} (CI must have shared/ beside the repository)`);
}
if (!fixturesPresent) {
  console.warn(`\n!!! SKIPPING the Stripe contract test: ${FIXTURES_FILE} is missing (shared/ beside the repo)\n`);
}

const h = useHarness();

/**
 * Where the emulator may differ from the fixture, each with its reason. fixtures3.json predates
 * the API version the emulator speaks (`Stripe.API_VERSION`, the `stripe` package's), so "newer"
 * keys are ones the SDK's types (generated from Stripe's OpenAPI spec) declare for that version.
 */
const NEWER = "newer than fixtures3.json: a required field of the SDK's type at Stripe.API_VERSION";
const ACCOUNTS_V2 = `${NEWER} (Accounts v2 customers; null for a v1 customer)`;
export const RULES: ShapeRules = {
  extraKeys: {
    "billing_portal.session.customer_account": ACCOUNTS_V2,
    "billing_portal.session.flow.customer_update": NEWER,
    "billing_portal.session.flow.subscription_pause": NEWER,
    "billing_portal.session.flow.subscription_update_confirm.items[].quantity":
      "optional in the SDK's type; Stripe echoes the quantity the flow was created with",
    "charge.payment_method_details.card.electronic_commerce_indicator": NEWER,
    "charge.payment_method_details.card.transaction_link_id": NEWER,
    "checkout.session.allowed_payment_method_types": NEWER,
    "checkout.session.customer_account": ACCOUNTS_V2,
    "checkout.session.integration_identifier": NEWER,
    "checkout.session.line_items": "sent only with expand[]=line_items (an includable field)",
    "checkout.session.managed_payments": NEWER,
    "event.data.previous_attributes": "sent on *.updated events: the old values of the fields that changed",
    "invoice.customer_account": ACCOUNTS_V2,
    "invoice_payment.payment.payment_intent":
      "optional in the SDK's type; sent when payment.type is payment_intent (the fixture shows the type alone)",
    "item.adjustable_quantity": NEWER,
    "item.metadata": NEWER,
    "line_item.pricing.price_details": "optional in the SDK's type; sent when pricing.type is price_details",
    "line_item.quantity_decimal": NEWER,
    "line_item.subtotal": NEWER,
    "product.tax_details": NEWER,
    "subscription.billing_schedules": NEWER,
    "subscription.cancellation_details.feedback_option": NEWER,
    "subscription.customer_account": ACCOUNTS_V2,
    "subscription.invoice_settings.custom_fields": NEWER,
    "subscription.invoice_settings.description": NEWER,
    "subscription.invoice_settings.footer": NEWER,
    "subscription.managed_payments": NEWER,
    "subscription.trial_settings.end_behavior.billing_cycle_anchor": NEWER,
    "subscription_item.current_trial": NEWER,
  },
  missingKeys: {
    "invoice.subscription":
      "removed in API 2025-03-31.basil (now parent.subscription_details.subscription); the SDK's Invoice has none",
  },
  // Stripe's reference (and the SDK's `| null`) documents these as nullable; the fixture fills them in.
  nullable: [
    "charge.billing_details.name",
    "charge.payment_method_details.card.installments",
    "charge.payment_method_details.card.three_d_secure",
    "charge.payment_method_details.card.wallet",
    "charge.receipt_url",
    "charge.shipping",
    "charge.source",
    "charge.transfer_data",
    "payment_intent.automatic_payment_methods",
    "payment_intent.canceled_at",
    "payment_intent.last_payment_error",
    "payment_intent.next_action",
    "payment_intent.payment_method_configuration_details",
    "payment_intent.processing",
    "payment_intent.shipping",
    "payment_intent.transfer_data",
    "billing_portal.session.flow",
    "billing_portal.session.flow.after_completion.hosted_confirmation",
    "billing_portal.session.flow.after_completion.redirect",
    "billing_portal.session.flow.subscription_cancel",
    "billing_portal.session.flow.subscription_update",
    "checkout.session.adaptive_pricing",
    "checkout.session.after_expiration",
    "checkout.session.automatic_tax.liability",
    "checkout.session.collected_information",
    "checkout.session.consent",
    "checkout.session.consent_collection",
    "checkout.session.currency_conversion",
    "checkout.session.custom_text.after_submit",
    "checkout.session.custom_text.shipping_address",
    "checkout.session.custom_text.submit",
    "checkout.session.custom_text.terms_of_service_acceptance",
    "checkout.session.customer_details",
    "checkout.session.customer_details.address",
    "checkout.session.invoice_creation",
    "checkout.session.payment_intent",
    "checkout.session.payment_method_configuration_details",
    "checkout.session.permissions",
    "checkout.session.saved_payment_method_options",
    "checkout.session.shipping_address_collection",
    "checkout.session.shipping_cost",
    "checkout.session.url",
    "checkout.session.wallet_options",
    "customer.address",
    "customer.currency",
    "customer.discount",
    "customer.invoice_settings.rendering_options",
    "customer.shipping",
    "invoice.automatic_tax.liability",
    "invoice.customer_address",
    "invoice.customer_shipping",
    "invoice.due_date",
    "invoice.from_invoice",
    "invoice.hosted_invoice_url",
    "invoice.invoice_pdf",
    "invoice.last_finalization_error",
    "invoice.next_payment_attempt",
    "invoice.parent.quote_details",
    "invoice.payment_settings.payment_method_options",
    "invoice.shipping_cost",
    "invoice.shipping_details",
    "line_item.parent.invoice_item_details",
    "line_item.parent.subscription_item_details.proration_details.credited_items",
    "plan.transform_usage",
    "price.custom_unit_amount",
    "price.transform_quantity",
    "product.package_dimensions",
    "subscription.automatic_tax.liability",
    "subscription.billing_cycle_anchor_config",
    "subscription.billing_mode.flexible",
    "subscription.billing_thresholds",
    "subscription.cancel_at",
    "subscription.canceled_at",
    "subscription.ended_at",
    "subscription.next_pending_invoice_item_invoice",
    "subscription.pause_collection",
    "subscription.payment_settings.payment_method_options",
    "subscription.pending_invoice_item_interval",
    "subscription.pending_update",
    "subscription.transfer_data",
    "subscription.trial_end",
    "subscription.trial_start",
    "subscription_item.billing_thresholds",
  ],
  polymorphic: ["event.data.object"],
  partialOf: { "event.data.previous_attributes": "object" },
};

/** An SDK client whose every answer is kept as the JSON the emulator sent. */
function recordingClient(served: Array<{ what: string; body: unknown }>): Stripe {
  const { hostname, port } = new URL(h.emulator.url);
  const recordingFetch: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    const text = await response.clone().text();
    const url = new URL(input instanceof Request ? input.url : String(input));
    served.push({ what: `${init?.method ?? "GET"} ${url.pathname}${url.search}`, body: JSON.parse(text) });
    return response;
  };
  return new Stripe("sk_test_contract", {
    host: hostname,
    port: Number(port),
    protocol: "http",
    maxNetworkRetries: 0,
    httpClient: Stripe.createFetchHttpClient(recordingFetch),
  });
}

const form = (url: string, body: Record<string, string> = {}) =>
  fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(body),
    redirect: "manual",
  });

/** Drives the emulator through every flow the app uses; returns what it served. */
async function driveEveryFlow() {
  const served: Array<{ what: string; body: unknown }> = [];
  const stripe = recordingClient(served);

  // Catalogue, as the app reads it, with and without expanded products.
  await stripe.prices.list({ lookup_keys: ["pro_monthly", "hobbyist_monthly"], expand: ["data.product"], limit: 100 });
  await stripe.prices.list({ active: true, limit: 100 });
  const hobbyist = await stripe.prices.list({ lookup_keys: ["hobbyist_monthly"], expand: ["data.product"] });
  // A new amount for a lookup key: `price.created` and `price.updated` for the price it left.
  const product = hobbyist.data[0]?.product as Stripe.Product;
  await stripe.prices.create({
    product: product.id,
    currency: "gbp",
    unit_amount: 800,
    recurring: { interval: "month" },
    lookup_key: "hobbyist_monthly",
    transfer_lookup_key: true,
    metadata: { note: "contract" },
  });

  // Hosted Checkout for a new customer (by email), paid on the hosted page.
  const byEmail = await createCheckout(stripe);
  await stripe.checkout.sessions.retrieve(byEmail.id, { expand: ["line_items"] });
  expect((await payCheckout(h.emulator, byEmail.id)).status).toBe(303);
  const paid = await stripe.checkout.sessions.retrieve(byEmail.id, {
    expand: ["subscription", "line_items", "customer"],
  });
  const subscription = paid.subscription as Stripe.Subscription;
  const customer = paid.customer as Stripe.Customer;

  // A customer created through the API, then Checkout for it with two line items.
  const apiCustomer = await stripe.customers.create({
    email: "grace@example.com",
    name: "Grace",
    metadata: { user_id: "9" },
  });
  await stripe.customers.retrieve(apiCustomer.id);
  const twoItems = await createCheckout(stripe, {
    customer_email: undefined,
    customer: apiCustomer.id,
    line_items: [
      { price: "price_emu_pro_monthly", quantity: 1 },
      { price: "price_emu_team_monthly", quantity: 3 },
    ],
  });
  expect((await payCheckout(h.emulator, twoItems.id)).status).toBe(303);
  const second = await stripe.checkout.sessions.retrieve(twoItems.id);
  const secondId = String(second.subscription);

  // Subscriptions as the app and support read them.
  await stripe.subscriptions.list({ customer: customer.id, status: "all", limit: 100 });
  await stripe.subscriptions.list({ customer: apiCustomer.id, expand: ["data.customer"] });
  await stripe.subscriptions.retrieve(secondId, { expand: ["customer", "latest_invoice", "items.data.price.product"] });

  // Updates: a second item (so lists hold two), cancel at period end and back.
  await stripe.subscriptions.update(subscription.id, {
    items: [{ price: "price_emu_hobbyist_monthly", quantity: 2 }],
  });
  await stripe.subscriptions.update(subscription.id, { cancel_at_period_end: true });
  await stripe.subscriptions.update(subscription.id, { cancel_at_period_end: false });

  // The portal: a plain session, then a deep-linked plan switch to another interval, confirmed.
  const portal = await stripe.billingPortal.sessions.create({ customer: customer.id, return_url: "http://app.test/" });
  const current = await stripe.subscriptions.retrieve(subscription.id);
  const switchTo = await stripe.billingPortal.sessions.create({
    customer: customer.id,
    return_url: "http://app.test/account",
    flow_data: {
      type: "subscription_update_confirm",
      subscription_update_confirm: {
        subscription: subscription.id,
        items: [{ id: current.items.data[0]!.id, price: "price_emu_pro_yearly", quantity: 1 }],
      },
      after_completion: { type: "redirect", redirect: { return_url: "http://app.test/account" } },
    },
  });
  // Both items must share the interval, so the switch drops the monthly one first.
  await stripe.subscriptions.update(subscription.id, {
    items: [{ id: current.items.data[1]!.id, deleted: true }],
  });
  expect((await form(`${h.emulator.url}/portal/${switchTo.id}/flow/confirm`)).status).toBe(303);
  // The portal's own buttons: cancel at period end, renew, switch back.
  const button = `${h.emulator.url}/portal/${portal.id}/subscriptions/${subscription.id}`;
  expect((await form(`${button}/cancel`)).status).toBe(303);
  expect((await form(`${button}/resume`)).status).toBe(303);
  expect((await form(`${button}/switch`, { price: "price_emu_pro_monthly" })).status).toBe(303);

  // Renewals and failed payments (invoices with two lines on the two-item subscription).
  await h.emulator.failPayment(secondId);
  await h.emulator.failPayment(secondId);
  await h.emulator.renewSubscription(secondId);
  await h.emulator.renewSubscription(subscription.id);

  // Cancel: now through the API, and by deleting a customer.
  await stripe.subscriptions.cancel(subscription.id);
  await stripe.subscriptions.retrieve(subscription.id);
  await stripe.customers.del(apiCustomer.id);
  await stripe.customers.retrieve(apiCustomer.id);

  await h.emulator.settle();
  for (const record of h.emulator.events) await stripe.events.retrieve(record.event.id);
  const webhooks = h.receiver.received.map((r, i) => ({
    what: `webhook ${i} ${(JSON.parse(r.rawBody) as { type: string }).type}`,
    body: JSON.parse(r.rawBody) as unknown,
  }));
  return { served, webhooks };
}

describe.skipIf(!fixturesPresent)("the emulator against Stripe's fixtures", () => {
  let sdk: SdkTypes;
  beforeAll(() => {
    sdk = loadSdkTypes();
  });

  it("lists only deviations Stripe's API reference (the SDK's types) confirms", () => {
    const wrong: string[] = [];
    const check = (rule: string, ok: boolean, claim: string) => void (ok || wrong.push(`${rule}: ${claim}`));
    for (const [rule, reason] of Object.entries(RULES.extraKeys ?? {})) {
      const field = sdk.field(rule);
      check(rule, field !== undefined, "the SDK's type has no such field");
      if (reason.startsWith(NEWER)) check(rule, field?.optional === false, "not a required field of the SDK's type");
      if (reason.startsWith("optional")) check(rule, field?.optional === true, "not optional in the SDK's type");
    }
    for (const rule of Object.keys(RULES.missingKeys ?? {})) {
      check(rule, sdk.field(rule) === undefined, "the SDK's type still has it");
    }
    for (const rule of RULES.nullable ?? []) check(rule, sdk.field(rule)?.kinds.has("null") === true, "not nullable");
    expect(wrong).toEqual([]);
  });

  it("serves every object, nested ones and webhook payloads included, in Stripe's shape", async () => {
    const fixtures = (JSON.parse(fs.readFileSync(FIXTURES_FILE, "utf8")) as { resources: Fixtures }).resources;
    const rules: ShapeRules = { ...RULES, declared: (rule) => sdk.field(rule) };
    const { served, webhooks } = await driveEveryFlow();
    const seen = new Set<string>();
    const collect = (value: unknown): void => {
      if (Array.isArray(value)) return value.forEach(collect);
      if (typeof value !== "object" || value === null) return;
      const tag = (value as { object?: unknown }).object;
      if (typeof tag === "string") seen.add((value as { deleted?: unknown }).deleted ? `deleted_${tag}` : tag);
      Object.values(value).forEach(collect);
    };
    const report = [...served, ...webhooks].flatMap(({ what, body }) => {
      collect(body);
      const mismatches = compareWithFixtures(body, fixtures, rules);
      return mismatches.length ? [`${what}\n${formatMismatches(mismatches).replace(/^/gm, "  ")}`] : [];
    });
    // Every object type the emulator can return was driven, so the comparison covered them all.
    expect([...seen].sort()).toEqual(
      [
        "billing_portal.session",
        "charge",
        "checkout.session",
        "customer",
        "deleted_customer",
        "event",
        "invoice",
        "invoice_payment",
        "item",
        "line_item",
        "list",
        "payment_intent",
        "plan",
        "price",
        "product",
        "subscription",
        "subscription_item",
      ].sort(),
    );
    expect([...new Set(webhooks.map((w) => w.what.replace(/^webhook \d+ /, "")))].sort()).toEqual(
      [
        "charge.succeeded",
        "checkout.session.completed",
        "customer.created",
        "customer.deleted",
        "customer.subscription.created",
        "customer.subscription.deleted",
        "customer.subscription.updated",
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_failed",
        "invoice.payment_succeeded",
        "invoice_payment.paid",
        "payment_intent.created",
        "payment_intent.succeeded",
        "price.created",
        "price.updated",
      ].sort(),
    );
    expect(report.join("\n"), "objects that differ from Stripe's fixtures").toBe("");
  });
});
