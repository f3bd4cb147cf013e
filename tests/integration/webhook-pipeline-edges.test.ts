// The webhook pipeline's paths the other files leave alone (found by npm run test:mutation:pipeline):
// deliveries read off the socket (the server's fast path), the return from Checkout, support's sync
// when Stripe has no subscription at all, and replays that must be refused.
import { beforeAll, describe, expect, it } from "vitest";
import { appOrigin, createCheckoutSession } from "../../app/services/stripe/checkout.server.ts";
import { getStripe } from "../../app/services/stripe/client.server.ts";
import { replayStoredEvent } from "../../app/services/events/replay.server.ts";
import * as successRoute from "../../app/routes/billing.success.tsx";
import * as userRoute from "../../app/routes/admin.users.$userId/route.tsx";
import * as webhookRoute from "../../app/routes/api.stripe.webhook.ts";
import { testDb } from "../setup/database.ts";
import { event, subscription, webhookRequest } from "../stripe-fixtures.ts";
import { useStripeEmulator, withStripeConnection } from "../stripe-harness.ts";
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

const stripe = useStripeEmulator();
const prisma = () => testDb().prisma;
const userWithTier = (id: number) => billingOf(id);

let support: string;
beforeAll(async () => {
  await seedDemoData();
  support = await sessionCookieFor("support@example.com");
});

let counter = 0;
const newUser = (data: { stripeCustomerId?: string } = {}) =>
  createBillingUser({ email: `pipeline-${counter++}-${Date.now()}@example.com`, ...data });

/** A delivery as server/app.ts reads it off the socket: the signature header and the raw body. */
async function signedDelivery(evt: unknown) {
  const request = webhookRequest(evt);
  return { signature: request.headers.get("Stripe-Signature"), body: Buffer.from(await request.text()) };
}

describe("deliveries read off the socket", () => {
  it("applies a signed subscription event sent as raw bytes, then answers a redelivery as a duplicate", async () => {
    const user = await newUser({ stripeCustomerId: `cus_fast_${Date.now()}` });
    const evt = event(
      "customer.subscription.updated",
      subscription({ customer: user.stripeCustomerId!, lookupKey: "pro_monthly" }),
    );
    const delivery = await signedDelivery(evt);
    const first = await webhookRoute.deliver(delivery);
    expect(first.status).toBe(200);
    expect(JSON.parse(first.body)).toEqual({ received: true });
    expect((await userWithTier(user.id)).tier?.key).toBe("pro");
    const again = await webhookRoute.deliver(delivery);
    expect(JSON.parse(again.body)).toEqual({ received: true, duplicate: true });
    expect((await prisma().stripeEvent.findUniqueOrThrow({ where: { eventId: evt.id } })).status).toBe("processed");
  });

  it("refuses a body the reader cut at the limit, and one over 1 MiB in bytes, with 413, storing nothing", async () => {
    const evt = event("invoice.paid", {
      object: "invoice",
      id: "in_big",
      customer: "cus_big",
      padding: "x".repeat(1024 * 1024),
    });
    const { signature, body } = await signedDelivery(evt);
    expect((await webhookRoute.deliver({ signature, tooLarge: true })).status).toBe(413);
    expect((await webhookRoute.deliver({ signature, body })).status).toBe(413);
    expect((await webhookRoute.deliver({ signature, body: body.toString("utf8") })).status).toBe(413);
    expect(await prisma().stripeEvent.count({ where: { eventId: evt.id } })).toBe(0);
  });

  it("answers 400 without a signature and 503 without a configured secret, before anything is read", async () => {
    const evt = event("invoice.paid", { object: "invoice", id: "in_1", customer: "cus_1" });
    const { signature, body } = await signedDelivery(evt);
    expect((await webhookRoute.deliver({ signature: null, body })).status).toBe(400);
    await withStripeConnection({ webhookSecrets: [] }, async () => {
      expect((await webhookRoute.deliver({ signature, body })).status).toBe(503);
    });
    expect(await prisma().stripeEvent.count({ where: { eventId: evt.id } })).toBe(0);
  });
});

describe("the return from Checkout", () => {
  async function checkout(lookupKey = "pro_monthly") {
    const user = await newUser();
    const outcome = await createCheckoutSession(
      { account: { ...user, id: user.accountId }, email: user.email },
      lookupKey,
      appOrigin(new Request("http://localhost:3000/")),
    );
    if (!outcome.ok) throw new Error(outcome.message);
    return { user, sessionId: outcome.url.split("/").pop()!, cookie: await sessionCookieFor(user.email) };
  }
  const successPage = (sessionId: string, cookie: string) =>
    settle(() => successRoute.loader(routeArgs(getRequest(`/billing/success?session_id=${sessionId}`, cookie))));

  it("puts the customer on the tier they paid for at once, even while the webhook is late", async () => {
    const { user, sessionId, cookie } = await checkout();
    stripe.emulator.holdWebhooks();
    try {
      await stripe.emulator.completeCheckout(sessionId);
      const page = await successPage(sessionId, cookie);
      expect(page.status).toBe(200);
      const data = await page.json();
      expect(data.message).toBeNull();
      expect(data.entitlements.tier).toMatchObject({ key: "pro" });
      expect((await userWithTier(user.id)).tier?.key).toBe("pro");
    } finally {
      await stripe.emulator.releaseWebhooks();
      await stripe.emulator.settle();
    }
    // The late webhook changes nothing more.
    expect((await userWithTier(user.id)).tier?.key).toBe("pro");
  });

  it("says the payment has not completed yet when the customer comes back before paying", async () => {
    const { user, sessionId, cookie } = await checkout();
    const data = await (await successPage(sessionId, cookie)).json();
    expect(data.message).toMatch(/has not completed yet/);
    expect((await userWithTier(user.id)).tierId).toBeNull();
  });

  it("refuses another account's checkout (403) and an unknown session (404), changing no one's tier", async () => {
    const { user, sessionId } = await checkout();
    const stranger = await newUser();
    stripe.emulator.holdWebhooks();
    try {
      await stripe.emulator.completeCheckout(sessionId);
      expect((await successPage(sessionId, await sessionCookieFor(stranger.email))).status).toBe(403);
      expect((await successPage("cs_test_nobody_has_this", await sessionCookieFor(user.email))).status).toBe(404);
      expect((await userWithTier(user.id)).tierId).toBeNull();
      expect((await userWithTier(stranger.id)).tierId).toBeNull();
    } finally {
      await stripe.emulator.releaseWebhooks();
      await stripe.emulator.settle();
    }
  });
});

describe("support's sync when Stripe has no subscription for the customer", () => {
  const sync = (userId: number) =>
    settle(() =>
      userRoute.action(
        routeArgs(formRequest(`/admin/users/${userId}`, { intent: "sync" }, { cookie: support }), {
          userId: String(userId),
        }),
      ),
    );

  async function customerInStripe() {
    return (await getStripe().customers.create({ email: `nosub-${counter++}@example.com` })).id;
  }

  it("a Pro user whose subscription Stripe no longer has goes to free, the subscription unlinked", async () => {
    const pro = await prisma().subscriptionTier.findUniqueOrThrow({ where: { key: "pro" } });
    const user = await newUser({ stripeCustomerId: await customerInStripe() });
    await setBilling(user.id, {
      tierId: pro.id,
      subscriptionStatus: "active",
      stripeSubscriptionId: "sub_gone_from_stripe",
      billingSource: "stripe",
      subscriptionSyncedAt: new Date(Date.now() - 60_000),
    });
    const response = await sync(user.id);
    expect(response.status).toBe(200);
    const result = await response.json();
    expect(result).toMatchObject({ ok: true, changed: true, after: { tier: null, subscriptionStatus: "canceled" } });
    expect(result.detail).toMatch(/Stripe has no subscription for cus_/);
    const after = await userWithTier(user.id);
    expect(after.tierId).toBeNull();
    expect(after.stripeSubscriptionId).toBeNull();
    expect(after.stripeCustomerId).toBe(user.stripeCustomerId);
  });

  it("a user with no subscription here either: nothing changes", async () => {
    const user = await newUser({ stripeCustomerId: await customerInStripe() });
    const result = await (await sync(user.id)).json();
    expect(result).toMatchObject({ ok: true, changed: false });
    expect(result.detail).toMatch(/none linked here/);
  });

  it("a newer state applied after Stripe answered is not overwritten", async () => {
    const pro = await prisma().subscriptionTier.findUniqueOrThrow({ where: { key: "pro" } });
    const user = await newUser({ stripeCustomerId: await customerInStripe() });
    await setBilling(user.id, {
      tierId: pro.id,
      subscriptionStatus: "active",
      stripeSubscriptionId: "sub_newer",
      billingSource: "stripe",
      subscriptionSyncedAt: new Date(Date.now() + 3_600_000),
    });
    const result = await (await sync(user.id)).json();
    expect(result).toMatchObject({ ok: true, changed: false });
    expect(result.detail).toMatch(/a newer state was applied meanwhile/);
    expect((await userWithTier(user.id)).tier?.key).toBe("pro");
  });
});

describe("replays that must be refused", () => {
  it("refuses an unknown event and a processed one, recording no attempt", async () => {
    expect(await replayStoredEvent("evt_nobody_stored_this")).toEqual({
      ok: false,
      error: "No stored event evt_nobody_stored_this.",
      refused: "not-found",
    });
    const user = await newUser({ stripeCustomerId: `cus_replay_${Date.now()}` });
    const evt = event(
      "customer.subscription.updated",
      subscription({ customer: user.stripeCustomerId!, lookupKey: "pro_monthly" }),
    );
    expect((await webhookRoute.deliver(await signedDelivery(evt))).status).toBe(200);
    const outcome = await replayStoredEvent(evt.id);
    expect(outcome).toEqual({
      ok: false,
      error: `Event ${evt.id} is processed: only failed or pending events can be replayed.`,
      refused: "finished",
    });
    const stored = await prisma().stripeEvent.findUniqueOrThrow({
      where: { eventId: evt.id },
      include: { attemptLog: true },
    });
    expect(stored.status).toBe("processed");
    expect(stored.attemptLog).toHaveLength(1);
  });

  it("a replayed failed event whose cause is fixed is processed, with its attempt recorded as a replay", async () => {
    const user = await newUser({ stripeCustomerId: `cus_replay_fix_${Date.now()}` });
    const evt = event(
      "customer.subscription.updated",
      subscription({ customer: user.stripeCustomerId!, lookupKey: "replay_later" }),
    );
    expect((await webhookRoute.deliver(await signedDelivery(evt))).status).toBe(500);
    // Replayed while the cause remains: it fails again, the reason shown and stored with the attempt.
    const startedAt = Date.now();
    const stillFailing = await replayStoredEvent(evt.id);
    const elapsedMs = Date.now() - startedAt;
    expect(stillFailing).toEqual({ ok: false, error: expect.stringContaining('"replay_later"') });
    const afterFailure = await prisma().stripeEvent.findUniqueOrThrow({
      where: { eventId: evt.id },
      include: { attemptLog: true },
    });
    expect(afterFailure.status).toBe("failed");
    const replayAttempt = afterFailure.attemptLog.find((attempt) => attempt.source === "replay");
    expect(replayAttempt?.error).toContain('"replay_later"');
    // Support reads how long the attempt took: never longer than the replay itself.
    expect(replayAttempt?.durationMs).toBeLessThanOrEqual(elapsedMs + 1);
    const pro = await prisma().subscriptionTier.findUniqueOrThrow({ where: { key: "pro" } });
    await prisma().subscriptionTierPrice.create({ data: { tierId: pro.id, lookupKey: "replay_later", position: 11 } });
    expect(await replayStoredEvent(evt.id, { bulk: true })).toEqual({ ok: true, status: "processed" });
    expect((await userWithTier(user.id)).tier?.key).toBe("pro");
    const stored = await prisma().stripeEvent.findUniqueOrThrow({
      where: { eventId: evt.id },
      include: { attemptLog: true },
    });
    expect(stored.attemptLog.map((attempt) => attempt.source).sort()).toEqual(["bulk_replay", "replay", "webhook"]);
  });

  it("replays an event left pending or processing (a crash before it finished)", async () => {
    for (const status of ["pending", "processing"] as const) {
      const user = await newUser({ stripeCustomerId: `cus_left_${status}_${Date.now()}` });
      const evt = event(
        "customer.subscription.updated",
        subscription({ customer: user.stripeCustomerId!, lookupKey: "pro_monthly" }),
      );
      await prisma().stripeEvent.create({
        data: {
          eventId: evt.id,
          eventType: evt.type,
          eventCreatedAt: new Date(evt.created * 1000),
          payload: JSON.stringify(evt),
          status,
          customerId: user.stripeCustomerId,
        },
      });
      expect(await replayStoredEvent(evt.id), status).toEqual({ ok: true, status: "processed" });
      expect((await userWithTier(user.id)).tier?.key, status).toBe("pro");
    }
  });
});
