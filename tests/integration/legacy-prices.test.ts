// Legacy prices: an operator changes Pro's price in Stripe the only way Stripe allows (a new price,
// the lookup key moved to it with transfer_lookup_key). Existing subscriptions stay on the old price,
// which has no lookup key now; their events must still find the tier, through the price's product.
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { invalidatePriceCache } from "../../app/services/stripe/prices.server.ts";
import { getStripe } from "../../app/services/stripe/client.server.ts";
import { syncAccountFromStripe } from "../../app/services/customers/account-admin.server.ts";
import * as adminOverviewRoute from "../../app/routes/admin._index.tsx";
import * as tierPageRoute from "../../app/routes/admin.tiers.$key/route.tsx";
import * as tiersRoute from "../../app/routes/admin.tiers._index.tsx";
import * as checkoutRoute from "../../app/routes/api.stripe.checkout.ts";
import * as webhookRoute from "../../app/routes/api.stripe.webhook.ts";
import { testDb } from "../setup/database.ts";
import { event, subscription as subscriptionFixture, webhookRequest } from "../stripe-fixtures.ts";
import { useStripeEmulator } from "../stripe-harness.ts";
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
