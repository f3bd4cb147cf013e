// Changing a price: which prices are current or legacy for a tier, which legacy prices move to a key's
// new price, amounts typed by a person, and the pace a background job keeps under Stripe's limits.
import { describe, expect, it } from "vitest";
import {
  jobRequestsPerSecond,
  legacyPricesMovingTo,
  MAX_UNIT_AMOUNT,
  type PriceFacts,
  priceRole,
  rateLimitBackoffMs,
  stripeRateLimit,
  toUnitAmount,
} from "../../app/rules/prices.ts";

const price = (id: string, fields: Partial<PriceFacts> = {}): PriceFacts => ({
  id,
  lookupKey: null,
  active: true,
  currency: "gbp",
  unitAmount: 2900,
  interval: "month",
  intervalCount: 1,
  productId: "prod_pro",
  ...fields,
});

describe("price roles", () => {
  it("calls a price with one of the tier's keys current, a keyless or archived one legacy, another key's other", () => {
    const keys = ["pro_monthly", "pro_yearly"];
    expect(priceRole(price("a", { lookupKey: "pro_monthly" }), keys)).toBe("current");
    expect(priceRole(price("b"), keys)).toBe("legacy");
    expect(priceRole(price("c", { lookupKey: "old_key", active: false }), keys)).toBe("legacy");
    expect(priceRole(price("d", { lookupKey: "team_monthly" }), keys)).toBe("other");
  });

  it("moves only keyless prices of the same product, currency and cycle to a key's price", () => {
    const target = price("new", { lookupKey: "pro_monthly", unitAmount: 3500 });
    const prices = [
      target,
      price("old"),
      price("archived", { active: false }),
      price("yearly", { interval: "year" }),
      price("quarterly", { intervalCount: 3 }),
      price("euro", { currency: "eur" }),
      price("team", { productId: "prod_team" }),
      price("keyed", { lookupKey: "pro_special" }),
    ];
    expect(legacyPricesMovingTo(target, prices).map((p) => p.id)).toEqual(["old", "archived"]);
  });
});

describe("amounts", () => {
  it("reads an amount in the currency's main unit as Stripe's smallest unit", () => {
    expect(toUnitAmount("35", "gbp")).toBe(3500);
    expect(toUnitAmount("35.5", "gbp")).toBe(3550);
    expect(toUnitAmount(" 35.05 ", "GBP")).toBe(3505);
    expect(toUnitAmount("0", "gbp")).toBe(0);
    expect(toUnitAmount("3500", "jpy")).toBe(3500);
    expect(toUnitAmount("35.001", "gbp")).toBeNull();
    expect(toUnitAmount("35.5", "jpy")).toBeNull();
    expect(toUnitAmount("-1", "gbp")).toBeNull();
    expect(toUnitAmount("1e3", "gbp")).toBeNull();
    expect(toUnitAmount("999999.99", "gbp")).toBe(MAX_UNIT_AMOUNT);
    expect(toUnitAmount("1000000", "gbp")).toBeNull();
  });
});

describe("pace", () => {
  it("stays under Stripe's limit for the key: 25/s in test mode, 100/s live, 80% of it unless configured", () => {
    expect(stripeRateLimit("sk_test_abc")).toBe(25);
    expect(stripeRateLimit("rk_test_abc")).toBe(25);
    expect(stripeRateLimit("sk_live_abc")).toBe(100);
    expect(stripeRateLimit("rk_live_abc")).toBe(100);
    expect(jobRequestsPerSecond("sk_test_abc", null)).toBe(20);
    expect(jobRequestsPerSecond("sk_live_abc", null)).toBe(80);
    expect(jobRequestsPerSecond("sk_live_abc", 5)).toBe(5);
  });

  it("waits longer after each 429 in a row, up to 16 s", () => {
    expect([1, 2, 3, 4, 5, 6, 7, 10].map(rateLimitBackoffMs)).toEqual([
      500, 1000, 2000, 4000, 8000, 16_000, 16_000, 16_000,
    ]);
  });
});
