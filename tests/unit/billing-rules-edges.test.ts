// The billing rules at their edges: the cases mutation testing (npm run test:mutation:rules) showed no
// test told apart. Each asserts what a customer or support would see: the tier in force, the health
// on the dashboard, the explanation support reads, the event's fate.
import { describe, expect, it } from "vitest";
import { grantDecision, isGrantingStatus, type PaidState, tierIsInForce } from "../../app/rules/paid-tier.ts";
import { roleChangeProblem } from "../../app/rules/roles.ts";
import { eventAction, parseTierdeskId, stripeIdProblem } from "../../app/rules/stripe-events.ts";
import {
  isLiveSubscriptionStatus,
  type PlanPrice,
  tierForSubscription,
  tiersByProduct,
} from "../../app/rules/stripe-subscriptions.ts";
import { explainTierInForce, pickGoverningSubscription } from "../../app/rules/support.ts";
import {
  hasValidIntegration,
  sharedProductProblems,
  type StripePriceFact,
  tierHealth,
  type TierIntegration,
  tiersHealth,
} from "../../app/rules/tiers.ts";
import { planWhopMembershipChange, whopEventAction, whopProductState } from "../../app/rules/whop.ts";
import { isLiveWhopStatus } from "../../app/rules/whop-status.ts";

const tier = (overrides: Partial<TierIntegration & { key: string }>): TierIntegration & { key: string } => ({
  key: "pro",
  billingProvider: "stripe",
  isBillingExempt: false,
  whopProductKey: null,
  lookupKeys: [],
  ...overrides,
});
const price = (productId: string, currency = "usd"): NonNullable<StripePriceFact> => ({
  active: true,
  productActive: true,
  productId,
  currency,
});
const stripeUp = { unavailable: false };

describe("a tier's integration", () => {
  it("a Whop tier whose product key is only spaces cannot be sold", () => {
    expect(hasValidIntegration(tier({ billingProvider: "whop", whopProductKey: "   " }))).toBe(false);
    expect(hasValidIntegration(tier({ billingProvider: "whop", whopProductKey: "prod_1" }))).toBe(true);
  });

  it("a Stripe tier without lookup keys is invalid on the dashboard, saying so", () => {
    expect(tierHealth(tier({ lookupKeys: [] }), new Map(), stripeUp)).toEqual({
      state: "invalid",
      problems: ["a Stripe tier needs at least one lookup key"],
    });
  });

  it("an exempt tier is not applicable, and a Whop tier left unchecked is unverified, not valid", () => {
    expect(tierHealth(tier({ billingProvider: "exempt" }), new Map(), stripeUp)).toEqual({
      state: "not-applicable",
      reason: "exempt: no payment needed",
    });
    expect(tierHealth(tier({ billingProvider: "whop", whopProductKey: "prod_1" }), new Map(), stripeUp)).toEqual({
      state: "unverified",
      reason: "could not verify: Whop was not asked",
    });
  });

  it("a Whop tier without a product key is invalid; Whop not answering leaves it unverified", () => {
    expect(tierHealth(tier({ billingProvider: "whop", whopProductKey: null }), new Map(), stripeUp)).toEqual({
      state: "invalid",
      problems: ["a Whop tier needs a Whop product key"],
    });
    const whopDown = { products: new Map(), unavailable: true };
    expect(
      tierHealth(tier({ billingProvider: "whop", whopProductKey: "prod_1" }), new Map(), stripeUp, whopDown),
    ).toEqual({ state: "unverified", reason: "could not verify: Whop did not answer" });
  });

  it("a Whop product with no plan for sale is named as the problem", () => {
    const products = new Map([
      ["prod_1", { id: "prod_1", title: "Pro", visibility: "visible", companyId: null, plans: [] }],
    ]);
    expect(
      tierHealth(tier({ billingProvider: "whop", whopProductKey: "prod_1" }), new Map(), stripeUp, {
        products,
        unavailable: false,
      }),
    ).toEqual({
      state: "invalid",
      problems: ['"prod_1": the product has no plan for sale (none is visible and buy-now)'],
    });
  });

  it("a price Stripe reports without a product does not count as a second product", () => {
    const prices = new Map<string, StripePriceFact>([
      ["pro_monthly", price("prod_1")],
      ["pro_yearly", { ...price("prod_1"), productId: null }],
    ]);
    expect(tierHealth(tier({ lookupKeys: ["pro_monthly", "pro_yearly"] }), prices, stripeUp)).toEqual({
      state: "valid",
    });
  });

  it("a Stripe tier reports Stripe's reason when Stripe could not be asked", () => {
    const health = tierHealth(tier({ lookupKeys: ["pro_monthly"] }), new Map(), { unavailable: true });
    expect(health).toEqual({ state: "unverified", reason: "could not verify: Stripe did not answer" });
  });

  it("names an inactive price and an archived product as the tier's problems", () => {
    const prices = new Map<string, StripePriceFact>([
      ["old", { active: false, productActive: true, productId: "prod_1", currency: "usd" }],
      ["gone", { active: true, productActive: false, productId: "prod_1", currency: "usd" }],
    ]);
    expect(tierHealth(tier({ lookupKeys: ["old", "gone"] }), prices, stripeUp)).toEqual({
      state: "invalid",
      problems: ['"old": its price is inactive', '"gone": its product is archived'],
    });
  });

  it("a key Stripe does not know is a problem, but not a second product", () => {
    const prices = new Map<string, StripePriceFact>([["pro_monthly", price("prod_1")]]);
    expect(tierHealth(tier({ lookupKeys: ["pro_monthly", "nowhere"] }), prices, stripeUp)).toEqual({
      state: "invalid",
      problems: ['"nowhere": missing in Stripe'],
    });
  });
});

describe("tiers sharing a Stripe product", () => {
  const prices = new Map<string, StripePriceFact>([
    ["pro_monthly", price("prod_shared")],
    ["team_monthly", price("prod_shared")],
    ["solo_monthly", price("prod_solo")],
  ]);

  it("flags only Stripe tiers that sell the same product, each naming the other", () => {
    const problems = sharedProductProblems(
      [
        tier({ key: "pro", lookupKeys: ["pro_monthly"] }),
        tier({ key: "team", lookupKeys: ["team_monthly", "unknown_key"] }),
        tier({ key: "solo", lookupKeys: ["solo_monthly"] }),
        // Neither an exempt nor a Whop tier sells through Stripe, whatever keys it lists.
        tier({ key: "staff", lookupKeys: ["pro_monthly"], isBillingExempt: true }),
        tier({ key: "whopper", billingProvider: "whop", lookupKeys: ["pro_monthly"] }),
      ],
      prices,
    );
    expect([...problems.keys()].sort()).toEqual(["pro", "team"]);
    expect(problems.get("pro")).toEqual([expect.stringContaining("product prod_shared is also sold by tier team:")]);
    expect(problems.get("team")).toEqual([expect.stringContaining("also sold by tier pro:")]);
  });

  it("adds the shared product to a tier's own problems on the dashboard, and turns a valid tier invalid", () => {
    const withOwnProblem = new Map(prices).set("team_old", { ...price("prod_shared"), active: false });
    const health = tiersHealth(
      [
        tier({ key: "pro", lookupKeys: ["pro_monthly"] }),
        tier({ key: "team", lookupKeys: ["team_monthly", "team_old"] }),
      ],
      withOwnProblem,
      stripeUp,
    );
    expect(health.get("pro")).toEqual({
      state: "invalid",
      problems: [expect.stringContaining("also sold by tier team")],
    });
    expect(health.get("team")).toEqual({
      state: "invalid",
      problems: ['"team_old": its price is inactive', expect.stringContaining("also sold by tier pro")],
    });
  });

  it("names every other tier selling the product, and keeps a tier that shares nothing valid", () => {
    const three = sharedProductProblems(
      [
        tier({ key: "pro", lookupKeys: ["pro_monthly"] }),
        tier({ key: "team", lookupKeys: ["team_monthly"] }),
        tier({ key: "max", lookupKeys: ["max_monthly"] }),
      ],
      new Map(prices).set("max_monthly", price("prod_shared")),
    );
    expect(three.get("pro")).toEqual([expect.stringContaining("also sold by tier team, max:")]);
    const health = tiersHealth(
      [
        tier({ key: "pro", lookupKeys: ["pro_monthly"] }),
        tier({ key: "team", lookupKeys: ["team_monthly"] }),
        tier({ key: "solo", lookupKeys: ["solo_monthly"] }),
      ],
      prices,
      stripeUp,
    );
    expect(health.get("solo")).toEqual({ state: "valid" });
  });

  it("two tiers whose keys Stripe does not know do not share a product", () => {
    const problems = sharedProductProblems(
      [tier({ key: "a", lookupKeys: ["a_key"] }), tier({ key: "b", lookupKeys: ["b_key"] })],
      new Map([["a_key", null]]),
    );
    expect(problems.size).toBe(0);
  });

  it("lists every tier selling a product, for legacy prices", () => {
    const owners = [
      { lookupKey: "pro_monthly", tier: { id: 1, key: "pro" } },
      { lookupKey: "pro_yearly", tier: { id: 1, key: "pro" } },
      { lookupKey: "team_monthly", tier: { id: 2, key: "team" } },
    ];
    const byProduct = tiersByProduct(
      owners,
      new Map([
        ["pro_monthly", "prod_shared"],
        ["pro_yearly", "prod_shared"],
        ["team_monthly", "prod_shared"],
      ]),
    );
    expect(byProduct.get("prod_shared")?.map((t) => t.key)).toEqual(["pro", "team"]);
  });

  it("leaves an unverified tier unverified, not invalid, when Stripe is down", () => {
    const health = tiersHealth(
      [tier({ key: "pro", lookupKeys: ["pro_monthly"] }), tier({ key: "team", lookupKeys: ["team_monthly"] })],
      prices,
      { unavailable: true, reason: "timeout" },
    );
    expect(health.get("pro")).toEqual({ state: "unverified", reason: "could not verify: timeout" });
  });

  it("leaves an exempt tier not applicable even when its keys share a product", () => {
    const health = tiersHealth(
      [
        tier({ key: "pro", lookupKeys: ["pro_monthly"] }),
        tier({ key: "team", lookupKeys: ["team_monthly"] }),
        tier({ key: "free", billingProvider: "exempt", lookupKeys: ["pro_monthly"] }),
      ],
      prices,
      stripeUp,
    );
    expect(health.get("free")?.state).toBe("not-applicable");
  });
});

describe("which tier a subscription pays for", () => {
  const pro = { id: 1, key: "pro" };
  const team = { id: 2, key: "team" };

  it("fails a subscription with no prices at all, telling support what to do", () => {
    expect(tierForSubscription("sub_1", [], [])).toEqual({
      error: "Subscription sub_1 has no prices; give it a price with a lookup key that a tier owns.",
    });
  });

  it("fails legacy prices of two tiers' products, naming both tiers", () => {
    const products = new Map([
      ["prod_pro", [pro]],
      ["prod_team", [team]],
    ]);
    const items = [
      { priceId: "price_a", lookupKey: null, productId: "prod_pro" },
      { priceId: "price_b", lookupKey: null, productId: "prod_team" },
    ];
    const resolution = tierForSubscription("sub_1", items, [], products);
    expect(resolution).toEqual({ error: expect.stringContaining("legacy prices of several tiers (pro, team)") });
  });

  it("names the keyless price and its product when no tier sells that product", () => {
    const items = [{ priceId: null, lookupKey: null, productId: null }];
    expect(tierForSubscription("sub_1", items, [], new Map())).toEqual({
      error: expect.stringContaining("(no id) of product (none)"),
    });
  });

  it("names every unknown lookup key and every keyless price in the error", () => {
    const unknown = [
      { priceId: "price_a", lookupKey: "a_key", productId: "prod_a" },
      { priceId: "price_b", lookupKey: "b_key", productId: "prod_b" },
    ];
    expect(tierForSubscription("sub_1", unknown, [])).toEqual({ error: expect.stringContaining('"a_key", "b_key"') });
    const keyless = [
      { priceId: "price_a", lookupKey: null, productId: "prod_a" },
      { priceId: "price_b", lookupKey: null, productId: "prod_b" },
    ];
    expect(tierForSubscription("sub_1", keyless, [], new Map())).toEqual({
      error: expect.stringContaining("(price_a of product prod_a, price_b of product prod_b)"),
    });
  });

  it("names the prices of both tiers when one subscription pays for two", () => {
    const items = [
      { priceId: "price_a", lookupKey: "pro_monthly", productId: "prod_pro" },
      { priceId: "price_b", lookupKey: "team_monthly", productId: "prod_team" },
    ];
    const owners = [
      { lookupKey: "pro_monthly", tier: pro },
      { lookupKey: "team_monthly", tier: team },
    ];
    expect(tierForSubscription("sub_1", items, owners)).toEqual({
      error: expect.stringContaining('"pro_monthly" → pro, "team_monthly" → team'),
    });
  });
});

describe("ids from Stripe", () => {
  it("reads an account (or legacy user) id only from a plain number or digits", () => {
    expect(parseTierdeskId({ id: 5 })).toBeNull();
    expect(parseTierdeskId(true)).toBeNull();
    expect(parseTierdeskId("12abc")).toBeNull();
    expect(parseTierdeskId(" 12 ")).toBe(12);
    expect(parseTierdeskId(7)).toBe(7);
  });

  it("keeps an id of exactly the column's 64 characters, and shows the start of a longer one", () => {
    expect(stripeIdProblem("c".repeat(64), "customer")).toBeNull();
    const problem = stripeIdProblem(`cus_${"x".repeat(70)}`, "customer");
    expect(problem).toBe(`Stripe customer id cus_${"x".repeat(20)}… is longer than 64 characters.`);
  });
});

describe("statuses and the tier in force", () => {
  it("no status is not a live subscription or membership", () => {
    expect(isLiveSubscriptionStatus(null)).toBe(false);
    expect(isLiveSubscriptionStatus(undefined)).toBe(false);
    expect(isLiveWhopStatus(null)).toBe(false);
    expect(isLiveWhopStatus(undefined)).toBe(false);
    expect(isGrantingStatus("stripe", null)).toBe(false);
    expect(isGrantingStatus("whop", undefined)).toBe(false);
  });

  it("asks the provider that granted the tier: a Whop status means nothing to Stripe", () => {
    expect(isGrantingStatus("whop", "canceling")).toBe(true);
    expect(isGrantingStatus("stripe", "canceling")).toBe(false);
    expect(isGrantingStatus("stripe", "trialing")).toBe(true);
  });

  it("an exempt-provider tier stays in force without any subscription", () => {
    expect(
      tierIsInForce({ tier: { billingProvider: "exempt", isBillingExempt: false }, subscriptionStatus: null }),
    ).toBe(true);
  });

  it("a billing-exempt Stripe tier stays in force without any subscription", () => {
    expect(
      tierIsInForce({ tier: { billingProvider: "stripe", isBillingExempt: true }, subscriptionStatus: null }),
    ).toBe(true);
  });

  it("a resumed subscription is applied; payment failures and trial warnings are only recorded", () => {
    expect(eventAction("customer.subscription.resumed")).toEqual({ kind: "subscription", deleted: false });
    for (const type of ["invoice.payment_failed", "invoice.payment_succeeded", "customer.subscription.trial_will_end"])
      expect(eventAction(type), type).toEqual({ kind: "audit" });
  });

  it("Whop's went_valid and went_invalid are membership changes", () => {
    expect(whopEventAction("membership.went_valid")).toEqual({ kind: "membership" });
    expect(whopEventAction("membership.went_invalid")).toEqual({ kind: "membership" });
  });

  it("a Whop product with any plan for sale is sellable", () => {
    const plan = { visibility: "visible", releaseMethod: "buy_now" } as const;
    const product = (plans: Array<{ visibility: string; releaseMethod: string }>) =>
      ({ id: "prod_1", title: "Pro", visibility: "visible", companyId: null, plans }) as Parameters<
        typeof whopProductState
      >[0];
    expect(whopProductState(product([{ visibility: "hidden", releaseMethod: "buy_now" }, plan]))).toBe("found");
    expect(whopProductState(product([{ visibility: "hidden", releaseMethod: "buy_now" }]))).toBe("no-plan");
  });
});

describe("support's sync picks the governing subscription", () => {
  it("an incomplete subscription governs over an ended one, a live one over both", () => {
    const ended = { id: "sub_old", status: "canceled", created: 300 };
    const waiting = { id: "sub_new", status: "incomplete", created: 100 };
    const live = { id: "sub_live", status: "past_due", created: 50 };
    expect(pickGoverningSubscription([ended, waiting])?.id).toBe("sub_new");
    expect(pickGoverningSubscription([waiting, ended])?.id).toBe("sub_new");
    expect(pickGoverningSubscription([ended, waiting, live])?.id).toBe("sub_live");
  });
});

describe("why a user is on their plan", () => {
  const pro = { key: "pro", name: "Pro", billingProvider: "stripe" as const, isBillingExempt: false };

  it("a billing-exempt Stripe tier is explained as exempt", () => {
    const partner = { ...pro, name: "Partner", isBillingExempt: true };
    expect(explainTierInForce({ storedTier: partner, subscriptionStatus: null, freeTierName: "Free" })).toEqual({
      tierName: "Partner",
      reason: "Partner is an exempt tier: it needs no payment.",
    });
  });

  it("an exempt-provider tier is explained as exempt", () => {
    const staff = { ...pro, name: "Staff", billingProvider: "exempt" as const };
    expect(explainTierInForce({ storedTier: staff, subscriptionStatus: null, freeTierName: "Free" }).reason).toBe(
      "Staff is an exempt tier: it needs no payment.",
    );
  });

  it("a user with no stored tier is on free whatever the last subscription said", () => {
    expect(explainTierInForce({ storedTier: null, subscriptionStatus: "active", freeTierName: "Free" }).tierName).toBe(
      "Free",
    );
  });

  it("a stored tier without a subscription is not in force, and says the subscription is missing", () => {
    expect(explainTierInForce({ storedTier: pro, subscriptionStatus: null, freeTierName: "Free" })).toEqual({
      tierName: "Free",
      reason: "The stored tier Pro is not in force: the subscription is missing.",
    });
  });

  it("a user without a tier: waiting for a first payment, or lapsed", () => {
    expect(explainTierInForce({ storedTier: null, subscriptionStatus: "incomplete", freeTierName: "Free" })).toEqual({
      tierName: "Free",
      reason: "The last subscription is incomplete: waiting for its first payment, so the user is on Free.",
    });
    expect(explainTierInForce({ storedTier: null, subscriptionStatus: "canceled", freeTierName: "Free" })).toEqual({
      tierName: "Free",
      reason: "The last subscription is canceled: lapsed, so the user is on Free.",
    });
  });

  it("a Whop tier: canceling keeps it to the end of the period; a lost membership says so", () => {
    const whopPro = { ...pro, billingProvider: "whop" as const };
    const explain = (whopMembershipStatus: string | null) =>
      explainTierInForce({
        storedTier: whopPro,
        subscriptionStatus: null,
        freeTierName: "Free",
        billingSource: "whop",
        whopMembershipStatus,
      });
    expect(explain("canceling").reason).toBe(
      "The Whop membership is canceling, which grants Pro (it ends at the end of the paid period).",
    );
    expect(explain("active").reason).toBe("The Whop membership is active, which grants Pro.");
    expect(explain(null)).toEqual({
      tierName: "Free",
      reason: "The stored tier Pro is not in force: the Whop membership is missing.",
    });
  });
});

describe("why a user is on their plan, at a legacy price", () => {
  const pro = { key: "pro", name: "Pro", billingProvider: "stripe" as const, isBillingExempt: false };
  const paying = { amount: "£25.00", interval: "month" };
  const explain = (subscriptionStatus: string, price: PlanPrice | null) =>
    explainTierInForce({ storedTier: pro, subscriptionStatus, freeTierName: "Free", price }).reason;

  it("says the legacy price and the tier's current one", () => {
    const price = {
      paying,
      legacy: { tier: { id: 3, key: "pro" }, current: { amount: "£29.00", interval: "month" }, problem: null },
    };
    expect(explain("active", price)).toBe(
      "The subscription is active, which grants Pro. On Pro at a legacy price, £25.00/month; current price £29.00/month.",
    );
    expect(explain("past_due", price)).toMatch(
      /kept while Stripe retries\)\. On Pro at a legacy price, £25\.00\/month;/,
    );
  });

  it("says when the tier sells nothing on the same terms now", () => {
    const price = { paying, legacy: { tier: { id: 3, key: "pro" }, current: null, problem: null } };
    expect(explain("active", price)).toMatch(
      /On Pro at a legacy price, £25\.00\/month; no current price for the same terms\.$/,
    );
  });

  it("says why the rule cannot name the tier, or that Stripe could not be asked", () => {
    const refused = {
      paying,
      legacy: { tier: null, current: null, problem: "tiers pro and pro-deal both sell that product." },
    };
    expect(explain("active", refused)).toMatch(
      /Its price \(£25\.00\/month\) has no lookup key: tiers pro and pro-deal both sell that product\.$/,
    );
    const down = {
      paying,
      legacy: { tier: null, current: null, problem: "the current prices could not be read from Stripe just now" },
    };
    expect(explain("active", down)).toMatch(/could not be read from Stripe just now\.$/);
  });

  it("points at a sync when the rule names another tier than the stored one", () => {
    const price = { paying, legacy: { tier: { id: 2, key: "hobbyist" }, current: null, problem: null } };
    expect(explain("active", price)).toMatch(/is tier hobbyist's by its product: sync from Stripe\.$/);
  });

  it("says nothing of a price with a lookup key, or of a subscription that grants nothing", () => {
    expect(explain("active", { paying, legacy: null })).toBe("The subscription is active, which grants Pro.");
    const legacy = { paying, legacy: { tier: { id: 3, key: "pro" }, current: null, problem: null } };
    expect(explain("canceled", legacy)).toBe("The stored tier Pro is not in force: the subscription is canceled.");
  });
});

describe("roles", () => {
  it("an admin may demote another admin while one admin is left, and anyone may be made admin", () => {
    const admin = { id: 2, role: "admin" as const };
    expect(roleChangeProblem({ actorId: 1, target: admin, newRole: "support", adminCount: 2 })).toBeNull();
    expect(roleChangeProblem({ actorId: 1, target: admin, newRole: "support", adminCount: 1 })).toMatch(/last admin/);
    expect(roleChangeProblem({ actorId: 2, target: admin, newRole: "admin", adminCount: 1 })).toBeNull();
    expect(
      roleChangeProblem({ actorId: 1, target: { id: 3, role: "customer" }, newRole: "support", adminCount: 1 }),
    ).toBeNull();
  });
});

describe("one paid tier across Stripe and Whop", () => {
  const paid = (overrides: Partial<PaidState>): PaidState => ({
    tier: "paid",
    billingSource: "stripe",
    billingSince: new Date("2026-01-10T00:00:00Z"),
    subscriptionStatus: "active",
    whopMembershipStatus: null,
    ...overrides,
  });

  it("a Whop membership that started earlier than the live Stripe subscription does not take the tier", () => {
    const decision = grantDecision(paid({}), "whop", new Date("2026-01-01T00:00:00Z"));
    expect(decision).toEqual({ take: false, reason: expect.stringContaining("Stripe subscription in force") });
    expect(decision).toEqual({ take: false, reason: expect.stringContaining("and is active") });
  });

  it("a Stripe subscription started at the very moment the Whop one did takes over (not older)", () => {
    const state = paid({ billingSource: "whop", subscriptionStatus: null, whopMembershipStatus: "active" });
    expect(grantDecision(state, "stripe", new Date("2026-01-10T00:00:00Z"))).toEqual({ take: true });
    expect(grantDecision(state, "stripe", new Date("2026-01-09T00:00:00Z"))).toEqual({
      take: false,
      reason: expect.stringContaining(
        "Whop membership in force started later (2026-01-10T00:00:00.000Z) and is active",
      ),
    });
  });

  it("a lapsed Whop membership: the tier goes, stays (not Whop's), or falls back to the live Stripe one, saying which", () => {
    const member = (overrides: Partial<PaidState>) => ({
      ...paid({ billingSource: "whop", subscriptionStatus: null, whopMembershipStatus: "active", ...overrides }),
      id: 1,
      whopMembershipId: "mem_1",
      whopSyncedAt: null,
    });
    const plan = (user: ReturnType<typeof member>) =>
      planWhopMembershipChange({
        user,
        membership: { id: "mem_1", status: "canceled", createdAt: null },
        tier: null,
        observedAt: new Date("2026-02-01T00:00:00Z"),
      });
    expect(plan(member({}))).toEqual({ record: true, tier: "clear", detail: "account 1 → free (Whop canceled)" });
    expect(plan(member({ billingSource: "stripe", subscriptionStatus: "active" }))).toEqual({
      record: true,
      tier: "keep",
      detail: "account 1: Whop membership mem_1 is canceled; the tier in force does not come from it",
    });
    expect(plan(member({ subscriptionStatus: "active" }))).toEqual({
      record: true,
      tier: { fallbackTo: "stripe" },
      detail: "account 1: Whop membership mem_1 is canceled; back to the live Stripe subscription",
    });
  });

  it("a Whop membership that loses to a newer Stripe subscription is recorded, the tier kept, saying why", () => {
    const plan = planWhopMembershipChange({
      user: { ...paid({}), id: 1, whopMembershipId: null, whopSyncedAt: null },
      membership: { id: "mem_2", status: "active", createdAt: new Date("2026-01-01T00:00:00Z") },
      tier: { id: 9, key: "whop_pro" },
      observedAt: new Date("2026-02-01T00:00:00Z"),
    });
    expect(plan).toEqual({
      record: true,
      tier: "keep",
      detail: expect.stringMatching(
        /^account 1: Whop membership mem_2 is active, but the Stripe subscription in force started later/,
      ),
    });
  });

  it("the same provider, a lapsed other provider or no paid tier never blocks a grant", () => {
    const early = new Date("2026-01-01T00:00:00Z");
    expect(grantDecision(paid({}), "stripe", early)).toEqual({ take: true });
    expect(grantDecision(paid({ subscriptionStatus: "canceled" }), "whop", early)).toEqual({ take: true });
    expect(grantDecision(paid({ tier: "exempt" }), "whop", early)).toEqual({ take: true });
  });
});
