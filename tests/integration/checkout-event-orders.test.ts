// A hosted Checkout's webhooks as Stripe sends them (subscription `incomplete`, invoice,
// payment intent and charge, invoice paid, subscription `active`, session complete; seconds apart)
// in every order Stripe may deliver them: the buyer ends on the tier they paid for, active, linked to
// their Stripe customer, and no event is left failed.
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { getStripe } from "../../app/services/stripe/client.server.ts";
import * as accountRoute from "../../app/routes/account.tsx";
import * as checkoutRoute from "../../app/routes/api.stripe.checkout.ts";
import type { DeliveryOrder, EmulatorEvent } from "../../stripe-emulator/emulator.ts";
import { inDeliveryOrder } from "../../stripe-emulator/webhooks.ts";
import { testDb } from "../setup/database.ts";
import { useStripeEmulator } from "../stripe-harness.ts";
import {
  BASE_URL,
  billingOf,
  createBillingUser,
  getRequest,
  routeArgs,
  seedDemoData,
  sessionCookieFor,
  settle,
} from "../utils.ts";

const stripe = useStripeEmulator();
const prisma = () => testDb().prisma;

let customers = 0;
async function newCustomer() {
  const email = `orders-${customers++}-${Date.now()}@example.com`;
  const user = await createBillingUser({ email });
  return { user, cookie: await sessionCookieFor(email) };
}

/** Opens a Checkout through the app's route, as the pricing page does; returns the session id. */
async function openCheckout(cookie: string, lookupKey: string) {
  const response = await settle(() =>
    checkoutRoute.action(
      routeArgs(
        new Request(`${BASE_URL}/api/stripe/checkout`, {
          method: "POST",
          headers: { Cookie: cookie, "Content-Type": "application/json", Accept: "application/json" },
          body: JSON.stringify({ lookup_key: lookupKey }),
        }),
      ),
    ),
  );
  expect(response.status).toBe(200);
  const { url } = (await response.json()) as { url: string };
  return url.split("/").pop()!;
}

const userRow = (id: number) => billingOf(id);

async function storedStatuses(events: EmulatorEvent[]) {
  const stored = await prisma().stripeEvent.findMany({ where: { eventId: { in: events.map((e) => e.id) } } });
  return new Map(stored.map((row) => [events.find((e) => e.id === row.eventId)!.type, row.status]));
}

/** What the buyer sees on /account. */
async function accountOf(cookie: string) {
  const response = await settle(() => accountRoute.loader(routeArgs(getRequest("/account", cookie))));
  expect(response.status).toBe(200);
  return (await response.json()) as { plan: { key: string } | null; state: { kind: string } };
}

/** The end state every delivery order must reach. */
async function expectBought(
  userId: number,
  cookie: string,
  bought: { tier: string; subscription: string; customer: string; events: EmulatorEvent[] },
) {
  expect(await userRow(userId)).toMatchObject({
    tier: { key: bought.tier },
    subscriptionStatus: "active",
    stripeSubscriptionId: bought.subscription,
    stripeCustomerId: bought.customer,
  });
  const statuses = await storedStatuses(bought.events);
  expect(statuses.size).toBe(bought.events.length);
  expect([...statuses].filter(([, status]) => status === "failed" || status === "pending")).toEqual([]);
  // `incomplete` (first payment not done) grants nothing, whenever it arrives.
  expect(statuses.get("customer.subscription.created")).toBe("ignored");
  expect(["processed", "stale"]).toContain(statuses.get("customer.subscription.updated"));
  expect(["processed", "stale"]).toContain(statuses.get("checkout.session.completed"));
  const account = await accountOf(cookie);
  expect(account.plan?.key).toBe(bought.tier);
  expect(account.state.kind).toBe("active");
}

beforeAll(seedDemoData);
beforeEach(() => stripe.emulator.reset());

// Seeds chosen to give different orders; the test checks they do.
const ORDERS: DeliveryOrder[] = ["created", "reverse", ...[1, 2, 3, 4, 5, 6].map((seed) => `shuffle:${seed}` as const)];

describe("a checkout's events in every delivery order", () => {
  it.each(ORDERS)("delivered %s: the buyer ends on the tier, active, linked to the customer", async (order) => {
    const { user, cookie } = await newCustomer();
    const sessionId = await openCheckout(cookie, "pro_monthly");
    stripe.emulator.deliveryOrder = order;
    const { session, subscription, events } = await stripe.emulator.completeCheckout(sessionId);
    await stripe.emulator.settle();
    const deliveries = stripe.emulator.events
      .filter((record) => events.some((e) => e.id === record.event.id))
      .flatMap((record) => record.deliveries.map((d) => ({ id: record.event.id, at: d.at, status: d.status })));
    expect(deliveries.map((d) => d.status)).toEqual(events.map(() => 200));
    // Sent in exactly the order asked for (one at a time, so start times order them).
    const sent = [...deliveries].sort((a, b) => a.at - b.at).map((d) => d.id);
    expect(sent).toEqual(inDeliveryOrder(events, order).map((e) => e.id));

    // Tierdesk creates the account's Stripe customer before opening Checkout, so Checkout makes none.
    expect(await userRow(user.id)).toMatchObject({ stripeCustomerId: String(session.customer) });
    expect(events.map((e) => e.type)).not.toContain("customer.created");
    expect(events[0]?.type).toBe("customer.subscription.created");
    expect(events.find((e) => e.type === "customer.subscription.created")?.data.object).toMatchObject({
      status: "incomplete",
    });
    await expectBought(user.id, cookie, {
      tier: "pro",
      subscription: subscription.id,
      customer: String(session.customer),
      events,
    });
  });

  it("those are all different orders of a checkout's events (creation order, reversed, six shuffles)", () => {
    const positions = Array.from({ length: 12 }, (_, i) => i);
    const orders = ORDERS.map((order) => inDeliveryOrder(positions, order).join(","));
    expect(new Set(orders).size).toBe(ORDERS.length);
  });
});

describe("the steps on their own", () => {
  /** A checkout paid with its webhooks held; `deliver(types)` then sends just those, in that order. */
  async function heldCheckout(lookupKey = "hobbyist_monthly") {
    const buyer = await newCustomer();
    const sessionId = await openCheckout(buyer.cookie, lookupKey);
    stripe.emulator.holdWebhooks();
    const paid = await stripe.emulator.completeCheckout(sessionId);
    const idOf = (type: string) => paid.events.find((e) => e.type === type)!.id;
    const deliver = async (types: string[]) => {
      const attempts = await stripe.emulator.deliverInOrder(types.map(idOf));
      expect(attempts.map((a) => a.status)).toEqual(types.map(() => 200));
    };
    return { ...buyer, ...paid, deliver };
  }

  it("an incomplete subscription grants nothing; invoice and payment events before anything else fail nothing", async () => {
    const { user, cookie, events, session, subscription, deliver } = await heldCheckout();
    await deliver(["invoice.paid", "invoice_payment.paid", "payment_intent.succeeded", "charge.succeeded"]);
    await deliver(["customer.subscription.created", "invoice.created", "invoice.finalized"]);
    expect(await userRow(user.id)).toMatchObject({ tier: null, subscriptionStatus: null, stripeSubscriptionId: null });
    expect((await accountOf(cookie)).plan?.key).toBe("free");

    await deliver(["customer.subscription.updated"]);
    expect(await userRow(user.id)).toMatchObject({ tier: { key: "hobbyist" }, subscriptionStatus: "active" });
    await stripe.emulator.releaseWebhooks({ order: "shuffle:11" });
    await expectBought(user.id, cookie, {
      tier: "hobbyist",
      subscription: subscription.id,
      customer: String(session.customer),
      events,
    });
  });

  it("the subscription's creation (incomplete) arriving after it became active changes nothing", async () => {
    const { user, cookie, events, session, subscription, deliver } = await heldCheckout();
    await deliver(["checkout.session.completed", "customer.subscription.updated", "customer.subscription.created"]);
    await stripe.emulator.releaseWebhooks();
    await expectBought(user.id, cookie, {
      tier: "hobbyist",
      subscription: subscription.id,
      customer: String(session.customer),
      events,
    });
  });

  it("a returning customer's new subscription, shuffled, after their old one was canceled", async () => {
    const { user, cookie } = await newCustomer();
    const first = await stripe.emulator.completeCheckout(await openCheckout(cookie, "pro_monthly"));
    await getStripe().subscriptions.cancel(first.subscription.id);
    await stripe.emulator.settle();
    expect(await userRow(user.id)).toMatchObject({ tier: null, subscriptionStatus: "canceled" });

    stripe.emulator.deliveryOrder = "shuffle:3";
    const again = await stripe.emulator.completeCheckout(await openCheckout(cookie, "hobbyist_yearly"));
    await stripe.emulator.settle();
    expect(again.events.map((e) => e.type)).not.toContain("customer.created");
    await expectBought(user.id, cookie, {
      tier: "hobbyist",
      subscription: again.subscription.id,
      customer: String(first.session.customer),
      events: again.events,
    });
  });
});
