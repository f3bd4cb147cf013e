// Checkout, portal, success page, pricing and entitlements against the bundled Stripe emulator,
// whose signed webhooks reach the real webhook route.
import path from "node:path";
import { pathToFileURL } from "node:url";
import { createRequestHandler, type ServerBuild } from "@remix-run/node";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { invalidatePriceCache, lookupPrices } from "../../app/services/stripe/prices.server.ts";
import { getStripe } from "../../app/services/stripe/client.server.ts";
import { requirePermission } from "../../app/web/permissions.server.ts";
import * as accountRoute from "../../app/routes/account.tsx";
import * as entitlementsRoute from "../../app/routes/api.me.entitlements.ts";
import * as checkoutRoute from "../../app/routes/api.stripe.checkout.ts";
import * as portalRoute from "../../app/routes/api.stripe.portal.ts";
import * as successRoute from "../../app/routes/billing.success.tsx";
import * as pricingRoute from "../../app/routes/pricing/route.tsx";
import { testDb } from "../setup/database.ts";
import { assertFreshBuild } from "../build-freshness.ts";
import { useStripeEmulator, withStripeConnection } from "../stripe-harness.ts";
import { createPersonalAccount } from "../../app/models/account.server.ts";
import {
  BASE_URL,
  billingOf,
  getRequest,
  personalAccountId,
  routeArgs,
  seedDemoData,
  sessionCookieFor,
  setBilling,
  settle,
} from "../utils.ts";

const stripe = useStripeEmulator();
const prisma = () => testDb().prisma;

let userCounter = 0;
async function newCustomer() {
  const email = `billing-${userCounter++}-${Date.now()}@example.com`;
  const user = await prisma().user.create({ data: { email, passwordHash: "x" } });
  // As sign-up does: every customer owns a personal account.
  await createPersonalAccount(prisma(), user);
  return { user, cookie: await sessionCookieFor(email) };
}

function checkoutRequest(lookupKey: string, { cookie, as = "json" }: { cookie?: string; as?: "json" | "form" }) {
  const headers: Record<string, string> = cookie ? { Cookie: cookie } : {};
  if (as === "json") {
    return new Request(`${BASE_URL}/api/stripe/checkout`, {
      method: "POST",
      headers: { ...headers, "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ lookup_key: lookupKey }),
    });
  }
  return new Request(`${BASE_URL}/api/stripe/checkout`, {
    method: "POST",
    headers: {
      ...headers,
      "Content-Type": "application/x-www-form-urlencoded",
      Accept: "text/html,application/xhtml+xml",
    },
    body: new URLSearchParams({ lookup_key: lookupKey }),
  });
}
const checkout = (request: Request) => settle(() => checkoutRoute.action(routeArgs(request)));
const sessionIdOf = (url: string) => url.split("/").pop()!;

beforeAll(seedDemoData);
beforeEach(() => stripe.emulator.reset());

describe("POST /api/stripe/checkout", () => {
  it("requires sign-in", async () => {
    const response = await checkout(checkoutRequest("pro_monthly", {}));
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: "Sign in to subscribe." });
  });

  it("returns the hosted Checkout URL of a subscription session for the user's account", async () => {
    const { user, cookie } = await newCustomer();
    const accountId = String(await personalAccountId(user.id));
    const response = await checkout(checkoutRequest("pro_monthly", { cookie }));
    expect(response.status).toBe(200);
    const { url } = await response.json();
    expect(url).toMatch(new RegExp(`^${stripe.emulator.url}/checkout/cs_`));

    const session = await getStripe().checkout.sessions.retrieve(sessionIdOf(url), { expand: ["line_items"] });
    // The account pays: its Stripe customer is created up front with the owner's email and metadata
    // naming the account, and linked at once; the session, and the subscription it makes, name it too.
    const customerId = (await billingOf(user.id)).stripeCustomerId;
    expect(customerId).toMatch(/^cus_/);
    const customer = await getStripe().customers.retrieve(customerId!);
    expect(customer).toMatchObject({ email: user.email, metadata: { tierdesk_account_id: accountId } });
    expect(session).toMatchObject({
      mode: "subscription",
      client_reference_id: accountId,
      customer: customerId,
      customer_email: null,
      metadata: { tierdesk_account_id: accountId, lookup_key: "pro_monthly" },
      allow_promotion_codes: true,
      success_url: `${BASE_URL}/billing/success?session_id={CHECKOUT_SESSION_ID}`,
      cancel_url: `${BASE_URL}/pricing?checkout=cancelled`,
    });
    expect(session.line_items?.data[0]?.price?.lookup_key).toBe("pro_monthly");
  });

  it("answers a plain form post with a 303 to Checkout", async () => {
    const { cookie } = await newCustomer();
    const response = await checkout(checkoutRequest("hobbyist_yearly", { cookie, as: "form" }));
    expect(response.status).toBe(303);
    expect(response.headers.get("Location")).toMatch(/\/checkout\/cs_/);
    expect((await response.json()).url).toBe(response.headers.get("Location"));
  });

  it("opens one session for a double click", async () => {
    const { cookie } = await newCustomer();
    const [a, b] = await Promise.all([
      checkout(checkoutRequest("pro_monthly", { cookie })),
      checkout(checkoutRequest("pro_monthly", { cookie })),
    ]);
    expect([a.status, b.status]).toEqual([200, 200]);
    const [first, second] = [await a.json(), await b.json()];
    expect(first.url).toMatch(/\/checkout\/cs_/);
    expect(second.url).toBe(first.url);
    // Both clicks land on one open session that Stripe really has.
    expect((await getStripe().checkout.sessions.retrieve(sessionIdOf(first.url))).status).toBe("open");
  });

  it("reuses the account's Stripe customer", async () => {
    const { user, cookie } = await newCustomer();
    const customer = await getStripe().customers.create({ email: user.email });
    await setBilling(user.id, { stripeCustomerId: customer.id });
    const { url } = await (await checkout(checkoutRequest("pro_monthly", { cookie }))).json();
    const session = await getStripe().checkout.sessions.retrieve(sessionIdOf(url));
    expect(session.customer).toBe(customer.id);
    expect(session.customer_email).toBeNull();
  });

  it.each([
    ["nonexistent_monthly", "unknown"],
    ["", "missing"],
  ])("answers 400 naming a %s key (%s)", async (key) => {
    const { cookie } = await newCustomer();
    const response = await checkout(checkoutRequest(key, { cookie }));
    expect(response.status).toBe(400);
    expect((await response.json()).error).toContain(key || "lookup_key is required");
  });

  it("refuses keys of tiers customers cannot buy", async () => {
    const partner = await prisma().subscriptionTier.findUniqueOrThrow({ where: { key: "partner" } });
    await prisma().subscriptionTierPrice.create({
      data: { tierId: partner.id, lookupKey: "partner_secret", position: 0 },
    });
    const { cookie } = await newCustomer();
    const response = await checkout(checkoutRequest("partner_secret", { cookie }));
    expect(response.status).toBe(400);
    expect((await response.json()).error).toMatch(/"partner_secret".*customer-facing Stripe tier/);
  });

  it("sends a user with a live subscription to the portal with 409", async () => {
    const { user, cookie } = await newCustomer();
    const customer = await getStripe().customers.create({ email: user.email });
    await setBilling(user.id, {
      stripeCustomerId: customer.id,
      stripeSubscriptionId: "sub_live",
      subscriptionStatus: "past_due",
    });
    const response = await checkout(checkoutRequest("hobbyist_monthly", { cookie }));
    expect(response.status).toBe(409);
    expect(await response.json()).toMatchObject({ portal: "/api/stripe/portal" });
  });

  it("answers 503 with a message when billing is disabled", async () => {
    const { cookie } = await newCustomer();
    await withStripeConnection({ mode: "disabled", apiKey: null }, async () => {
      const response = await checkout(checkoutRequest("pro_monthly", { cookie }));
      expect(response.status).toBe(503);
      expect((await response.json()).error).toMatch(/Billing is not available/);
    });
  });

  it("answers a browser's plain form post error with its status and a page naming the key", async () => {
    const { cookie } = await newCustomer();
    const response = await checkout(checkoutRequest("nope", { cookie, as: "form" }));
    expect(response.status).toBe(400);
    expect(response.headers.get("Content-Type")).toContain("text/html");
    const page = await response.text();
    expect(page).toContain("&quot;nope&quot;");
    expect(page).toContain('href="/pricing"');
  });

  it("answers 400 to a JSON body that is not JSON", async () => {
    const { cookie } = await newCustomer();
    const request = new Request(`${BASE_URL}/api/stripe/checkout`, {
      method: "POST",
      headers: { Cookie: cookie, "Content-Type": "application/json", Accept: "application/json" },
      body: "{lookup_key: pro_monthly",
    });
    const response = await checkout(request);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: "The request body is not valid JSON." });
  });

  it("answers 400 for keys no lookup key can be: control characters, over 200 characters", async () => {
    const { cookie } = await newCustomer();
    for (const key of ["pro_monthly\u0000", "x".repeat(201)]) {
      const response = await checkout(checkoutRequest(key, { cookie }));
      expect(response.status).toBe(400);
      expect((await response.json()).error).toMatch(/not a valid lookup key/);
    }
  });

  it("still opens Checkout for the same request through another host name (no idempotency clash)", async () => {
    const { cookie } = await newCustomer();
    const viaLocalhost = await checkout(checkoutRequest("pro_monthly", { cookie }));
    const other = checkoutRequest("pro_monthly", { cookie });
    const viaIp = await checkout(new Request(other.url.replace("localhost:3000", "127.0.0.1:3000"), other));
    expect(viaLocalhost.status).toBe(200);
    expect(viaIp.status).toBe(200);
  });
});

describe("after paying", () => {
  it("the success page applies the purchase before any webhook arrives", async () => {
    const { user, cookie } = await newCustomer();
    const { url } = await (await checkout(checkoutRequest("pro_yearly", { cookie }))).json();
    stripe.emulator.holdWebhooks();
    try {
      await stripe.emulator.completeCheckout(sessionIdOf(url));
      const page = await settle(() =>
        successRoute.loader(routeArgs(getRequest(`/billing/success?session_id=${sessionIdOf(url)}`, cookie))),
      );
      expect(page.status).toBe(200);
      expect((await page.json()).entitlements.tier).toEqual({ key: "pro", name: "Pro" });
      const after = await billingOf(user.id);
      expect(after.stripeCustomerId).toMatch(/^cus_/);
      expect(after.stripeSubscriptionId).toMatch(/^sub_/);
    } finally {
      // The late webhooks then change nothing and fail nothing.
      await stripe.emulator.releaseWebhooks();
    }
    const events = await prisma().stripeEvent.findMany({ where: { status: "failed" } });
    expect(events).toEqual([]);
    const after = await billingOf(user.id);
    expect(after.tier?.key).toBe("pro");
  });

  it("the success page says a checkout session Stripe does not have was not found (404), and thanks nobody", async () => {
    const { cookie } = await newCustomer();
    const page = await settle(() =>
      successRoute.loader(routeArgs(getRequest("/billing/success?session_id=cs_bogus", cookie))),
    );
    expect(page.status).toBe(404);
    const { error } = await page.json();
    expect(error).toMatch(/could not find that checkout session/);
    expect(error).not.toMatch(/thank/i);

    // The document: the 404 inside the site's layout, with a way on to the plans.
    assertFreshBuild();
    const build = (await import(pathToFileURL(path.resolve("build/index.js")).href)) as ServerBuild;
    const handle = createRequestHandler(build, "production");
    const documentResponse = await handle(getRequest("/billing/success?session_id=cs_bogus", cookie), {
      clientIp: "203.0.113.9",
      cspNonce: "test-nonce",
    });
    expect(documentResponse.status).toBe(404);
    const html = await documentResponse.text();
    expect(html).toContain("404 Not found");
    expect(html).toContain("could not find that checkout session");
    expect(html).toContain('href="/pricing"');
    expect(html).not.toContain("Thank you");
  });

  it("the success page refuses another user's checkout", async () => {
    const buyer = await newCustomer();
    const other = await newCustomer();
    const { url } = await (await checkout(checkoutRequest("pro_monthly", { cookie: buyer.cookie }))).json();
    const page = await settle(() =>
      successRoute.loader(routeArgs(getRequest(`/billing/success?session_id=${sessionIdOf(url)}`, other.cookie))),
    );
    expect(page.status).toBe(403);
  });

  it("webhooks from paying at Checkout grant the tier; cancelling in the portal drops to free", async () => {
    const { user, cookie } = await newCustomer();
    const { url } = await (await checkout(checkoutRequest("hobbyist_monthly", { cookie }))).json();
    const { subscription, events } = await stripe.emulator.completeCheckout(sessionIdOf(url));
    await stripe.emulator.settle();
    expect(events.map((e) => e.type)).toEqual(
      expect.arrayContaining(["checkout.session.completed", "customer.subscription.created", "invoice.paid"]),
    );
    const stored = await prisma().stripeEvent.findMany({ where: { eventId: { in: events.map((e) => e.id) } } });
    const statusOf = (type: string) => stored.find((e) => e.eventType === type)?.status;
    expect(stored).toHaveLength(events.length);
    // The subscription is created incomplete (nothing to apply), then paid: active.
    expect(statusOf("customer.subscription.created")).toBe("ignored");
    expect(["checkout.session.completed", "customer.subscription.updated", "invoice.paid"].map(statusOf)).toEqual([
      "processed",
      "processed",
      "processed",
    ]);
    expect(stored.filter((e) => e.status !== "processed" && e.status !== "ignored")).toEqual([]);
    let after = await billingOf(user.id);
    expect(after).toMatchObject({ stripeSubscriptionId: subscription.id, subscriptionStatus: "active" });
    expect(after.tier?.key).toBe("hobbyist");

    const account = await settle(() => accountRoute.loader(routeArgs(getRequest("/account", cookie))));
    const accountData = await account.json();
    expect(accountData.state).toMatchObject({ kind: "active", renewsAt: expect.any(String) });
    expect(accountData.canManageBilling).toBe(true);

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
    expect((await portal.json()).url).toMatch(/\/portal\/bps_/);

    await getStripe().subscriptions.cancel(subscription.id);
    await stripe.emulator.settle();
    after = await billingOf(user.id);
    expect(after).toMatchObject({
      tierId: null,
      stripeSubscriptionId: null,
      stripeCustomerId: after.stripeCustomerId,
      subscriptionStatus: "canceled",
    });
    expect(after.stripeCustomerId).toMatch(/^cus_/);
  });

  it("the account shows the cancellation date once the subscription is set to end", async () => {
    const { cookie } = await newCustomer();
    const { url } = await (await checkout(checkoutRequest("hobbyist_yearly", { cookie }))).json();
    const { subscription } = await stripe.emulator.completeCheckout(sessionIdOf(url));
    const periodEnd = subscription.items.data[0]!.current_period_end;
    await getStripe().subscriptions.update(subscription.id, { cancel_at_period_end: true });
    await stripe.emulator.settle();
    const { state, plan } = await (
      await settle(() => accountRoute.loader(routeArgs(getRequest("/account", cookie))))
    ).json();
    expect(state).toEqual({ kind: "ending", endsAt: new Date(periodEnd * 1000).toISOString() });
    // Still paid up until then.
    expect(plan.key).toBe("hobbyist");
  });

  it("a failed renewal keeps the tier while Stripe retries (past_due)", async () => {
    const { user, cookie } = await newCustomer();
    const { url } = await (await checkout(checkoutRequest("pro_monthly", { cookie }))).json();
    const { subscription } = await stripe.emulator.completeCheckout(sessionIdOf(url));
    await stripe.emulator.failPayment(subscription.id);
    await stripe.emulator.settle();
    const after = await billingOf(user.id);
    expect(after.subscriptionStatus).toBe("past_due");
    expect(after.tier?.key).toBe("pro");
  });

  it("events delivered twice and in reverse order end in the right state", async () => {
    const { user, cookie } = await newCustomer();
    const { url } = await (await checkout(checkoutRequest("pro_monthly", { cookie }))).json();
    stripe.emulator.holdWebhooks();
    const { subscription } = await stripe.emulator.completeCheckout(sessionIdOf(url));
    await stripe.emulator.releaseWebhooks({ order: "reverse" });
    for (const record of stripe.emulator.events)
      await stripe.emulator.deliver(record.event.id, { times: 2, concurrent: true });
    const after = await billingOf(user.id);
    expect(after).toMatchObject({ stripeSubscriptionId: subscription.id, subscriptionStatus: "active" });
    expect(after.tier?.key).toBe("pro");
    expect(await prisma().stripeEvent.count({ where: { status: "failed" } })).toBe(0);
  });
});

describe("events of the same second", () => {
  // Stripe's `created` has one-second resolution and deliveries are unordered: on a tie, Stripe's
  // current state of the subscription decides.
  it("an update delivered after a deletion of the same second does not bring the subscription back", async () => {
    const { user, cookie } = await newCustomer();
    const { url } = await (await checkout(checkoutRequest("pro_monthly", { cookie }))).json();
    const { subscription } = await stripe.emulator.completeCheckout(sessionIdOf(url));
    await getStripe().subscriptions.cancel(subscription.id);
    await stripe.emulator.settle();
    const deletion = stripe.emulator.events.find((r) => r.event.type === "customer.subscription.deleted")!.event;

    // The update Stripe sent just before the cancellation, arriving late with the same `created`.
    const late = await stripe.emulator.createEvent(
      "customer.subscription.updated",
      { ...subscription, status: "active" },
      { created: deletion.created },
    );
    const after = await billingOf(user.id);
    expect(after).toMatchObject({ tierId: null, stripeSubscriptionId: null, subscriptionStatus: "canceled" });
    // A tie, settled by asking Stripe (which says deleted): processed as a deletion, not skipped.
    expect((await prisma().stripeEvent.findUniqueOrThrow({ where: { eventId: late.id } })).status).toBe("processed");
  });

  it("an older state arriving after a newer one in the same second is corrected from Stripe", async () => {
    const { user, cookie } = await newCustomer();
    const { url } = await (await checkout(checkoutRequest("pro_monthly", { cookie }))).json();
    stripe.emulator.holdWebhooks();
    const { subscription } = await stripe.emulator.completeCheckout(sessionIdOf(url));
    const switched = await getStripe().subscriptions.update(subscription.id, {
      items: [{ id: subscription.items.data[0]!.id, price: "price_emu_hobbyist_monthly" }],
    });
    expect(switched.items.data[0]!.price.lookup_key).toBe("hobbyist_monthly");
    await stripe.emulator.settle();
    const held = stripe.emulator.events.filter((r) => r.event.type.startsWith("customer.subscription."));
    // Deliver the switch first, then the creation (Pro) re-stamped into the same second.
    // (The checkout's own update, incomplete → active, comes before the switch's.)
    const update = held.findLast((r) => r.event.type === "customer.subscription.updated")!.event;
    expect(update.data.previous_attributes).toHaveProperty("items");
    await stripe.emulator.deliver(update.id);
    // Webhooks are held: sent explicitly, so that it really arrives.
    const restamped = await stripe.emulator.createEvent(
      "customer.subscription.created",
      { ...subscription, status: "active" },
      { created: update.created, deliver: false },
    );
    expect((await stripe.emulator.deliver(restamped.id)).map((attempt) => attempt.status)).toEqual([200]);
    expect((await prisma().stripeEvent.findUniqueOrThrow({ where: { eventId: restamped.id } })).status).toBe(
      "processed",
    );
    const after = await billingOf(user.id);
    expect(after.tier?.key).toBe("hobbyist");
  });

  /** A Pro subscriber whose subscription Stripe has since moved to Hobbyist, that webhook not delivered. */
  async function proSubscriberMovedToHobbyistInStripe() {
    const { user, cookie } = await newCustomer();
    const { url } = await (await checkout(checkoutRequest("pro_monthly", { cookie }))).json();
    const { subscription } = await stripe.emulator.completeCheckout(sessionIdOf(url));
    await stripe.emulator.settle();
    stripe.emulator.holdWebhooks();
    await getStripe().subscriptions.update(subscription.id, {
      items: [{ id: subscription.items.data[0]!.id, price: "price_emu_hobbyist_monthly" }],
    });
    // Two events of one later second: `first` is applied, `tie` then arrives with the same `created`.
    const t = Math.floor(Date.now() / 1000) + 5;
    const sameSecond = (object: object) =>
      stripe.emulator.createEvent("customer.subscription.updated", object, { created: t, deliver: false });
    return { user, subscription, sameSecond };
  }
  const userNow = (id: number) => billingOf(id);

  it("a tie Stripe settles differently from both the stored state and the late event: Stripe's state wins", async () => {
    const { user, subscription, sameSecond } = await proSubscriberMovedToHobbyistInStripe();
    const first = await sameSecond({ ...subscription, status: "past_due" });
    const tie = await sameSecond({ ...subscription });
    await stripe.emulator.deliver(first.id);
    expect(await userNow(user.id)).toMatchObject({ subscriptionStatus: "past_due", tier: { key: "pro" } });
    await stripe.emulator.deliver(tie.id);
    // Neither the stored Pro past_due nor the tie's Pro active: Hobbyist active, as Stripe has it.
    expect(await userNow(user.id)).toMatchObject({ subscriptionStatus: "active", tier: { key: "hobbyist" } });
    expect((await prisma().stripeEvent.findUniqueOrThrow({ where: { eventId: tie.id } })).status).toBe("processed");
    await stripe.emulator.releaseWebhooks();
    await stripe.emulator.settle();
  });

  it("a tie while Stripe cannot be asked fails (retried, nothing changed); its retry ends in Stripe's state", async () => {
    const { user, subscription, sameSecond } = await proSubscriberMovedToHobbyistInStripe();
    const first = await sameSecond({ ...subscription });
    const tie = await sameSecond({ ...subscription, status: "past_due" });
    await stripe.emulator.deliver(first.id);
    const [attempt] = await withStripeConnection({ apiBase: "http://127.0.0.1:9", maxNetworkRetries: 0 }, () =>
      stripe.emulator.deliver(tie.id),
    );
    expect(attempt?.status).toBe(500);
    expect((await prisma().stripeEvent.findUniqueOrThrow({ where: { eventId: tie.id } })).status).toBe("failed");
    expect(await userNow(user.id)).toMatchObject({ subscriptionStatus: "active", tier: { key: "pro" } });
    // Stripe's retry, once Stripe answers again.
    await stripe.emulator.deliver(tie.id);
    expect(await userNow(user.id)).toMatchObject({ subscriptionStatus: "active", tier: { key: "hobbyist" } });
    expect((await prisma().stripeEvent.findUniqueOrThrow({ where: { eventId: tie.id } })).status).toBe("processed");
    await stripe.emulator.releaseWebhooks();
    await stripe.emulator.settle();
  });
});

describe("portal", () => {
  it("answers 404 with a clear message before the user has a Stripe customer", async () => {
    const { cookie } = await newCustomer();
    const response = await settle(() =>
      portalRoute.action(
        routeArgs(
          new Request(`${BASE_URL}/api/stripe/portal`, {
            method: "POST",
            headers: { Cookie: cookie, Accept: "application/json" },
          }),
        ),
      ),
    );
    expect(response.status).toBe(404);
    expect((await response.json()).error).toMatch(/no billing account yet/);
  });

  it("requires sign-in", async () => {
    const response = await settle(() =>
      portalRoute.action(routeArgs(new Request(`${BASE_URL}/api/stripe/portal`, { method: "POST" }))),
    );
    expect(response.status).toBe(401);
  });
});

describe("pricing and entitlements", () => {
  it("shows customer-facing tiers with live monthly and yearly prices", async () => {
    invalidatePriceCache();
    const response = await settle(() => pricingRoute.loader(routeArgs(getRequest("/pricing"))));
    const data = await response.json();
    expect(data.viewer).toBe("anonymous");
    expect(data.pricesUnavailable).toBe(false);
    expect(data.tiers.map((t: { key: string }) => t.key)).toEqual(["free", "hobbyist", "pro", "whop_basic"]);
    const pro = data.tiers.find((t: { key: string }) => t.key === "pro");
    expect(pro.display).toEqual({
      kind: "prices",
      prices: [
        { lookupKey: "pro_monthly", amount: "£29.00", interval: "month", current: false },
        { lookupKey: "pro_yearly", amount: "£290.00", interval: "year", current: false },
      ],
    });
  });

  it("shows Stripe's last answer with its age when Stripe cannot be asked, else the stored display price", async () => {
    invalidatePriceCache();
    // Nothing listens on port 9.
    await withStripeConnection({ apiBase: "http://127.0.0.1:9", maxNetworkRetries: 0 }, async () => {
      const data = await (await settle(() => pricingRoute.loader(routeArgs(getRequest("/pricing"))))).json();
      expect(data.pricesUnavailable).toBe(true);
      expect(data.pricesAsOf).toMatch(/^as of (just now|1 minute ago) \(\d\d:\d\d UTC\)$/);
      const pro = data.tiers.find((t: { key: string }) => t.key === "pro");
      expect(pro.display).toMatchObject({ kind: "prices", prices: [{ amount: "£29.00" }, { amount: "£290.00" }] });

      // Nothing known yet (a new database): the operator's indicative price.
      await testDb().prisma.stripePriceSnapshot.deleteMany();
      const unknown = await (await settle(() => pricingRoute.loader(routeArgs(getRequest("/pricing"))))).json();
      expect(unknown.pricesAsOf).toBeNull();
      const indicative = unknown.tiers.find((t: { key: string }) => t.key === "pro");
      expect(indicative.display).toEqual({ kind: "indicative", text: "£29" });
    });
  });

  it("serves prices from cache until a price or product webhook drops it", async () => {
    invalidatePriceCache();
    expect((await lookupPrices(["pro_monthly"])).prices.get("pro_monthly")?.unitAmount).toBe(2900);
    await withStripeConnection({ apiBase: "http://127.0.0.1:9", maxNetworkRetries: 0 }, async () => {
      const cached = await lookupPrices(["pro_monthly"]);
      expect(cached).toMatchObject({ unavailable: false });
      expect(cached.prices.get("pro_monthly")?.unitAmount).toBe(2900);
      await stripe.emulator.createEvent("price.updated", { id: "price_x", object: "price" });
      expect((await lookupPrices(["pro_monthly"])).unavailable).toBe(true);
    });
  });

  it("asks Stripe in calls of at most 10 lookup keys", async () => {
    invalidatePriceCache();
    const keys = Array.from({ length: 23 }, (_, i) => `bulk_${i}`);
    const result = await lookupPrices([...keys, "pro_monthly", "hobbyist_yearly"]);
    expect(result.unavailable).toBe(false);
    expect([...result.prices.keys()].sort()).toEqual(["hobbyist_yearly", "pro_monthly"]);
  });

  it("GET /api/me/entitlements answers tier, status, permissions, the account and its seats", async () => {
    const anonymous = await settle(() => entitlementsRoute.loader(routeArgs(getRequest("/api/me/entitlements"))));
    expect(anonymous.status).toBe(401);
    const { user, cookie } = await newCustomer();
    const free = await (
      await settle(() => entitlementsRoute.loader(routeArgs(getRequest("/api/me/entitlements", cookie))))
    ).json();
    expect(free).toEqual({
      tier: "free",
      status: null,
      permissions: ["projects.create"],
      account: { id: expect.any(Number), name: user.email.split("@")[0], slug: expect.any(String), role: "owner" },
      seats: { limit: 1, used: 1, pending: 0 },
    });

    const partner = await prisma().subscriptionTier.findUniqueOrThrow({ where: { key: "partner" } });
    await setBilling(user.id, { tierId: partner.id });
    const exempt = await (
      await settle(() => entitlementsRoute.loader(routeArgs(getRequest("/api/me/entitlements", cookie))))
    ).json();
    expect(exempt.tier).toBe("partner");
    expect(exempt.permissions).toContain("api.access");
    expect(exempt.seats).toEqual({ limit: 25, used: 1, pending: 0 });

    const pro = await prisma().subscriptionTier.findUniqueOrThrow({ where: { key: "pro" } });
    await setBilling(user.id, { tierId: pro.id, subscriptionStatus: "unpaid" });
    const lapsed = await (
      await settle(() => entitlementsRoute.loader(routeArgs(getRequest("/api/me/entitlements", cookie))))
    ).json();
    expect(lapsed).toMatchObject({ tier: "free", status: "unpaid", permissions: ["projects.create"] });
    expect(lapsed.seats).toEqual({ limit: 1, used: 1, pending: 0 });
  });

  it("requirePermission lets a plan's permission through and refuses others with 403", async () => {
    const { user, cookie } = await newCustomer();
    const request = getRequest("/export", cookie);
    await expect(requirePermission(request, "projects.create")).resolves.toMatchObject({ user: { id: user.id } });
    const refused = await settle(() => requirePermission(request, "api.access"));
    expect(refused.status).toBe(403);
    expect((await refused.json()).error).toContain("api.access");
  });
});
