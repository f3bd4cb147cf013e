// Every billing rule, as a pure function of plain values: no database, no Stripe, milliseconds.
import { describe, expect, it } from "vitest";
import { tierIsInForce } from "../../app/rules/paid-tier.ts";
import { roleChangeProblem } from "../../app/rules/roles.ts";
import {
  customerConflict,
  eventAction,
  freshness,
  parseTierdeskId,
  settleTie,
  stripeIdProblem,
  stripeReadAt,
} from "../../app/rules/stripe-events.ts";
import {
  currentPriceForLegacy,
  type PriceTerms,
  tiersByProduct,
  isLiveSubscriptionStatus,
  planSubscriptionChange,
  subscriptionStatusEffect,
  tierForSubscription,
} from "../../app/rules/stripe-subscriptions.ts";
import { explainTierInForce, pickGoverningSubscription } from "../../app/rules/support.ts";
import {
  lookupKeyState,
  tierHealth,
  tiersHealth,
  hasValidIntegration,
  type TierIntegration,
} from "../../app/rules/tiers.ts";

const tier = (overrides: Partial<TierIntegration>): TierIntegration => ({
  billingProvider: "stripe",
  isBillingExempt: false,
  whopProductKey: null,
  lookupKeys: [],
  ...overrides,
});

describe("hasValidIntegration", () => {
  it("accepts exempt tiers and billing-exempt tiers of any provider", () => {
    expect(hasValidIntegration(tier({ billingProvider: "exempt" }))).toBe(true);
    expect(hasValidIntegration(tier({ billingProvider: "stripe", isBillingExempt: true }))).toBe(true);
    expect(hasValidIntegration(tier({ billingProvider: "whop", isBillingExempt: true }))).toBe(true);
  });

  it("needs at least one lookup key for stripe", () => {
    expect(hasValidIntegration(tier({ billingProvider: "stripe" }))).toBe(false);
    expect(hasValidIntegration(tier({ billingProvider: "stripe", lookupKeys: ["  "] }))).toBe(false);
    expect(hasValidIntegration(tier({ billingProvider: "stripe", lookupKeys: ["pro_monthly"] }))).toBe(true);
  });

  it("needs a product key for whop, and lookup keys do not count", () => {
    expect(hasValidIntegration(tier({ billingProvider: "whop", lookupKeys: ["pro_monthly"] }))).toBe(false);
    expect(hasValidIntegration(tier({ billingProvider: "whop", whopProductKey: "" }))).toBe(false);
    expect(hasValidIntegration(tier({ billingProvider: "whop", whopProductKey: "prod_whop_basic" }))).toBe(true);
  });
});

describe("subscription status rule", () => {
  it.each([
    ["active", "grant"],
    ["trialing", "grant"],
    ["past_due", "grant"],
    ["incomplete", "no_change"],
    ["canceled", "revoke"],
    ["unpaid", "revoke"],
    ["incomplete_expired", "revoke"],
    ["paused", "revoke"],
    ["some_future_status", "revoke"],
  ])("%s → %s", (status, effect) => {
    expect(subscriptionStatusEffect(status)).toBe(effect);
  });

  it("calls a subscription live only while its status grants the tier", () => {
    expect(isLiveSubscriptionStatus("past_due")).toBe(true);
    expect(isLiveSubscriptionStatus("incomplete")).toBe(false);
    expect(isLiveSubscriptionStatus(null)).toBe(false);
  });

  it("keeps exempt tiers in force without any subscription, paid tiers only while granted", () => {
    expect(
      tierIsInForce({ tier: { billingProvider: "exempt", isBillingExempt: true }, subscriptionStatus: null }),
    ).toBe(true);
    expect(
      tierIsInForce({ tier: { billingProvider: "stripe", isBillingExempt: false }, subscriptionStatus: null }),
    ).toBe(false);
    expect(
      tierIsInForce({ tier: { billingProvider: "stripe", isBillingExempt: false }, subscriptionStatus: "past_due" }),
    ).toBe(true);
    expect(
      tierIsInForce({ tier: { billingProvider: "stripe", isBillingExempt: false }, subscriptionStatus: "canceled" }),
    ).toBe(false);
    expect(tierIsInForce({ tier: null, subscriptionStatus: "active" })).toBe(false);
  });
});

describe("tier from lookup keys", () => {
  const pro = { id: 3, key: "pro" };
  const hobbyist = { id: 2, key: "hobbyist" };
  const owners = [
    { lookupKey: "pro_monthly", tier: pro },
    { lookupKey: "pro_yearly", tier: pro },
    { lookupKey: "hobbyist_monthly", tier: hobbyist },
  ];

  it("finds the one tier the subscription's keys belong to", () => {
    expect(tierForSubscription("sub_1", [{ priceId: "price_1", lookupKey: "pro_monthly" }], owners)).toEqual({
      tier: pro,
    });
  });

  it("ignores add-on items whose keys no tier owns", () => {
    const items = [
      { priceId: "price_1", lookupKey: "pro_yearly" },
      { priceId: "price_2", lookupKey: "extra_seats" },
      { priceId: "price_3", lookupKey: null },
    ];
    expect(tierForSubscription("sub_1", items, owners)).toEqual({ tier: pro });
  });

  it("asks for the products' tiers only when no item's lookup key names a tier", () => {
    const legacy = [{ priceId: "price_old", lookupKey: null, productId: "prod_pro" }];
    expect(tierForSubscription("sub_1", legacy, owners)).toEqual({ needsProducts: true });
    const keyed = [{ priceId: "price_1", lookupKey: "hobbyist_monthly", productId: "prod_pro" }, ...legacy];
    // A lookup key wins over a legacy price's product.
    expect(tierForSubscription("sub_1", keyed, owners, new Map([["prod_pro", [pro]]]))).toEqual({ tier: hobbyist });
  });

  describe("a legacy price (its lookup key moved to a new price)", () => {
    const productOfKey = new Map([
      ["pro_monthly", "prod_pro"],
      ["pro_yearly", "prod_pro"],
      ["hobbyist_monthly", "prod_hobbyist"],
    ]);
    const products = tiersByProduct(owners, productOfKey);
    const legacy = (productId: string | null) => [{ priceId: "price_old", lookupKey: null, productId }];

    it("belongs to the tier whose lookup-key prices share its product", () => {
      expect(products).toEqual(
        new Map([
          ["prod_pro", [pro]],
          ["prod_hobbyist", [hobbyist]],
        ]),
      );
      expect(tierForSubscription("sub_1", legacy("prod_pro"), owners, products)).toEqual({ tier: pro });
    });

    it("is refused when two tiers sell its product, naming both, rather than guessed", () => {
      const shared = tiersByProduct(owners, new Map([...productOfKey, ["hobbyist_monthly", "prod_pro"]]));
      const result = tierForSubscription("sub_1", legacy("prod_pro"), owners, shared);
      expect(result).toEqual({ error: expect.stringMatching(/price_old of product prod_pro.*tiers pro and hobbyist/) });
    });

    it("is refused when no tier sells its product, naming the price and product", () => {
      const result = tierForSubscription("sub_1", legacy("prod_team"), owners, products);
      expect(result).toEqual({ error: expect.stringMatching(/no tier sells.*price_old of product prod_team/) });
      expect(tierForSubscription("sub_1", legacy(null), owners, products)).toHaveProperty("error");
    });

    it("still names the tier beside an add-on whose lookup key no tier owns", () => {
      const items = [
        { priceId: "price_seats", lookupKey: "extra_seats", productId: "prod_seats" },
        ...legacy("prod_pro"),
      ];
      expect(tierForSubscription("sub_1", items, owners)).toEqual({ needsProducts: true });
      expect(tierForSubscription("sub_1", items, owners, products)).toEqual({ tier: pro });
    });

    it("is refused when it sits beside a legacy price of another tier's product", () => {
      const items = [
        ...legacy("prod_pro"),
        { priceId: "price_hobby_old", lookupKey: null, productId: "prod_hobbyist" },
      ];
      expect(tierForSubscription("sub_1", items, owners, products)).toEqual({
        error: expect.stringContaining("legacy prices of several tiers (pro, hobbyist)"),
      });
    });

    describe("what new subscribers pay instead", () => {
      const terms: PriceTerms = { productId: "prod_pro", currency: "gbp", interval: "month", intervalCount: 1 };
      const price = (id: string, overrides: Partial<PriceTerms> = {}) => ({ id, ...terms, ...overrides });

      it("is the tier's price on the same product with the same interval, in the same currency first", () => {
        const prices = [
          price("price_year", { interval: "year" }),
          price("price_eur", { currency: "eur" }),
          price("price_gbp", { currency: "GBP" }),
        ];
        expect(currentPriceForLegacy(terms, prices)?.id).toBe("price_gbp");
        expect(currentPriceForLegacy(terms, prices.slice(0, 2))?.id).toBe("price_eur");
      });

      it("is none when the tier sells only other terms or another product: never a guess", () => {
        const prices = [
          price("price_year", { interval: "year" }),
          price("price_quarter", { intervalCount: 3 }),
          price("price_other", { productId: "prod_pro_2024" }),
          price("price_unknown", { productId: null }),
        ];
        expect(currentPriceForLegacy(terms, prices)).toBeNull();
        expect(
          currentPriceForLegacy({ ...terms, productId: null }, [price("price_unknown", { productId: null })]),
        ).toBeNull();
      });
    });
  });

  it("refuses keys no tier owns, naming them", () => {
    const result = tierForSubscription("sub_1", [{ priceId: "price_1", lookupKey: "enterprise" }], owners);
    expect(result).toEqual({ error: expect.stringMatching(/"enterprise" of subscription sub_1 belongs to no tier/) });
  });

  it("refuses a subscription paying for two tiers, naming both", () => {
    const items = [
      { priceId: "price_1", lookupKey: "pro_monthly" },
      { priceId: "price_2", lookupKey: "hobbyist_monthly" },
    ];
    const result = tierForSubscription("sub_1", items, owners);
    expect(result).toEqual({ error: expect.stringMatching(/"pro_monthly" → pro.*"hobbyist_monthly" → hobbyist/) });
  });
});

describe("which account", () => {
  it("reads account (or legacy user) ids only when they are plain positive integers", () => {
    expect(parseTierdeskId("42")).toBe(42);
    expect(parseTierdeskId(7)).toBe(7);
    for (const bad of ["", "0", "-1", "4.2", "1e3", "abc", " 5x", null, undefined, {}, "99999999999999999999"]) {
      expect(parseTierdeskId(bad), String(bad)).toBeNull();
    }
  });

  it("refuses a subscription of another Stripe customer, except from a completed checkout", () => {
    const account = { id: 1, stripeCustomerId: "cus_A" };
    expect(customerConflict(account, "cus_A", { fromCheckout: false })).toBeNull();
    expect(customerConflict(account, "cus_B", { fromCheckout: false })).toBe(
      "Account 1 is linked to Stripe customer cus_A, not cus_B.",
    );
    expect(customerConflict(account, "cus_B", { fromCheckout: true })).toBeNull();
    expect(customerConflict({ id: 1, stripeCustomerId: null }, "cus_B", { fromCheckout: false })).toBeNull();
  });

  it("refuses Stripe ids longer than the accounts table keeps", () => {
    expect(stripeIdProblem("cus_short", "customer")).toBeNull();
    expect(stripeIdProblem(`cus_${"x".repeat(80)}`, "customer")).toMatch(/longer than 64 characters/);
  });
});

describe("order of events", () => {
  const t = (seconds: number) => new Date(seconds * 1000);

  it("applies a newer state, refuses an older one as stale", () => {
    expect(freshness(t(10), null, { finalInItsSecond: false })).toBe("newer");
    expect(freshness(t(11), t(10), { finalInItsSecond: false })).toBe("newer");
    expect(freshness(t(9), t(10), { finalInItsSecond: false })).toBe("stale");
    expect(freshness(t(9), t(10), { finalInItsSecond: true })).toBe("stale");
  });

  it("calls the same second a tie, unless the event is final in its second (a deletion wins)", () => {
    expect(freshness(t(10), t(10), { finalInItsSecond: false })).toBe("tie");
    expect(freshness(t(10), t(10), { finalInItsSecond: true })).toBe("newer");
  });

  it("settles a tie by Stripe's current state; an ended subscription counts as deleted", () => {
    expect(
      settleTie({ deleted: false, status: "active" }, { current: { status: "active" }, deletedInSameSecond: false }),
    ).toEqual({
      apply: "current",
      deleted: false,
    });
    expect(
      settleTie({ deleted: false, status: "active" }, { current: { status: "canceled" }, deletedInSameSecond: false }),
    ).toEqual({
      apply: "current",
      deleted: true,
    });
  });

  it("dates a state read from Stripe in Stripe's whole second, so an event of that second is a tie, not stale", () => {
    const localClock = new Date("2026-12-03T15:00:09.750Z");
    const read = stripeReadAt("Thu, 03 Dec 2026 15:00:07 GMT", localClock);
    expect(read.toISOString()).toBe("2026-12-03T15:00:07.000Z");
    const cancelledThatSecond = new Date("2026-12-03T15:00:07Z");
    expect(freshness(cancelledThatSecond, read, { finalInItsSecond: false })).toBe("tie");
    expect(freshness(cancelledThatSecond, read, { finalInItsSecond: true })).toBe("newer");
  });

  it("without a readable Date header, dates the read in the local clock's whole second", () => {
    const localClock = new Date("2026-12-03T15:00:09.750Z");
    expect(stripeReadAt(undefined, localClock).toISOString()).toBe("2026-12-03T15:00:09.000Z");
    expect(stripeReadAt("", localClock).toISOString()).toBe("2026-12-03T15:00:09.000Z");
    expect(stripeReadAt("not a date", localClock).toISOString()).toBe("2026-12-03T15:00:09.000Z");
  });

  it("without Stripe, a subscription deleted in that second stays deleted; otherwise arrival order", () => {
    expect(settleTie({ deleted: false, status: "active" }, { current: null, deletedInSameSecond: true })).toEqual({
      stale: expect.stringMatching(/deleted in the same second/),
    });
    expect(settleTie({ deleted: false, status: "active" }, { current: null, deletedInSameSecond: false })).toEqual({
      apply: "event",
      deleted: false,
    });
    expect(
      settleTie({ deleted: false, status: "incomplete_expired" }, { current: null, deletedInSameSecond: false }),
    ).toEqual({
      apply: "event",
      deleted: true,
    });
  });
});

describe("what a subscription changes", () => {
  const pro = { id: 3, key: "pro" };
  const user = (stripeSubscriptionId: string | null = null) => ({ id: 1, stripeSubscriptionId });
  const sub = (status: string, id = "sub_new") => ({ id, status });

  it("grants the tier for a granting status", () => {
    expect(
      planSubscriptionChange({
        user: user(),
        subscription: sub("active"),
        deleted: false,
        fromCheckout: false,
        tier: pro,
      }),
    ).toEqual({
      change: { tierId: 3, stripeSubscriptionId: "sub_new", subscriptionStatus: "active" },
      detail: "account 1 → pro (active)",
    });
  });

  it("a new subscription replaces the old one when it grants", () => {
    const plan = planSubscriptionChange({
      user: user("sub_old"),
      subscription: sub("trialing"),
      deleted: false,
      fromCheckout: false,
      tier: pro,
    });
    expect(plan).toMatchObject({ change: { stripeSubscriptionId: "sub_new", tierId: 3 } });
  });

  it("an incomplete subscription changes nothing, except that a checkout links it", () => {
    expect(
      planSubscriptionChange({
        user: user(),
        subscription: sub("incomplete"),
        deleted: false,
        fromCheckout: false,
        tier: null,
      }),
    ).toEqual({
      ignored: expect.stringMatching(/incomplete: nothing changes until its first payment/),
    });
    expect(
      planSubscriptionChange({
        user: user(),
        subscription: sub("incomplete"),
        deleted: false,
        fromCheckout: true,
        tier: null,
      }),
    ).toEqual({
      change: { stripeSubscriptionId: "sub_new" },
      detail: expect.stringMatching(/linked/),
    });
    expect(
      planSubscriptionChange({
        user: user("sub_old"),
        subscription: sub("incomplete"),
        deleted: false,
        fromCheckout: true,
        tier: null,
      }),
    ).toHaveProperty("ignored");
  });

  it("the subscription's own creation (incomplete) arriving after it became active takes nothing away", () => {
    // Stripe creates a Checkout's subscription incomplete and activates it seconds later; deliveries
    // are unordered, so the creation may come last, with the later state already applied.
    for (const fromCheckout of [false, true]) {
      const plan = planSubscriptionChange({
        user: user("sub_new"),
        subscription: sub("incomplete"),
        deleted: false,
        fromCheckout,
        tier: null,
      });
      expect("change" in plan ? plan.change : {}).not.toHaveProperty("tierId");
      expect("change" in plan ? plan.change : {}).not.toHaveProperty("subscriptionStatus");
    }
  });

  it("revokes to free: a deletion forgets the subscription, an unpaid one keeps it for the portal", () => {
    expect(
      planSubscriptionChange({
        user: user("sub_new"),
        subscription: sub("active"),
        deleted: true,
        fromCheckout: false,
        tier: null,
      }),
    ).toEqual({
      change: { tierId: null, subscriptionStatus: "canceled", stripeSubscriptionId: null },
      detail: "account 1 → free (deleted)",
    });
    expect(
      planSubscriptionChange({
        user: user("sub_new"),
        subscription: sub("unpaid"),
        deleted: false,
        fromCheckout: false,
        tier: null,
      }),
    ).toEqual({
      change: { tierId: null, subscriptionStatus: "unpaid", stripeSubscriptionId: "sub_new" },
      detail: "account 1 → free (unpaid)",
    });
  });

  it("an old subscription ending does not end the current one", () => {
    const plan = planSubscriptionChange({
      user: user("sub_current"),
      subscription: sub("canceled", "sub_old"),
      deleted: true,
      fromCheckout: false,
      tier: null,
    });
    expect(plan).toEqual({
      ignored: expect.stringMatching(/sub_old is not account 1's current subscription \(sub_current\)/),
    });
  });

  it("refuses to grant without knowing the tier (a programming error, not a silent free plan)", () => {
    expect(() =>
      planSubscriptionChange({
        user: user(),
        subscription: sub("active"),
        deleted: false,
        fromCheckout: false,
        tier: null,
      }),
    ).toThrow();
  });
});

describe("what an event type means", () => {
  it.each([
    ["checkout.session.completed", { kind: "checkout" }],
    ["checkout.session.async_payment_succeeded", { kind: "checkout" }],
    ["customer.subscription.created", { kind: "subscription", deleted: false }],
    ["customer.subscription.updated", { kind: "subscription", deleted: false }],
    ["customer.subscription.paused", { kind: "subscription", deleted: false }],
    ["customer.subscription.deleted", { kind: "subscription", deleted: true }],
    ["customer.deleted", { kind: "customer-deleted" }],
    ["price.updated", { kind: "catalog" }],
    ["product.deleted", { kind: "catalog" }],
    ["invoice.paid", { kind: "audit" }],
    ["charge.refunded", { kind: "audit" }],
    ["customer.created", { kind: "ignore" }],
    ["checkout.session.expired", { kind: "ignore" }],
  ])("%s → %o", (type, action) => {
    expect(eventAction(type)).toEqual(action);
  });
});

describe("a tier's prices as Stripe has them", () => {
  const live = (
    overrides: Partial<{ active: boolean; productActive: boolean; productId: string; currency: string }> = {},
  ) => ({
    active: true,
    productActive: true,
    productId: "prod_pro",
    currency: "gbp",
    ...overrides,
  });
  const stripeTier = (lookupKeys: string[]) => tier({ billingProvider: "stripe", lookupKeys });

  it("names each key's state: found, missing, inactive price, archived product", () => {
    expect(lookupKeyState(live())).toBe("found");
    expect(lookupKeyState(null)).toBe("missing");
    expect(lookupKeyState(live({ active: false }))).toBe("inactive-price");
    expect(lookupKeyState(live({ productActive: false }))).toBe("archived-product");
  });

  it("is valid only when every key is found and active, in one currency and one product", () => {
    const prices = new Map([
      ["pro_monthly", live()],
      ["pro_yearly", live()],
    ]);
    expect(tierHealth(stripeTier(["pro_monthly", "pro_yearly"]), prices, { unavailable: false })).toEqual({
      state: "valid",
    });
    const broken = tierHealth(stripeTier(["pro_monthly", "pro_weekly"]), prices, { unavailable: false });
    expect(broken).toEqual({ state: "invalid", problems: ['"pro_weekly": missing in Stripe'] });
  });

  it("flags prices that disagree in currency or point at different products", () => {
    const prices = new Map([
      ["a", live()],
      ["b", live({ currency: "usd", productId: "prod_other" })],
    ]);
    const health = tierHealth(stripeTier(["a", "b"]), prices, { unavailable: false });
    expect(health.state).toBe("invalid");
    if (health.state === "invalid") {
      expect(health.problems).toEqual([
        "prices disagree in currency (GBP, USD)",
        "lookup keys point at different products (prod_pro, prod_other)",
      ]);
    }
  });

  it("flags two tiers whose lookup keys share a product, on both tiers", () => {
    const prices = new Map([
      ["pro_monthly", live()],
      ["hobbyist_monthly", live()],
      ["team_monthly", live({ productId: "prod_team" })],
    ]);
    const tiers = [
      { ...stripeTier(["pro_monthly"]), key: "pro" },
      { ...stripeTier(["hobbyist_monthly"]), key: "hobbyist" },
      { ...stripeTier(["team_monthly"]), key: "team" },
    ];
    const health = tiersHealth(tiers, prices, { unavailable: false });
    expect(health.get("pro")).toEqual({
      state: "invalid",
      problems: [expect.stringMatching(/product prod_pro is also sold by tier hobbyist/)],
    });
    expect(health.get("hobbyist")).toEqual({
      state: "invalid",
      problems: [expect.stringMatching(/product prod_pro is also sold by tier pro/)],
    });
    expect(health.get("team")).toEqual({ state: "valid" });
  });

  it("never says valid when Stripe could not be asked", () => {
    const health = tierHealth(stripeTier(["pro_monthly"]), new Map(), { unavailable: true, reason: "timeout" });
    expect(health).toEqual({ state: "unverified", reason: "could not verify: timeout" });
  });

  it("needs keys for a Stripe tier; exempt tiers need nothing", () => {
    expect(tierHealth(stripeTier([]), new Map(), { unavailable: false }).state).toBe("invalid");
    expect(tierHealth(tier({ billingProvider: "exempt" }), new Map(), { unavailable: true }).state).toBe(
      "not-applicable",
    );
  });
});

describe("support's rules", () => {
  it("picks the live subscription over ended ones, then the newest", () => {
    const subs = [
      { id: "old_active", status: "active", created: 100 },
      { id: "new_canceled", status: "canceled", created: 300 },
      { id: "new_active", status: "past_due", created: 200 },
      { id: "incomplete", status: "incomplete", created: 400 },
    ];
    expect(pickGoverningSubscription(subs)?.id).toBe("new_active");
    expect(
      pickGoverningSubscription(subs.filter((s) => s.status === "canceled" || s.status === "incomplete"))?.id,
    ).toBe("incomplete");
    expect(
      pickGoverningSubscription([
        { id: "a", status: "canceled", created: 1 },
        { id: "b", status: "canceled", created: 2 },
      ])?.id,
    ).toBe("b");
    expect(pickGoverningSubscription([])).toBeNull();
  });

  it("explains why a user is on their plan", () => {
    const pro = { key: "pro", name: "Pro", billingProvider: "stripe" as const, isBillingExempt: false };
    const partner = { key: "partner", name: "Partner", billingProvider: "exempt" as const, isBillingExempt: true };
    expect(explainTierInForce({ storedTier: pro, subscriptionStatus: "active", freeTierName: "Free" })).toEqual({
      tierName: "Pro",
      reason: "The subscription is active, which grants Pro.",
    });
    expect(
      explainTierInForce({ storedTier: pro, subscriptionStatus: "past_due", freeTierName: "Free" }).reason,
    ).toMatch(/while Stripe retries/);
    expect(explainTierInForce({ storedTier: pro, subscriptionStatus: "unpaid", freeTierName: "Free" })).toMatchObject({
      tierName: "Free",
    });
    expect(explainTierInForce({ storedTier: partner, subscriptionStatus: null, freeTierName: "Free" }).reason).toMatch(
      /exempt/,
    );
    expect(explainTierInForce({ storedTier: null, subscriptionStatus: null, freeTierName: "Free" }).reason).toMatch(
      /No subscription/,
    );
  });

  it("never lets an admin remove their own admin role, nor demote the last admin", () => {
    const admin = { id: 1, role: "admin" as const };
    expect(roleChangeProblem({ actorId: 1, target: admin, newRole: "support", adminCount: 3 })).toMatch(
      /your own admin role/,
    );
    expect(roleChangeProblem({ actorId: 2, target: admin, newRole: "customer", adminCount: 1 })).toMatch(/last admin/);
    expect(roleChangeProblem({ actorId: 2, target: admin, newRole: "support", adminCount: 2 })).toBeNull();
    expect(
      roleChangeProblem({ actorId: 1, target: { id: 5, role: "customer" }, newRole: "admin", adminCount: 1 }),
    ).toBeNull();
  });
});
