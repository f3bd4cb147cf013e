// The support console: finding users, why they are on their plan, syncing from Stripe, roles; the
// event log's keyset pages, filters and counts; processing attempts; bulk replay exactly once.
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { runBulkReplay, startBulkReplay } from "../../app/services/events/bulk-replay.server.ts";
import { startJobWorker } from "../../app/services/jobs/worker.server.ts";
import { getStripe } from "../../app/services/stripe/client.server.ts";
import { appOrigin, createCheckoutSession } from "../../app/services/stripe/checkout.server.ts";
import { listEventLog, type EventCursor } from "../../app/models/event-log.server.ts";
import * as eventRoute from "../../app/routes/admin.events.$eventId.tsx";
import * as eventsRoute from "../../app/routes/admin.events._index/route.tsx";
import * as userRoute from "../../app/routes/admin.users.$userId/route.tsx";
import * as usersRoute from "../../app/routes/admin.users._index.tsx";
import * as adminRoute from "../../app/routes/admin.tsx";
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
const deliver = (request: Request) => webhookRoute.action(routeArgs(request));

let admin: string;
let support: string;
beforeAll(async () => {
  await seedDemoData();
  // Bulk replays run on the job queue: this process works it, as every app instance does.
  await startJobWorker();
  admin = await sessionCookieFor("admin@example.com");
  support = await sessionCookieFor("support@example.com");
});

const loaderJson = async (run: () => Promise<unknown>) => (await settle(run)).json();

describe("event log pages", () => {
  async function storeEvents(prefix: string, count: number, { at = Date.now(), sameTimeEvery = 3 } = {}) {
    // Several rows share a received_at, so the (received_at, id) tie-break is exercised.
    const data = Array.from({ length: count }, (_, i) => ({
      eventId: `evt_${prefix}_${String(i).padStart(4, "0")}`,
      eventType: i % 2 ? "customer.subscription.updated" : "invoice.paid",
      receivedAt: new Date(at - Math.floor(i / sameTimeEvery) * 1000),
      payload: "{}",
      status: i % 5 === 0 ? ("failed" as const) : ("processed" as const),
      customerId: `cus_${prefix}_${i % 4}`,
    }));
    await prisma().stripeEvent.createMany({ data });
    return data;
  }

  it("pages newest first with no row skipped or repeated, while new events keep arriving", async () => {
    const base = Date.UTC(2026, 0, 10);
    const stored = await storeEvents("page", 130, { at: base });
    const filter = { q: undefined, from: new Date(base - 3_600_000), to: new Date(base + 1) };
    const seen: string[] = [];
    let cursor: EventCursor | undefined;
    for (let page = 0; page < 10; page++) {
      const result = await listEventLog(filter, { after: cursor }, 25);
      seen.push(...result.rows.map((row) => row.eventId));
      // Newer events arrive between pages: they must not shift what the next page shows.
      await prisma().stripeEvent.create({
        data: { eventId: `evt_page_new_${page}`, eventType: "invoice.paid", payload: "{}", receivedAt: new Date(base) },
      });
      const last = result.rows.at(-1);
      if (!result.hasOlder || !last) break;
      cursor = { receivedAt: last.receivedAt, id: last.id };
    }
    const initial = stored.map((row) => row.eventId);
    const pageOnly = seen.filter((id) => initial.includes(id));
    expect(new Set(pageOnly).size).toBe(pageOnly.length);
    expect(new Set(pageOnly)).toEqual(new Set(initial));
  });

  it("pages back to newer events from a cursor", async () => {
    const base = Date.UTC(2026, 0, 11);
    await storeEvents("back", 40, { at: base });
    const filter = { from: new Date(base - 3_600_000), to: new Date(base + 1) };
    const first = await listEventLog(filter, {}, 10);
    const last = first.rows.at(-1)!;
    const second = await listEventLog(filter, { after: { receivedAt: last.receivedAt, id: last.id } }, 10);
    const top = second.rows[0]!;
    const back = await listEventLog(filter, { before: { receivedAt: top.receivedAt, id: top.id } }, 10);
    expect(back.rows.map((row) => row.eventId)).toEqual(first.rows.map((row) => row.eventId));
  });

  it("filters by status, exact type, type prefix, date range, event id and customer id — from the URL", async () => {
    await storeEvents("filter", 20, { at: Date.UTC(2026, 1, 3, 12) });
    const page = (query: string) =>
      loaderJson(() => eventsRoute.loader(routeArgs(getRequest(`/admin/events?${query}`, support))));
    const byStatus = await page("status=failed&from=2026-02-03&to=2026-02-03");
    expect(byStatus.events.length).toBe(4);
    expect(byStatus.events.every((e: { status: string }) => e.status === "failed")).toBe(true);
    const exact = await page("type=invoice.paid&from=2026-02-03&to=2026-02-03");
    expect(exact.events.every((e: { eventType: string }) => e.eventType === "invoice.paid")).toBe(true);
    expect(exact.events.length).toBe(10);
    const prefix = await page("type=customer.subscription.&from=2026-02-03&to=2026-02-03");
    expect(prefix.events.length).toBe(10);
    const outside = await page("from=2026-02-04&to=2026-02-05&type=invoice.paid");
    expect(outside.events.some((e: { eventId: string }) => e.eventId.startsWith("evt_filter"))).toBe(false);
    const one = await page("q=evt_filter_0003");
    expect(one.events.map((e: { eventId: string }) => e.eventId)).toEqual(["evt_filter_0003"]);
    const customer = await page("q=cus_filter_1");
    expect(customer.events.map((e: { eventId: string }) => e.eventId).sort()).toEqual([
      "evt_filter_0001",
      "evt_filter_0005",
      "evt_filter_0009",
      "evt_filter_0013",
      "evt_filter_0017",
    ]);
  });

  it("counts events exactly", async () => {
    await storeEvents("counts", 10); // two of them failed, so an exact count of 0 cannot pass
    const data = await loaderJson(() => eventsRoute.loader(routeArgs(getRequest("/admin/events", support))));
    const failed = await prisma().stripeEvent.count({ where: { status: "failed" } });
    expect(failed).toBeGreaterThanOrEqual(2);
    expect(data.counts.failed).toBe(failed);
    expect(data.counts.total).toBe(await prisma().stripeEvent.count());
  });

  it("ignores malformed filters rather than failing", async () => {
    const response = await settle(() =>
      eventsRoute.loader(
        routeArgs(getRequest("/admin/events?status=nope&from=yesterday&after=garbage&q=%3Cscript%3E", support)),
      ),
    );
    expect(response.status).toBe(200);
  });
});

describe("processing attempts and bulk replay", () => {
  // The lookup keys these tests give Pro exist only in their events, not in Stripe: taken away again,
  // so that Pro stays valid (and on sale) for the tests after them.
  afterEach(async () => {
    await prisma().subscriptionTierPrice.deleteMany({
      where: { lookupKey: { in: ["attempt_monthly", "bulk_monthly"] } },
    });
  });

  async function failingEvents(lookupKey: string, count: number) {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const user = await createBillingUser({
        email: `bulk-${lookupKey}-${i}@example.com`,
        stripeCustomerId: `cus_bulk_${lookupKey}_${i}`,
      });
      const evt = event("customer.subscription.updated", subscription({ customer: user.stripeCustomerId!, lookupKey }));
      expect((await deliver(webhookRequest(evt))).status).toBe(500);
      ids.push(evt.id);
    }
    return ids;
  }

  it("records every attempt: the failed delivery, then the replay", async () => {
    const [eventId] = await failingEvents("attempt_monthly", 1);
    const pro = await prisma().subscriptionTier.findUniqueOrThrow({ where: { key: "pro" } });
    await prisma().subscriptionTierPrice.create({
      data: { tierId: pro.id, lookupKey: "attempt_monthly", position: 20 },
    });
    await settle(() =>
      eventsRoute.action(routeArgs(formRequest("/admin/events", { eventId: eventId! }, { cookie: support }))),
    );
    const page = await loaderJson(() =>
      eventRoute.loader(routeArgs(getRequest(`/admin/events/${eventId}`, support), { eventId: eventId! })),
    );
    expect(page.attemptLog.map((a: { source: string; outcome: string }) => [a.source, a.outcome])).toEqual([
      ["webhook", "failed"],
      ["replay", "processed"],
    ]);
    expect(page.attemptLog[0].error).toMatch(/"attempt_monthly"/);
    // The account with that Stripe customer: the user's personal one.
    const owner = await billingOf(
      (await prisma().user.findUniqueOrThrow({ where: { email: "bulk-attempt_monthly-0@example.com" } })).id,
    );
    expect(page.account).toEqual({ id: owner.accountId, name: owner.name });
  });

  it("replays every failed event of a filter exactly once, even when started twice and run by three runners", async () => {
    const since = new Date(Date.now() - 1000);
    const ids = await failingEvents("bulk_monthly", 30);
    const pro = await prisma().subscriptionTier.findUniqueOrThrow({ where: { key: "pro" } });
    await prisma().subscriptionTierPrice.create({ data: { tierId: pro.id, lookupKey: "bulk_monthly", position: 21 } });

    const preview = await loaderJson(() =>
      eventsRoute.loader(
        routeArgs(getRequest("/admin/events?status=failed&q=&type=customer.subscription.updated&replayAll=1", support)),
      ),
    );
    expect(preview.toReplay.count).toBeGreaterThanOrEqual(30);
    expect(preview.toReplay.atLeast).toBe(false);

    const [first, second] = await Promise.all([
      startBulkReplay("support@example.com", { type: "customer.subscription.updated", from: since }),
      startBulkReplay("support@example.com", { type: "customer.subscription.updated", from: since }),
    ]);
    expect(first).not.toBeNull();
    expect(second?.id).toBe(first!.id);
    await Promise.all([runBulkReplay(first!), runBulkReplay(first!)]);
    for (let i = 0; i < 100; i++) {
      const job = await prisma().replayJob.findUniqueOrThrow({ where: { id: first!.id } });
      if (job.status === "finished") break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const events = await prisma().stripeEvent.findMany({
      where: { eventId: { in: ids } },
      include: { attemptLog: true },
    });
    expect(events.every((row) => row.status === "processed")).toBe(true);
    for (const row of events) {
      expect(row.attemptLog.filter((attempt) => attempt.outcome === "processed")).toHaveLength(1);
      expect(row.attempts).toBe(2);
    }
    const job = await prisma().replayJob.findUniqueOrThrow({ where: { id: first!.id } });
    expect(job.total).toBe(30);
    expect(job.processed).toBe(30);
    expect(job.failed).toBe(0);
    expect(job.status).toBe("finished");
  });

  it("records a bulk replay of an event it cannot read as a failed attempt, and counts it failed", async () => {
    const since = new Date(Date.now() - 1000);
    const evt = event("customer.subscription.deleted", "sub_bulk_only_an_id");
    expect((await deliver(webhookRequest(evt))).status).toBe(400);
    const job = await startBulkReplay("support@example.com", { type: "customer.subscription.deleted", from: since });
    // The job runs in the background: wait for it to finish.
    for (let i = 0; i < 100; i++) {
      if ((await prisma().replayJob.findUniqueOrThrow({ where: { id: job!.id } })).status === "finished") break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const stored = await prisma().stripeEvent.findUniqueOrThrow({
      where: { eventId: evt.id },
      include: { attemptLog: { orderBy: { id: "asc" } } },
    });
    expect(stored.attempts).toBe(2);
    expect(stored.attemptLog.map((attempt) => [attempt.source, attempt.outcome])).toEqual([
      ["webhook", "failed"],
      ["bulk_replay", "failed"],
    ]);
    expect(stored.attemptLog[1]?.error).toMatch(/^Unreadable customer\.subscription\.deleted/);
    expect(await prisma().replayJob.findUniqueOrThrow({ where: { id: job!.id } })).toMatchObject({
      total: 1,
      failed: 1,
    });
  });
});

describe("users", () => {
  it("finds users by email prefix, Stripe customer id and filters, with keyset pages", async () => {
    for (let i = 0; i < 7; i++) {
      await createBillingUser({ email: `findme-${i}@example.com`, stripeCustomerId: `cus_findme_${i}` });
    }
    const page = (query: string) =>
      loaderJson(() => usersRoute.loader(routeArgs(getRequest(`/admin/users?${query}`, support))));
    const prefix = await page("q=FINDME-");
    expect(prefix.users).toHaveLength(7);
    expect(prefix.users[0].email).toBe("findme-6@example.com"); // newest first
    expect((await page("q=cus_findme_3")).users.map((u: { email: string }) => u.email)).toEqual([
      "findme-3@example.com",
    ]);
    expect((await page("role=admin")).users.map((u: { email: string }) => u.email)).toEqual(["admin@example.com"]);
    const free = await page("tier=free&q=findme");
    expect(free.users).toHaveLength(7);
    const firstPage = await settle(() => usersRoute.loader(routeArgs(getRequest("/admin/users?q=findme", support))));
    const { users } = await firstPage.json();
    const after = users[2].id;
    const next = await page(`q=findme&after=${after}`);
    expect(next.users.map((u: { email: string }) => u.email)).toEqual([
      "findme-3@example.com",
      "findme-2@example.com",
      "findme-1@example.com",
      "findme-0@example.com",
    ]);
  });

  it("explains the tier in force", async () => {
    const user = await createBillingUser({ email: "why@example.com", subscriptionStatus: "canceled" });
    const page = await loaderJson(() =>
      userRoute.loader(routeArgs(getRequest(`/admin/users/${user.id}`, support), { userId: String(user.id) })),
    );
    expect(page.inForce.tierName).toBe("Free");
    expect(page.inForce.reason).toMatch(/canceled/);
  });

  async function subscribedCustomer(email: string, lookupKey = "pro_monthly") {
    const user = await createBillingUser({ email });
    const account = await prisma().account.findUniqueOrThrow({ where: { id: user.accountId } });
    const outcome = await createCheckoutSession(
      { account, email },
      lookupKey,
      appOrigin(new Request("http://localhost:3000/")),
    );
    if (!outcome.ok) throw new Error(outcome.message);
    await stripe.emulator.completeCheckout(outcome.url.split("/").pop()!);
    await stripe.emulator.settle();
    return billingOf(user.id);
  }
  const sync = (userId: number, cookie = support) =>
    settle(() =>
      userRoute.action(
        routeArgs(formRequest(`/admin/users/${userId}`, { intent: "sync" }, { cookie }), { userId: String(userId) }),
      ),
    );

  it("sync from Stripe: a user left on free while Stripe holds an active Pro subscription becomes Pro", async () => {
    const user = await subscribedCustomer("missed-webhook@example.com");
    expect(user.tier?.key).toBe("pro");
    // The webhooks were lost: the database says free.
    await setBilling(user.id, {
      tierId: null,
      subscriptionStatus: null,
      stripeSubscriptionId: null,
      subscriptionSyncedAt: null,
    });
    const response = await sync(user.id);
    expect(response.status).toBe(200);
    const result = await response.json();
    expect(result).toMatchObject({
      ok: true,
      changed: true,
      before: { tier: null },
      after: { tier: "pro", subscriptionStatus: "active" },
    });
    expect((await billingOf(user.id)).tier?.key).toBe("pro");
    const audit = await prisma().auditEntry.findFirstOrThrow({
      where: { entity: "account", entityId: String(user.accountId), action: "synced" },
    });
    expect(audit).toMatchObject({ actorEmail: "support@example.com", entityLabel: user.name });
    // Idempotent: again, nothing changes and nothing more is recorded.
    expect(await (await sync(user.id)).json()).toMatchObject({ ok: true, changed: false });
    expect(
      await prisma().auditEntry.count({
        where: { entity: "account", entityId: String(user.accountId), action: "synced" },
      }),
    ).toBe(1);
  });

  it("sync from Stripe: a subscription canceled in Stripe (webhook lost) makes the user free", async () => {
    const user = await subscribedCustomer("canceled-quietly@example.com", "hobbyist_monthly");
    stripe.emulator.holdWebhooks();
    await getStripe().subscriptions.cancel(user.stripeSubscriptionId!);
    const result = await (await sync(user.id)).json();
    expect(result).toMatchObject({ ok: true, changed: true, after: { tier: null, subscriptionStatus: "canceled" } });
    await stripe.emulator.releaseWebhooks();
    await stripe.emulator.settle();
    expect((await billingOf(user.id)).tierId).toBeNull();
  });

  it("sync from Stripe: when Stripe cannot be asked, says so and changes nothing", async () => {
    const user = await subscribedCustomer("stripe-down@example.com");
    const before = await billingOf(user.id);
    await withStripeConnection({ apiBase: "http://127.0.0.1:9", maxNetworkRetries: 0 }, async () => {
      const response = await sync(user.id);
      expect(response.status).toBe(502);
      expect((await response.json()).message).toMatch(/Stripe could not be asked.*nothing was changed/);
    });
    expect(await billingOf(user.id)).toEqual(before);
  });

  const roleChange = (userId: number, role: string, cookie = admin) =>
    settle(() =>
      userRoute.action(
        routeArgs(formRequest(`/admin/users/${userId}`, { intent: "role", role }, { cookie }), {
          userId: String(userId),
        }),
      ),
    );

  it("admins change roles (audited, sessions ended); support gets 403; nobody demotes themselves or the last admin", async () => {
    const target = await prisma().user.create({ data: { email: "promote-me@example.com", passwordHash: "x" } });
    const targetCookie = await sessionCookieFor(target.email);
    expect((await roleChange(target.id, "support", support)).status).toBe(403);
    expect((await roleChange(target.id, "support")).status).toBe(200);
    expect((await prisma().user.findUniqueOrThrow({ where: { id: target.id } })).role).toBe("support");
    expect((await settle(() => adminRoute.loader(routeArgs(getRequest("/admin", targetCookie))))).status).toBe(302);
    const audit = await prisma().auditEntry.findFirstOrThrow({
      where: { entity: "user", entityId: String(target.id), action: "role changed" },
    });
    expect(audit).toMatchObject({ before: { role: "customer" }, after: { role: "support" } });

    const adminUser = await prisma().user.findUniqueOrThrow({ where: { email: "admin@example.com" } });
    const self = await roleChange(adminUser.id, "customer");
    expect(self.status).toBe(409);
    expect((await self.json()).message).toMatch(/your own admin role/);

    const second = await prisma().user.create({
      data: { email: "second-admin@example.com", passwordHash: "x", role: "admin" },
    });
    const secondCookie = await sessionCookieFor(second.email);
    expect((await roleChange(adminUser.id, "support", secondCookie)).status).toBe(200);
    // Now `second` is the only admin: nobody can demote them (they cannot demote themselves either).
    const last = await roleChange(second.id, "customer", secondCookie);
    expect(last.status).toBe(409);
    await prisma().user.update({ where: { id: adminUser.id }, data: { role: "admin" } });
    admin = await sessionCookieFor("admin@example.com");
  });

  it("admins put a user's own account on an exempt tier (audited); paid tiers cannot be given", async () => {
    const target = await createBillingUser({ email: "partner-to-be@example.com" });
    const setTier = (tier: string, cookie = admin) =>
      settle(() =>
        userRoute.action(
          routeArgs(formRequest(`/admin/users/${target.id}`, { intent: "tier", tier }, { cookie }), {
            userId: String(target.id),
          }),
        ),
      );
    expect((await setTier("partner", support)).status).toBe(403);
    expect((await setTier("pro")).status).toBe(400);
    expect((await setTier("partner")).status).toBe(200);
    const page = await loaderJson(() =>
      userRoute.loader(routeArgs(getRequest(`/admin/users/${target.id}`, support), { userId: String(target.id) })),
    );
    expect(page.inForce.tierName).toBe("Partner");
    expect(
      await prisma().auditEntry.count({
        where: { entity: "account", entityId: String(target.accountId), action: "tier changed" },
      }),
    ).toBe(1);
    expect((await billingOf(target.id)).tier?.key).toBe("partner");
  });
});
