// Legacy prices: an operator changes Pro's price in Stripe the only way Stripe allows (a new price,
// the lookup key moved to it with transfer_lookup_key). Existing subscriptions stay on the old price,
// which has no lookup key now; their events must still find the tier, through the price's product.
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { invalidatePriceCache } from "../../app/services/stripe/prices.server.ts";
import { getStripe, stripeConnection } from "../../app/services/stripe/client.server.ts";
import { clearSubscriptionDetailsCache } from "../../app/services/stripe/subscription-details.server.ts";
import { syncAccountFromStripe } from "../../app/services/customers/account-admin.server.ts";
import { replayStoredEvent } from "../../app/services/events/replay.server.ts";
import { createApiKey } from "../../app/services/api/keys.server.ts";
import * as accountRoute from "../../app/routes/account.tsx";
import * as pricingRoute from "../../app/routes/pricing/route.tsx";
import * as supportAccountRoute from "../../app/routes/admin.accounts.$accountId/route.tsx";
import * as supportUserRoute from "../../app/routes/admin.users.$userId/route.tsx";
import * as apiEntitlementsRoute from "../../app/routes/api.v1.accounts.$ref.entitlements.ts";
import * as adminOverviewRoute from "../../app/routes/admin._index.tsx";
import * as tierPageRoute from "../../app/routes/admin.tiers.$key/route.tsx";
import * as tiersRoute from "../../app/routes/admin.tiers._index.tsx";
import * as checkoutRoute from "../../app/routes/api.stripe.checkout.ts";
import * as webhookRoute from "../../app/routes/api.stripe.webhook.ts";
import { testDb } from "../setup/database.ts";
import { event, subscription as subscriptionFixture, webhookRequest } from "../stripe-fixtures.ts";
import { countingStripeProxy, useStripeEmulator, withStripeConnection } from "../stripe-harness.ts";
import {
  BASE_URL,
  billingOf,
  createBillingUser,
  getRequest,
  routeArgs,
  seedDemoData,
  sessionCookieFor,
  setBilling,
  settle,
} from "../utils.ts";

const stripe = useStripeEmulator();
const prisma = () => testDb().prisma;

let userCounter = 0;
async function subscriberOnProMonthly() {
  const email = `legacy-${userCounter++}-${Date.now()}@example.com`;
  const user = await createBillingUser({ email });
  const cookie = await sessionCookieFor(email);
  const response = await settle(() =>
    checkoutRoute.action(
      routeArgs(
        new Request(`${BASE_URL}/api/stripe/checkout`, {
          method: "POST",
          headers: { Cookie: cookie, "Content-Type": "application/json", Accept: "application/json" },
          body: JSON.stringify({ lookup_key: "pro_monthly" }),
        }),
      ),
    ),
  );
  const { url } = (await response.json()) as { url: string };
  const { subscription } = await stripe.emulator.completeCheckout(url.split("/").pop()!);
  await stripe.emulator.settle();
  return { user, subscription };
}

/** What the operator does in Stripe to charge new Pro customers £35: a new price takes the key. */
async function movePriceToNewAmount() {
  const price = await getStripe().prices.create({
    product: "prod_emu_pro",
    currency: "gbp",
    unit_amount: 3500,
    recurring: { interval: "month" },
    lookup_key: "pro_monthly",
    transfer_lookup_key: true,
  });
  await stripe.emulator.settle();
  return price;
}

const userState = (id: number) => billingOf(id);

/** Pro's key moved to a new £35 price; `subscription` is left on the £29 one, now without a key. */
async function legacySubscriber() {
  const subscriber = await subscriberOnProMonthly();
  await movePriceToNewAmount();
  return subscriber;
}

const json = async (run: () => Promise<unknown>) => {
  const response = await settle(run);
  expect(response.status).toBe(200);
  return response.json();
};
const accountPage = (cookie: string) => json(() => accountRoute.loader(routeArgs(getRequest("/account", cookie))));
const pricingPage = (cookie: string) => json(() => pricingRoute.loader(routeArgs(getRequest("/pricing", cookie))));
const supportAccountPage = async (accountId: number) => {
  const cookie = await sessionCookieFor("support@example.com");
  const path = `/admin/accounts/${accountId}`;
  return json(() => supportAccountRoute.loader(routeArgs(getRequest(path, cookie), { accountId: String(accountId) })));
};
const supportUserPage = async (userId: number) => {
  const cookie = await sessionCookieFor("support@example.com");
  const path = `/admin/users/${userId}`;
  return json(() => supportUserRoute.loader(routeArgs(getRequest(path, cookie), { userId: String(userId) })));
};

/** The webhook deliveries made since `from`, with what the app answered and stored. */
async function deliveriesSince(from: number) {
  const records = stripe.emulator.events.slice(from);
  const stored = await prisma().stripeEvent.findMany({
    where: { eventId: { in: records.map((record) => record.event.id) } },
  });
  return records.map((record) => ({
    type: record.event.type,
    answered: record.deliveries.at(-1)?.status,
    stored: stored.find((row) => row.eventId === record.event.id)?.status,
  }));
}

beforeAll(seedDemoData);
beforeEach(() => {
  stripe.emulator.reset();
  // The reset drops the new price without a price.* webhook: forget what the app cached of it.
  invalidatePriceCache();
});

describe("a subscription left on a price whose lookup key moved to a new price", () => {
  it("renews, fails a payment, is set to cancel and is deleted: every event is processed with the right tier", async () => {
    const { user, subscription } = await subscriberOnProMonthly();
    expect((await userState(user.id)).tier?.key).toBe("pro");
    await movePriceToNewAmount();
    const kept = await getStripe().subscriptions.retrieve(subscription.id);
    expect(kept.items.data[0]?.price).toMatchObject({ id: "price_emu_pro_monthly", lookup_key: null });

    let from = stripe.emulator.events.length;
    await stripe.emulator.renewSubscription(subscription.id);
    expect(await deliveriesSince(from)).toEqual([
      { type: "customer.subscription.updated", answered: 200, stored: "processed" },
      { type: "invoice.paid", answered: 200, stored: "processed" },
    ]);
    expect(await userState(user.id)).toMatchObject({ subscriptionStatus: "active", tier: { key: "pro" } });

    from = stripe.emulator.events.length;
    await stripe.emulator.failPayment(subscription.id);
    expect(await deliveriesSince(from)).toEqual([
      { type: "invoice.payment_failed", answered: 200, stored: "processed" },
      { type: "customer.subscription.updated", answered: 200, stored: "processed" },
    ]);
    // Grace while Stripe retries: still Pro.
    expect(await userState(user.id)).toMatchObject({ subscriptionStatus: "past_due", tier: { key: "pro" } });

    from = stripe.emulator.events.length;
    await getStripe().subscriptions.update(subscription.id, { cancel_at_period_end: true });
    await stripe.emulator.settle();
    expect(await deliveriesSince(from)).toEqual([
      { type: "customer.subscription.updated", answered: 200, stored: "processed" },
    ]);
    expect((await userState(user.id)).tier?.key).toBe("pro");

    from = stripe.emulator.events.length;
    await getStripe().subscriptions.cancel(subscription.id);
    await stripe.emulator.settle();
    expect(await deliveriesSince(from)).toEqual([
      { type: "customer.subscription.deleted", answered: 200, stored: "processed" },
    ]);
    expect(await userState(user.id)).toMatchObject({ subscriptionStatus: "canceled", tierId: null });
  });

  it("support's sync from Stripe applies the legacy subscription by the same rule", async () => {
    const { user, subscription } = await subscriberOnProMonthly();
    await movePriceToNewAmount();
    // As if the webhooks had been lost: the user looks free here while Stripe says active.
    await setBilling(user.id, { tierId: null, subscriptionSyncedAt: null });
    const outcome = await syncAccountFromStripe({ id: null, email: "support@example.com" }, user.accountId);
    expect(outcome).toMatchObject({ ok: true, changed: true, after: { tier: "pro", subscriptionStatus: "active" } });
    expect((await userState(user.id)).stripeSubscriptionId).toBe(subscription.id);
  });

  it("a keyless price of a product no tier sells answers 500 and is stored failed, naming price and product", async () => {
    const { user } = await subscriberOnProMonthly();
    const customer = (await userState(user.id)).stripeCustomerId!;
    const sub = subscriptionFixture({ customer, lookupKey: null });
    Object.assign(sub.items.data[0]!.price, { id: "price_team_legacy", product: "prod_emu_team" });
    const evt = event("customer.subscription.updated", sub);
    const response = await webhookRoute.action(routeArgs(webhookRequest(evt)));
    expect(response.status).toBe(500);
    const stored = await prisma().stripeEvent.findUniqueOrThrow({ where: { eventId: evt.id } });
    expect(stored.status).toBe("failed");
    expect(stored.error).toMatch(/price_team_legacy of product prod_emu_team/);
    // Nothing changed for the user.
    expect((await userState(user.id)).tier?.key).toBe("pro");
  });
});

describe("two tiers whose lookup keys share one Stripe product", () => {
  it("is a tier problem on /admin, /admin/tiers and both tiers' pages, and a legacy price of it fails, never guessed", async () => {
    const { user, subscription } = await subscriberOnProMonthly();
    // A second tier selling Pro's product under another key.
    await getStripe().prices.create({
      product: "prod_emu_pro",
      currency: "gbp",
      unit_amount: 900,
      recurring: { interval: "week" },
      lookup_key: "pro_weekly_deal",
    });
    const deal = await prisma().subscriptionTier.create({
      data: { key: "pro-deal", name: "Pro deal", billingProvider: "stripe", isCustomerFacing: false },
    });
    await prisma().subscriptionTierPrice.create({
      data: { tierId: deal.id, lookupKey: "pro_weekly_deal", position: 0 },
    });
    invalidatePriceCache();
    try {
      const cookie = await sessionCookieFor("admin@example.com");
      const problem = /product prod_emu_pro is also sold by tier/;
      const overview = await (
        await settle(() => adminOverviewRoute.loader(routeArgs(getRequest("/admin", cookie))))
      ).json();
      const tiers = await (await settle(() => tiersRoute.loader(routeArgs(getRequest("/admin/tiers", cookie))))).json();
      for (const key of ["pro", "pro-deal"]) {
        const health = { state: "invalid", problems: expect.arrayContaining([expect.stringMatching(problem)]) };
        expect(overview.tiers.find((tier: { key: string }) => tier.key === key).health).toEqual(health);
        expect(tiers.rows.find((row: { key: string }) => row.key === key).health).toEqual(health);
        const page = await settle(() =>
          tierPageRoute.loader(routeArgs(getRequest(`/admin/tiers/${key}`, cookie), { key })),
        );
        expect((await page.json()).health).toEqual(health);
      }
      expect(overview.tiers.find((tier: { key: string }) => tier.key === "hobbyist").health).toEqual({
        state: "valid",
      });

      await movePriceToNewAmount();
      const from = stripe.emulator.events.length;
      await stripe.emulator.renewSubscription(subscription.id);
      const [updated] = await deliveriesSince(from);
      expect(updated).toEqual({ type: "customer.subscription.updated", answered: 500, stored: "failed" });
      const stored = await prisma().stripeEvent.findUniqueOrThrow({
        where: { eventId: stripe.emulator.events[from]!.event.id },
      });
      expect(stored.error).toMatch(/tiers (pro and pro-deal|pro-deal and pro) both sell that product/);
      expect((await userState(user.id)).tier?.key).toBe("pro");
    } finally {
      await prisma().subscriptionTier.delete({ where: { id: deal.id } });
    }
  });
});

describe("every path resolves a legacy price by the webhook's rule", () => {
  it("a stored event replayed and support's sync give the same tier as the webhook", async () => {
    const { user, subscription } = await legacySubscriber();
    // The renewal's event fails while a second tier sells Pro's product (its legacy price is ambiguous)...
    await getStripe().prices.create({
      product: "prod_emu_pro",
      currency: "gbp",
      unit_amount: 900,
      recurring: { interval: "week" },
      lookup_key: "pro_weekly_deal",
    });
    const deal = await prisma().subscriptionTier.create({
      data: { key: "pro-deal", name: "Pro deal", billingProvider: "stripe", isCustomerFacing: false },
    });
    await prisma().subscriptionTierPrice.create({
      data: { tierId: deal.id, lookupKey: "pro_weekly_deal", position: 0 },
    });
    invalidatePriceCache();
    const from = stripe.emulator.events.length;
    await stripe.emulator.renewSubscription(subscription.id);
    const renewal = stripe.emulator.events[from]!.event;
    expect(renewal.type).toBe("customer.subscription.updated");
    expect((await prisma().stripeEvent.findUniqueOrThrow({ where: { eventId: renewal.id } })).status).toBe("failed");

    // ...then the operator fixes the tiers; meanwhile the account lost its tier here (as if never applied).
    await prisma().subscriptionTier.delete({ where: { id: deal.id } });
    await setBilling(user.id, { tierId: null, subscriptionStatus: null, subscriptionSyncedAt: null });
    expect(await replayStoredEvent(renewal.id)).toEqual({ ok: true, status: "processed" });
    const replayed = await userState(user.id);
    expect(replayed).toMatchObject({
      tier: { key: "pro" },
      subscriptionStatus: "active",
      stripeSubscriptionId: subscription.id,
    });

    await setBilling(user.id, { tierId: null, subscriptionStatus: null, subscriptionSyncedAt: null });
    const outcome = await syncAccountFromStripe({ id: null, email: "support@example.com" }, user.accountId);
    expect(outcome).toMatchObject({ ok: true, after: { tier: "pro", subscriptionStatus: "active" } });
    const synced = await userState(user.id);
    expect({ tier: synced.tier?.key, status: synced.subscriptionStatus, sub: synced.stripeSubscriptionId }).toEqual({
      tier: replayed.tier?.key,
      status: replayed.subscriptionStatus,
      sub: replayed.stripeSubscriptionId,
    });
  });

  it("/account, /pricing, the API and support's pages show the grandfathered price and the current one", async () => {
    const { user, subscription } = await subscriberOnProMonthly();
    const cookie = await sessionCookieFor(user.email);
    expect((await accountPage(cookie)).price).toMatchObject({ label: "£29.00 per month", legacy: null });
    // The key moves (a price.updated webhook): the subscription this instance cached has no key now.
    await movePriceToNewAmount();

    expect(await accountPage(cookie)).toMatchObject({
      plan: { key: "pro", name: "Pro" },
      price: {
        label: "£29.00 per month",
        legacy: { current: { amount: "£35.00", interval: "month", label: "£35.00 per month" } },
      },
      state: { kind: "active" },
    });

    const pricing = await pricingPage(cookie);
    expect(pricing.viewer).toBe("subscriber");
    const pro = pricing.tiers.find((tier: { key: string }) => tier.key === "pro");
    expect(pro).toMatchObject({ current: true, legacyPrice: "£29.00/month", action: { kind: "current" } });
    // None of Pro's prices on sale is theirs: the £35 one is for new subscribers.
    expect(pro.display.prices).toEqual(
      expect.arrayContaining([expect.objectContaining({ lookupKey: "pro_monthly", amount: "£35.00", current: false })]),
    );
    expect(pricing.tiers.filter((tier: { legacyPrice: string | null }) => tier.legacyPrice)).toHaveLength(1);

    const admin = await prisma().user.findUniqueOrThrow({ where: { email: "admin@example.com" } });
    const { secret } = await createApiKey({ id: admin.id, email: admin.email }, { name: "Legacy", scope: "read" });
    const api = await apiEntitlementsRoute.answer(`Bearer ${secret}`, String(user.accountId));
    expect(api.status).toBe(200);
    expect(await api.json()).toMatchObject({ tier: { key: "pro" }, status: "active" });

    const reason =
      "The subscription is active, which grants Pro. On Pro at a legacy price, £29.00/month; current price £35.00/month.";
    expect((await supportAccountPage(user.accountId)).plan.inForce).toEqual({ tierName: "Pro", reason });
    expect((await supportUserPage(user.id)).inForce).toEqual({ tierName: "Pro", reason });

    // Through renewal and a failed payment the words stay; a subscriber on a keyed price gets none of them.
    await stripe.emulator.failPayment(subscription.id);
    await stripe.emulator.settle();
    expect((await supportAccountPage(user.accountId)).plan.inForce.reason).toMatch(
      /past_due, which grants Pro \(a renewal failed; .*\)\. On Pro at a legacy price, £29\.00\/month; current price £35\.00\/month\.$/,
    );
    const keyed = await subscriberOnProMonthly();
    expect((await accountPage(await sessionCookieFor(keyed.user.email))).price).toEqual({
      amount: "£35.00",
      interval: "month",
      label: "£35.00 per month",
      legacy: null,
    });
    expect((await supportAccountPage(keyed.user.accountId)).plan.inForce.reason).toBe(
      "The subscription is active, which grants Pro.",
    );
  });

  it("asks Stripe a fixed few times per page (the subscription, the catalog), then nothing while cached", async () => {
    const { user, subscription } = await legacySubscriber();
    const cookie = await sessionCookieFor(user.email);
    const proxy = await countingStripeProxy(stripeConnection().apiBase ?? "");
    try {
      await withStripeConnection({ apiBase: proxy.url }, async () => {
        invalidatePriceCache();
        clearSubscriptionDetailsCache();
        expect((await accountPage(cookie)).price.legacy.current.label).toBe("£35.00 per month");
        // The catalog's one page answers every tier's keys here (more prices: more pages, never per key).
        expect(proxy.calls).toEqual([`GET /v1/subscriptions/${subscription.id}`, "GET /v1/prices"]);
        proxy.calls.length = 0;
        await accountPage(cookie);
        expect((await pricingPage(cookie)).tiers.find((t: { key: string }) => t.key === "pro").legacyPrice).toBe(
          "£29.00/month",
        );
        expect(proxy.calls).toEqual([]);
      });
    } finally {
      await proxy.close();
    }
  });

  it("with Stripe down, shows what is known: the price paid, and the plan", async () => {
    const { user } = await legacySubscriber();
    const cookie = await sessionCookieFor(user.email);
    await accountPage(cookie); // the subscription is cached; the catalog is not
    invalidatePriceCache();
    await withStripeConnection({ apiBase: "http://127.0.0.1:9", maxNetworkRetries: 0 }, async () => {
      expect(await accountPage(cookie)).toMatchObject({
        plan: { key: "pro" },
        price: { label: "£29.00 per month", legacy: { current: null } },
      });
      // Support's page asks for the subscription afresh: none, so the explanation is the database's.
      expect((await supportAccountPage(user.accountId)).plan.inForce).toEqual({
        tierName: "Pro",
        reason: "The subscription is active, which grants Pro.",
      });
    });
  });
});
