// Whole-account reconciliation against the Stripe emulator: webhooks that never arrived (a
// cancellation, a plan change) and a customer whose link was lost are found, each with what Tierdesk
// has, what Stripe says and the rule; applying one fixes only that account, applying all the rest,
// both audited; a second run finds nothing.
import { beforeAll, describe, expect, it } from "vitest";
import {
  applyAllDifferences,
  applyDifference,
  leaveDifference,
  reconcileNow,
} from "../../app/services/customers/reconciliation.server.ts";
import { RequestPacer } from "../../app/services/stripe/full-lists.server.ts";
import { getStripe } from "../../app/services/stripe/client.server.ts";
import * as checkoutRoute from "../../app/routes/api.stripe.checkout.ts";
import { testDb } from "../setup/database.ts";
import { useStripeEmulator } from "../stripe-harness.ts";
import {
  BASE_URL,
  billingOf,
  createBillingUser,
  routeArgs,
  seedDemoData,
  sessionCookieFor,
  setBilling,
  settle,
} from "../utils.ts";

const stripe = useStripeEmulator();
const prisma = () => testDb().prisma;
const support = { id: null, email: "support@example.com" } as const;

let counter = 0;
/** A customer who paid for `lookupKey` through Tierdesk's checkout, webhooks delivered. */
async function subscriber(lookupKey: string) {
  const email = `reconcile-${counter++}@example.com`;
  const user = await createBillingUser({ email });
  const cookie = await sessionCookieFor(email);
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
  const { url } = (await response.json()) as { url: string };
  const { subscription } = await stripe.emulator.completeCheckout(url.split("/").pop()!);
  await stripe.emulator.settle();
  return { user, subscription: subscription! };
}

async function differencesOf(runId: number) {
  return prisma().reconciliationDifference.findMany({ where: { runId }, orderBy: { id: "asc" } });
}

const state = async (userId: number) => {
  const account = await billingOf(userId);
  return {
    tier: account.tier?.key ?? null,
    status: account.subscriptionStatus,
    customer: account.stripeCustomerId,
    subscription: account.stripeSubscriptionId,
  };
};

const people = {} as Record<"canceled" | "upgraded" | "unlinked" | "untouched", Awaited<ReturnType<typeof subscriber>>>;

beforeAll(async () => {
  await seedDemoData();
  people.canceled = await subscriber("pro_monthly");
  people.upgraded = await subscriber("hobbyist_monthly");
  people.unlinked = await subscriber("pro_monthly");
  people.untouched = await subscriber("hobbyist_monthly");
  expect(await state(people.canceled.user.id)).toMatchObject({ tier: "pro", status: "active" });
  expect(await state(people.upgraded.user.id)).toMatchObject({ tier: "hobbyist", status: "active" });

  // From here on Stripe's webhooks never arrive: what changes in Stripe is missed.
  stripe.emulator.holdWebhooks();
  await getStripe().subscriptions.cancel(people.canceled.subscription.id);
  const item = people.upgraded.subscription.items.data[0]!;
  await getStripe().subscriptions.update(people.upgraded.subscription.id, {
    items: [{ id: item.id, price: "price_emu_pro_monthly" }],
  });
  // The account lost its link (as if its checkout's webhooks had all failed): the customer still names it.
  await setBilling(people.unlinked.user.id, {
    stripeCustomerId: null,
    stripeSubscriptionId: null,
    subscriptionStatus: null,
    tierId: null,
    subscriptionSyncedAt: null,
  });
});

describe("whole-account reconciliation", () => {
  let firstRun = 0;

  it("finds a missed cancellation, a missed upgrade and an unlinked customer, with both sides and the rule", async () => {
    const pacer = new RequestPacer(1000);
    const summary = await reconcileNow("cli", "test@example.com", { pacer });
    expect(summary).toMatchObject({ subscriptions: 4, customers: 4, differenceCount: 3 });
    // One page of customers, one of subscriptions: never a request per object.
    expect(summary!.stripeRequests).toBe(2);
    firstRun = summary!.runId;

    const differences = await differencesOf(firstRun);
    const byAccount = new Map(differences.map((difference) => [difference.accountId, difference]));
    expect(byAccount.get(people.canceled.user.accountId)).toMatchObject({
      kind: "missed_cancellation",
      fix: "sync",
      status: "open",
      tierdesk: { tier: "pro", status: "active", subscription: people.canceled.subscription.id },
      stripe: { tier: null, status: "canceled", subscription: null },
    });
    expect(byAccount.get(people.canceled.user.accountId)?.rule).toMatch(/canceled in Stripe/);
    expect(byAccount.get(people.upgraded.user.accountId)).toMatchObject({
      kind: "missed_plan_change",
      tierdesk: { tier: "hobbyist", status: "active" },
      stripe: { tier: "pro", status: "active", subscription: people.upgraded.subscription.id },
    });
    expect(byAccount.get(people.unlinked.user.accountId)).toMatchObject({
      kind: "customer_not_linked",
      tierdesk: { tier: null, customer: null },
      stripe: { tier: "pro", status: "active", customer: people.unlinked.subscription.customer },
      stripeCustomerId: people.unlinked.subscription.customer,
    });
    expect(byAccount.has(people.untouched.user.accountId)).toBe(false);
  });

  it("applies one: only that account changes, audited; the others stay open", async () => {
    const difference = (await differencesOf(firstRun)).find((row) => row.kind === "missed_cancellation")!;
    const outcome = await applyDifference(support, difference.id);
    expect(outcome).toMatchObject({ ok: true, changed: true });
    expect(await state(people.canceled.user.id)).toEqual({
      tier: null,
      status: "canceled",
      customer: people.canceled.subscription.customer,
      subscription: null,
    });
    // Untouched by that: the other two still differ.
    expect(await state(people.upgraded.user.id)).toMatchObject({ tier: "hobbyist" });
    expect(await state(people.unlinked.user.id)).toMatchObject({ tier: null, customer: null });
    const rows = await differencesOf(firstRun);
    expect(rows.map((row) => [row.kind, row.status])).toEqual(
      expect.arrayContaining([
        ["missed_cancellation", "applied"],
        ["missed_plan_change", "open"],
        ["customer_not_linked", "open"],
      ]),
    );
    const audit = await prisma().auditEntry.findMany({
      where: { action: "reconciled", entityId: String(people.canceled.user.accountId) },
    });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      actorEmail: "support@example.com",
      before: { tier: "pro", subscriptionStatus: "active" },
      after: { tier: null, subscriptionStatus: "canceled", difference: "missed_cancellation" },
    });
    // Applying it again changes nothing more.
    expect(await applyDifference(support, difference.id)).toMatchObject({ ok: false });
  });

  it("applies all the rest, audited, and a second run finds nothing", async () => {
    const result = await applyAllDifferences(support, firstRun);
    expect(result).toEqual({ applied: 2, failed: 0, finished: true });
    expect(await state(people.upgraded.user.id)).toMatchObject({ tier: "pro", status: "active" });
    expect(await state(people.unlinked.user.id)).toEqual({
      tier: "pro",
      status: "active",
      customer: people.unlinked.subscription.customer,
      subscription: people.unlinked.subscription.id,
    });
    const audited = await prisma().auditEntry.findMany({ where: { action: "reconciled" }, orderBy: { id: "asc" } });
    expect(
      audited.map((entry) => [Number(entry.entityId), (entry.after as { difference: string }).difference]),
    ).toEqual([
      [people.canceled.user.accountId, "missed_cancellation"],
      [people.upgraded.user.accountId, "missed_plan_change"],
      [people.unlinked.user.accountId, "customer_not_linked"],
    ]);

    const second = await reconcileNow("cli", null, { pacer: new RequestPacer(1000) });
    expect(second).toMatchObject({ differenceCount: 0, subscriptions: 4 });
    expect(await differencesOf(second!.runId)).toEqual([]);
  });

  it("finds a linked customer deleted in Stripe; leaving a difference changes nothing", async () => {
    await getStripe().customers.del(people.untouched.subscription.customer as string);
    const run = await reconcileNow("cli", null, { pacer: new RequestPacer(1000) });
    const [difference, ...others] = await differencesOf(run!.runId);
    expect(others).toEqual([]);
    expect(difference).toMatchObject({
      accountId: people.untouched.user.accountId,
      kind: "customer_deleted",
      fix: "unlink",
      tierdesk: { tier: "hobbyist", customer: people.untouched.subscription.customer },
      stripe: { tier: null, customer: null },
    });
    expect(await leaveDifference(support, difference!.id)).toMatchObject({ ok: true });
    expect(await state(people.untouched.user.id)).toMatchObject({ tier: "hobbyist" });
    expect(await applyDifference(support, difference!.id)).toMatchObject({ ok: false });

    const again = await reconcileNow("cli", null, { pacer: new RequestPacer(1000) });
    const [found] = await differencesOf(again!.runId);
    expect(await applyDifference(support, found!.id)).toMatchObject({ ok: true, changed: true });
    expect(await state(people.untouched.user.id)).toEqual({
      tier: null,
      status: null,
      customer: null,
      subscription: null,
    });
  });

  it("Stripe answering 429 (its rate limit): the run waits, retries, and finds what an unhurried run finds", async () => {
    const unhurried = await reconcileNow("cli", null, { pacer: new RequestPacer(1000) });
    const refusedBefore = stripe.emulator.rateLimited;
    stripe.emulator.rateLimitPerSecond = 1;
    try {
      // Paced far above what the emulator allows: every second request in a second is refused.
      const hurried = await reconcileNow("cli", null, { pacer: new RequestPacer(1000) });
      expect(stripe.emulator.rateLimited).toBeGreaterThan(refusedBefore);
      expect(hurried!.stripeRequests).toBeGreaterThan(unhurried!.stripeRequests);
      expect(hurried).toMatchObject({
        subscriptions: unhurried!.subscriptions,
        customers: unhurried!.customers,
        differenceCount: unhurried!.differenceCount,
      });
    } finally {
      stripe.emulator.rateLimitPerSecond = null;
    }
  });
});
