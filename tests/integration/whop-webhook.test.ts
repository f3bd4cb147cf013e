// POST /api/whop/webhook against a real database and the bundled Whop emulator, whose signed
// webhooks reach the real route: verification, exactly-once processing, order, failures and replay.
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { getEntitlements } from "../../app/services/customers/entitlements.server.ts";
import { replayStoredEvent } from "../../app/services/events/replay.server.ts";
import { listEventLog } from "../../app/models/event-log.server.ts";
import * as checkoutRoute from "../../app/routes/api.whop.checkout.ts";
import * as webhookRoute from "../../app/routes/api.whop.webhook.ts";
import { testDb } from "../setup/database.ts";
import { useWhopEmulator, whopEvent, whopWebhookRequest, withWhopConnection } from "../whop-harness.ts";
import { BASE_URL, billingOf, createBillingUser, routeArgs, seedDemoData, sessionCookieFor, settle } from "../utils.ts";

const whop = useWhopEmulator();
const prisma = () => testDb().prisma;
const deliver = (request: Request) => webhookRoute.action(routeArgs(request));

let counter = 0;
async function newCustomer() {
  const email = `whop-${counter++}-${Date.now()}@example.com`;
  const user = await createBillingUser({ email });
  return { user, cookie: await sessionCookieFor(email) };
}

/** Starts a Whop checkout through the app's own route; returns the checkout configuration's id. */
async function startCheckout(cookie: string, tier = "whop_basic") {
  const request = new Request(`${BASE_URL}/api/whop/checkout`, {
    method: "POST",
    headers: { Cookie: cookie, "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ tier }),
  });
  const response = await settle(() => checkoutRoute.action(routeArgs(request)));
  expect(response.status).toBe(200);
  const { url } = (await response.json()) as { url: string };
  return url.split("/").pop()!;
}

/** A customer who bought Whop Basic through Tierdesk's checkout and the emulator's Pay button. */
async function subscribedCustomer() {
  const { user, cookie } = await newCustomer();
  const { membership, events } = await whop.emulator.completeCheckout(await startCheckout(cookie), {
    email: user.email,
  });
  return { user, cookie, membership, events };
}

const userOf = (id: number) => billingOf(id);
const storedEvent = (eventId: string) => prisma().stripeEvent.findUniqueOrThrow({ where: { eventId } });
const countStored = (eventId: string) => prisma().stripeEvent.count({ where: { eventId } });

beforeAll(seedDemoData);
beforeEach(() => whop.emulator.reset());

describe("verification", () => {
  const membershipEvent = () =>
    whopEvent("membership.activated", { id: "mem_verify", status: "active", product: { id: "prod_whop_basic" } });

  it("answers 400 to a delivery without the Standard Webhooks headers and stores nothing", async () => {
    const event = membershipEvent();
    const response = await deliver(whopWebhookRequest(event, { secret: null }));
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: "Missing webhook-id, webhook-timestamp or webhook-signature header.",
    });
    expect(await countStored(event.id)).toBe(0);
  });

  it("answers 401 to a bad signature and stores nothing", async () => {
    const event = membershipEvent();
    const response = await deliver(whopWebhookRequest(event, { secret: "ws_not_the_secret" }));
    expect(response.status).toBe(401);
    expect(await countStored(event.id)).toBe(0);
  });

  it("answers 401 to a signature older than 5 minutes, and to a body altered after signing", async () => {
    const event = membershipEvent();
    expect((await deliver(whopWebhookRequest(event, { timestamp: Math.floor(Date.now() / 1000) - 301 }))).status).toBe(
      401,
    );
    const signed = whopWebhookRequest(event);
    const tampered = new Request(signed.url, {
      method: "POST",
      headers: signed.headers,
      body: JSON.stringify({ ...event, type: "membership.deactivated" }),
    });
    expect((await deliver(tampered)).status).toBe(401);
    expect(await countStored(event.id)).toBe(0);
  });

  it("answers 401 to a signature dated more than 5 minutes in the future (standardwebhooks checks both ways)", async () => {
    const event = membershipEvent();
    for (const ahead of [301, 3600]) {
      const response = await deliver(whopWebhookRequest(event, { timestamp: Math.floor(Date.now() / 1000) + ahead }));
      expect(response.status, `${ahead} s ahead`).toBe(401);
    }
    expect(await countStored(event.id)).toBe(0);
  });

  it("refuses bodies over 1 MiB with 413 and stores nothing", async () => {
    const event = whopEvent("membership.activated", { id: "mem_big", padding: "x".repeat(1024 * 1024) });
    const response = await deliver(whopWebhookRequest(event));
    expect(response.status).toBe(413);
    expect(await countStored(event.id)).toBe(0);
  });

  it("answers 503 when no webhook secret is configured", async () => {
    const response = await withWhopConnection({ webhookSecrets: [] }, () =>
      deliver(whopWebhookRequest(membershipEvent())),
    );
    expect(response.status).toBe(503);
  });

  it("answers 400 to a signed body that is not a Whop event, and stores nothing", async () => {
    const response = await deliver(whopWebhookRequest("{not json", { id: "msg_not_json" }));
    expect(response.status).toBe(400);
    expect(await countStored("msg_not_json")).toBe(0);
  });

  it("stores a signed membership event it cannot read as failed, and answers 400 (no retries)", async () => {
    const event = whopEvent("membership.activated", { id: "mem_x", status: "active" });
    const response = await deliver(whopWebhookRequest(event));
    expect(response.status).toBe(400);
    expect(await storedEvent(event.id)).toMatchObject({
      provider: "whop",
      status: "failed",
      error: expect.stringMatching(/^Unreadable membership.activated: data product/),
    });
  });
});

describe("memberships through the emulator", () => {
  it("checkout → membership.activated puts the buyer on the Whop tier, linked by the checkout's metadata", async () => {
    const { user, membership, events } = await subscribedCustomer();
    expect(events.map((event) => event.type)).toEqual(["membership.activated", "payment.succeeded"]);
    const after = await userOf(user.id);
    expect(after).toMatchObject({
      tier: { key: "whop_basic" },
      billingSource: "whop",
      whopMembershipId: membership.id,
      whopMembershipStatus: "active",
      whopProductId: "prod_whop_basic",
      whopUserId: membership.user.id,
      whopLinkedBy: "metadata",
      whopManageUrl: `${whop.emulator.url}/billing/manage/${membership.id}`,
      stripeSubscriptionId: null,
      subscriptionStatus: null,
    });
    const entitlements = await getEntitlements(after);
    expect(entitlements).toMatchObject({
      tier: { key: "whop_basic", name: "Whop Basic" },
      status: "active",
      provider: "whop",
      manageUrl: after.whopManageUrl,
    });
    expect(entitlements.permissions).toEqual(["export.csv", "projects.create"]);

    const activated = await storedEvent(events[0]!.id);
    expect(activated).toMatchObject({
      provider: "whop",
      status: "processed",
      objectId: membership.id,
      customerId: membership.user.id,
    });
    expect(activated.note).toBe(`account ${user.accountId} → whop_basic (Whop active)`);
    expect(await storedEvent(events[1]!.id)).toMatchObject({ provider: "whop", status: "processed" });
  });

  it("processes 20 concurrent duplicates of one delivery exactly once", async () => {
    const { user } = await newCustomer();
    const { membership } = await whop.emulator.purchase("plan_emu_whop_basic_monthly", {
      email: `other-${user.email}`,
      metadata: { tierdesk_user_id: String(user.id) },
    });
    const event = await whop.emulator.createEvent(
      "membership.activated",
      { ...membership, updated_at: new Date().toISOString() },
      { deliver: false },
    );
    const deliveries = await whop.emulator.deliver(event.id, { times: 20, concurrent: true });
    expect(deliveries.map((delivery) => delivery.status)).toEqual(Array(20).fill(200));
    expect(deliveries.filter((delivery) => delivery.body.includes('"duplicate":true'))).toHaveLength(19);
    const stored = await storedEvent(event.id);
    expect(stored).toMatchObject({ status: "processed", attempts: 1 });
    expect(await prisma().stripeEventAttempt.count({ where: { eventId: stored.id } })).toBe(1);
    expect((await userOf(user.id)).tier?.key).toBe("whop_basic");
  });

  it("membership.deactivated sends the user back to free", async () => {
    const { user, membership } = await subscribedCustomer();
    const { events } = await whop.emulator.setMembershipStatus(membership.id, "canceled");
    expect(events.map((event) => event.type)).toEqual(["membership.deactivated"]);
    const after = await userOf(user.id);
    expect(after).toMatchObject({
      tierId: null,
      billingSource: null,
      whopMembershipId: membership.id,
      whopMembershipStatus: "canceled",
    });
    expect(await getEntitlements(after)).toMatchObject({ tier: { key: "free" }, provider: null, manageUrl: null });
  });

  it("keeps the tier while the membership is set to cancel, or past due while Whop retries (asked of Whop on payment.failed)", async () => {
    const { user, membership } = await subscribedCustomer();
    await whop.emulator.setMembershipStatus(membership.id, "canceling");
    expect(await getEntitlements(await userOf(user.id))).toMatchObject({
      tier: { key: "whop_basic" },
      status: "canceling",
    });

    await whop.emulator.setMembershipStatus(membership.id, "active");
    const { events } = await whop.emulator.setMembershipStatus(membership.id, "past_due");
    expect(events.map((event) => event.type)).toEqual(["payment.failed"]);
    expect(await storedEvent(events[0]!.id)).toMatchObject({ status: "processed" });
    expect(await getEntitlements(await userOf(user.id))).toMatchObject({
      tier: { key: "whop_basic" },
      status: "past_due",
    });
  });

  it("is out-of-order safe: an older state arriving last is stale and changes nothing", async () => {
    const { user, membership } = await subscribedCustomer();
    whop.emulator.holdWebhooks();
    const canceling = await whop.emulator.setMembershipStatus(membership.id, "canceling");
    const ended = await whop.emulator.setMembershipStatus(membership.id, "completed");
    await whop.emulator.releaseWebhooks({ order: "reverse" });

    expect(await storedEvent(ended.events[0]!.id)).toMatchObject({ status: "processed" });
    expect(await storedEvent(canceling.events[0]!.id)).toMatchObject({
      status: "stale",
      note: expect.stringMatching(/^older/),
    });
    expect(await userOf(user.id)).toMatchObject({ tierId: null, whopMembershipStatus: "completed" });
  });

  it("stores a failure with its error, answers 500, and replays it once the cause is fixed; links by email, saying so", async () => {
    const email = `later-${Date.now()}@example.com`;
    // Bought on Whop directly (no Tierdesk metadata) by someone without an account yet.
    const { membership, events } = await whop.emulator.purchase("plan_emu_whop_basic_monthly", { email });
    const activated = events[0]!;
    expect(whop.emulator.events.find((record) => record.event.id === activated.id)?.deliveries[0]?.status).toBe(500);
    expect(await storedEvent(activated.id)).toMatchObject({
      status: "failed",
      error: `No Tierdesk account for Whop membership ${membership.id} (Whop user ${membership.user.id}, ${email}): it carries no Tierdesk account id and no user has its email.`,
    });

    const user = await createBillingUser({ email });
    expect(await replayStoredEvent(activated.id)).toEqual({ ok: true, status: "processed" });
    expect(await userOf(user.id)).toMatchObject({
      tier: { key: "whop_basic" },
      whopLinkedBy: "email",
      whopMembershipId: membership.id,
    });
    const replayed = await storedEvent(activated.id);
    expect(replayed).toMatchObject({
      status: "processed",
      error: null,
      note: expect.stringContaining(`(linked by email: ${email})`),
    });
    const attempts = await prisma().stripeEventAttempt.findMany({
      where: { eventId: replayed.id },
      orderBy: { id: "asc" },
    });
    expect(attempts.map((attempt) => [attempt.source, attempt.outcome])).toEqual([
      ["webhook", "failed"],
      ["replay", "processed"],
    ]);
  });

  it("ignores memberships of products no tier sells, and events it does not act on", async () => {
    const { user } = await newCustomer();
    const { events } = await whop.emulator.purchase("plan_emu_whop_plus_monthly", { email: user.email });
    expect(await storedEvent(events[0]!.id)).toMatchObject({
      status: "ignored",
      note: "Whop product prod_whop_plus belongs to no Whop tier (not sold through Tierdesk)",
    });
    expect((await userOf(user.id)).tierId).toBeNull();
    const dispute = await whop.emulator.createEvent("dispute.created", { id: "dspt_1" });
    expect(await storedEvent(dispute.id)).toMatchObject({
      status: "ignored",
      note: "Tierdesk does not act on dispute.created",
    });
  });

  it("keeps Whop's events in the one event log, filterable by provider", async () => {
    const { events } = await subscribedCustomer();
    const whopOnly = await listEventLog({ provider: "whop" });
    expect(whopOnly.rows.map((row) => row.eventId)).toEqual(expect.arrayContaining(events.map((event) => event.id)));
    expect(whopOnly.rows.every((row) => row.provider === "whop")).toBe(true);
    const stripeOnly = await listEventLog({ provider: "stripe" });
    expect(stripeOnly.rows.some((row) => events.some((event) => event.id === row.eventId))).toBe(false);
  });
});
