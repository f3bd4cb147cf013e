// Whop's billing rules, as pure functions of plain values: what a membership status means, which
// state is newer, one paid tier across Stripe and Whop, and a Whop tier's health on the dashboard.
import { describe, expect, it } from "vitest";
import { grantDecision, type PaidState, revokeDecision, tierIsInForce } from "../../app/rules/paid-tier.ts";
import { explainTierInForce } from "../../app/rules/support.ts";
import { tierHealth } from "../../app/rules/tiers.ts";
import {
  planWhopMembershipChange,
  whopEventAction,
  type WhopPlanFact,
  type WhopProductFact,
  type WhopSubscriber,
} from "../../app/rules/whop.ts";
import {
  isLiveWhopStatus,
  WHOP_MEMBERSHIP_STATUSES,
  whopFreshness,
  whopMembershipStatusEffect,
} from "../../app/rules/whop-status.ts";
import { describeWhopPlan, formatWhopInterval, formatWhopPrice } from "../../app/services/whop/catalog.server.ts";

const at = (iso: string) => new Date(iso);

describe("whopMembershipStatusEffect", () => {
  it("grants for active, trialing, past_due (grace) and canceling (paid until the period ends)", () => {
    for (const status of ["active", "trialing", "past_due", "canceling"])
      expect(whopMembershipStatusEffect(status), status).toBe("grant");
  });

  it("returns the user to free for canceled, expired, completed and unresolved", () => {
    for (const status of ["canceled", "expired", "completed", "unresolved"])
      expect(whopMembershipStatusEffect(status), status).toBe("revoke");
  });

  it("changes nothing for an unpaid draft, and never grants an unknown status", () => {
    expect(whopMembershipStatusEffect("drafted")).toBe("no_change");
    expect(whopMembershipStatusEffect("paused_by_a_future_api")).toBe("revoke");
    expect(isLiveWhopStatus(null)).toBe(false);
  });

  it("covers every status Whop documents", () => {
    const effects = WHOP_MEMBERSHIP_STATUSES.map((status) => whopMembershipStatusEffect(status));
    expect(effects.filter((effect) => effect === "grant")).toHaveLength(4);
    expect(effects.filter((effect) => effect === "revoke")).toHaveLength(4);
  });
});

describe("whopFreshness (a membership's updated_at orders its states)", () => {
  it("applies a newer state and the first one", () => {
    expect(whopFreshness(at("2026-05-01T10:00:00.002Z"), at("2026-05-01T10:00:00.001Z"))).toBe("newer");
    expect(whopFreshness(at("2026-05-01T10:00:00Z"), null)).toBe("newer");
  });

  it("refuses an older state, and re-applies the very same one (it changes nothing)", () => {
    expect(whopFreshness(at("2026-05-01T09:59:59.999Z"), at("2026-05-01T10:00:00Z"))).toBe("stale");
    expect(whopFreshness(at("2026-05-01T10:00:00Z"), at("2026-05-01T10:00:00Z"))).toBe("newer");
  });
});

const paid = (overrides: Partial<PaidState>): PaidState => ({
  tier: "none",
  billingSource: null,
  billingSince: null,
  subscriptionStatus: null,
  whopMembershipStatus: null,
  ...overrides,
});

describe("one paid tier at a time", () => {
  it("a grant takes the tier when nothing paid is in force, or its own provider holds it", () => {
    expect(grantDecision(paid({}), "whop", at("2026-01-01T00:00:00Z"))).toEqual({ take: true });
    expect(
      grantDecision(paid({ tier: "exempt", billingSource: "stripe", subscriptionStatus: "active" }), "whop", null),
    ).toEqual({ take: true });
    expect(
      grantDecision(paid({ tier: "paid", billingSource: "whop", whopMembershipStatus: "active" }), "whop", null),
    ).toEqual({ take: true });
  });

  it("of two live ones, the newer wins", () => {
    const stripeSince = (since: string) =>
      paid({ tier: "paid", billingSource: "stripe", billingSince: at(since), subscriptionStatus: "active" });
    expect(grantDecision(stripeSince("2026-03-01T00:00:00Z"), "whop", at("2026-04-01T00:00:00Z"))).toEqual({
      take: true,
    });
    const older = grantDecision(stripeSince("2026-03-01T00:00:00Z"), "whop", at("2026-02-01T00:00:00Z"));
    expect(older).toMatchObject({
      take: false,
      reason: expect.stringMatching(/Stripe subscription in force started later/),
    });
    // Unknown start: counts as the older one.
    expect(grantDecision(stripeSince("2026-03-01T00:00:00Z"), "whop", null)).toMatchObject({ take: false });
  });

  it("a row from before Whop (no billing_source) is Stripe's; a lapsed provider in force loses to a live one", () => {
    const legacy = paid({ tier: "paid", subscriptionStatus: "active", billingSince: at("2026-03-01T00:00:00Z") });
    expect(grantDecision(legacy, "whop", at("2026-01-01T00:00:00Z"))).toMatchObject({ take: false });
    expect(grantDecision({ ...legacy, subscriptionStatus: "canceled" }, "whop", at("2026-01-01T00:00:00Z"))).toEqual({
      take: true,
    });
  });

  it("a lapse only takes away a tier its provider granted, and falls back to the other live one", () => {
    const onWhop = paid({
      tier: "paid",
      billingSource: "whop",
      whopMembershipStatus: "active",
      subscriptionStatus: "canceled",
    });
    expect(revokeDecision(onWhop, "stripe")).toBe("keep");
    expect(revokeDecision(onWhop, "whop")).toBe("clear");
    expect(revokeDecision({ ...onWhop, subscriptionStatus: "past_due" }, "whop")).toEqual({ fallbackTo: "stripe" });
    expect(
      revokeDecision(paid({ tier: "paid", billingSource: "stripe", whopMembershipStatus: "canceling" }), "stripe"),
    ).toEqual({
      fallbackTo: "whop",
    });
    expect(revokeDecision(paid({ tier: "exempt", billingSource: "whop" }), "whop")).toBe("keep");
  });
});

describe("planWhopMembershipChange", () => {
  const basic = { id: 7, key: "whop_basic" };
  const user = (overrides: Partial<WhopSubscriber> = {}): WhopSubscriber => ({
    ...paid({}),
    id: 1,
    whopMembershipId: null,
    whopSyncedAt: null,
    ...overrides,
  });
  const membership = (status: string, id = "mem_1") => ({ id, status, createdAt: at("2026-05-01T00:00:00Z") });
  const now = at("2026-05-02T00:00:00Z");

  it("grants the product's tier for a live membership", () => {
    expect(
      planWhopMembershipChange({ user: user(), membership: membership("active"), tier: basic, observedAt: now }),
    ).toEqual({
      record: true,
      tier: { grant: basic },
      detail: "account 1 → whop_basic (Whop active)",
    });
  });

  it("is stale when a newer state of the user's membership was applied", () => {
    const plan = planWhopMembershipChange({
      user: user({ whopSyncedAt: at("2026-05-03T00:00:00Z") }),
      membership: membership("canceled"),
      tier: basic,
      observedAt: now,
    });
    expect(plan).toMatchObject({ stale: expect.stringMatching(/older/) });
  });

  it("sends the user to free when the membership that granted the tier ends", () => {
    const onIt = user({
      tier: "paid",
      billingSource: "whop",
      whopMembershipId: "mem_1",
      whopMembershipStatus: "active",
    });
    expect(
      planWhopMembershipChange({ user: onIt, membership: membership("expired"), tier: basic, observedAt: now }),
    ).toMatchObject({
      record: true,
      tier: "clear",
    });
  });

  it("ignores the end of an old membership while another one is live, and unpaid drafts", () => {
    const onNew = user({
      tier: "paid",
      billingSource: "whop",
      whopMembershipId: "mem_new",
      whopMembershipStatus: "active",
    });
    expect(
      planWhopMembershipChange({
        user: onNew,
        membership: membership("canceled", "mem_old"),
        tier: basic,
        observedAt: now,
      }),
    ).toMatchObject({
      ignored: expect.stringMatching(/not account 1's current Whop membership/),
    });
    expect(
      planWhopMembershipChange({ user: user(), membership: membership("drafted"), tier: basic, observedAt: now }),
    ).toMatchObject({
      ignored: expect.stringMatching(/drafted/),
    });
  });

  it("records a live membership but keeps a newer live Stripe subscription's tier", () => {
    const onStripe = user({
      tier: "paid",
      billingSource: "stripe",
      billingSince: at("2026-06-01T00:00:00Z"),
      subscriptionStatus: "active",
    });
    expect(
      planWhopMembershipChange({ user: onStripe, membership: membership("active"), tier: basic, observedAt: now }),
    ).toMatchObject({
      record: true,
      tier: "keep",
    });
  });
});

describe("tierIsInForce and explainTierInForce with Whop", () => {
  const whopTier = { billingProvider: "whop" as const, isBillingExempt: false };

  it("a Whop-granted tier is in force while the membership's status grants it, whatever Stripe says", () => {
    expect(
      tierIsInForce({
        tier: whopTier,
        subscriptionStatus: null,
        billingSource: "whop",
        whopMembershipStatus: "canceling",
      }),
    ).toBe(true);
    expect(
      tierIsInForce({
        tier: whopTier,
        subscriptionStatus: "active",
        billingSource: "whop",
        whopMembershipStatus: "expired",
      }),
    ).toBe(false);
    expect(
      tierIsInForce({ tier: whopTier, subscriptionStatus: null, billingSource: "whop", whopMembershipStatus: null }),
    ).toBe(false);
  });

  it("a Stripe-granted tier still follows Stripe's status", () => {
    const stripeTier = { billingProvider: "stripe" as const, isBillingExempt: false };
    expect(
      tierIsInForce({
        tier: stripeTier,
        subscriptionStatus: "active",
        billingSource: "stripe",
        whopMembershipStatus: "canceled",
      }),
    ).toBe(true);
    expect(
      tierIsInForce({
        tier: stripeTier,
        subscriptionStatus: "canceled",
        billingSource: null,
        whopMembershipStatus: "active",
      }),
    ).toBe(false);
  });

  it("explains a Whop tier in Whop's words", () => {
    const storedTier = {
      key: "whop_basic",
      name: "Whop Basic",
      billingProvider: "whop" as const,
      isBillingExempt: false,
    };
    const why = (whopMembershipStatus: string | null) =>
      explainTierInForce({
        storedTier,
        subscriptionStatus: null,
        freeTierName: "Free",
        billingSource: "whop",
        whopMembershipStatus,
      });
    expect(why("past_due")).toEqual({
      tierName: "Whop Basic",
      reason:
        "The Whop membership is past_due, which grants Whop Basic (a renewal failed; the tier is kept while Whop retries).",
    });
    expect(why("expired")).toEqual({
      tierName: "Free",
      reason: "The stored tier Whop Basic is not in force: the Whop membership is expired.",
    });
  });
});

describe("whopEventAction", () => {
  it("acts on membership changes, asks Whop about payments, drops the product cache on catalogue changes", () => {
    expect(whopEventAction("membership.activated")).toEqual({ kind: "membership" });
    expect(whopEventAction("membership.deactivated")).toEqual({ kind: "membership" });
    expect(whopEventAction("membership.cancel_at_period_end_changed")).toEqual({ kind: "membership" });
    expect(whopEventAction("payment.succeeded")).toEqual({ kind: "payment" });
    expect(whopEventAction("payment.failed")).toEqual({ kind: "payment" });
    expect(whopEventAction("product.updated")).toEqual({ kind: "catalog" });
    expect(whopEventAction("plan.deleted")).toEqual({ kind: "catalog" });
    expect(whopEventAction("dispute.created")).toEqual({ kind: "ignore" });
  });
});

describe("tierHealth of a Whop tier", () => {
  const plan = (overrides: Partial<WhopPlanFact> = {}): WhopPlanFact => ({
    id: "plan_1",
    title: null,
    visibility: "visible",
    releaseMethod: "buy_now",
    planType: "renewal",
    currency: "usd",
    initialPrice: 5,
    renewalPrice: 5,
    billingPeriod: 30,
    trialPeriodDays: null,
    purchaseUrl: null,
    ...overrides,
  });
  const product = (overrides: Partial<NonNullable<WhopProductFact>> = {}): WhopProductFact => ({
    id: "prod_x",
    title: "X",
    visibility: "visible",
    companyId: "biz_1",
    plans: [plan()],
    ...overrides,
  });
  const health = (products: Map<string, WhopProductFact>, unavailable = false, reason?: string) =>
    tierHealth(
      { billingProvider: "whop", isBillingExempt: false, whopProductKey: "prod_x", lookupKeys: [] },
      new Map(),
      { unavailable: false },
      {
        products,
        unavailable,
        reason,
      },
    );

  it("is valid when the product exists, is not archived and sells a plan (hidden from the store is fine)", () => {
    expect(health(new Map([["prod_x", product()]]))).toEqual({ state: "valid" });
    expect(health(new Map([["prod_x", product({ visibility: "hidden" })]]))).toEqual({ state: "valid" });
  });

  it("flags a missing or archived product and one with nothing for sale", () => {
    expect(health(new Map([["prod_x", null]]))).toEqual({ state: "invalid", problems: ['"prod_x": missing in Whop'] });
    expect(health(new Map([["prod_x", product({ visibility: "archived" })]]))).toEqual({
      state: "invalid",
      problems: ['"prod_x": the product is archived in Whop'],
    });
    const nothingForSale = product({ plans: [plan({ visibility: "archived" }), plan({ releaseMethod: "waitlist" })] });
    expect(health(new Map([["prod_x", nothingForSale]]))).toMatchObject({ state: "invalid" });
  });

  it("could not verify when Whop did not answer, never valid", () => {
    expect(health(new Map(), true, "Whop did not answer within 3000 ms")).toEqual({
      state: "unverified",
      reason: "could not verify: Whop did not answer within 3000 ms",
    });
  });

  it("still needs a product key", () => {
    expect(
      tierHealth({ billingProvider: "whop", isBillingExempt: false, whopProductKey: " ", lookupKeys: [] }, new Map(), {
        unavailable: false,
      }),
    ).toEqual({ state: "invalid", problems: ["a Whop tier needs a Whop product key"] });
  });
});

describe("Whop prices read like Stripe's", () => {
  it("formats prices in currency units, and periods in days as intervals", () => {
    expect(formatWhopPrice(5, "usd")).toBe("$5.00");
    expect(formatWhopPrice(12.5, "gbp")).toBe("£12.50");
    expect(formatWhopPrice(3, "whop_usd")).toBe("3 WHOP_USD");
    expect(formatWhopInterval({ billingPeriod: 30, planType: "renewal" })).toBe("month");
    expect(formatWhopInterval({ billingPeriod: 365, planType: "renewal" })).toBe("year");
    expect(formatWhopInterval({ billingPeriod: 45, planType: "renewal" })).toBe("45 days");
    expect(formatWhopInterval({ billingPeriod: null, planType: "one_time" })).toBe("one-off");
  });

  it("says what the first payment and trial are when they differ from the renewal", () => {
    const view = describeWhopPlan({
      id: "plan_1",
      title: "Plus",
      visibility: "visible",
      releaseMethod: "buy_now",
      planType: "renewal",
      currency: "gbp",
      initialPrice: 1,
      renewalPrice: 15,
      billingPeriod: 30,
      trialPeriodDays: 7,
      purchaseUrl: null,
    });
    expect(view).toMatchObject({
      amount: "£15.00",
      interval: "month",
      cadence: "monthly",
      firstPayment: "£1.00",
      trialDays: 7,
    });
  });
});
