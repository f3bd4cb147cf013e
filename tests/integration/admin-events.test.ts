// /admin/events: support inspects stored webhooks and replays failed ones.
import { beforeAll, describe, expect, it } from "vitest";
import * as eventRoute from "../../app/routes/admin.events.$eventId.tsx";
import * as eventsRoute from "../../app/routes/admin.events._index/route.tsx";
import * as webhookRoute from "../../app/routes/api.stripe.webhook.ts";
import { testDb } from "../setup/database.ts";
import { useStripeEmulator } from "../stripe-harness.ts";
import { event, subscription, webhookRequest } from "../stripe-fixtures.ts";
import {
  billingOf,
  createBillingUser,
  formRequest,
  getRequest,
  routeArgs,
  seedDemoData,
  sessionCookieFor,
  settle,
} from "../utils.ts";

const stripe = useStripeEmulator();
const prisma = () => testDb().prisma;
const deliver = (request: Request) => webhookRoute.action(routeArgs(request));

let support: string;
let customer: string;
beforeAll(async () => {
  await seedDemoData();
  support = await sessionCookieFor("support@example.com");
  customer = await sessionCookieFor("customer@example.com");
});

async function failingEvent(lookupKey: string) {
  const user = await createBillingUser({
    email: `events-${lookupKey}@example.com`,
    stripeCustomerId: `cus_${lookupKey}`,
  });
  const evt = event("customer.subscription.updated", subscription({ customer: user.stripeCustomerId!, lookupKey }));
  expect((await deliver(webhookRequest(evt))).status).toBe(500);
  return { user, evt };
}

async function addKeyToPro(lookupKey: string) {
  const pro = await prisma().subscriptionTier.findUniqueOrThrow({ where: { key: "pro" } });
  await prisma().subscriptionTierPrice.create({ data: { tierId: pro.id, lookupKey, position: 10 } });
}

describe("/admin/events", () => {
  it("is for staff only", async () => {
    expect((await settle(() => eventsRoute.loader(routeArgs(getRequest("/admin/events", customer))))).status).toBe(403);
    expect((await settle(() => eventsRoute.loader(routeArgs(getRequest("/admin/events"))))).status).toBe(302);
  });

  it("lists failed events with the error naming the key", async () => {
    const { evt } = await failingEvent("team_monthly");
    const data = await (
      await settle(() => eventsRoute.loader(routeArgs(getRequest("/admin/events?status=failed", support))))
    ).json();
    const row = data.events.find((e: { eventId: string }) => e.eventId === evt.id);
    expect(row).toMatchObject({ status: "failed", eventType: "customer.subscription.updated", attempts: 1 });
    expect(row.outcome).toContain('"team_monthly"');
    expect(data.events.every((e: { status: string }) => e.status === "failed")).toBe(true);
    expect(data.counts.failed).toBeGreaterThanOrEqual(1);
  });

  const replay = (fields: Record<string, string>) =>
    settle(() => eventsRoute.action(routeArgs(formRequest("/admin/events", fields, { cookie: support }))));
  /** The event page a replay redirected to, and the result it shows (worded as the page words it). */
  async function replayMessage(response: Response) {
    const location = response.headers.get("Location") ?? "";
    const url = new URL(location, "http://localhost");
    const eventId = decodeURIComponent(url.pathname.split("/").pop() ?? "");
    const page = await (
      await settle(() => eventRoute.loader(routeArgs(getRequest(location, support), { eventId })))
    ).json();
    return {
      location,
      back: page.back as string,
      replayed: {
        eventId: page.event.eventId as string,
        status: page.event.status as string,
        error: page.event.error as string | null,
        refused: Boolean(page.replay?.refused),
      },
    };
  }

  it("replays a failed event once its cause is fixed", async () => {
    const { user, evt } = await failingEvent("agency_monthly");
    await addKeyToPro("agency_monthly");
    const response = await replay({ eventId: evt.id, back: "/admin/events?status=failed" });
    expect(response.status).toBe(302);
    const { location, replayed, back } = await replayMessage(response);
    // The event's own page, with the way back to the filtered list.
    expect(location).toBe(`/admin/events/${evt.id}?replayed=1&back=%2Fadmin%2Fevents%3Fstatus%3Dfailed`);
    expect(back).toBe("/admin/events?status=failed");
    expect(replayed).toMatchObject({ eventId: evt.id, status: "processed", refused: false });
    expect(await prisma().stripeEvent.findUniqueOrThrow({ where: { eventId: evt.id } })).toMatchObject({
      status: "processed",
      error: null,
      attempts: 2,
    });
    const after = await billingOf(user.id);
    expect(after.tier?.key).toBe("pro");
  });

  it("refuses to replay an event that did not fail", async () => {
    const evt = event("invoice.paid", { id: "in_1", object: "invoice" });
    await deliver(webhookRequest(evt));
    const { replayed } = await replayMessage(await replay({ eventId: evt.id }));
    expect(replayed).toMatchObject({ eventId: evt.id, status: "processed", refused: true });
    expect((await prisma().stripeEvent.findUniqueOrThrow({ where: { eventId: evt.id } })).attempts).toBe(1);
  });

  it.each([
    "/admin/events/../..//evil.com",
    "/admin/events/..\\..\\/evil.com",
    "/admin/events/%2e%2e/%2e%2e//evil.com",
    "//evil.com/admin/events",
    "https://evil.com/admin/events",
    "/admin/eventsX/../../x",
  ])("never redirects off the events page, whatever the back field says: %s", async (back) => {
    const response = await replay({ eventId: "evt_unknown_for_redirect", back });
    const location = response.headers.get("Location") ?? "";
    expect(location.startsWith("/admin/events")).toBe(true);
    expect(location).not.toMatch(/^\/\/|^\/\\|evil/);
    // A stored event's page, reached by a replay, links back to the list only.
    const evt = event("invoice.paid", { id: "in_redirect", object: "invoice" });
    await deliver(webhookRequest(evt));
    const landed = await replayMessage(await replay({ eventId: evt.id, back }));
    expect(landed.location.startsWith(`/admin/events/${evt.id}?`)).toBe(true);
    expect(landed.back).toBe("/admin/events");
  });

  it("replays a truncated payload by fetching the event from Stripe", async () => {
    const user = await createBillingUser({ email: "big@example.com", stripeCustomerId: "cus_big" });
    const sub = subscription({
      customer: "cus_big",
      lookupKey: "huge_monthly",
      metadata: { notes: "n".repeat(30_000) },
    });
    const emulated = await stripe.emulator.createEvent("customer.subscription.updated", sub, { deliver: false });
    const request = webhookRequest(emulated);
    expect((await deliver(request)).status).toBe(500);
    const stored = await prisma().stripeEvent.findUniqueOrThrow({ where: { eventId: emulated.id } });
    expect(() => JSON.parse(stored.payload)).toThrow();

    const detail = await (
      await settle(() =>
        eventRoute.loader(routeArgs(getRequest(`/admin/events/${emulated.id}`, support), { eventId: emulated.id })),
      )
    ).json();
    expect(detail.truncated).toBe(true);

    await addKeyToPro("huge_monthly");
    const { replayed } = await replayMessage(await replay({ eventId: emulated.id }));
    expect(replayed.status).toBe("processed");
    const after = await billingOf(user.id);
    expect(after.tier?.key).toBe("pro");
    const attempts = await prisma().stripeEventAttempt.findMany({
      where: { eventId: stored.id },
      orderBy: { id: "asc" },
    });
    expect(attempts.map((attempt) => [attempt.source, attempt.outcome])).toEqual([
      ["webhook", "failed"],
      ["resync", "processed"],
    ]);
  });

  /** The attempts on an event's own page, oldest first. */
  async function attemptsShown(eventId: string) {
    const detail = await (
      await settle(() => eventRoute.loader(routeArgs(getRequest(`/admin/events/${eventId}`, support), { eventId })))
    ).json();
    return {
      attempts: detail.event.attempts as number,
      log: (detail.attemptLog as Array<{ source: string; outcome: string; error: string | null }>).map(
        ({ source, outcome, error }) => ({ source, outcome, error }),
      ),
    };
  }

  it("records a replay of an event it cannot read as an attempt, with the reason", async () => {
    const evt = event("customer.subscription.updated", "sub_only_an_id");
    expect((await deliver(webhookRequest(evt))).status).toBe(400);
    const { replayed } = await replayMessage(await replay({ eventId: evt.id }));
    expect(replayed).toMatchObject({ eventId: evt.id, status: "failed", refused: false });
    expect(replayed.error).toMatch(/Unreadable customer\.subscription\.updated: data\.object/);
    const { attempts, log } = await attemptsShown(evt.id);
    expect(attempts).toBe(2);
    expect(log).toEqual([
      { source: "webhook", outcome: "failed", error: expect.stringMatching(/^Unreadable/) },
      { source: "replay", outcome: "failed", error: replayed.error },
    ]);
  });

  it("records a replay that could not ask Stripe for a truncated payload as an attempt", async () => {
    await prisma().stripeEvent.create({
      data: {
        eventId: "evt_truncated_unknown_to_stripe",
        eventType: "customer.subscription.updated",
        status: "failed",
        attempts: 1,
        error: "earlier failure",
        payload: '{"id":"evt_truncated_unknown_to_stripe","object":"event","data":{"object":{"id":"sub_',
      },
    });
    const { replayed } = await replayMessage(await replay({ eventId: "evt_truncated_unknown_to_stripe" }));
    expect(replayed.status).toBe("failed");
    expect(replayed.error).toMatch(/Stripe could not be asked/);
    const { attempts, log } = await attemptsShown("evt_truncated_unknown_to_stripe");
    expect(attempts).toBe(2);
    expect(log).toEqual([{ source: "replay", outcome: "failed", error: replayed.error }]);
  });

  it("records a replay of an unreadable Whop event as an attempt", async () => {
    await prisma().stripeEvent.create({
      data: {
        provider: "whop",
        eventId: "msg_unreadable_whop_event",
        eventType: "membership.activated",
        status: "failed",
        attempts: 1,
        payload: '{"type":"membership.activated","timestamp":"2026-11-20T10:00:00Z","data":"mem_only_an_id"}',
      },
    });
    const { replayed } = await replayMessage(await replay({ eventId: "msg_unreadable_whop_event" }));
    expect(replayed.status).toBe("failed");
    const { attempts, log } = await attemptsShown("msg_unreadable_whop_event");
    expect(attempts).toBe(2);
    expect(log).toEqual([{ source: "replay", outcome: "failed", error: replayed.error }]);
    expect(replayed.error).toMatch(/Whop event|Unreadable/);
  });

  it("shows one event's outcome and payload, and 404s for unknown ids", async () => {
    const evt = event("product.updated", { id: "prod_1", object: "product" });
    await deliver(webhookRequest(evt));
    const detail = await (
      await settle(() =>
        eventRoute.loader(routeArgs(getRequest(`/admin/events/${evt.id}`, support), { eventId: evt.id })),
      )
    ).json();
    expect(detail.event).toMatchObject({ eventId: evt.id, status: "processed" });
    expect(JSON.parse(detail.payload).id).toBe(evt.id);
    const missing = await settle(() =>
      eventRoute.loader(routeArgs(getRequest("/admin/events/evt_nope", support), { eventId: "evt_nope" })),
    );
    expect(missing.status).toBe(404);
  });
});
