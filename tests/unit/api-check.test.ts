// POST /api/v1/check's decision (decision 017): allowed by the tier in force; denied with a stable code.
import { describe, expect, it } from "vitest";
import { type CheckFacts, decideCheck } from "../../app/rules/api-check.ts";

const pro: CheckFacts = {
  permissions: ["api.access", "projects.create"],
  tierName: "Pro",
  lapsedForNonPayment: null,
  overSeatLimit: false,
};

describe("decideCheck", () => {
  it("allows what the tier in force grants, with no reason", () => {
    expect(decideCheck(pro, "api.access")).toEqual({ allowed: true, reason: null, warnings: [] });
  });

  it("denies what it lacks: no_such_permission, naming the tier", () => {
    const decision = decideCheck(pro, "export.pdf");
    expect(decision).toMatchObject({ allowed: false, reason: { code: "no_such_permission" } });
    expect(decision.reason?.message).toBe('The account\'s tier Pro does not include "export.pdf".');
    expect(decideCheck({ ...pro, permissions: [], tierName: null }, "x").reason?.message).toMatch(/no tier/);
  });

  it("a paid tier lapsed for non-payment: past_due_beyond_grace for what it granted, no_such_permission otherwise", () => {
    const lapsed: CheckFacts = {
      permissions: ["projects.create"],
      tierName: "Free",
      lapsedForNonPayment: { name: "Pro", permissions: ["api.access", "projects.create"] },
      overSeatLimit: false,
    };
    expect(decideCheck(lapsed, "api.access").reason?.code).toBe("past_due_beyond_grace");
    expect(decideCheck(lapsed, "api.access").reason?.message).toMatch(/Pro grants "api.access".*on Free/);
    expect(decideCheck(lapsed, "projects.create")).toMatchObject({ allowed: true });
    expect(decideCheck(lapsed, "support.priority").reason?.code).toBe("no_such_permission");
  });

  it("over the seat limit: still allowed (nobody loses access), with the warning; denials carry it too", () => {
    const crowded = { ...pro, overSeatLimit: true };
    expect(decideCheck(crowded, "api.access")).toEqual({ allowed: true, reason: null, warnings: ["over_seat_limit"] });
    expect(decideCheck(crowded, "nope")).toMatchObject({ allowed: false, warnings: ["over_seat_limit"] });
  });
});
