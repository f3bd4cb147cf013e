import { describe, expect, it } from "vitest";
import { hasValidIntegration, subscriptionStatusEffect, tierIsInForce } from "../../app/billing/rules.ts";

const tier = (overrides: Partial<Parameters<typeof hasValidIntegration>[0]>) => ({
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

  it("rejects unknown providers", () => {
    expect(hasValidIntegration(tier({ billingProvider: "paddle", lookupKeys: ["x"], whopProductKey: "y" }))).toBe(false);
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

  it("keeps exempt tiers in force without any subscription", () => {
    expect(tierIsInForce({ tier: { billingProvider: "exempt", isBillingExempt: true }, subscriptionStatus: null })).toBe(true);
    expect(tierIsInForce({ tier: { billingProvider: "stripe", isBillingExempt: false }, subscriptionStatus: null })).toBe(false);
    expect(tierIsInForce({ tier: { billingProvider: "stripe", isBillingExempt: false }, subscriptionStatus: "past_due" })).toBe(true);
    expect(tierIsInForce({ tier: { billingProvider: "stripe", isBillingExempt: false }, subscriptionStatus: "canceled" })).toBe(false);
    expect(tierIsInForce({ tier: null, subscriptionStatus: "active" })).toBe(false);
  });
});
