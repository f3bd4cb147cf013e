// Whop as a billing provider beside Stripe, against the bundled Whop and Stripe emulators and a real
// database: the dashboard's live product checks, /pricing's offers, checkout, the return from Whop,
// the account's dates, and one paid tier at a time when a Stripe subscription and a Whop membership overlap.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { getEntitlements } from "../../app/services/customers/entitlements.server.ts";
import { getStripe } from "../../app/services/stripe/client.server.ts";
import { checkTiersAgainstStripe } from "../../app/services/tiers/tier-status.server.ts";
import { invalidateWhopCatalog } from "../../app/services/whop/catalog.server.ts";
import { getWhopOffers } from "../../app/services/whop/offers.server.ts";
import * as stripeCheckoutRoute from "../../app/routes/api.stripe.checkout.ts";
import * as checkoutRoute from "../../app/routes/api.whop.checkout.ts";
import * as returnRoute from "../../app/routes/api.whop.return.ts";
import { testDb } from "../setup/database.ts";
import { useStripeEmulator } from "../stripe-harness.ts";
import { TEST_WHOP_API_KEY, useWhopEmulator, withWhopConnection } from "../whop-harness.ts";
import {
  BASE_URL,
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
const whop = useWhopEmulator();
const prisma = () => testDb().prisma;

let counter = 0;
async function newCustomer() {
  const email = `whop-billing-${counter++}-${Date.now()}@example.com`;
  const user = await createBillingUser({ email });
  return { user, cookie: await sessionCookieFor(email) };
}

function whopCheckout(
  fields: Record<string, string>,
  { cookie, as = "json" }: { cookie?: string; as?: "json" | "form" } = {},
) {
  const headers: Record<string, string> = cookie ? { Cookie: cookie } : {};
  const request =
    as === "json"
      ? new Request(`${BASE_URL}/api/whop/checkout`, {
          method: "POST",
          headers: { ...headers, "Content-Type": "application/json", Accept: "application/json" },
          body: JSON.stringify(fields),
        })
      : new Request(`${BASE_URL}/api/whop/checkout`, {
          method: "POST",
          headers: { ...headers, "Content-Type": "application/x-www-form-urlencoded", Accept: "text/html" },
          body: new URLSearchParams(fields),
        });
  return settle(() => checkoutRoute.action(routeArgs(request)));
}

const userOf = (id: number) => billingOf(id);

async function whopTiers() {
  const tiers = await prisma().subscriptionTier.findMany({ include: { prices: true } });
  return tiers.map((tier) => ({ ...tier, lookupKeys: tier.prices.map((price) => price.lookupKey) }));
}

async function addWhopTier(key: string, productKey: string) {
  await prisma().subscriptionTier.upsert({
    where: { key },
    update: { whopProductKey: productKey },
    create: { key, name: key, billingProvider: "whop", whopProductKey: productKey, isCustomerFacing: false },
  });
}

/** A server that accepts connections and never answers: Whop hanging. */
async function hangingServer() {
  const server = http.createServer(() => {});
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api/v1`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

beforeAll(async () => {
  await seedDemoData();
  await addWhopTier("whop_missing", "prod_not_in_whop");
  await addWhopTier("whop_retired", "prod_whop_retired");
  await addWhopTier("whop_waitlist", "prod_whop_waitlist");
  await addWhopTier("whop_plus", "prod_whop_plus");
});
beforeEach(() => {
  whop.emulator.reset();
  stripe.emulator.reset();
  invalidateWhopCatalog();
});

describe("the dashboard checks Whop products live", () => {
  it("flags missing, archived and unsellable products; a found one shows its plans, prices and periods", async () => {
    const { byTier, whop: side } = await checkTiersAgainstStripe(await whopTiers());
    expect(side.unverified).toBeNull();
    expect(byTier.get("whop_basic")).toMatchObject({
      health: { state: "valid" },
      whopProduct: {
        productId: "prod_whop_basic",
        state: "found",
        title: "Whop Basic",
        plans: [
          { id: "plan_emu_whop_basic_monthly", amount: "$5.00", interval: "month", sellable: true },
          {
            id: "plan_emu_whop_basic_2024",
            amount: "$50.00",
            interval: "year",
            sellable: false,
            visibility: "archived",
          },
        ],
      },
    });
    expect(byTier.get("whop_missing")).toMatchObject({
      health: { state: "invalid", problems: ['"prod_not_in_whop": missing in Whop'] },
      whopProduct: { state: "missing", plans: [] },
    });
    expect(byTier.get("whop_retired")?.health).toEqual({
      state: "invalid",
      problems: ['"prod_whop_retired": the product is archived in Whop'],
    });
    expect(byTier.get("whop_waitlist")?.whopProduct?.state).toBe("no-plan");
    expect(byTier.get("whop_plus")).toMatchObject({
      health: { state: "valid" },
      whopProduct: { visibility: "hidden" },
    });
    expect(byTier.get("pro")?.whopProduct).toBeNull();
  });

  it("caches what Whop said until Whop reports a product change", async () => {
    const tiers = await whopTiers();
    await checkTiersAgainstStripe(tiers);
    const dead = "http://127.0.0.1:9/api/v1";
    const cached = await withWhopConnection({ apiBase: dead }, () => checkTiersAgainstStripe(tiers));
    expect(cached.byTier.get("whop_basic")?.health).toEqual({ state: "valid" });

    await whop.emulator.createEvent("product.updated", {
      id: "prod_whop_basic",
      title: "Whop Basic",
      visibility: "archived",
    });
    const after = await withWhopConnection({ apiBase: dead }, () => checkTiersAgainstStripe(tiers));
    expect(after.whop.unverified).toMatch(/fetch failed|ECONNREFUSED/);
    expect(after.byTier.get("whop_basic")?.health).toMatchObject({
      state: "unverified",
      reason: expect.stringMatching(/^could not verify: /),
    });
  });

  it("says 'could not verify' within about 3 seconds when Whop hangs, and caches nothing", async () => {
    const hanging = await hangingServer();
    try {
      const started = Date.now();
      const result = await withWhopConnection({ apiBase: hanging.url }, async () =>
        checkTiersAgainstStripe(await whopTiers()),
      );
      expect(Date.now() - started).toBeLessThan(4_500);
      expect(result.whop.unverified).toBe("Whop did not answer within 3000 ms");
      expect(result.byTier.get("whop_basic")?.health).toEqual({
        state: "unverified",
        reason: "could not verify: Whop did not answer within 3000 ms",
      });
    } finally {
      await hanging.close();
    }
    expect((await checkTiersAgainstStripe(await whopTiers())).byTier.get("whop_basic")?.health).toEqual({
      state: "valid",
    });
  });

  it("without a Whop key, Whop tiers are unverified with the reason, and Whop is not asked", async () => {
    const result = await withWhopConnection({ mode: "disabled", apiKey: null }, async () =>
      checkTiersAgainstStripe(await whopTiers()),
    );
    expect(result.byTier.get("whop_basic")?.health).toEqual({
      state: "unverified",
      reason: "could not verify: Whop is not configured (WHOP_API_KEY is not set)",
    });
  });
});

describe("/pricing's Whop offers", () => {
  it("shows a Whop tier's plans for sale with prices from Whop", async () => {
    const offers = await getWhopOffers(await whopTiers());
    expect(offers.get("whop_basic")).toEqual({
      state: "available",
      productTitle: "Whop Basic",
      plans: [
        expect.objectContaining({
          id: "plan_emu_whop_basic_monthly",
          amount: "$5.00",
          interval: "month",
          cadence: "monthly",
        }),
      ],
    });
    expect(offers.get("whop_plus")).toMatchObject({
      state: "available",
      plans: [{ firstPayment: "$1.00", trialDays: 7 }, { interval: "year" }],
    });
    expect(offers.get("whop_missing")).toEqual({
      state: "unavailable",
      reason: "this plan is not on sale on Whop right now",
    });
    expect(offers.has("pro")).toBe(false);
  });

  it("says Whop purchases are not available when no Whop key is configured, never faking prices", async () => {
    const offers = await withWhopConnection({ mode: "disabled", apiKey: null }, async () =>
      getWhopOffers(await whopTiers()),
    );
    expect(offers.get("whop_basic")).toEqual({
      state: "unavailable",
      reason: "Whop purchases are not available on this Tierdesk (no Whop API key is configured)",
    });
  });
});

describe("POST /api/whop/checkout", () => {
  it("requires sign-in", async () => {
    const response = await whopCheckout({ tier: "whop_basic" });
    expect(response.status).toBe(401);
  });

  it("returns Whop's purchase URL of a checkout configuration that carries the account's id", async () => {
    const { user, cookie } = await newCustomer();
    const response = await whopCheckout({ tier: "whop_basic" }, { cookie });
    expect(response.status).toBe(200);
    const { url } = (await response.json()) as { url: string };
    expect(url).toMatch(new RegExp(`^${whop.emulator.url}/checkout/ch_`));
    const configuration = await fetch(`${whop.emulator.apiBase}/checkout_configurations/${url.split("/").pop()}`, {
      headers: { Authorization: `Bearer ${TEST_WHOP_API_KEY}` },
    }).then((r) => r.json());
    expect(configuration).toMatchObject({
      plan: { id: "plan_emu_whop_basic_monthly" },
      metadata: { tierdesk_account_id: String(user.accountId), tier: "whop_basic" },
      redirect_url: `${BASE_URL}/api/whop/return`,
    });
  });

  it("answers a plain form post with a 303 to Whop", async () => {
    const { cookie } = await newCustomer();
    const response = await whopCheckout(
      { tier: "whop_basic", plan: "plan_emu_whop_basic_monthly" },
      { cookie, as: "form" },
    );
    expect(response.status).toBe(303);
    expect(response.headers.get("Location")).toMatch(/\/checkout\/ch_/);
  });

  it("refuses what is not for sale: a Stripe tier, a retired plan, a tier with several plans without one chosen", async () => {
    const { cookie } = await newCustomer();
    expect((await whopCheckout({ tier: "pro" }, { cookie })).status).toBe(400);
    const retired = await whopCheckout({ tier: "whop_basic", plan: "plan_emu_whop_basic_2024" }, { cookie });
    expect(retired.status).toBe(400);
    expect((await retired.json()).error).toBe("Plan plan_emu_whop_basic_2024 is not on sale for Whop Basic.");
    expect((await whopCheckout({ tier: "whop_missing" }, { cookie })).status).toBe(400);
  });

  it("answers 503 without a Whop key, and 409 to someone who already pays (through Whop or Stripe)", async () => {
    const { user, cookie } = await newCustomer();
    const disabled = await withWhopConnection({ mode: "disabled", apiKey: null }, () =>
      whopCheckout({ tier: "whop_basic" }, { cookie }),
    );
    expect(disabled.status).toBe(503);
    await setBilling(user.id, { whopMembershipStatus: "active" });
    expect((await whopCheckout({ tier: "whop_basic" }, { cookie })).status).toBe(409);
    // A Stripe checkout is refused too, pointing to Whop: Stripe's portal has nothing for this user.
    const stripeCheckout = (accept: string) =>
      settle(() =>
        stripeCheckoutRoute.action(
          routeArgs(
            formRequest("/api/stripe/checkout", { lookup_key: "pro_monthly" }, { cookie, headers: { Accept: accept } }),
          ),
        ),
      );
    const asJson = await stripeCheckout("application/json");
    expect(asJson.status).toBe(409);
    expect(await asJson.json()).toEqual({
      error: "You already have a plan through Whop. Change or cancel it on Whop.",
    });
    const asPage = await stripeCheckout("text/html");
    expect(asPage.status).toBe(409);
    const page = await asPage.text();
    expect(page).toContain("Change or cancel it on Whop.");
    expect(page).not.toContain("/api/stripe/portal");
    await setBilling(user.id, { whopMembershipStatus: null, subscriptionStatus: "active" });
    expect((await whopCheckout({ tier: "whop_basic" }, { cookie })).status).toBe(409);
  });
});

describe("back from Whop's checkout", () => {
  it("applies the purchase at once when the webhook is late; the webhook then changes nothing", async () => {
    const { user, cookie } = await newCustomer();
    const { url } = (await (await whopCheckout({ tier: "whop_basic" }, { cookie })).json()) as { url: string };
    whop.emulator.holdWebhooks();
    await whop.emulator.completeCheckout(url.split("/").pop()!, { email: user.email });
    expect((await userOf(user.id)).tierId).toBeNull();

    const response = await settle(() => returnRoute.loader(routeArgs(getRequest("/api/whop/return", cookie))));
    expect(response.status).toBe(302);
    expect(response.headers.get("Location")).toBe("/account");
    expect((await userOf(user.id)).tier?.key).toBe("whop_basic");

    const deliveries = await whop.emulator.releaseWebhooks();
    expect(deliveries.map((delivery) => delivery.status)).toEqual([200, 200]);
    expect((await userOf(user.id)).tier?.key).toBe("whop_basic");
  });
});

describe("a Stripe subscription and a Whop membership at once: one paid tier, the newer wins", () => {
  async function stripeSubscriber() {
    const { user, cookie } = await newCustomer();
    const request = new Request(`${BASE_URL}/api/stripe/checkout`, {
      method: "POST",
      headers: { Cookie: cookie, "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ lookup_key: "pro_monthly" }),
    });
    const { url } = (await (await settle(() => stripeCheckoutRoute.action(routeArgs(request)))).json()) as {
      url: string;
    };
    const { subscription } = await stripe.emulator.completeCheckout(url.split("/").pop()!);
    return { user, cookie, subscriptionId: subscription.id };
  }

  it("a newer Whop membership takes the tier, a Stripe renewal does not take it back, its end falls back to Stripe", async () => {
    const { user, subscriptionId } = await stripeSubscriber();
    expect(await userOf(user.id)).toMatchObject({
      tier: { key: "pro" },
      billingSource: "stripe",
      subscriptionStatus: "active",
    });

    // Bought on Whop outside Tierdesk's checkout (which refuses a paying customer), naming the user.
    const { membership } = await whop.emulator.purchase("plan_emu_whop_basic_monthly", {
      email: user.email,
      metadata: { tierdesk_user_id: String(user.id) },
    });
    const onWhop = await userOf(user.id);
    expect(onWhop).toMatchObject({
      tier: { key: "whop_basic" },
      billingSource: "whop",
      stripeSubscriptionId: subscriptionId,
      subscriptionStatus: "active",
    });
    expect(await getEntitlements(onWhop)).toMatchObject({
      tier: { key: "whop_basic" },
      provider: "whop",
      status: "active",
      whop: { membershipId: membership.id },
    });

    const renewal = await stripe.emulator.renewSubscription(subscriptionId);
    const updated = renewal.events.find((event) => event.type === "customer.subscription.updated")!;
    const stored = await prisma().stripeEvent.findUniqueOrThrow({ where: { eventId: updated.id } });
    expect(stored.status).toBe("processed");
    expect((await userOf(user.id)).tier?.key).toBe("whop_basic");

    await whop.emulator.setMembershipStatus(membership.id, "canceled");
    const back = await userOf(user.id);
    expect(back).toMatchObject({ tier: { key: "pro" }, billingSource: "stripe", whopMembershipStatus: "canceled" });
    expect(await getEntitlements(back)).toMatchObject({ tier: { key: "pro" }, provider: "stripe", manageUrl: null });
  });

  it("a Stripe cancellation in the same second as the fall back to Stripe is not lost", async () => {
    for (let attempt = 1; ; attempt++) {
      const { user, subscriptionId } = await stripeSubscriber();
      await stripe.emulator.settle();
      const { membership } = await whop.emulator.purchase("plan_emu_whop_basic_monthly", {
        email: user.email,
        metadata: { tierdesk_user_id: String(user.id) },
      });
      expect((await userOf(user.id)).tier?.key).toBe("whop_basic");
      stripe.emulator.holdWebhooks();
      const seenBefore = stripe.emulator.events.length;
      // At the start of a second: the Whop membership ends (Tierdesk falls back to Stripe's Pro),
      // then the Stripe subscription is cancelled within that same second.
      await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 5));
      const second = Math.floor(Date.now() / 1000);
      await whop.emulator.setMembershipStatus(membership.id, "canceled");
      expect((await userOf(user.id)).tier?.key).toBe("pro");
      await getStripe().subscriptions.cancel(subscriptionId);
      const cancellation = stripe.emulator.events.slice(seenBefore).map((record) => record.event);
      await stripe.emulator.releaseWebhooks();
      await stripe.emulator.settle();
      if (!cancellation.every((event) => event.created === second)) {
        if (attempt === 3) throw new Error("could not fall back and cancel within one second in three attempts");
        continue;
      }
      expect(await userOf(user.id)).toMatchObject({ tier: null, subscriptionStatus: "canceled" });
      return;
    }
  });

  it("a Stripe subscription ending does not take away a Whop tier; a Whop one ending with nothing else live means free", async () => {
    const { user, subscriptionId } = await stripeSubscriber();
    const { membership } = await whop.emulator.purchase("plan_emu_whop_basic_monthly", {
      email: user.email,
      metadata: { tierdesk_user_id: String(user.id) },
    });
    await getStripe().subscriptions.cancel(subscriptionId);
    await stripe.emulator.settle();
    expect(await userOf(user.id)).toMatchObject({
      tier: { key: "whop_basic" },
      billingSource: "whop",
      subscriptionStatus: "canceled",
    });

    await whop.emulator.setMembershipStatus(membership.id, "expired");
    expect(await userOf(user.id)).toMatchObject({ tierId: null, billingSource: null });
  });
});
