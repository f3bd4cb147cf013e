// Seats (issue 19): the SQL that marks an account over its seat limit agrees with the billing rules on
// which tier is in force, and a downgrade — by webhook, by an admin lowering a tier's limit, by a sync —
// leaves everyone in the account but marks it over its limit, which entitlements and /admin show.
import { beforeAll, beforeEach, afterEach, describe, expect, it } from "vitest";
import * as webhookRoute from "../../app/routes/api.stripe.webhook.ts";
import * as entitlementsRoute from "../../app/routes/api.me.entitlements.ts";
import { countAccountsOverSeatLimit, getSeats, refreshSeatLimitMark } from "../../app/models/seats.server.ts";
import { tierIsInForce } from "../../app/rules/paid-tier.ts";
import { useStripeConnection } from "../../app/services/stripe/client.server.ts";
import { saveTier } from "../../app/services/tiers/tier-admin.server.ts";
import { TierFormSchema } from "../../app/forms/tier-form.ts";
import { testDb } from "../setup/database.ts";
import { event, subscription, TEST_WEBHOOK_SECRET, webhookRequest } from "../stripe-fixtures.ts";
import { getRequest, routeArgs, seedDemoData, sessionCookieFor, settle } from "../utils.ts";

const prisma = () => testDb().prisma;
let counter = 0;

beforeAll(seedDemoData);
beforeEach(() =>
  useStripeConnection({ mode: "disabled", apiKey: null, apiBase: null, webhookSecrets: [TEST_WEBHOOK_SECRET] }),
);
afterEach(() => useStripeConnection({ mode: "disabled", apiKey: null, apiBase: null, webhookSecrets: [] }));

/** A team account with `members` people (the first one owns it), and their sessions acting for it. */
async function team(members: number, billing: Record<string, unknown> = {}) {
  const n = counter++;
  const account = await prisma().account.create({
    data: { name: `Seat Team ${n}`, slug: `seat-team-${n}-${Date.now()}`, ...billing },
  });
  const emails: string[] = [];
  for (let i = 0; i < members; i++) {
    const email = `seat-${n}-${i}-${Date.now()}@example.com`;
    const user = await prisma().user.create({ data: { email, passwordHash: "x" } });
    await prisma().membership.create({
      data: { accountId: account.id, userId: user.id, role: i === 0 ? "owner" : "member" },
    });
    emails.push(email);
  }
  await refreshSeatLimitMark(prisma(), [account.id]);
  return { account, emails };
}

async function actingFor(email: string, accountId: number) {
  const cookie = await sessionCookieFor(email);
  // The session acts for the team (the header's switcher writes the same column).
  const sessions = await prisma().session.findMany({ where: { user: { email } } });
  await prisma().session.updateMany({
    where: { id: { in: sessions.map((session) => session.id) } },
    data: { currentAccountId: accountId },
  });
  return cookie;
}

const tier = (key: string) => prisma().subscriptionTier.findUniqueOrThrow({ where: { key } });

describe("the seat limit's SQL agrees with the rules", () => {
  it("uses the tier in force for every provider, status and tier kind", async () => {
    const tiers = await prisma().subscriptionTier.findMany();
    const free = tiers.find((candidate) => candidate.key === "free")!;
    const statuses = [
      null,
      "active",
      "trialing",
      "past_due",
      "canceled",
      "unpaid",
      "incomplete",
      "canceling",
      "expired",
    ];
    const cases: Array<{ tierId: number | null; billingSource: "stripe" | "whop" | null; status: string | null }> = [];
    for (const candidate of [null, ...tiers.map((t) => t.id)])
      for (const billingSource of [null, "stripe", "whop"] as const)
        for (const status of statuses) cases.push({ tierId: candidate, billingSource, status });
    // One statement for every case (not one connection each).
    const stamp = Date.now();
    const created = await prisma().account.createManyAndReturn({
      data: cases.map((c, i) => ({
        name: `Rule case ${i}`,
        slug: `rule-case-${i}-${stamp}`,
        tierId: c.tierId,
        billingSource: c.billingSource,
        subscriptionStatus: c.status,
        whopMembershipStatus: c.status,
      })),
      select: { id: true, slug: true },
    });
    created.sort((a, b) => Number(a.slug.split("-")[2]) - Number(b.slug.split("-")[2]));
    for (const [i, account] of created.entries()) {
      const c = cases[i]!;
      const stored = tiers.find((candidate) => candidate.id === c.tierId) ?? null;
      const inForce = tierIsInForce({
        tier: stored,
        subscriptionStatus: c.status,
        billingSource: c.billingSource,
        whopMembershipStatus: c.status,
      });
      const expected = inForce ? stored!.userLimit : free.userLimit;
      expect((await getSeats(account.id))?.limit, JSON.stringify(c)).toBe(expected);
    }
  });
});

describe("downgrades never remove anyone", () => {
  it("a subscription downgrade by webhook leaves every member in and marks the account over its limit", async () => {
    const pro = await tier("pro");
    const { account, emails } = await team(3, {
      tierId: pro.id,
      stripeCustomerId: `cus_seats_${Date.now()}`,
      stripeSubscriptionId: "sub_seats",
      subscriptionStatus: "active",
      billingSource: "stripe",
    });
    expect((await getSeats(account.id))!.overLimitSince).toBeNull();

    const downgrade = subscription({
      id: "sub_seats",
      customer: account.stripeCustomerId!,
      lookupKey: "hobbyist_monthly",
    });
    const response = await webhookRoute.action(
      routeArgs(webhookRequest(event("customer.subscription.updated", downgrade))),
    );
    expect(response.status).toBe(200);

    const after = await prisma().account.findUniqueOrThrow({ where: { id: account.id }, include: { tier: true } });
    expect(after.tier?.key).toBe("hobbyist");
    expect(after.overSeatLimitSince).toBeInstanceOf(Date);
    expect(await prisma().membership.count({ where: { accountId: account.id } })).toBe(3);

    // Every member still uses the plan, and entitlements show the overflow.
    const member = await actingFor(emails[2]!, account.id);
    const entitlements = await (
      await settle(() => entitlementsRoute.loader(routeArgs(getRequest("/api/me/entitlements", member))))
    ).json();
    expect(entitlements.tier).toBe("hobbyist");
    expect(entitlements.seats).toEqual({ limit: 1, used: 3, pending: 0 });
    expect(entitlements.seats.used).toBeGreaterThan(entitlements.seats.limit);

    // Support finds it among the accounts over their limit.
    expect(await countAccountsOverSeatLimit()).toBeGreaterThanOrEqual(1);

    // Upgrading again clears the mark.
    const upgrade = subscription({ id: "sub_seats", customer: account.stripeCustomerId!, lookupKey: "pro_monthly" });
    await webhookRoute.action(
      routeArgs(
        webhookRequest(
          event("customer.subscription.updated", upgrade, { created: Math.floor(Date.now() / 1000) + 10 }),
        ),
      ),
    );
    expect((await getSeats(account.id))!.overLimitSince).toBeNull();
  });

  it("a canceled subscription falls back to the free tier's seats, keeping every member", async () => {
    const pro = await tier("pro");
    const { account } = await team(2, {
      tierId: pro.id,
      stripeCustomerId: `cus_seats_cancel_${Date.now()}`,
      stripeSubscriptionId: "sub_seats_cancel",
      subscriptionStatus: "active",
      billingSource: "stripe",
    });
    const canceled = subscription({
      id: "sub_seats_cancel",
      customer: account.stripeCustomerId!,
      lookupKey: "pro_monthly",
      status: "canceled",
    });
    await webhookRoute.action(routeArgs(webhookRequest(event("customer.subscription.deleted", canceled))));
    const seats = (await getSeats(account.id))!;
    expect(seats).toMatchObject({ limit: 1, used: 2 });
    expect(seats.overLimitSince).toBeInstanceOf(Date);
    expect(await prisma().membership.count({ where: { accountId: account.id } })).toBe(2);
  });

  it("an admin lowering a tier's user limit marks its accounts over it, and raising it clears them", async () => {
    const partner = await tier("partner");
    const { account } = await team(4, { tierId: partner.id });
    expect((await getSeats(account.id))!.overLimitSince).toBeNull();
    const actor = { id: null, email: "admin@example.com" };
    const permissions = await prisma().subscriptionTierPermission.findMany({
      where: { tierId: partner.id },
      include: { permission: true },
    });
    const values = (userLimit: number) =>
      TierFormSchema.parse({
        name: partner.name,
        key: partner.key,
        description: partner.description ?? "",
        userLimit: String(userLimit),
        isCustomerFacing: partner.isCustomerFacing,
        billingProvider: partner.billingProvider,
        isBillingExempt: partner.isBillingExempt,
        fallbackPrice: partner.fallbackPrice,
        lookupKeys: "",
        permissions: permissions.map(({ permission }) => permission.name),
      });
    expect(await saveTier(actor, partner.key, values(3))).toMatchObject({ ok: true });
    expect((await getSeats(account.id))!).toMatchObject({ limit: 3, used: 4 });
    expect((await getSeats(account.id))!.overLimitSince).toBeInstanceOf(Date);
    expect(await saveTier(actor, partner.key, values(25))).toMatchObject({ ok: true });
    expect((await getSeats(account.id))!.overLimitSince).toBeNull();
  });
});
