// The customer's side of billing against the bundled Stripe emulator (its signed webhooks reach the
// real webhook route): a Stripe customer that no longer exists is unlinked (portal, checkout,
// `customer.deleted`), /account's price, interval, state and next action, Resume, and /pricing's
// Switch / Whop / Free rules with the portal's plan-switch confirmation.
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  planAction,
  priceDisplay,
  whopProductUrl,
  type PricingTier,
} from "../../app/services/stripe/customer-pricing.server.ts";
import { invalidatePriceCache, lookupPrices } from "../../app/services/stripe/prices.server.ts";
import { getStripe } from "../../app/services/stripe/client.server.ts";
import * as accountRoute from "../../app/routes/account.tsx";
import * as checkoutRoute from "../../app/routes/api.stripe.checkout.ts";
import * as portalRoute from "../../app/routes/api.stripe.portal.ts";
import * as successRoute from "../../app/routes/billing.success.tsx";
import * as switchRoute from "../../app/routes/account.switch.ts";
import * as entitlementsRoute from "../../app/routes/api.me.entitlements.ts";
import * as pricingRoute from "../../app/routes/pricing/route.tsx";
import { testDb } from "../setup/database.ts";
import { countingStripeProxy, useStripeEmulator, withStripeConnection } from "../stripe-harness.ts";
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
const prisma = () => testDb().prisma;

let counter = 0;
async function newCustomer() {
  const email = `customer-${counter++}-${Date.now()}@example.com`;
  // As sign-up does: the customer owns a personal account, which their session acts for.
  const user = await createBillingUser({ email });
  return { user, cookie: await sessionCookieFor(email) };
}

const jsonPost = (path: string, cookie: string, body: Record<string, string> = {}) =>
  new Request(`${BASE_URL}${path}`, {
    method: "POST",
    headers: { Cookie: cookie, "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify(body),
  });
const checkout = (cookie: string, lookupKey: string) =>
  settle(() => checkoutRoute.action(routeArgs(jsonPost("/api/stripe/checkout", cookie, { lookup_key: lookupKey }))));
const openPortal = (cookie: string) =>
  settle(() => portalRoute.action(routeArgs(jsonPost("/api/stripe/portal", cookie))));
const sessionIdOf = (url: string) => url.split("/").pop() ?? "";
const account = async (cookie: string) =>
  (await settle(() => accountRoute.loader(routeArgs(getRequest("/account", cookie))))).json();
const pricing = async (cookie?: string, path = "/pricing") =>
  (await settle(() => pricingRoute.loader(routeArgs(getRequest(path, cookie))))).json();
const stored = (userId: number) => billingOf(userId);
/** The audit log's notes of the user's personal account losing its Stripe customer. */
const unlinkNotes = async (userId: number) =>
  prisma().auditEntry.findMany({
    where: {
      entity: "account",
      entityId: String((await billingOf(userId)).accountId),
      action: "stripe customer unlinked",
    },
  });

/** A new user who paid for `lookupKey` at Checkout, with the webhooks applied. */
async function subscriber(lookupKey = "pro_monthly") {
  const { user, cookie } = await newCustomer();
  const { url } = await (await checkout(cookie, lookupKey)).json();
  const { subscription } = await stripe.emulator.completeCheckout(sessionIdOf(url));
  await stripe.emulator.settle();
  return { user, cookie, subscription, customerId: String(subscription.customer) };
}

/** Deletes the customer in Stripe without telling the app (the webhook lost, or a forgetful double). */
async function deleteCustomerSilently(customerId: string) {
  stripe.emulator.holdWebhooks();
  await getStripe().customers.del(customerId);
  stripe.emulator.reset(); // drops the held events too
}

beforeAll(seedDemoData);
beforeEach(() => {
  stripe.emulator.reset();
  invalidatePriceCache();
});

describe("a Stripe customer that no longer exists", () => {
  it("opening the portal unlinks it, says what happened, and lets the user subscribe again", async () => {
    const { user, cookie, customerId, subscription } = await subscriber();
    await deleteCustomerSilently(customerId);

    const portal = await openPortal(cookie);
    expect(portal.status).toBe(404);
    expect((await portal.json()).error).toMatch(/no longer exists in Stripe.*Free plan/);
    const after = await stored(user.id);
    expect(after).toMatchObject({
      stripeCustomerId: null,
      stripeSubscriptionId: null,
      subscriptionStatus: null,
      tierId: null,
    });
    const [note, ...more] = await unlinkNotes(user.id);
    expect(more).toEqual([]);
    expect(note).toMatchObject({ actorId: null, actorEmail: "stripe", entityLabel: user.name });
    expect(note?.before).toMatchObject({
      stripeCustomerId: customerId,
      stripeSubscriptionId: subscription.id,
      tier: "pro",
    });
    expect(note?.after).toMatchObject({ stripeCustomerId: null, tier: null, reason: expect.stringMatching(/portal/) });

    const again = await checkout(cookie, "hobbyist_monthly");
    expect(again.status).toBe(200);
    const session = await getStripe().checkout.sessions.retrieve(sessionIdOf((await again.json()).url));
    // A new Stripe customer for the account, with the owner's email, linked before they pay.
    const relinked = (await stored(user.id)).stripeCustomerId;
    expect(relinked).toMatch(/^cus_/);
    expect(relinked).not.toBe(customerId);
    expect(session).toMatchObject({ customer: relinked, customer_email: null });
    expect(await getStripe().customers.retrieve(relinked!)).toMatchObject({
      email: user.email,
      metadata: { tierdesk_account_id: String(user.accountId) },
    });
    // Paid within the same second as the unlink: its events are not taken for older ones.
    await stripe.emulator.completeCheckout(session.id);
    await stripe.emulator.settle();
    expect(await stored(user.id)).toMatchObject({ subscriptionStatus: "active", tier: { key: "hobbyist" } });
  });

  it("a second checkout is no longer refused with 409: the gone customer is unlinked and Checkout opens", async () => {
    const { user, cookie, customerId } = await subscriber();
    // A customer Stripe still has: the 409 stands, and says where to go instead.
    const refused = await checkout(cookie, "pro_yearly");
    expect(refused.status).toBe(409);
    expect(await refused.json()).toMatchObject({ portal: "/api/stripe/portal" });

    await deleteCustomerSilently(customerId);
    const response = await checkout(cookie, "pro_yearly");
    expect(response.status).toBe(200);
    expect((await response.json()).url).toMatch(/\/checkout\/cs_/);
    // The gone customer unlinked (the subscription and tier with it), a new one linked for the checkout.
    const after = await stored(user.id);
    expect(after).toMatchObject({ subscriptionStatus: null, tierId: null, stripeSubscriptionId: null });
    expect(after.stripeCustomerId).toMatch(/^cus_/);
    expect(after.stripeCustomerId).not.toBe(customerId);
    expect(await unlinkNotes(user.id)).toHaveLength(1);
  });

  it("checkout with a lapsed user's deleted customer unlinks it and checks out as a new customer of theirs", async () => {
    const { user, cookie } = await newCustomer();
    const customer = await getStripe().customers.create({ email: user.email });
    await setBilling(user.id, { stripeCustomerId: customer.id, subscriptionStatus: "canceled" });
    await deleteCustomerSilently(customer.id);

    const response = await checkout(cookie, "pro_monthly");
    expect(response.status).toBe(200);
    const session = await getStripe().checkout.sessions.retrieve(sessionIdOf((await response.json()).url));
    const relinked = (await stored(user.id)).stripeCustomerId;
    expect(relinked).toMatch(/^cus_/);
    expect(relinked).not.toBe(customer.id);
    expect(session).toMatchObject({ customer: relinked, customer_email: null });
    expect(await getStripe().customers.retrieve(relinked!)).toMatchObject({ email: user.email });
    expect(await unlinkNotes(user.id)).toHaveLength(1);
  });

  it("a customer.deleted webhook unlinks it (after its subscription's deletion), with a note for support", async () => {
    const { user, customerId } = await subscriber();
    await getStripe().customers.del(customerId);
    await stripe.emulator.settle();

    const types = stripe.emulator.events.map((r) => r.event.type);
    expect(types.slice(-2)).toEqual(["customer.subscription.deleted", "customer.deleted"]);
    const deletedEvent = stripe.emulator.events.at(-1)!.event;
    expect(await prisma().stripeEvent.findUniqueOrThrow({ where: { eventId: deletedEvent.id } })).toMatchObject({
      status: "processed",
    });
    expect(await stored(user.id)).toMatchObject({
      stripeCustomerId: null,
      stripeSubscriptionId: null,
      subscriptionStatus: null,
      tierId: null,
    });
    const [note] = await unlinkNotes(user.id);
    expect(note?.after).toMatchObject({ reason: "customer.deleted webhook" });

    // Delivered again: nobody has that customer any more, so nothing changes.
    await stripe.emulator.deliver(deletedEvent.id);
    expect(await unlinkNotes(user.id)).toHaveLength(1);
  });

  it("an exempt tier survives the unlink; a customer nobody has is ignored", async () => {
    const { user, customerId } = await subscriber();
    const partner = await prisma().subscriptionTier.findUniqueOrThrow({ where: { key: "partner" } });
    await setBilling(user.id, { tierId: partner.id });
    await getStripe().customers.del(customerId);
    await stripe.emulator.settle();
    const after = await stored(user.id);
    expect(after.stripeCustomerId).toBeNull();
    expect(after.tier?.key).toBe("partner");

    const stranger = await getStripe().customers.create({ email: "nobody@example.com" });
    await getStripe().customers.del(stranger.id);
    await stripe.emulator.settle();
    const event = stripe.emulator.events.at(-1)!.event;
    expect(await prisma().stripeEvent.findUniqueOrThrow({ where: { eventId: event.id } })).toMatchObject({
      status: "ignored",
      note: expect.stringContaining(stranger.id),
    });
  });
});

describe("an owner acting for a team", () => {
  it("subscribes the team: the success page and the webhooks put the team on the tier, not their own account", async () => {
    const { user, cookie } = await newCustomer();
    const team = await prisma().account.create({
      data: {
        name: "Team of " + user.email,
        slug: `team-${user.id}`,
        memberships: { create: { userId: user.id, role: "owner" } },
      },
    });
    const switched = await settle(() =>
      switchRoute.action(
        routeArgs(formRequest("/account/switch", { accountId: String(team.id), next: "/pricing" }, { cookie })),
      ),
    );
    expect(switched.status).toBe(303);

    const { url } = await (await checkout(cookie, "pro_monthly")).json();
    const session = await getStripe().checkout.sessions.retrieve(sessionIdOf(url));
    const teamCustomer = (await prisma().account.findUniqueOrThrow({ where: { id: team.id } })).stripeCustomerId;
    expect(teamCustomer).toMatch(/^cus_/);
    expect(session).toMatchObject({
      client_reference_id: String(team.id),
      customer: teamCustomer,
      metadata: { tierdesk_account_id: String(team.id) },
    });
    expect(await getStripe().customers.retrieve(teamCustomer!)).toMatchObject({
      email: user.email,
      name: team.name,
      metadata: { tierdesk_account_id: String(team.id) },
    });

    stripe.emulator.holdWebhooks();
    try {
      await stripe.emulator.completeCheckout(session.id);
      const page = await settle(() =>
        successRoute.loader(routeArgs(getRequest(`/billing/success?session_id=${session.id}`, cookie))),
      );
      expect(page.status).toBe(200);
      expect((await page.json()).entitlements.tier).toEqual({ key: "pro", name: "Pro" });
      expect(
        await prisma().account.findUniqueOrThrow({ where: { id: team.id }, include: { tier: true } }),
      ).toMatchObject({
        subscriptionStatus: "active",
        stripeSubscriptionId: expect.stringMatching(/^sub_/),
        tier: { key: "pro" },
      });
    } finally {
      await stripe.emulator.releaseWebhooks();
    }
    await stripe.emulator.settle();
    expect(await prisma().stripeEvent.count({ where: { status: "failed" } })).toBe(0);
    const teamAfter = await prisma().account.findUniqueOrThrow({ where: { id: team.id }, include: { tier: true } });
    expect(teamAfter).toMatchObject({
      stripeCustomerId: teamCustomer,
      subscriptionStatus: "active",
      tier: { key: "pro" },
    });
    // Their personal account is untouched: still Free, no Stripe customer.
    expect(await stored(user.id)).toMatchObject({
      tierId: null,
      stripeCustomerId: null,
      stripeSubscriptionId: null,
      subscriptionStatus: null,
    });
    const forTeam = await (
      await settle(() => entitlementsRoute.loader(routeArgs(getRequest("/api/me/entitlements", cookie))))
    ).json();
    expect(forTeam).toMatchObject({ tier: "pro", account: { id: team.id } });
    await settle(() =>
      switchRoute.action(
        routeArgs(formRequest("/account/switch", { accountId: String(user.accountId), next: "/" }, { cookie })),
      ),
    );
    const forSelf = await (
      await settle(() => entitlementsRoute.loader(routeArgs(getRequest("/api/me/entitlements", cookie))))
    ).json();
    expect(forSelf).toMatchObject({ tier: "free", account: { id: user.accountId } });
  });
});

describe("billing requests per user", () => {
  it("are limited across checkout, portal, plan switch and resume: a 429 with Retry-After, nothing opened", async () => {
    // A Stripe customer, so that an allowed portal or checkout request really opens one in Stripe.
    const { user, cookie } = await newCustomer();
    const customer = await getStripe().customers.create({ email: user.email });
    await setBilling(user.id, { stripeCustomerId: customer.id });
    const calls = [
      () => openPortal(cookie),
      () => checkout(cookie, "pro_monthly"),
      () => settle(() => accountRoute.action(routeArgs(formRequest("/account", { intent: "resume" }, { cookie })))),
      () =>
        settle(() =>
          pricingRoute.action(
            routeArgs(formRequest("/pricing", { intent: "switch", lookup_key: "pro_monthly" }, { cookie })),
          ),
        ),
    ];
    const { stripeConnection } = await import("../../app/services/stripe/client.server.ts");
    const proxy = await countingStripeProxy(stripeConnection().apiBase ?? "");
    try {
      await withStripeConnection({ apiBase: proxy.url }, async () => {
        const statuses: number[] = [];
        for (let i = 0; i < 20; i++) statuses.push((await calls[i % calls.length]!()).status);
        expect(statuses).not.toContain(429);
        // The allowed requests did open sessions in Stripe, so the count below can see one.
        expect(proxy.calls).toContain("POST /v1/billing_portal/sessions");
        expect(proxy.calls).toContain("POST /v1/checkout/sessions");
        const callsWhileAllowed = proxy.calls.length;
        for (let i = 20; i < 24; i++) statuses.push((await calls[i % calls.length]!()).status);
        expect(statuses.slice(20)).toEqual([429, 429, 429, 429]);
        const limited = await openPortal(cookie);
        expect(limited.status).toBe(429);
        expect(Number(limited.headers.get("Retry-After"))).toBeGreaterThan(0);
        expect(await limited.json()).toEqual({
          error: "Too many billing requests. Please wait a moment and try again.",
        });
        // Nothing opened: a limited request never reaches Stripe.
        expect(proxy.calls.slice(callsWhileAllowed)).toEqual([]);
      });
    } finally {
      await proxy.close();
    }
  });
});

describe("/account", () => {
  it("a free user: plan Free, no price, and the next action is to choose a plan", async () => {
    const { cookie } = await newCustomer();
    const view = await account(cookie);
    expect(view).toMatchObject({
      plan: { key: "free", name: "Free", exempt: false },
      price: null,
      state: { kind: "none" },
      nextAction: { kind: "subscribe" },
      canManageBilling: false,
    });
    expect(view.includes).toEqual([{ name: "projects.create", description: "Create projects" }]);
  });

  it("a subscriber: price and interval from Stripe, renewal date, permissions in words, change plan next", async () => {
    const { cookie, subscription } = await subscriber("pro_yearly");
    const view = await account(cookie);
    const renewsAt = new Date(subscription.items.data[0]!.current_period_end * 1000).toISOString();
    expect(view).toMatchObject({
      plan: { key: "pro", name: "Pro" },
      price: { amount: "£290.00", interval: "year", label: "£290.00 per year" },
      state: { kind: "active", renewsAt },
      nextAction: { kind: "change-plan" },
      canManageBilling: true,
      stripeUnavailable: false,
    });
    expect(view.includes.map((p: { description: string }) => p.description)).toEqual([
      "Use the API",
      "Export data as CSV",
      "Create projects",
      "Priority support",
      "Invite team members",
    ]);
  });

  it("set to cancel at period end: keeps the plan, shows the end date, and Resume undoes it", async () => {
    const { cookie, subscription } = await subscriber("hobbyist_monthly");
    await getStripe().subscriptions.update(subscription.id, { cancel_at_period_end: true });
    await stripe.emulator.settle();
    const endsAt = new Date(subscription.items.data[0]!.current_period_end * 1000).toISOString();
    expect(await account(cookie)).toMatchObject({
      plan: { key: "hobbyist" },
      price: { label: "£7.00 per month" },
      state: { kind: "ending", endsAt },
      nextAction: { kind: "resume" },
    });

    const resumed = await settle(() =>
      accountRoute.action(routeArgs(formRequest("/account", { intent: "resume" }, { cookie }))),
    );
    expect(resumed.status).toBe(303);
    expect(resumed.headers.get("Location")).toBe("/account?subscription=resumed");
    expect((await getStripe().subscriptions.retrieve(subscription.id)).cancel_at_period_end).toBe(false);
    expect(await account(cookie)).toMatchObject({
      state: { kind: "active", renewsAt: endsAt },
      nextAction: { kind: "change-plan" },
    });

    // The period ends after a cancellation: Stripe deletes the subscription and the user is on Free.
    await getStripe().subscriptions.update(subscription.id, { cancel_at_period_end: true });
    await stripe.emulator.renewSubscription(subscription.id);
    await stripe.emulator.settle();
    expect(await account(cookie)).toMatchObject({
      plan: { key: "free" },
      price: null,
      state: { kind: "ended", status: "canceled" },
      nextAction: { kind: "subscribe" },
    });
  });

  it("asks Stripe once (the subscription, not its price again), then not until a webhook changes the user", async () => {
    const { user, cookie, subscription } = await subscriber("pro_monthly");
    const { stripeConnection } = await import("../../app/services/stripe/client.server.ts");
    const proxy = await countingStripeProxy(stripeConnection().apiBase ?? "");
    try {
      await withStripeConnection({ apiBase: proxy.url }, async () => {
        expect(await account(cookie)).toMatchObject({
          price: { label: "£29.00 per month" },
          state: { kind: "active" },
        });
        expect(proxy.calls).toEqual([`GET /v1/subscriptions/${subscription.id}`]);
        expect(await account(cookie)).toMatchObject({ state: { kind: "active" } });
        expect(proxy.calls).toHaveLength(1);

        // Cancelled elsewhere (the Stripe dashboard), often within the second of the subscription's
        // own events: once the webhook is applied, the next visit asks Stripe again.
        await getStripe().subscriptions.update(subscription.id, { cancel_at_period_end: true });
        await stripe.emulator.settle();
        expect((await stored(user.id)).billingVersion).toBeGreaterThan(user.billingVersion);
        proxy.calls.length = 0;
        expect(await account(cookie)).toMatchObject({ state: { kind: "ending" }, nextAction: { kind: "resume" } });
        expect(proxy.calls).toEqual([`GET /v1/subscriptions/${subscription.id}`]);
      });
    } finally {
      await proxy.close();
    }
  });

  it("a failed renewal: past due since the period started, and the next action is the payment method", async () => {
    const { cookie, subscription } = await subscriber("pro_monthly");
    const { subscription: pastDue } = await stripe.emulator.failPayment(subscription.id);
    await stripe.emulator.settle();
    expect(await account(cookie)).toMatchObject({
      plan: { key: "pro" },
      state: { kind: "past-due", since: new Date(pastDue.items.data[0]!.current_period_start * 1000).toISOString() },
      nextAction: { kind: "update-payment" },
      canManageBilling: true,
    });
  });

  it("an exempt tier needs nothing; Stripe unreachable still shows the plan, without dates or price", async () => {
    const { user, cookie } = await newCustomer();
    const partner = await prisma().subscriptionTier.findUniqueOrThrow({ where: { key: "partner" } });
    await setBilling(user.id, { tierId: partner.id });
    expect(await account(cookie)).toMatchObject({
      plan: { key: "partner", exempt: true },
      nextAction: { kind: "none" },
    });

    const paying = await subscriber("pro_monthly");
    await withStripeConnection({ apiBase: "http://127.0.0.1:9", maxNetworkRetries: 0 }, async () => {
      expect(await account(paying.cookie)).toMatchObject({
        plan: { key: "pro" },
        price: null,
        state: { kind: "active", renewsAt: null },
        stripeUnavailable: true,
      });
    });
  });
});

type LoadedTier = {
  key: string;
  current: boolean;
  display: { kind: string; prices?: unknown[] };
  action: { kind: string };
};
const tierOf = (data: { tiers: LoadedTier[] }, key: string) => data.tiers.find((tier) => tier.key === key);

describe("/pricing", () => {
  it("anonymous: Free says Free (no stray currency), Stripe tiers ask to sign in, Whop links to its product page", async () => {
    const data = await pricing();
    expect(data.viewer).toBe("anonymous");
    expect(tierOf(data, "free")).toMatchObject({ display: { kind: "free" }, action: { kind: "sign-up" } });
    expect(tierOf(data, "pro")).toMatchObject({ display: { kind: "prices" }, action: { kind: "sign-in" } });
    expect(tierOf(data, "whop_basic")).toMatchObject({
      display: { kind: "whop" },
      action: { kind: "whop", url: "https://whop.com/prod_whop_basic/" },
    });
    expect(JSON.stringify(data)).not.toContain("$");
    expect(data.checkoutCancelled).toBe(false);
    expect((await pricing(undefined, "/pricing?checkout=cancelled")).checkoutCancelled).toBe(true);
  });

  it("a free user subscribes per interval", async () => {
    const { cookie } = await newCustomer();
    const data = await pricing(cookie);
    expect(tierOf(data, "free")).toMatchObject({ current: true, action: { kind: "current" } });
    expect(tierOf(data, "hobbyist")?.action).toEqual({
      kind: "subscribe",
      prices: [
        { lookupKey: "hobbyist_monthly", label: "Subscribe monthly" },
        { lookupKey: "hobbyist_yearly", label: "Subscribe yearly" },
      ],
    });
  });

  it("a subscriber sees their plan and interval marked, and Switch to … for the others, same interval first", async () => {
    const { cookie } = await subscriber("pro_monthly");
    const data = await pricing(cookie);
    expect(data.viewer).toBe("subscriber");
    const pro = tierOf(data, "pro");
    expect(pro).toMatchObject({
      current: true,
      action: { kind: "switch", lookupKey: "pro_yearly", label: "Switch to yearly billing" },
    });
    expect(pro?.display.prices).toEqual([
      { lookupKey: "pro_monthly", amount: "£29.00", interval: "month", current: true },
      { lookupKey: "pro_yearly", amount: "£290.00", interval: "year", current: false },
    ]);
    expect(tierOf(data, "hobbyist")).toMatchObject({
      current: false,
      action: { kind: "switch", lookupKey: "hobbyist_monthly", label: "Switch to Hobbyist" },
    });
    expect(tierOf(data, "free")?.action).toEqual({ kind: "none" });
  });

  it("a subscription set to end must be resumed before switching", async () => {
    const { cookie, subscription } = await subscriber("hobbyist_yearly");
    await getStripe().subscriptions.update(subscription.id, { cancel_at_period_end: true });
    const data = await pricing(cookie);
    expect(tierOf(data, "pro")?.action).toEqual({ kind: "resume-first" });
    expect(tierOf(data, "hobbyist")?.action).toEqual({ kind: "resume-first" });
  });

  it("Switch opens the portal's confirmation for exactly that change; confirming moves the user's tier", async () => {
    const { user, cookie, subscription } = await subscriber("pro_monthly");
    const response = await settle(() =>
      pricingRoute.action(
        routeArgs(formRequest("/pricing", { intent: "switch", lookup_key: "hobbyist_monthly" }, { cookie })),
      ),
    );
    expect(response.status).toBe(303);
    const portalUrl = response.headers.get("Location") ?? "";
    expect(portalUrl).toMatch(new RegExp(`^${stripe.emulator.url}/portal/bps_`));
    const page = await (await fetch(portalUrl)).text();
    expect(page).toContain("Confirm your new plan");
    expect(page).toContain("Hobbyist (monthly) — £7.00 / month");
    // Nothing changes until the customer confirms.
    expect((await stored(user.id)).tier?.key).toBe("pro");

    const confirmed = await fetch(`${portalUrl}/flow/confirm`, { method: "POST", redirect: "manual" });
    expect(confirmed.headers.get("location")).toBe(`${BASE_URL}/account?plan=changed`);
    await stripe.emulator.settle();
    expect((await stored(user.id)).tier?.key).toBe("hobbyist");
    const item = (await getStripe().subscriptions.retrieve(subscription.id)).items.data[0];
    expect(item).toMatchObject({ id: subscription.items.data[0]!.id, price: { lookup_key: "hobbyist_monthly" } });

    const same = await settle(() =>
      pricingRoute.action(
        routeArgs(formRequest("/pricing", { intent: "switch", lookup_key: "hobbyist_monthly" }, { cookie })),
      ),
    );
    expect(same.status).toBe(400);
    expect((await same.json()).error).toBe("You are already on this plan.");
    const freeUser = await newCustomer();
    const nothing = await settle(() =>
      pricingRoute.action(
        routeArgs(
          formRequest("/pricing", { intent: "switch", lookup_key: "pro_monthly" }, { cookie: freeUser.cookie }),
        ),
      ),
    );
    expect(nothing.status).toBe(400);
    expect((await nothing.json()).error).toMatch(/no subscription to switch/);
  });

  it("the rules behind it: a Whop tier without a product key has no button; Whop URLs from the key", async () => {
    const whop: PricingTier = {
      key: "w",
      name: "W",
      billingProvider: "whop",
      isBillingExempt: false,
      whopProductKey: null,
      fallbackPrice: "$5",
      lookupKeys: [],
    };
    const free = { kind: "free", tierKey: "free" } as const;
    expect(planAction(whop, free, [])).toEqual({ kind: "whop", url: null });
    expect(planAction({ ...whop, whopProductKey: "acme/basic" }, free, [])).toEqual({
      kind: "whop",
      url: "https://whop.com/acme/basic/",
    });
    expect(whopProductUrl("plan_AbC123")).toBe("https://whop.com/checkout/plan_AbC123/");
    expect(whopProductUrl("https://whop.com/acme/pro/")).toBe("https://whop.com/acme/pro/");
    expect(whopProductUrl("a b")).toBe("https://whop.com/a%20b/");
    expect(whopProductUrl("  ")).toBeNull();
    // Exempt tiers never show their stored fallback price ("$0").
    const exempt = { ...whop, billingProvider: "exempt" as const, isBillingExempt: true, fallbackPrice: "$0" };
    expect(priceDisplay(exempt, new Map(), { unavailable: true, currentLookupKey: null })).toEqual({ kind: "free" });
    const live = (await lookupPrices(["pro_monthly"])).prices;
    const stripeTier = { ...whop, billingProvider: "stripe" as const, lookupKeys: ["pro_monthly"] };
    expect(priceDisplay(stripeTier, live, { unavailable: false, currentLookupKey: "pro_monthly" })).toEqual({
      kind: "prices",
      prices: [{ lookupKey: "pro_monthly", amount: "£29.00", interval: "month", current: true }],
    });
  });
});
