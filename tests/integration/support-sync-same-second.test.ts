// Support's "Sync from Stripe" followed, within the same second, by a change in Stripe: Stripe's
// events carry whole-second `created` times, so the change must not look older than the sync and be
// dropped as stale; every kind of change ends in Stripe's state.
import type Stripe from "stripe";
import { beforeAll, describe, expect, it } from "vitest";
import { appOrigin, createCheckoutSession } from "../../app/services/stripe/checkout.server.ts";
import { accountView } from "../../app/services/customers/account.server.ts";
import { getStripe } from "../../app/services/stripe/client.server.ts";
import * as userRoute from "../../app/routes/admin.users.$userId/route.tsx";
import { useStripeEmulator } from "../stripe-harness.ts";
import {
  billingOf,
  createBillingUser,
  formRequest,
  routeArgs,
  seedDemoData,
  sessionCookieFor,
  settle,
} from "../utils.ts";

const stripe = useStripeEmulator();

let support: string;
beforeAll(async () => {
  await seedDemoData();
  support = await sessionCookieFor("support@example.com");
});

/** The user's personal account's billing, with the user's id and email (tests/utils.ts). */
const userRow = (id: number) => billingOf(id);
type BillingRow = Awaited<ReturnType<typeof billingOf>>;
/** Checkout, /account and the admin act for the personal account, as its owner. */
const actorOf = (row: BillingRow) => ({ account: { ...row, id: row.accountId }, email: row.email });
const viewOf = (row: BillingRow) => accountView(actorOf(row).account, row.email);

let customers = 0;
async function proCustomer() {
  const user = await createBillingUser({ email: `same-second-${++customers}-${Date.now()}@example.com` });
  const outcome = await createCheckoutSession(
    actorOf(user),
    "pro_monthly",
    appOrigin(new Request("http://localhost:3000/")),
  );
  if (!outcome.ok) throw new Error(outcome.message);
  await stripe.emulator.completeCheckout(outcome.url.split("/").pop()!);
  await stripe.emulator.settle();
  const subscribed = await userRow(user.id);
  expect(subscribed.tier?.key).toBe("pro");
  return subscribed;
}

async function syncFromStripe(userId: number) {
  const response = await settle(() =>
    userRoute.action(
      routeArgs(formRequest(`/admin/users/${userId}`, { intent: "sync" }, { cookie: support }), {
        userId: String(userId),
      }),
    ),
  );
  expect(response.status).toBe(200);
  expect(await response.json()).toMatchObject({ ok: true });
}

/** Waits for the start of the next second (the emulator stamps events with this process's clock). */
async function startOfNextSecond() {
  await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 5));
  return Math.floor(Date.now() / 1000);
}

/**
 * Syncs a fresh Pro customer, then makes `change` in Stripe within that same second (webhooks held,
 * then delivered). On a machine too slow to do both in one second it tries again with a new customer:
 * the case only means something when the change's events share the sync's second.
 */
async function syncThenChangeInTheSameSecond(
  change: (subscriptionId: string, userId: number) => Promise<void>,
  { beforeChange }: { beforeChange?: (userId: number) => Promise<void> } = {},
) {
  for (let attempt = 1; ; attempt++) {
    const user = await proCustomer();
    const subscriptionId = user.stripeSubscriptionId!;
    const seenBefore = stripe.emulator.events.length;
    stripe.emulator.holdWebhooks();
    const second = await startOfNextSecond();
    await syncFromStripe(user.id);
    await beforeChange?.(user.id);
    await change(subscriptionId, user.id);
    const changeEvents = stripe.emulator.events.slice(seenBefore).map((record) => record.event);
    await stripe.emulator.releaseWebhooks();
    await stripe.emulator.settle();
    expect(changeEvents.length).toBeGreaterThan(0);
    if (changeEvents.every((event) => event.created === second)) return { userId: user.id, subscriptionId };
    if (attempt === 3) throw new Error("could not sync and change within one second in three attempts");
  }
}

async function priceIdOf(lookupKey: string) {
  const { data } = await getStripe().prices.list({ lookup_keys: [lookupKey] });
  const price = data[0];
  if (!price) throw new Error(`no price ${lookupKey} in the emulator`);
  return price.id;
}

describe("a support sync followed by a change in Stripe within the same second", () => {
  it("a cancellation makes the user free", async () => {
    const { userId, subscriptionId } = await syncThenChangeInTheSameSecond(async (id) => {
      await getStripe().subscriptions.cancel(id);
    });
    expect((await getStripe().subscriptions.retrieve(subscriptionId)).status).toBe("canceled");
    const user = await userRow(userId);
    expect(user.tier).toBeNull();
    expect(user.subscriptionStatus).toBe("canceled");
    expect(user.stripeSubscriptionId).toBeNull();
  });

  it("a failed renewal makes the user past_due (still Pro, in grace)", async () => {
    const { userId, subscriptionId } = await syncThenChangeInTheSameSecond(async (id) => {
      await stripe.emulator.failPayment(id);
    });
    expect((await getStripe().subscriptions.retrieve(subscriptionId)).status).toBe("past_due");
    const user = await userRow(userId);
    expect(user.subscriptionStatus).toBe("past_due");
    expect(user.tier?.key).toBe("pro");
  });

  it("a switch to another tier's price moves the user to that tier", async () => {
    const hobbyist = await priceIdOf("hobbyist_monthly");
    const { userId, subscriptionId } = await syncThenChangeInTheSameSecond(async (id) => {
      const subscription: Stripe.Subscription = await getStripe().subscriptions.retrieve(id);
      await getStripe().subscriptions.update(id, { items: [{ id: subscription.items.data[0]!.id, price: hobbyist }] });
    });
    const inStripe = await getStripe().subscriptions.retrieve(subscriptionId);
    expect(inStripe.items.data[0]!.price.lookup_key).toBe("hobbyist_monthly");
    const user = await userRow(userId);
    expect(user.tier?.key).toBe("hobbyist");
    expect(user.subscriptionStatus).toBe("active");
  });

  it("a cancellation at period end shows on /account as ending (Pro until then)", async () => {
    const { userId } = await syncThenChangeInTheSameSecond(
      async (id) => {
        await getStripe().subscriptions.update(id, { cancel_at_period_end: true });
      },
      {
        // The customer looks at /account right after the sync: what it read then must not outlive the change.
        beforeChange: async (id) => {
          expect((await viewOf(await userRow(id))).state.kind).toBe("active");
        },
      },
    );
    const user = await userRow(userId);
    expect(user.tier?.key).toBe("pro");
    expect((await viewOf(user)).state.kind).toBe("ending");
  });
});
