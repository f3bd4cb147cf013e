// The numbers on the operator pages: the event log's counts beside its list, and each tier's
// customers (accounts) on the overview, which must mean what the link beside them lists.
import { beforeAll, describe, expect, it } from "vitest";
import * as overviewRoute from "../../app/routes/admin._index.tsx";
import * as accountsRoute from "../../app/routes/admin.accounts._index.tsx";
import * as eventsRoute from "../../app/routes/admin.events._index/route.tsx";
import * as tierRoute from "../../app/routes/admin.tiers.$key/route.tsx";
import * as webhookRoute from "../../app/routes/api.stripe.webhook.ts";
import { testDb } from "../setup/database.ts";
import { event, subscription, webhookRequest } from "../stripe-fixtures.ts";
import { useStripeEmulator } from "../stripe-harness.ts";
import { createBillingUser, getRequest, routeArgs, seedDemoData, sessionCookieFor, settle } from "../utils.ts";

useStripeEmulator();
const prisma = () => testDb().prisma;
const deliver = (request: Request) => webhookRoute.action(routeArgs(request));
const loaderJson = async (run: () => Promise<unknown>) => (await settle(run)).json();

let support: string;
beforeAll(async () => {
  await seedDemoData();
  support = await sessionCookieFor("support@example.com");
});

describe("the event log's counts", () => {
  it("are exact on a small log like the demo's, status by status, matching the list", async () => {
    // A demo-sized log: a few of each outcome.
    const user = await createBillingUser({ email: "counted@example.com", stripeCustomerId: "cus_counted" });
    const hour = Math.floor(Date.now() / 1000) - 3600;
    const deliveries = [
      ...Array.from({ length: 6 }, (_, i) => event("invoice.paid", { id: `in_c${i}`, object: "invoice" })),
      ...Array.from({ length: 3 }, () => event("customer.created", { id: "cus_x", object: "customer" })),
      event(
        "customer.subscription.updated",
        subscription({ customer: user.stripeCustomerId!, lookupKey: "pro_monthly" }),
      ),
      // Older than the state just applied: stale.
      event(
        "customer.subscription.updated",
        subscription({ customer: user.stripeCustomerId!, lookupKey: "hobbyist_monthly" }),
        { created: hour },
      ),
      ...Array.from({ length: 3 }, (_, i) =>
        event(
          "customer.subscription.updated",
          subscription({ customer: user.stripeCustomerId!, lookupKey: `gone_${i}` }),
        ),
      ),
    ];
    for (const delivery of deliveries) await deliver(webhookRequest(delivery));

    const page = await loaderJson(() => eventsRoute.loader(routeArgs(getRequest("/admin/events", support))));
    const groups = await prisma().stripeEvent.groupBy({ by: ["status"], _count: { _all: true } });
    const stored = Object.fromEntries(groups.map((group) => [group.status, group._count._all]));
    expect(stored.failed).toBe(3);
    expect(stored.stale).toBe(1);
    const counts = page.counts as Record<string, number>;
    for (const status of ["failed", "pending", "processed", "stale", "ignored"]) {
      expect(counts[status], status).toBe(stored[status] ?? 0);
    }
    expect(counts.total).toBe(deliveries.length);
    // The list beside them shows the same events.
    expect(page.events).toHaveLength(deliveries.length);
    for (const status of ["processed", "stale", "ignored", "failed"]) {
      const listed = page.events.filter((row: { status: string }) => row.status === status).length;
      expect(listed, status).toBe(counts[status]);
    }
  });

  it("stay exact past 10,000 events (kept up to date as events arrive, not counted on each load)", async () => {
    const before = (await loaderJson(() => eventsRoute.loader(routeArgs(getRequest("/admin/events", support)))))
      .counts as Record<string, number>;
    await prisma().$executeRaw`
      INSERT INTO stripe_events (event_id, event_type, status, payload)
      SELECT 'evt_many_' || n, 'invoice.paid', 'processed', '{}' FROM generate_series(1, 10050) AS n`;
    const page = await loaderJson(() => eventsRoute.loader(routeArgs(getRequest("/admin/events", support))));
    const counts = page.counts as Record<string, number>;
    expect(counts.processed).toBe(before.processed! + 10_050);
    expect(counts.total).toBe(before.total! + 10_050);
    expect(counts.failed).toBe(3);
  });
});

describe("the overview's customers per tier", () => {
  it("counts the accounts the tier's account list shows, the free tier's accounts without a tier included", async () => {
    const free = await prisma().subscriptionTier.findUniqueOrThrow({ where: { key: "free" } });
    const pro = await prisma().subscriptionTier.findUniqueOrThrow({ where: { key: "pro" } });
    await createBillingUser({ email: "no-tier-1@example.com", tierId: null });
    await createBillingUser({ email: "no-tier-2@example.com", tierId: null });
    await createBillingUser({ email: "on-free@example.com", tierId: free.id });
    await createBillingUser({ email: "on-pro@example.com", tierId: pro.id });
    const overview = await loaderJson(() => overviewRoute.loader(routeArgs(getRequest("/admin", support))));
    const tiers = overview.tiers as Array<{ key: string; customers: number }>;
    expect(tiers.length).toBeGreaterThan(2);
    for (const tier of tiers) {
      // What /admin/accounts?tier=<key> (the number's link) lists: the accounts on the tier, and for
      // the free tier also those without one (fewer than a page of them here).
      const accountList = await loaderJson(() =>
        accountsRoute.loader(routeArgs(getRequest(`/admin/accounts?tier=${tier.key}`, support))),
      );
      expect(accountList.hasOlder, tier.key).toBe(false);
      const listed = (accountList.accounts as unknown[]).length;
      expect(tier.customers, tier.key).toBe(listed);
      const page = await loaderJson(() =>
        tierRoute.loader(routeArgs(getRequest(`/admin/tiers/${tier.key}`, support), { key: tier.key })),
      );
      expect(page.users, `/admin/tiers/${tier.key}`).toBe(listed);
    }
    expect(tiers.find((tier) => tier.key === "free")!.customers).toBeGreaterThanOrEqual(3);
    // Accounts, not people: the seed's team (three members) is one partner account.
    expect(tiers.find((tier) => tier.key === "partner")!.customers).toBe(1);
    expect(tiers.find((tier) => tier.key === "pro")!.customers).toBeGreaterThanOrEqual(1);
  });
});
