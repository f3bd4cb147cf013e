// A tier whose integration is not valid in Stripe (as the dashboard computes it, live) is off sale:
// not offered on /pricing, and checkout refuses every one of its keys, even a valid one. Existing
// subscribers keep working, and an outage we cannot see through takes nothing off sale.
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { invalidatePriceCache } from "../../app/services/stripe/prices.server.ts";
import { getStripe } from "../../app/services/stripe/client.server.ts";
import * as accountRoute from "../../app/routes/account.tsx";
import * as adminTiersRoute from "../../app/routes/admin.tiers._index.tsx";
import * as checkoutRoute from "../../app/routes/api.stripe.checkout.ts";
import * as portalRoute from "../../app/routes/api.stripe.portal.ts";
import * as pricingRoute from "../../app/routes/pricing/route.tsx";
import { testDb } from "../setup/database.ts";
import { useStripeEmulator, withStripeConnection } from "../stripe-harness.ts";
import {
  BASE_URL,
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
const MISSING_KEY = "pro_quarterly_not_in_stripe";

let userCounter = 0;
async function newCustomer() {
  const email = `invalid-tier-${userCounter++}-${Date.now()}@example.com`;
  const user = await createBillingUser({ email });
  return { user, cookie: await sessionCookieFor(email) };
}

function checkoutRequest(lookupKey: string, cookie: string, as: "json" | "browser-form" | "api-form") {
  if (as === "json") {
    return new Request(`${BASE_URL}/api/stripe/checkout`, {
      method: "POST",
      headers: { Cookie: cookie, "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ lookup_key: lookupKey }),
    });
  }
  const accept: Record<string, string> = as === "browser-form" ? { Accept: "text/html,application/xhtml+xml" } : {};
  return formRequest("/api/stripe/checkout", { lookup_key: lookupKey }, { cookie, headers: accept });
}
const checkout = (request: Request) => settle(() => checkoutRoute.action(routeArgs(request)));
const pricing = async (cookie?: string) =>
  (await settle(() => pricingRoute.loader(routeArgs(getRequest("/pricing", cookie))))).json();
const tierKeys = (data: { tiers: Array<{ key: string }> }) => data.tiers.map((tier) => tier.key);

/** What an operator does by mistake: adds to Pro a lookup key Stripe has no price for. */
async function breakPro() {
  const pro = await prisma().subscriptionTier.findUniqueOrThrow({ where: { key: "pro" } });
  await prisma().subscriptionTierPrice.create({ data: { tierId: pro.id, lookupKey: MISSING_KEY, position: 9 } });
  invalidatePriceCache();
}

async function subscribeTo(lookupKey: string) {
  const customer = await newCustomer();
  const { url } = await (await checkout(checkoutRequest(lookupKey, customer.cookie, "json"))).json();
  const { subscription } = await stripe.emulator.completeCheckout(url.split("/").pop());
  await stripe.emulator.settle();
  return { ...customer, subscription };
}

beforeAll(seedDemoData);
beforeEach(() => {
  stripe.emulator.reset();
  invalidatePriceCache();
});
afterEach(async () => {
  await prisma().subscriptionTierPrice.deleteMany({ where: { lookupKey: MISSING_KEY } });
  invalidatePriceCache();
});

describe("a customer-facing Stripe tier with a lookup key Stripe does not have", () => {
  it("is what the dashboard calls not valid, and /pricing does not offer it to anyone", async () => {
    expect(tierKeys(await pricing())).toContain("pro");
    await breakPro();

    const admin = await sessionCookieFor("admin@example.com");
    const tiers = await (
      await settle(() => adminTiersRoute.loader(routeArgs(getRequest("/admin/tiers", admin))))
    ).json();
    expect(tiers.rows.find((row: { key: string }) => row.key === "pro").health).toEqual({
      state: "invalid",
      problems: [`"${MISSING_KEY}": missing in Stripe`],
    });

    expect(tierKeys(await pricing())).toEqual(["free", "hobbyist", "whop_basic"]);
    const { cookie } = await newCustomer();
    const signedIn = await pricing(cookie);
    expect(tierKeys(signedIn)).toEqual(["free", "hobbyist", "whop_basic"]);
    // The other plans are still sold.
    expect(signedIn.tiers.find((tier: { key: string }) => tier.key === "hobbyist").action.kind).toBe("subscribe");
  });

  it("checkout refuses its keys, even the valid one, with 409 and a clear message, for JSON and form posts", async () => {
    await breakPro();
    const { cookie } = await newCustomer();
    const message = /Pro cannot be bought right now/;

    const json = await checkout(checkoutRequest("pro_monthly", cookie, "json"));
    expect(json.status).toBe(409);
    expect((await json.json()).error).toMatch(message);

    const browser = await checkout(checkoutRequest("pro_yearly", cookie, "browser-form"));
    expect(browser.status).toBe(409);
    expect(browser.headers.get("Content-Type")).toMatch(/text\/html/);
    expect(await browser.text()).toMatch(message);

    const api = await checkout(checkoutRequest(MISSING_KEY, cookie, "api-form"));
    expect(api.status).toBe(409);
    expect((await api.json()).error).toMatch(message);

    // Nothing was opened in Stripe; other tiers still check out.
    const hobbyist = await checkout(checkoutRequest("hobbyist_monthly", cookie, "json"));
    expect(hobbyist.status).toBe(200);
  });

  it("a subscriber of another plan cannot switch to it either (409)", async () => {
    const { cookie } = await subscribeTo("hobbyist_monthly");
    await breakPro();
    expect(tierKeys(await pricing(cookie))).not.toContain("pro");
    const response = await settle(() =>
      pricingRoute.action(
        routeArgs(formRequest("/pricing", { intent: "switch", lookup_key: "pro_monthly" }, { cookie })),
      ),
    );
    expect(response.status).toBe(409);
    expect((await response.json()).error).toMatch(/Pro cannot be bought right now/);
  });

  it("leaves existing subscribers alone: webhooks, /account, the portal, and their plan on /pricing without a switch", async () => {
    const { user, cookie, subscription } = await subscribeTo("pro_monthly");
    await breakPro();
    const before = stripe.emulator.events.length;

    await stripe.emulator.renewSubscription(subscription.id);
    await getStripe().subscriptions.update(subscription.id, { cancel_at_period_end: true });
    await stripe.emulator.settle();
    const sinceBroken = stripe.emulator.events.slice(before).map((record) => record.event.id);
    const events = await prisma().stripeEvent.findMany({ where: { eventId: { in: sinceBroken } } });
    expect(events.map((event) => event.status)).toEqual(sinceBroken.map(() => "processed"));
    expect(await billingOf(user.id)).toMatchObject({
      subscriptionStatus: "active",
      tier: { key: "pro" },
    });

    const account = await settle(() => accountRoute.loader(routeArgs(getRequest("/account", cookie))));
    expect(account.status).toBe(200);
    expect((await account.json()).plan.key).toBe("pro");
    const portal = await settle(() =>
      portalRoute.action(
        routeArgs(
          new Request(`${BASE_URL}/api/stripe/portal`, {
            method: "POST",
            headers: { Cookie: cookie, Accept: "application/json" },
          }),
        ),
      ),
    );
    expect(portal.status).toBe(200);

    const page = await pricing(cookie);
    const pro = page.tiers.find((tier: { key: string }) => tier.key === "pro");
    expect(pro).toMatchObject({ current: true, action: { kind: "current" } });
  });

  it("takes nothing off sale when Stripe cannot be asked (its last prices, else indicative ones)", async () => {
    await breakPro();
    // Nothing listens on port 9.
    await withStripeConnection({ apiBase: "http://127.0.0.1:9", maxNetworkRetries: 0 }, async () => {
      const data = await pricing();
      expect(data.pricesUnavailable).toBe(true);
      expect(data.pricesAsOf).toMatch(/^as of /);
      expect(data.tiers.find((tier: { key: string }) => tier.key === "pro").display).toMatchObject({
        kind: "prices",
        prices: [{ lookupKey: "pro_monthly", amount: "£29.00" }, { lookupKey: "pro_yearly" }],
      });

      await prisma().stripePriceSnapshot.deleteMany();
      const unknown = await pricing();
      expect(unknown.tiers.find((tier: { key: string }) => tier.key === "pro").display).toEqual({
        kind: "indicative",
        text: "£29",
      });
    });
  });
});
