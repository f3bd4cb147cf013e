// Signed webhooks and the controls tests use to prove idempotency: duplicates, concurrent bursts,
// other orders, held deliveries, failed and renewed payments. Both the handle and `/_emulator/*`.
import Stripe from "stripe";
import { describe, expect, it } from "vitest";
import chargeFixture from "../fixtures/stripe/charge.json" with { type: "json" };
import type { DeliveryAttempt, EventRecord } from "../../stripe-emulator/emulator.ts";
import invoicePaymentFixture from "./fixtures/invoice_payment.json" with { type: "json" };
import paymentIntentFixture from "./fixtures/payment_intent.json" with { type: "json" };
import { WEBHOOK_SECRET, control, createCheckout, subscribe, useHarness } from "./helpers.ts";

const h = useHarness();

/** A new customer's checkout paid by card at once, in the order Stripe creates the events. */
const CHECKOUT_SEQUENCE = [
  "customer.created",
  "customer.subscription.created",
  "invoice.created",
  "invoice.finalized",
  "payment_intent.created",
  "charge.succeeded",
  "payment_intent.succeeded",
  "invoice_payment.paid",
  "invoice.paid",
  "invoice.payment_succeeded",
  "customer.subscription.updated",
  "checkout.session.completed",
];

/** Keys of `actual` that Stripe's fixture of the same object does not have. */
const unknownKeys = (actual: object, fixture: object) => Object.keys(actual).filter((key) => !(key in fixture));

describe("signatures", () => {
  it("are accepted by stripe.webhooks.constructEvent with the shared secret only", async () => {
    const event = await h.emulator.createEvent("invoice.paid", { id: "in_1", object: "invoice" });
    const [delivery] = h.receiver.received;
    expect(delivery?.signatureError).toBeNull();
    expect(delivery?.event?.id).toBe(event.id);
    const header = String(delivery?.headers["stripe-signature"]);
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);

    const stripe = new Stripe("sk_test_x");
    expect(() => stripe.webhooks.constructEvent(delivery?.rawBody ?? "", header, "whsec_other")).toThrow(
      Stripe.errors.StripeSignatureVerificationError,
    );
    expect(() => stripe.webhooks.constructEvent(`${delivery?.rawBody} `, header, WEBHOOK_SECRET)).toThrow(
      Stripe.errors.StripeSignatureVerificationError,
    );
  });
});

describe("createEvent", () => {
  it("wraps any object in an event and delivers it before resolving, or only records it", async () => {
    const object = { id: "sub_x", object: "subscription", status: "active" };
    const delivered = await h.emulator.createEvent("customer.subscription.updated", object, {
      created: 1_700_000_000,
      previousAttributes: { status: "past_due" },
    });
    expect(h.receiver.events).toEqual([
      expect.objectContaining({ id: delivered.id, created: 1_700_000_000, api_version: Stripe.API_VERSION }),
    ]);
    expect(h.receiver.events[0]?.data).toEqual({ object, previous_attributes: { status: "past_due" } });

    object.status = "canceled"; // events snapshot their object
    const recorded = await h.emulator.createEvent("customer.subscription.deleted", object, { deliver: false });
    expect(h.receiver.received).toHaveLength(1);
    expect(h.emulator.events.map((r) => [r.event.id, r.deliveries.length])).toEqual([
      [delivered.id, 1],
      [recorded.id, 0],
    ]);
    expect(delivered.data.object).toMatchObject({ status: "active" });
  });
});

describe("redelivery", () => {
  it("sends an event again, twice in sequence, recording non-2xx answers", async () => {
    const event = await h.emulator.createEvent("invoice.paid", { id: "in_1", object: "invoice" }, { deliver: false });
    h.receiver.status = 500;
    const attempts = await h.emulator.deliver(event.id, { times: 2 });
    expect(attempts.map((a) => [a.eventId, a.status, a.ok])).toEqual([
      [event.id, 500, false],
      [event.id, 500, false],
    ]);
    expect(h.emulator.events[0]?.deliveries).toHaveLength(2);
  });

  it("sends a concurrent burst over HTTP: all copies in flight at once", async () => {
    const event = await h.emulator.createEvent("invoice.paid", { id: "in_2", object: "invoice" }, { deliver: false });
    // The receiver answers none until all 20 have arrived: sequential sends would time out instead.
    h.receiver.gate = 20;
    const res = await control<{ deliveries: DeliveryAttempt[] }>(h.emulator, "POST", `events/${event.id}/deliver`, {
      times: 20,
      concurrent: true,
    });
    expect(res.status).toBe(200);
    expect(res.body.deliveries.map((d) => d.status)).toEqual(Array(20).fill(200));
    expect(new Set(h.receiver.events.map((e) => e.id))).toEqual(new Set([event.id]));
  });

  it("sends chosen events in exactly the given order (out-of-order tests)", async () => {
    const { subscription } = await subscribe(h);
    await h.stripe.subscriptions.update(subscription.id, { cancel_at_period_end: true });
    await h.stripe.subscriptions.cancel(subscription.id);
    await h.emulator.settle();
    const [updated, deleted] = h.receiver.events;
    expect([updated?.type, deleted?.type]).toEqual(["customer.subscription.updated", "customer.subscription.deleted"]);
    h.receiver.clear();

    const res = await control(h.emulator, "POST", "deliver", { event_ids: [deleted?.id, updated?.id] });
    expect(res.status).toBe(200);
    expect(h.receiver.events.map((e) => e.id)).toEqual([deleted?.id, updated?.id]);

    const typo = await control(h.emulator, "POST", "deliver", { event_ids: [updated?.id, "evt_nope"] });
    expect(typo).toMatchObject({ status: 404, body: { error: { message: "No such event: 'evt_nope'" } } });
    expect(h.receiver.received).toHaveLength(2);
  });
});

describe("hold and release", () => {
  it("parks automatic deliveries and releases them reversed, or in creation order", async () => {
    h.emulator.holdWebhooks();
    const session = await h.stripe.checkout.sessions.create({
      mode: "subscription",
      line_items: [{ price: "price_emu_pro_monthly", quantity: 1 }],
      customer_email: "ada@example.com",
      success_url: "http://app.test/success",
    });
    const { events } = await h.emulator.completeCheckout(session.id);
    expect(h.receiver.received).toHaveLength(0);
    await h.emulator.releaseWebhooks({ order: "reverse" });
    expect(h.receiver.types).toEqual(events.map((e) => e.type).reverse());
    expect(h.receiver.types[0]).toBe("checkout.session.completed");

    h.receiver.clear();
    expect((await control(h.emulator, "POST", "webhooks/hold")).body).toEqual({ held: true });
    await h.emulator.createEvent("price.updated", { id: "price_emu_pro_monthly", object: "price" });
    await h.emulator.createEvent("product.updated", { id: "prod_emu_pro", object: "product" });
    const released = await control<{ deliveries: DeliveryAttempt[] }>(h.emulator, "POST", "webhooks/release", {});
    expect(released.body.deliveries).toHaveLength(2);
    expect(h.receiver.types).toEqual(["price.updated", "product.updated"]);
  });
});

describe("payment failure and the end of a period", () => {
  it("fail_payment: invoice.payment_failed then customer.subscription.updated (past_due); a repeat only retries", async () => {
    const { subscription } = await subscribe(h);
    const periodEnd = subscription.items.data[0]!.current_period_end;
    const res = await control<{ invoice: Stripe.Invoice }>(
      h.emulator,
      "POST",
      `subscriptions/${subscription.id}/fail_payment`,
    );
    expect(res.status).toBe(200);
    expect(h.receiver.types).toEqual(["invoice.payment_failed", "customer.subscription.updated"]);
    expect(res.body.invoice).toMatchObject({
      status: "open",
      amount_remaining: 2900,
      attempt_count: 1,
      billing_reason: "subscription_cycle",
    });
    expect(h.receiver.events[1]?.data.previous_attributes).toMatchObject({ status: "active" });
    const pastDue = await h.stripe.subscriptions.retrieve(subscription.id);
    expect(pastDue).toMatchObject({ status: "past_due", latest_invoice: res.body.invoice.id });
    expect(pastDue.items.data[0]?.current_period_start).toBe(periodEnd);
    expect(await h.stripe.customers.retrieve(subscription.customer)).toMatchObject({ delinquent: true });

    h.receiver.clear();
    const retry = await h.emulator.failPayment(subscription.id);
    expect(retry.invoice).toMatchObject({ id: res.body.invoice.id, attempt_count: 2 });
    expect(h.receiver.types).toEqual(["invoice.payment_failed"]);
  });

  it("renew: recovers a past_due subscription, then renews an active one into the next period", async () => {
    const { subscription } = await subscribe(h);
    await h.emulator.failPayment(subscription.id);
    h.receiver.clear();
    const recovered = await h.emulator.renewSubscription(subscription.id);
    expect(recovered.subscription.status).toBe("active");
    expect(recovered.invoice?.status).toBe("paid");
    expect(h.receiver.types).toEqual(["customer.subscription.updated", "invoice.paid"]);

    h.receiver.clear();
    const periodEnd = recovered.subscription.items.data[0]!.current_period_end;
    const renewed = await control<{ subscription: Stripe.Subscription; invoice: Stripe.Invoice }>(
      h.emulator,
      "POST",
      `subscriptions/${subscription.id}/renew`,
    );
    expect(renewed.body.subscription.items.data[0]?.current_period_start).toBe(periodEnd);
    expect(renewed.body.invoice).toMatchObject({
      billing_reason: "subscription_cycle",
      status: "paid",
      period_end: periodEnd,
    });
    expect(h.receiver.types).toEqual(["customer.subscription.updated", "invoice.paid"]);
  });

  it("renew ends a subscription set to cancel at period end", async () => {
    const { subscription } = await subscribe(h);
    await h.stripe.subscriptions.update(subscription.id, { cancel_at_period_end: true });
    await h.emulator.settle();
    h.receiver.clear();
    const ended = await h.emulator.renewSubscription(subscription.id);
    expect(ended).toMatchObject({ subscription: { status: "canceled" }, invoice: null });
    expect(h.receiver.types).toEqual(["customer.subscription.deleted"]);
    const again = await control(h.emulator, "POST", `subscriptions/${subscription.id}/renew`);
    expect(again.status).toBe(400);
  });

  it("404s unknown subscriptions", async () => {
    const res = await control(h.emulator, "POST", "subscriptions/sub_nope/fail_payment");
    expect(res).toMatchObject({ status: 404, body: { error: { code: "resource_missing" } } });
  });
});

describe("control endpoints and reset", () => {
  it("lists recorded events with their deliveries, optionally by type", async () => {
    await subscribe(h);
    const all = await control<{ data: EventRecord[] }>(h.emulator, "GET", "events");
    expect(all.body.data.map((r) => [r.event.type, r.deliveries.length])).toEqual(
      CHECKOUT_SEQUENCE.map((type) => [type, 1]),
    );
    const paid = await control<{ data: EventRecord[] }>(h.emulator, "GET", "events?type=invoice.paid");
    expect(paid.body.data.map((r) => r.event.type)).toEqual(["invoice.paid"]);
  });

  it("answers unknown endpoints, bad JSON and bad params with errors", async () => {
    expect((await control(h.emulator, "POST", "nope")).status).toBe(404);
    const badJson = await fetch(`${h.emulator.url}/_emulator/deliver`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: "{",
    });
    expect(badJson.status).toBe(400);
    expect((await control(h.emulator, "POST", "deliver", { event_ids: "evt_1" })).status).toBe(400);
    expect((await control(h.emulator, "POST", "webhooks/release", { order: "random" })).status).toBe(400);
    expect((await control(h.emulator, "POST", "webhooks/order", { order: "shuffle:x" })).status).toBe(400);
    expect((await control(h.emulator, "POST", "webhooks/order", {})).status).toBe(400);
  });

  it("reset forgets customers, subscriptions, events and idempotency keys, and keeps the catalogue", async () => {
    const { subscription } = await subscribe(h);
    const params = { email: "ada@example.com" };
    const before = await h.stripe.customers.create(params, { idempotencyKey: "reset-1" });
    h.emulator.reset();
    expect(h.emulator.events).toEqual([]);
    await expect(h.stripe.subscriptions.retrieve(subscription.id)).rejects.toThrow(/No such subscription/);
    expect((await h.stripe.customers.create(params, { idempotencyKey: "reset-1" })).id).not.toBe(before.id);
    expect((await h.stripe.prices.list({ lookup_keys: ["pro_monthly"] })).data).toHaveLength(1);
  });
});

describe("a checkout's events, as Stripe sends them", () => {
  const objectOf = (events: Stripe.Event[], type: string) => {
    const event = events.find((e) => e.type === type);
    if (!event) throw new Error(`no ${type} among ${events.map((e) => e.type).join(", ")}`);
    return event.data.object as unknown as Record<string, unknown> & { id: string };
  };

  it("customer, subscription incomplete, invoice, payment, invoice paid, subscription active, session complete", async () => {
    const session = await createCheckout(h.stripe);
    const { events, subscription, invoice } = await h.emulator.completeCheckout(session.id);
    expect(events.map((e) => e.type)).toEqual(CHECKOUT_SEQUENCE);
    expect(h.receiver.types).toEqual(CHECKOUT_SEQUENCE);
    const received = h.receiver.events;

    // Each payload is its object as it was at that step, not as it is now.
    const created = objectOf(received, "customer.subscription.created");
    expect(created).toMatchObject({ id: subscription.id, status: "incomplete", latest_invoice: invoice.id });
    expect(objectOf(received, "invoice.created")).toMatchObject({ id: invoice.id, status: "draft", number: null });
    expect(objectOf(received, "invoice.finalized")).toMatchObject({ id: invoice.id, status: "open", amount_paid: 0 });
    const intentCreated = objectOf(received, "payment_intent.created");
    expect(intentCreated).toMatchObject({ status: "requires_payment_method", amount: 2900, latest_charge: null });
    const charge = objectOf(received, "charge.succeeded");
    expect(charge).toMatchObject({ status: "succeeded", paid: true, amount: 2900, payment_intent: intentCreated.id });
    const intent = objectOf(received, "payment_intent.succeeded");
    expect(intent).toMatchObject({
      id: intentCreated.id,
      status: "succeeded",
      amount_received: 2900,
      latest_charge: charge.id,
    });
    const invoicePayment = objectOf(received, "invoice_payment.paid");
    expect(invoicePayment).toMatchObject({
      invoice: invoice.id,
      status: "paid",
      payment: { type: "payment_intent", payment_intent: intent.id },
    });
    for (const type of ["invoice.paid", "invoice.payment_succeeded"]) {
      expect(objectOf(received, type)).toMatchObject({ id: invoice.id, status: "paid", amount_paid: 2900 });
    }
    const updated = received.find((e) => e.type === "customer.subscription.updated")!;
    expect(updated.data.object).toMatchObject({ id: subscription.id, status: "active" });
    expect(updated.data.previous_attributes).toEqual({ status: "incomplete" });
    const completed = objectOf(received, "checkout.session.completed");
    expect(completed).toMatchObject({ status: "complete", payment_status: "paid", subscription: subscription.id });
    const customer = objectOf(received, "customer.created");
    expect(completed.customer).toBe(customer.id);
    expect(created.customer).toBe(customer.id);
    expect((await h.stripe.subscriptions.retrieve(subscription.id)).status).toBe("active");

    // Only Stripe's fields.
    expect(unknownKeys(intent, paymentIntentFixture)).toEqual([]);
    expect(unknownKeys(charge, chargeFixture)).toEqual([]);
    expect(unknownKeys(invoicePayment, invoicePaymentFixture)).toEqual([]);
    expect([intent.id, charge.id, invoicePayment.id]).toEqual([
      expect.stringMatching(/^pi_/),
      expect.stringMatching(/^ch_/),
      expect.stringMatching(/^inpay_/),
    ]);
  });

  it("dates the steps seconds apart, ending at the payment, and each object at its step", async () => {
    const session = await createCheckout(h.stripe);
    const before = Math.floor(Date.now() / 1000);
    const { events, subscription } = await h.emulator.completeCheckout(session.id);
    const after = Math.floor(Date.now() / 1000);
    const at = (type: string) => events.find((e) => e.type === type)!.created;
    const times = events.map((e) => e.created);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(at("checkout.session.completed")).toBeGreaterThanOrEqual(before);
    expect(at("checkout.session.completed")).toBeLessThanOrEqual(after);
    expect(at("customer.subscription.created")).toBeLessThan(at("invoice.finalized"));
    expect(at("invoice.finalized")).toBeLessThan(at("payment_intent.succeeded"));
    expect(at("payment_intent.succeeded")).toBeLessThan(at("customer.subscription.updated"));
    expect(at("customer.subscription.updated")).toBeLessThan(at("checkout.session.completed"));
    expect(at("checkout.session.completed") - at("customer.created")).toBe(4);
    expect(subscription).toMatchObject({
      created: at("customer.subscription.created"),
      start_date: at("customer.subscription.created"),
    });
    expect(objectOf(events as Stripe.Event[], "charge.succeeded").created).toBe(at("charge.succeeded"));
  });

  it("a returning customer: no customer.created, and nothing dated before that customer's earlier events", async () => {
    const first = await subscribe(h);
    const customer = first.subscription.customer;
    await h.stripe.subscriptions.cancel(first.subscription.id);
    await h.emulator.settle();
    const canceledAt = h.emulator.events.at(-1)!.event.created;
    const session = await createCheckout(h.stripe, { customer, customer_email: undefined });
    const { events } = await h.emulator.completeCheckout(session.id);
    expect(events.map((e) => e.type)).toEqual(CHECKOUT_SEQUENCE.slice(1));
    expect(Math.min(...events.map((e) => e.created))).toBeGreaterThanOrEqual(canceledAt);
  });
});

describe("delivery order", () => {
  const checkout = async () => {
    h.receiver.clear();
    const { events } = await h.emulator.completeCheckout((await createCheckout(h.stripe)).id);
    return { created: events.map((e) => e.id), delivered: h.receiver.events.map((e) => e.id) };
  };

  it("is creation order by default, and reversed or shuffled by seed when asked (reset restores it)", async () => {
    expect(h.emulator.deliveryOrder).toBe("created");
    const inOrder = await checkout();
    expect(inOrder.delivered).toEqual(inOrder.created);

    h.emulator.deliveryOrder = "reverse";
    const reversed = await checkout();
    expect(reversed.delivered).toEqual([...reversed.created].reverse());

    expect((await control(h.emulator, "POST", "webhooks/order", { order: "shuffle:7" })).body).toEqual({
      order: "shuffle:7",
    });
    expect((await control(h.emulator, "GET", "webhooks/order")).body).toEqual({ order: "shuffle:7" });
    const shuffled = await checkout();
    // Every event once, in an order that is neither Stripe's creation order nor its reverse.
    expect([...shuffled.delivered].sort()).toEqual([...shuffled.created].sort());
    expect(shuffled.delivered).not.toEqual(shuffled.created);
    expect(shuffled.delivered).not.toEqual([...shuffled.created].reverse());

    h.emulator.reset();
    expect(h.emulator.deliveryOrder).toBe("created");
  });

  it("a seeded shuffle is reproducible: the same seed gives the same order, another seed another", async () => {
    const positions = async (order: "shuffle:7" | "shuffle:8") => {
      h.emulator.deliveryOrder = order;
      const { created, delivered } = await checkout();
      return delivered.map((id) => created.indexOf(id));
    };
    const first = await positions("shuffle:7");
    expect(await positions("shuffle:7")).toEqual(first);
    expect(await positions("shuffle:8")).not.toEqual(first);
  });

  it("applies to each operation's events, and to release of held ones", async () => {
    const { subscription } = await subscribe(h);
    h.emulator.deliveryOrder = "reverse";
    await h.stripe.subscriptions.update(subscription.id, {
      items: [{ id: subscription.items.data[0]!.id, price: "price_emu_pro_yearly" }],
    });
    await h.emulator.settle();
    expect(h.receiver.types).toEqual(["invoice.paid", "customer.subscription.updated"]);

    h.receiver.clear();
    h.emulator.holdWebhooks();
    const { events } = await h.emulator.completeCheckout((await createCheckout(h.stripe)).id);
    await h.emulator.releaseWebhooks({ order: "shuffle:7" });
    const again = h.receiver.events.map((e) => events.findIndex((c) => c.id === e.id));
    h.emulator.deliveryOrder = "shuffle:7";
    const { created, delivered } = await checkout();
    expect(delivered.map((id) => created.indexOf(id))).toEqual(again);
  });
});
