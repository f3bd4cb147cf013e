// POST /api/stripe/webhook against a real database, with events built from Stripe's fixtures.
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import * as webhookRoute from "../../app/routes/api.stripe.webhook.ts";
import * as switchRoute from "../../app/routes/account.switch.ts";
import * as entitlementsRoute from "../../app/routes/api.me.entitlements.ts";
import pg from "pg";
import { requirePostgres, testDb } from "../setup/database.ts";
import {
  checkoutSession,
  event,
  invoice,
  subscription,
  TEST_WEBHOOK_SECRET,
  webhookRequest,
} from "../stripe-fixtures.ts";
import {
  billingOf,
  createBillingUser,
  formRequest,
  getRequest,
  routeArgs,
  seedDemoData,
  sessionCookieFor,
  setBilling,
  settle,
} from "../utils.ts";
import { useStripeConnection } from "../../app/services/stripe/client.server.ts";

const useWebhookSecrets = (webhookSecrets: string[]) =>
  useStripeConnection({ mode: "disabled", apiKey: null, apiBase: null, webhookSecrets });

const prisma = () => testDb().prisma;
const deliver = (request: Request) => webhookRoute.action(routeArgs(request));
const now = () => Math.floor(Date.now() / 1000);

let customerCounter = 0;
async function customer(overrides: { stripeCustomerId?: string | null } = {}) {
  const n = customerCounter++;
  return createBillingUser({
    email: `webhook-${n}-${Date.now()}@example.com`,
    stripeCustomerId:
      overrides.stripeCustomerId === undefined ? `cus_test_${n}_${Date.now()}` : overrides.stripeCustomerId,
  });
}
const tierKeyOf = async (userId: number) => {
  const billing = await billingOf(userId);
  return { ...billing, tierKey: billing.tier?.key ?? null };
};
const storedEvent = (eventId: string) => prisma().stripeEvent.findUniqueOrThrow({ where: { eventId } });

beforeAll(seedDemoData);
beforeEach(() => useWebhookSecrets([TEST_WEBHOOK_SECRET]));
afterEach(() => useWebhookSecrets([]));

describe("verification", () => {
  it("answers 400 to a delivery without a signature and stores nothing", async () => {
    const evt = event("invoice.paid", invoice("cus_x"));
    const response = await deliver(webhookRequest(evt, { signature: null }));
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: "Missing Stripe-Signature header." });
    expect(await prisma().stripeEvent.count({ where: { eventId: evt.id } })).toBe(0);
  });

  it("answers 401 to a bad signature and stores nothing", async () => {
    const evt = event("invoice.paid", invoice("cus_x"));
    const response = await deliver(webhookRequest(evt, { secret: "whsec_wrong" }));
    expect(response.status).toBe(401);
    expect(await prisma().stripeEvent.count({ where: { eventId: evt.id } })).toBe(0);
  });

  it("answers 401 when the signature is older than 300 seconds", async () => {
    const evt = event("invoice.paid", invoice("cus_x"));
    const response = await deliver(webhookRequest(evt, { timestamp: now() - 301 }));
    expect(response.status).toBe(401);
    expect(await prisma().stripeEvent.count({ where: { eventId: evt.id } })).toBe(0);
  });

  it("answers 401 when the signature is dated more than 300 seconds in the future, as when older", async () => {
    for (const ahead of [301, 3600]) {
      const evt = event("invoice.paid", invoice("cus_x"));
      const response = await deliver(webhookRequest(evt, { timestamp: now() + ahead }));
      expect(response.status, `${ahead} s ahead`).toBe(401);
      expect(await prisma().stripeEvent.count({ where: { eventId: evt.id } })).toBe(0);
    }
    // A sender's clock a little ahead is within the tolerance.
    const skewed = event("invoice.paid", invoice("cus_x"));
    expect((await deliver(webhookRequest(skewed, { timestamp: now() + 60 }))).status).not.toBe(401);
  });

  it("answers 401 when the body was altered after signing", async () => {
    const evt = event("invoice.paid", invoice("cus_x"));
    const signed = webhookRequest(evt);
    const tampered = new Request(signed.url, {
      method: "POST",
      headers: signed.headers,
      body: JSON.stringify({ ...evt, type: "customer.subscription.deleted" }, null, 2),
    });
    expect((await deliver(tampered)).status).toBe(401);
  });

  it("refuses bodies over 1 MiB with 413 and stores nothing", async () => {
    const evt = event("invoice.paid", { ...invoice("cus_x"), description: "x".repeat(1024 * 1024) });
    const response = await deliver(webhookRequest(evt));
    expect(response.status).toBe(413);
    expect(await prisma().stripeEvent.count({ where: { eventId: evt.id } })).toBe(0);
  });

  it("answers 400, not 401, to a validly signed body that is not a Stripe event, and stores nothing", async () => {
    for (const body of [
      "{not json",
      "null",
      "[]",
      JSON.stringify({ id: "x".repeat(300), type: "invoice.paid", created: 1, data: { object: {} } }),
    ]) {
      const response = await deliver(webhookRequest(body));
      expect(response.status, body.slice(0, 20)).toBe(400);
      expect((await response.json()).error).toMatch(/^The signed payload is not (JSON|a Stripe event)/);
    }
    expect(
      await prisma().stripeEvent.count({ where: { eventType: "invoice.paid", eventCreatedAt: new Date(1000) } }),
    ).toBe(0);
  });

  it("answers other methods with 405 and Allow: POST", async () => {
    const response = await webhookRoute.action(
      routeArgs(new Request("http://localhost/api/stripe/webhook", { method: "PUT", body: "{}" })),
    );
    expect(response.status).toBe(405);
    expect(response.headers.get("Allow")).toBe("POST");
  });

  it("refuses a body over 1 MiB sent without Content-Length", async () => {
    const evt = event("invoice.paid", { ...invoice("cus_x"), description: "x".repeat(1024 * 1024) });
    const signed = webhookRequest(evt);
    const bytes = new TextEncoder().encode(await signed.text());
    const chunked = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 64 * 1024) controller.enqueue(bytes.subarray(i, i + 64 * 1024));
        controller.close();
      },
    });
    const request = new Request(signed.url, {
      method: "POST",
      headers: signed.headers,
      body: chunked,
      duplex: "half",
    } as RequestInit);
    const response = await deliver(request);
    expect(response.status).toBe(413);
    expect(await prisma().stripeEvent.count({ where: { eventId: evt.id } })).toBe(0);
  });

  it("accepts any secret of a comma-separated list while rotating", async () => {
    useWebhookSecrets(["whsec_new_one", "whsec_old_one"]);
    const signedWithOld = event("invoice.paid", invoice("cus_x"));
    const signedWithNew = event("invoice.paid", invoice("cus_x"));
    expect((await deliver(webhookRequest(signedWithOld, { secret: "whsec_old_one" }))).status).toBe(200);
    expect((await deliver(webhookRequest(signedWithNew, { secret: "whsec_new_one" }))).status).toBe(200);
    expect(
      (await deliver(webhookRequest(event("invoice.paid", invoice("cus_x")), { secret: "whsec_other" }))).status,
    ).toBe(401);
  });

  it("answers 503 and stores nothing when no webhook secret is configured", async () => {
    useWebhookSecrets([]);
    const evt = event("invoice.paid", invoice("cus_x"));
    const response = await deliver(webhookRequest(evt));
    expect(response.status).toBe(503);
    expect(await prisma().stripeEvent.count({ where: { eventId: evt.id } })).toBe(0);
  });
});

describe("subscription state", () => {
  it("checkout.session.completed grants the tier and stores customer and subscription ids", async () => {
    const user = await customer({ stripeCustomerId: null });
    const sub = subscription({ customer: "cus_checkout_1", lookupKey: "pro_monthly" });
    const session = checkoutSession({
      clientReferenceId: String(user.accountId),
      customer: "cus_checkout_1",
      subscriptionId: sub,
    });
    const evt = event("checkout.session.completed", session);
    const response = await deliver(webhookRequest(evt));
    expect(response.status).toBe(200);
    const after = await tierKeyOf(user.id);
    expect(after).toMatchObject({
      tierKey: "pro",
      stripeCustomerId: "cus_checkout_1",
      stripeSubscriptionId: sub.id,
      subscriptionStatus: "active",
    });
    expect(after.subscriptionSyncedAt?.getTime()).toBe(evt.created * 1000);
    expect(await storedEvent(evt.id)).toMatchObject({
      status: "processed",
      error: null,
      attempts: 1,
      eventType: "checkout.session.completed",
    });
  });

  it("customer.subscription.updated with status active grants the tier", async () => {
    const user = await customer();
    const evt = event(
      "customer.subscription.updated",
      subscription({ customer: user.stripeCustomerId!, lookupKey: "hobbyist_yearly" }),
    );
    expect((await deliver(webhookRequest(evt))).status).toBe(200);
    expect(await tierKeyOf(user.id)).toMatchObject({ tierKey: "hobbyist", subscriptionStatus: "active" });
  });

  it("links a subscription to its account by metadata when it arrives before the checkout event", async () => {
    const user = await customer({ stripeCustomerId: null });
    const sub = subscription({
      customer: "cus_early_bird",
      lookupKey: "pro_yearly",
      metadata: { tierdesk_account_id: String(user.accountId) },
    });
    expect((await deliver(webhookRequest(event("customer.subscription.created", sub)))).status).toBe(200);
    expect(await tierKeyOf(user.id)).toMatchObject({ tierKey: "pro", stripeCustomerId: "cus_early_bird" });
  });

  it("customer.subscription.deleted drops to free, clears the subscription and keeps the customer id", async () => {
    const user = await customer();
    const sub = subscription({ customer: user.stripeCustomerId!, lookupKey: "pro_monthly" });
    await deliver(webhookRequest(event("customer.subscription.created", sub, { created: now() - 10 })));
    expect((await tierKeyOf(user.id)).tierKey).toBe("pro");
    const response = await deliver(
      webhookRequest(event("customer.subscription.deleted", { ...sub, status: "canceled" })),
    );
    expect(response.status).toBe(200);
    expect(await tierKeyOf(user.id)).toMatchObject({
      tierKey: null,
      stripeSubscriptionId: null,
      stripeCustomerId: user.stripeCustomerId,
      subscriptionStatus: "canceled",
    });
  });

  it.each([
    ["trialing", "pro"],
    ["past_due", "pro"],
    ["unpaid", null],
    ["paused", null],
    ["incomplete_expired", null],
    ["canceled", null],
  ])("status %s → tier %s", async (status, expected) => {
    const user = await customer();
    const sub = subscription({ customer: user.stripeCustomerId!, lookupKey: "pro_monthly" });
    await deliver(webhookRequest(event("customer.subscription.created", sub, { created: now() - 10 })));
    await deliver(webhookRequest(event("customer.subscription.updated", { ...sub, status })));
    expect(await tierKeyOf(user.id)).toMatchObject({ tierKey: expected, subscriptionStatus: status });
  });

  it("incomplete changes nothing yet", async () => {
    const user = await customer();
    const evt = event(
      "customer.subscription.created",
      subscription({ customer: user.stripeCustomerId!, lookupKey: "pro_monthly", status: "incomplete" }),
    );
    expect((await deliver(webhookRequest(evt))).status).toBe(200);
    expect(await tierKeyOf(user.id)).toMatchObject({
      tierKey: null,
      subscriptionStatus: null,
      stripeSubscriptionId: null,
    });
  });

  it("an old subscription ending does not take away the current one", async () => {
    const user = await customer();
    const current = subscription({ customer: user.stripeCustomerId!, lookupKey: "pro_monthly" });
    const old = subscription({ customer: user.stripeCustomerId!, lookupKey: "hobbyist_monthly" });
    await deliver(webhookRequest(event("customer.subscription.created", current, { created: now() - 5 })));
    await deliver(webhookRequest(event("customer.subscription.deleted", { ...old, status: "canceled" })));
    expect(await tierKeyOf(user.id)).toMatchObject({ tierKey: "pro", stripeSubscriptionId: current.id });
  });
});

describe("delivery patterns", () => {
  it("processes a replayed event id once and keeps one row", async () => {
    const user = await customer();
    const evt = event(
      "customer.subscription.updated",
      subscription({ customer: user.stripeCustomerId!, lookupKey: "pro_monthly" }),
    );
    expect((await deliver(webhookRequest(evt))).status).toBe(200);
    // Meanwhile the user moves on; a replay of the old event must not undo that.
    await setBilling(user.id, { tierId: null });
    const replay = await deliver(webhookRequest(evt));
    expect(replay.status).toBe(200);
    expect(await prisma().stripeEvent.count({ where: { eventId: evt.id } })).toBe(1);
    expect((await storedEvent(evt.id)).attempts).toBe(1);
    expect((await tierKeyOf(user.id)).tierKey).toBeNull();
  });

  it("processes 20 identical concurrent deliveries exactly once, answering 200 to each", async () => {
    const user = await customer();
    const evt = event(
      "customer.subscription.updated",
      subscription({ customer: user.stripeCustomerId!, lookupKey: "pro_monthly" }),
    );
    const responses = await Promise.all(Array.from({ length: 20 }, () => deliver(webhookRequest(evt))));
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(200));
    const row = await storedEvent(evt.id);
    expect(row).toMatchObject({ status: "processed", attempts: 1 });
    expect(await prisma().stripeEvent.count({ where: { eventId: evt.id } })).toBe(1);
    expect((await tierKeyOf(user.id)).tierKey).toBe("pro");
  });

  it("acknowledges and stores unknown event types", async () => {
    const evt = event("issuing_card.created", { id: "ic_123", object: "issuing.card" });
    const response = await deliver(webhookRequest(evt));
    expect(response.status).toBe(200);
    expect(await storedEvent(evt.id)).toMatchObject({
      status: "ignored",
      eventType: "issuing_card.created",
      error: null,
    });
  });

  it("records invoice and charge events for audit only", async () => {
    const user = await customer();
    for (const type of ["invoice.paid", "invoice.payment_failed", "charge.refunded"]) {
      const evt = event(type, invoice(user.stripeCustomerId!));
      expect((await deliver(webhookRequest(evt))).status).toBe(200);
      expect((await storedEvent(evt.id)).status).toBe("processed");
    }
    expect((await tierKeyOf(user.id)).tierKey).toBeNull();
  });

  it("applies out-of-order events by their created time: an older one is stale", async () => {
    const user = await customer();
    const sub = subscription({ customer: user.stripeCustomerId!, lookupKey: "hobbyist_monthly" });
    const created = event("customer.subscription.created", sub, { created: now() - 60 });
    const upgraded = event(
      "customer.subscription.updated",
      { ...sub, items: subscription({ customer: "x", lookupKey: "pro_monthly" }).items },
      { created: now() - 30 },
    );
    expect((await deliver(webhookRequest(upgraded))).status).toBe(200);
    expect((await deliver(webhookRequest(created))).status).toBe(200);
    expect((await tierKeyOf(user.id)).tierKey).toBe("pro");
    expect(await storedEvent(created.id)).toMatchObject({ status: "stale" });
    expect((await storedEvent(created.id)).note).toMatch(/older/);
  });

  it("applies a deletion even when an update of the same second was applied first", async () => {
    const user = await customer();
    const sub = subscription({ customer: user.stripeCustomerId!, lookupKey: "pro_monthly" });
    const t = now();
    await deliver(webhookRequest(event("customer.subscription.updated", sub, { created: t })));
    const deleted = event("customer.subscription.deleted", { ...sub, status: "canceled" }, { created: t });
    expect((await deliver(webhookRequest(deleted))).status).toBe(200);
    expect(await tierKeyOf(user.id)).toMatchObject({
      tierKey: null,
      stripeSubscriptionId: null,
      subscriptionStatus: "canceled",
    });
  });

  it("does not resurrect a subscription deleted in the same second when Stripe cannot be asked", async () => {
    const user = await customer();
    const sub = subscription({ customer: user.stripeCustomerId!, lookupKey: "pro_monthly" });
    const t = now();
    await deliver(webhookRequest(event("customer.subscription.created", sub, { created: t - 5 })));
    await deliver(
      webhookRequest(event("customer.subscription.deleted", { ...sub, status: "canceled" }, { created: t })),
    );
    const late = event("customer.subscription.updated", sub, { created: t });
    expect((await deliver(webhookRequest(late))).status).toBe(200);
    expect(await tierKeyOf(user.id)).toMatchObject({
      tierKey: null,
      stripeSubscriptionId: null,
      subscriptionStatus: "canceled",
    });
    expect((await storedEvent(late.id)).status).toBe("stale");
  });

  it("lets a new subscription follow a deletion within the same second", async () => {
    const user = await customer();
    const old = subscription({ customer: user.stripeCustomerId!, lookupKey: "pro_monthly" });
    const t = now();
    await deliver(webhookRequest(event("customer.subscription.created", old, { created: t - 100 })));
    await deliver(
      webhookRequest(event("customer.subscription.deleted", { ...old, status: "canceled" }, { created: t })),
    );
    const replacement = subscription({ customer: user.stripeCustomerId!, lookupKey: "hobbyist_monthly" });
    expect(
      (await deliver(webhookRequest(event("customer.subscription.created", replacement, { created: t })))).status,
    ).toBe(200);
    expect(await tierKeyOf(user.id)).toMatchObject({
      tierKey: "hobbyist",
      stripeSubscriptionId: replacement.id,
      subscriptionStatus: "active",
    });
  });

  it("applies events of the same second in arrival order when Stripe cannot be asked", async () => {
    const user = await customer();
    const sub = subscription({ customer: user.stripeCustomerId!, lookupKey: "hobbyist_monthly" });
    const t = now();
    await deliver(webhookRequest(event("customer.subscription.created", sub, { created: t })));
    await deliver(
      webhookRequest(event("customer.subscription.updated", { ...sub, status: "past_due" }, { created: t })),
    );
    expect(await tierKeyOf(user.id)).toMatchObject({ tierKey: "hobbyist", subscriptionStatus: "past_due" });
  });

  it("ignores an event older than the account's last synced state", async () => {
    const user = await customer();
    await setBilling(user.id, { subscriptionSyncedAt: new Date((now() + 100) * 1000) });
    const evt = event(
      "customer.subscription.updated",
      subscription({ customer: user.stripeCustomerId!, lookupKey: "pro_monthly" }),
    );
    expect((await deliver(webhookRequest(evt))).status).toBe(200);
    expect(await tierKeyOf(user.id)).toMatchObject({ tierKey: null, subscriptionStatus: null });
    expect((await storedEvent(evt.id)).status).toBe("stale");
  });

  it("fails an event whose lookup key no tier owns (500, error stored), then processes its redelivery", async () => {
    const user = await customer();
    const evt = event(
      "customer.subscription.updated",
      subscription({ customer: user.stripeCustomerId!, lookupKey: "enterprise_monthly" }),
    );
    const first = await deliver(webhookRequest(evt));
    expect(first.status).toBe(500);
    const failed = await storedEvent(evt.id);
    expect(failed.status).toBe("failed");
    expect(failed.error).toContain('"enterprise_monthly"');
    expect((await tierKeyOf(user.id)).tierKey).toBeNull();

    // Support adds the key to a tier; Stripe retries.
    const pro = await prisma().subscriptionTier.findUniqueOrThrow({ where: { key: "pro" } });
    await prisma().subscriptionTierPrice.create({
      data: { tierId: pro.id, lookupKey: "enterprise_monthly", position: 5 },
    });
    const retry = await deliver(webhookRequest(evt));
    expect(retry.status).toBe(200);
    expect(await storedEvent(evt.id)).toMatchObject({ status: "processed", error: null, attempts: 2 });
    expect((await tierKeyOf(user.id)).tierKey).toBe("pro");
  });

  it("leaves the account entirely unchanged when the lookup key is unknown, even when linked by metadata", async () => {
    const user = await customer({ stripeCustomerId: null });
    const sub = subscription({
      customer: "cus_unlinked",
      lookupKey: "mystery_monthly",
      metadata: { tierdesk_account_id: String(user.accountId) },
    });
    expect((await deliver(webhookRequest(event("customer.subscription.created", sub)))).status).toBe(500);
    expect(await billingOf(user.id)).toEqual(user);
  });

  it("fails a subscription paying for two tiers at once, naming both keys", async () => {
    const user = await customer();
    const sub = subscription({ customer: user.stripeCustomerId!, lookupKey: "pro_monthly" });
    const second = structuredClone(sub.items.data[0]!);
    second.price.lookup_key = "hobbyist_monthly";
    sub.items.data.push(second);
    const evt = event("customer.subscription.updated", sub);
    expect((await deliver(webhookRequest(evt))).status).toBe(500);
    expect((await storedEvent(evt.id)).error).toMatch(
      /several tiers.*"pro_monthly".*"hobbyist_monthly"|several tiers.*"hobbyist_monthly".*"pro_monthly"/,
    );
  });

  it("ignores add-on items whose keys no tier owns when one item names a tier", async () => {
    const user = await customer();
    const sub = subscription({ customer: user.stripeCustomerId!, lookupKey: "extra_seat_monthly" });
    const main = structuredClone(sub.items.data[0]!);
    main.price.lookup_key = "pro_monthly";
    sub.items.data.push(main);
    expect((await deliver(webhookRequest(event("customer.subscription.updated", sub)))).status).toBe(200);
    expect((await tierKeyOf(user.id)).tierKey).toBe("pro");
  });

  it("fails clearly for Stripe ids longer than the accounts table keeps", async () => {
    const user = await customer();
    const sub = subscription({
      customer: user.stripeCustomerId!,
      lookupKey: "pro_monthly",
      id: `sub_${"x".repeat(100)}`,
    });
    const evt = event("customer.subscription.updated", sub);
    const response = await deliver(webhookRequest(evt));
    expect(response.status).toBe(500);
    expect((await response.json()).error).toMatch(/longer than 64 characters/);
    expect((await storedEvent(evt.id)).error).toMatch(/longer than 64 characters/);
  });

  it("does not leak internal errors in a 500, but stores them for support", async () => {
    const user = await customer({ stripeCustomerId: null });
    // The subscription must be fetched, and no Stripe is configured in this file.
    const session = checkoutSession({
      clientReferenceId: String(user.accountId),
      customer: "cus_internal",
      subscriptionId: "sub_needs_fetching",
    });
    const evt = event("checkout.session.completed", session);
    const response = await deliver(webhookRequest(evt));
    expect(response.status).toBe(500);
    expect((await response.json()).error).toBe(
      `Processing failed; the error is stored with event ${evt.id} for support.`,
    );
    expect((await storedEvent(evt.id)).error).toMatch(/Billing is not available/);
  });

  it("fails a subscription event for a customer no account has", async () => {
    const evt = event(
      "customer.subscription.updated",
      subscription({ customer: "cus_stranger", lookupKey: "pro_monthly" }),
    );
    const response = await deliver(webhookRequest(evt));
    expect(response.status).toBe(500);
    expect((await storedEvent(evt.id)).error).toContain("cus_stranger");
  });

  it("stores payloads truncated to 16 KiB and still processes the whole event", async () => {
    const user = await customer();
    const sub = subscription({
      customer: user.stripeCustomerId!,
      lookupKey: "pro_monthly",
      metadata: { notes: "é".repeat(20_000) },
    });
    const evt = event("customer.subscription.updated", sub);
    expect((await deliver(webhookRequest(evt))).status).toBe(200);
    const row = await storedEvent(evt.id);
    expect(Buffer.byteLength(row.payload, "utf8")).toBeLessThanOrEqual(16 * 1024);
    expect(Buffer.byteLength(row.payload, "utf8")).toBeGreaterThan(16 * 1024 - 4);
    expect(row.payload.startsWith("{")).toBe(true);
    expect(row.payload).not.toContain("\uFFFD");
    expect((await tierKeyOf(user.id)).tierKey).toBe("pro");
  });
});

describe("signed events Tierdesk cannot read are not retried forever", () => {
  it("stores a subscription event with data.object null as failed with the reason, and answers 400", async () => {
    const evt = event("customer.subscription.updated", null);
    const first = await deliver(webhookRequest(evt));
    expect(first.status).toBe(400);
    expect((await first.json()).error).toMatch(/data\.object/);
    expect(await storedEvent(evt.id)).toMatchObject({
      status: "failed",
      error: expect.stringMatching(/Unreadable customer\.subscription\.updated/),
    });
    // Stripe's retry gets the same 400 (it stops retrying on a 4xx), and one row.
    expect((await deliver(webhookRequest(evt))).status).toBe(400);
    expect(await prisma().stripeEvent.count({ where: { eventId: evt.id } })).toBe(1);
  });

  it("answers 400 and stores nothing for an event id with a NUL character", async () => {
    const evt = event(
      "customer.subscription.updated",
      subscription({ customer: "cus_nul", lookupKey: "pro_monthly" }),
      { id: "evt_nul\u0000x" },
    );
    const response = await deliver(webhookRequest(evt));
    expect(response.status).toBe(400);
    expect(await prisma().stripeEvent.count({ where: { eventId: { startsWith: "evt_nul" } } })).toBe(0);
  });

  it("answers 400, stores the reason, for a NUL inside the object's ids", async () => {
    const sub = subscription({ customer: "cus_bad\u0000", lookupKey: "pro_monthly" });
    const evt = event("customer.subscription.updated", sub);
    expect((await deliver(webhookRequest(evt))).status).toBe(400);
    expect(await storedEvent(evt.id)).toMatchObject({ status: "failed", customerId: null });
  });

  it("stores the event's object id and customer id in their own columns", async () => {
    const user = await customer();
    const sub = subscription({ customer: user.stripeCustomerId!, lookupKey: "pro_monthly" });
    const evt = event("customer.subscription.updated", sub);
    expect((await deliver(webhookRequest(evt))).status).toBe(200);
    expect(await storedEvent(evt.id)).toMatchObject({ objectId: sub.id, customerId: user.stripeCustomerId });
    const inv = event("invoice.paid", invoice(user.stripeCustomerId!));
    await deliver(webhookRequest(inv));
    const ofCustomer = await prisma().stripeEvent.findMany({
      where: { customerId: user.stripeCustomerId },
      select: { eventId: true },
    });
    expect(ofCustomer.map((row) => row.eventId).sort()).toEqual([evt.id, inv.id].sort());
  });
});

describe("a claim ends with its transaction", () => {
  it("retakes at once an event left 'processing' (a crash under the old claim scheme)", async () => {
    const user = await customer();
    const evt = event(
      "customer.subscription.updated",
      subscription({ customer: user.stripeCustomerId!, lookupKey: "pro_monthly" }),
    );
    await prisma().stripeEvent.create({
      data: {
        eventId: evt.id,
        eventType: evt.type,
        eventCreatedAt: new Date(evt.created * 1000),
        payload: "{}",
        status: "processing",
        attempts: 1,
      },
    });
    const response = await deliver(webhookRequest(evt));
    expect(response.status).toBe(200);
    expect(await storedEvent(evt.id)).toMatchObject({ status: "processed", attempts: 2 });
    expect((await tierKeyOf(user.id)).tierKey).toBe("pro");
  });

  it("an event that waited for the account's lock sees the tier the other event left (PostgreSQL)", async (ctx) => {
    const url = requirePostgres(ctx);
    const user = await customer();
    const sub = subscription({ customer: user.stripeCustomerId!, lookupKey: "pro_monthly" });
    const created = now() - 60;
    expect((await deliver(webhookRequest(event("customer.subscription.updated", sub, { created })))).status).toBe(200);
    expect((await tierKeyOf(user.id)).tierKey).toBe("pro");

    // Another delivery holds the user's row while it moves them to Hobbyist...
    const other = new pg.Client({ connectionString: url });
    await other.connect();
    await other.query("BEGIN");
    await other.query(
      `UPDATE accounts SET tier_id = (SELECT id FROM subscription_tier WHERE key = 'hobbyist'),
              subscription_synced_at = to_timestamp($2) WHERE id = $1`,
      [user.accountId, created + 1],
    );
    // ...while the deletion arrives and waits for the row.
    const deleted = deliver(
      webhookRequest(event("customer.subscription.deleted", { ...sub, status: "canceled" }, { created: created + 2 })),
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    await other.query("COMMIT");
    await other.end();
    expect((await deleted).status).toBe(200);
    // The deletion takes away the paid tier in force, whichever it was by then.
    expect((await tierKeyOf(user.id)).tierKey).toBe(null);
  });

  it("a customer linked while the delivery waited on a concurrent copy of its event is found (PostgreSQL)", async (ctx) => {
    const url = requirePostgres(ctx);
    const user = await customer({ stripeCustomerId: null });
    const customerId = `cus_linked_late_${Date.now()}`;
    const evt = event(
      "customer.subscription.updated",
      subscription({ customer: customerId, lookupKey: "pro_monthly" }),
    );
    // Another copy of the event is being stored (its transaction still open)...
    const copy = new pg.Client({ connectionString: url });
    await copy.connect();
    await copy.query("BEGIN");
    await copy.query(
      "INSERT INTO stripe_events (event_id, event_type, payload, status, attempts) VALUES ($1, $2, '{}', 'pending', 1)",
      [evt.id, evt.type],
    );
    const delivery = deliver(webhookRequest(evt)); // waits on the event's unique index
    await new Promise((resolve) => setTimeout(resolve, 200));
    // ...the checkout links the customer meanwhile, then the copy gives up.
    await setBilling(user.id, { stripeCustomerId: customerId });
    await copy.query("ROLLBACK");
    await copy.end();
    expect((await delivery).status).toBe(200);
    expect(await storedEvent(evt.id)).toMatchObject({ status: "processed" });
    expect((await tierKeyOf(user.id)).tierKey).toBe("pro");
  });

  it("a redelivery waiting on a crashed delivery's claim proceeds as soon as that connection dies (PostgreSQL)", async (ctx) => {
    const url = requirePostgres(ctx);
    const user = await customer();
    const evt = event(
      "customer.subscription.updated",
      subscription({ customer: user.stripeCustomerId!, lookupKey: "pro_monthly" }),
    );
    // A "crashed" delivery: its transaction claimed the event, then its connection dies mid-processing.
    const crashed = new pg.Client({ connectionString: url });
    await crashed.connect();
    crashed.on("error", () => {});
    await crashed.query("BEGIN");
    await crashed.query(
      "INSERT INTO stripe_events (event_id, event_type, payload, status, attempts) VALUES ($1, $2, '{}', 'pending', 1)",
      [evt.id, evt.type],
    );
    const started = Date.now();
    const redelivery = deliver(webhookRequest(evt));
    await new Promise((resolve) => setTimeout(resolve, 200)); // the redelivery now waits on the unique index
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query("SELECT pg_terminate_backend($1)", [(crashed as unknown as { processID: number }).processID]);
    await admin.end();
    const response = await redelivery;
    expect(response.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await storedEvent(evt.id)).toMatchObject({ status: "processed", attempts: 1 });
    expect((await tierKeyOf(user.id)).tierKey).toBe("pro");
  });
});

describe("webhook → account", () => {
  /** An account with its owner and a member (each with a personal account of their own), as a team is. */
  async function team(billing: { stripeCustomerId?: string | null } = {}) {
    const n = customerCounter++;
    const owner = await customer({ stripeCustomerId: null });
    const member = await customer({ stripeCustomerId: null });
    const account = await prisma().account.create({
      data: {
        name: `Team ${n}`,
        slug: `team-${n}-${Date.now()}`,
        stripeCustomerId: billing.stripeCustomerId ?? null,
        memberships: {
          create: [
            { userId: owner.id, role: "owner" },
            { userId: member.id, role: "member" },
          ],
        },
      },
    });
    return { account, owner, member };
  }
  const accountTierKey = async (accountId: number) =>
    (await prisma().account.findUniqueOrThrow({ where: { id: accountId }, include: { tier: true } })).tier?.key ?? null;
  /** GET /api/me/entitlements for the user, acting for `accountId` (the header's switcher) when given. */
  async function entitlementsOf(email: string, accountId?: number) {
    const cookie = await sessionCookieFor(email);
    if (accountId !== undefined) {
      const switched = await settle(() =>
        switchRoute.action(
          routeArgs(formRequest("/account/switch", { accountId: String(accountId), next: "/account" }, { cookie })),
        ),
      );
      expect(switched.status).toBe(303);
    }
    const response = await settle(() =>
      entitlementsRoute.loader(routeArgs(getRequest("/api/me/entitlements", cookie))),
    );
    expect(response.status).toBe(200);
    return response.json() as Promise<{ tier: string | null; status: string | null; account: { id: number } }>;
  }

  it("a subscription event for a customer linked to an account lands on that account, not on a member's own", async () => {
    const { account, owner, member } = await team({ stripeCustomerId: `cus_team_${Date.now()}` });
    const evt = event(
      "customer.subscription.updated",
      subscription({ customer: account.stripeCustomerId!, lookupKey: "pro_monthly" }),
    );
    expect((await deliver(webhookRequest(evt))).status).toBe(200);
    expect(await storedEvent(evt.id)).toMatchObject({ status: "processed", error: null });
    expect(await prisma().account.findUniqueOrThrow({ where: { id: account.id } })).toMatchObject({
      stripeSubscriptionId: (evt.data.object as { id: string }).id,
      subscriptionStatus: "active",
    });
    expect(await accountTierKey(account.id)).toBe("pro");
    for (const person of [owner, member]) {
      expect(await tierKeyOf(person.id)).toMatchObject({
        tierKey: null,
        stripeCustomerId: null,
        stripeSubscriptionId: null,
        subscriptionStatus: null,
      });
    }
  });

  it("a checkout naming a team account grants the tier to the team, which every member sees while acting for it", async () => {
    const { account, owner, member } = await team();
    const customerId = `cus_team_checkout_${Date.now()}`;
    const sub = subscription({
      customer: customerId,
      lookupKey: "pro_monthly",
      metadata: { tierdesk_account_id: String(account.id) },
    });
    const session = Object.assign(
      checkoutSession({ clientReferenceId: String(account.id), customer: customerId, subscriptionId: sub }),
      { metadata: { tierdesk_account_id: String(account.id) } },
    );
    const evt = event("checkout.session.completed", session);
    expect((await deliver(webhookRequest(evt))).status).toBe(200);
    expect(await storedEvent(evt.id)).toMatchObject({ status: "processed", error: null });
    expect(await prisma().account.findUniqueOrThrow({ where: { id: account.id } })).toMatchObject({
      stripeCustomerId: customerId,
      stripeSubscriptionId: sub.id,
      subscriptionStatus: "active",
    });
    expect(await accountTierKey(account.id)).toBe("pro");

    for (const person of [owner, member]) {
      // Their own account is untouched...
      expect((await tierKeyOf(person.id)).tierKey).toBeNull();
      expect(await entitlementsOf(person.email)).toMatchObject({ tier: "free", account: { id: person.accountId } });
      // ...and acting for the team, they have its plan.
      expect(await entitlementsOf(person.email, account.id)).toMatchObject({
        tier: "pro",
        status: "active",
        account: { id: account.id },
      });
    }
  });

  it("a legacy subscription naming only tierdesk_user_id lands on that user's personal account", async () => {
    const user = await customer({ stripeCustomerId: null });
    // The user also owns a newer team: the personal account is the oldest they own, not this one.
    const { account: newerTeam } = await team();
    await prisma().membership.create({ data: { accountId: newerTeam.id, userId: user.id, role: "owner" } });
    // And an account whose id is the user's id (if any) must not receive it: the id names a user.
    const sameIdAccount = await prisma().account.findUnique({ where: { id: user.id } });
    const customerId = `cus_legacy_${Date.now()}`;
    const sub = subscription({
      customer: customerId,
      lookupKey: "pro_monthly",
      metadata: { tierdesk_user_id: String(user.id) },
    });
    const evt = event("customer.subscription.created", sub);
    expect((await deliver(webhookRequest(evt))).status).toBe(200);
    expect(await storedEvent(evt.id)).toMatchObject({ status: "processed", error: null });
    expect(await tierKeyOf(user.id)).toMatchObject({
      accountId: user.accountId,
      tierKey: "pro",
      stripeCustomerId: customerId,
      stripeSubscriptionId: sub.id,
    });
    expect(await accountTierKey(newerTeam.id)).toBeNull();
    if (sameIdAccount && sameIdAccount.id !== user.accountId) {
      expect(await prisma().account.findUniqueOrThrow({ where: { id: sameIdAccount.id } })).toEqual(sameIdAccount);
    }
  });
});
