// Changing a price from the tier page, on PostgreSQL with the Stripe emulator as Stripe: the page lists
// the tier's prices in Stripe with their live subscriptions (a fixed few Stripe calls, cached), the
// change is previewed (before → after, subscribers on each), and confirming twice with one nonce (a
// double click) makes exactly one price that takes the lookup key, audited once.
import type { SerializeFrom } from "@remix-run/node";
import { beforeAll, describe, expect, it } from "vitest";
import { getStripe } from "../../app/services/stripe/client.server.ts";
import { invalidatePriceCache } from "../../app/services/stripe/prices.server.ts";
import * as tierRoute from "../../app/routes/admin.tiers.$key/route.tsx";
import { testDb } from "../setup/database.ts";
import { countingStripeProxy, useStripeEmulator, withStripeConnection } from "../stripe-harness.ts";
import { formRequest, getRequest, routeArgs, seedDemoData, sessionCookieFor, settle } from "../utils.ts";

const stripe = useStripeEmulator();
const prisma = () => testDb().prisma;

let admin: string;
let support: string;
beforeAll(async () => {
  await seedDemoData();
  [admin, support] = await Promise.all([
    sessionCookieFor("admin@example.com"),
    sessionCookieFor("support@example.com"),
  ]);
});

/** A Stripe customer paying for `price` (not a Tierdesk account: the counts come from Stripe alone). */
async function subscriber(price: string) {
  const session = await getStripe().checkout.sessions.create({
    mode: "subscription",
    line_items: [{ price, quantity: 1 }],
    success_url: "http://localhost:3000/billing/success",
    customer_email: `payer-${Math.random().toString(36).slice(2)}@example.com`,
  });
  const { subscription } = await stripe.emulator.completeCheckout(session.id);
  return subscription;
}

async function tierPage(cookie = admin, query = "") {
  const response = await settle(() =>
    tierRoute.loader(routeArgs(getRequest(`/admin/tiers/pro${query}`, cookie), { key: "pro" })),
  );
  expect(response.status).toBe(200);
  return (await response.json()) as SerializeFrom<typeof tierRoute.loader>;
}

const row = (data: Awaited<ReturnType<typeof tierPage>>, id: string) =>
  data.prices?.products.flatMap((p) => p.prices).find((price) => price.id === id);

function reprice(fields: Record<string, string>, cookie = admin) {
  return settle(() =>
    tierRoute.action(
      routeArgs(formRequest("/admin/tiers/pro?reprice=pro_monthly", fields, { cookie }), { key: "pro" }),
    ),
  );
}

describe("a tier's prices in Stripe", () => {
  it("lists the products' prices, current and legacy, with their live subscriptions, in a fixed few Stripe calls", async () => {
    stripe.emulator.reset();
    invalidatePriceCache();
    await subscriber("price_emu_pro_monthly");
    await subscriber("price_emu_pro_monthly");
    await subscriber("price_emu_pro_yearly");
    const canceled = await subscriber("price_emu_pro_monthly");
    await getStripe().subscriptions.cancel(canceled.id);
    await stripe.emulator.settle();
    invalidatePriceCache();

    const proxy = await countingStripeProxy(stripe.emulator.url);
    try {
      await withStripeConnection({ apiBase: proxy.url }, async () => {
        const data = await tierPage();
        expect(row(data, "price_emu_pro_monthly")).toMatchObject({
          lookupKey: "pro_monthly",
          role: "current",
          amount: "£29.00",
          interval: "month",
          currency: "GBP",
          liveSubscriptions: 2,
        });
        expect(row(data, "price_emu_pro_yearly")).toMatchObject({ role: "current", liveSubscriptions: 1 });
        expect(row(data, "price_emu_pro_monthly_2024")).toMatchObject({
          lookupKey: null,
          role: "legacy",
          active: false,
          liveSubscriptions: 0,
        });
        const cold = proxy.calls.length;
        // However many prices and subscriptions: the catalog, each product's prices, the subscriptions' pages.
        expect(proxy.calls.filter((call) => call === "GET /v1/subscriptions")).toHaveLength(1);
        expect(proxy.calls.filter((call) => call === "GET /v1/prices").length).toBeLessThanOrEqual(4);
        await tierPage();
        await tierPage(support);
        expect(proxy.calls.length).toBe(cold); // warm: cached
      });
    } finally {
      await proxy.close();
    }
  });

  it("still shows the page when Stripe is down, saying so", async () => {
    invalidatePriceCache();
    await withStripeConnection({ apiBase: "http://127.0.0.1:9", maxNetworkRetries: 0 }, async () => {
      const data = await tierPage();
      expect(data.prices?.error).toBeTruthy();
      expect(data.tier.key).toBe("pro");
    });
    invalidatePriceCache();
  });
});

describe("changing a price", () => {
  it("previews before → after with subscribers, then makes exactly one price under a double click, audited once", async () => {
    invalidatePriceCache();
    const page = await tierPage(admin, "?reprice=pro_monthly");
    expect(page.reprice).toMatchObject({ lookupKey: "pro_monthly" });
    const nonce = page.reprice!.nonce;
    const fields = {
      lookupKey: "pro_monthly",
      amount: "35",
      currency: "gbp",
      interval: "month",
      intervalCount: "1",
      nonce,
    };

    const previewed = await reprice({ intent: "reprice-preview", ...fields });
    expect(previewed.status).toBe(200);
    const { reprice: preview } = (await previewed.json()) as {
      reprice: { preview: { before: Record<string, unknown>; after: Record<string, unknown> } };
    };
    expect(preview.preview.before).toMatchObject({ amount: "£29.00", interval: "month", liveSubscriptions: 2 });
    expect(preview.preview.after).toMatchObject({ amount: "£35.00", interval: "month", liveSubscriptions: 0 });
    // A preview changes nothing in Stripe.
    expect((await getStripe().prices.list({ lookup_keys: ["pro_monthly"] })).data[0]?.id).toBe("price_emu_pro_monthly");

    const requestsBefore = stripe.emulator.apiRequests.length;
    const auditBefore = await prisma().auditEntry.count({ where: { action: "price_changed" } });
    const confirmed = await Promise.all([
      reprice({ intent: "reprice-confirm", ...fields }),
      reprice({ intent: "reprice-confirm", ...fields }),
    ]);
    expect(confirmed.map((r) => r.status)).toEqual([302, 302]);
    expect(confirmed[0]!.headers.get("location")).toBe("/admin/tiers/pro?repriced=pro_monthly");
    const creates = stripe.emulator.apiRequests
      .slice(requestsBefore)
      .filter((r) => r.method === "POST" && r.path === "/v1/prices");
    expect(creates.map((r) => r.replayed).sort()).toEqual([false, true]);
    expect(new Set(creates.map((r) => r.idempotencyKey)).size).toBe(1);

    const proPrices = await getStripe().prices.list({ product: "prod_emu_pro", limit: 100 });
    const made = proPrices.data.filter((p) => p.unit_amount === 3500);
    expect(made).toHaveLength(1);
    expect(made[0]).toMatchObject({ lookup_key: "pro_monthly", currency: "gbp", recurring: { interval: "month" } });
    expect(proPrices.data.find((p) => p.id === "price_emu_pro_monthly")?.lookup_key).toBeNull();
    const audits = await prisma().auditEntry.findMany({ where: { action: "price_changed" } });
    expect(audits.length - auditBefore).toBe(1);
    expect(audits.at(-1)).toMatchObject({
      entity: "tier",
      entityLabel: "pro",
      actorEmail: "admin@example.com",
      before: expect.objectContaining({ price: "price_emu_pro_monthly", amount: "£29.00" }),
      after: expect.objectContaining({ price: made[0]!.id, amount: "£35.00" }),
    });
    // Stripe is the source of truth: no price id or amount is stored with the tier.
    const stored = JSON.stringify(await prisma().subscriptionTierPrice.findMany());
    expect(stored).not.toContain(made[0]!.id);

    // The page shows both prices with their subscribers at once (this instance dropped its cache).
    await stripe.emulator.settle();
    const after = await tierPage();
    expect(row(after, made[0]!.id)).toMatchObject({ role: "current", amount: "£35.00", liveSubscriptions: 0 });
    expect(row(after, "price_emu_pro_monthly")).toMatchObject({
      role: "legacy",
      amount: "£29.00",
      liveSubscriptions: 2,
    });
    expect(after.prices?.keys.find((k) => k.lookupKey === "pro_monthly")).toMatchObject({ legacySubscriptions: 2 });
  });

  it("refuses an amount the currency cannot have, the same price, a key of another tier, and support", async () => {
    const { reprice: page } = await tierPage(admin, "?reprice=pro_monthly");
    const base = {
      lookupKey: "pro_monthly",
      currency: "gbp",
      interval: "month",
      intervalCount: "1",
      nonce: page!.nonce,
    };
    expect((await reprice({ intent: "reprice-preview", ...base, amount: "35.001" })).status).toBe(400);
    expect((await reprice({ intent: "reprice-preview", ...base, amount: "35" })).status).toBe(400); // already £35
    expect(
      (await reprice({ intent: "reprice-preview", ...base, lookupKey: "hobbyist_monthly", amount: "9" })).status,
    ).toBe(409);
    expect((await reprice({ intent: "reprice-confirm", ...base, amount: "40" }, support)).status).toBe(403);
    expect(
      (await getStripe().prices.list({ product: "prod_emu_pro", limit: 100 })).data.some((p) => p.unit_amount === 4000),
    ).toBe(false);
  });
});
