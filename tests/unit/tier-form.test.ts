// The tier form's rules that the database cannot catch: keys that would collide with a page's
// address, numbers only in decimal digits, control characters refused at the field.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { RESERVED_TIER_KEYS, TierFormSchema } from "../../app/forms/tier-form.ts";

const ROUTES = path.resolve(import.meta.dirname, "../../app/routes");
const valid = { name: "Team", key: "team", userLimit: "5", billingProvider: "exempt" };
const errorsOf = (fields: Record<string, unknown>) => {
  const result = TierFormSchema.safeParse({ ...valid, ...fields });
  return result.success ? [] : result.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
};

describe("tier keys", () => {
  // Every static segment beside /admin/tiers/:key (admin.tiers.new.tsx → "new") is an address a key cannot take.
  const staticSegments = fs
    .readdirSync(ROUTES)
    .map((file) => /^admin\.tiers\.([^.$_][^.]*)(?:\.|$)/.exec(file.replace(/\.tsx?$/, ""))?.[1])
    .filter((segment): segment is string => Boolean(segment));

  it("finds the tier routes' static segments", () => {
    expect(staticSegments).toContain("new");
  });

  it.each(staticSegments)("refuses the key %s, which is another page's address", (segment) => {
    expect(RESERVED_TIER_KEYS).toContain(segment);
    expect(errorsOf({ key: segment })).toEqual([
      `key: /admin/tiers/${segment} is another page's address: choose another key.`,
    ]);
  });

  it("accepts keys that merely contain a reserved word", () => {
    expect(errorsOf({ key: "new-pro" })).toEqual([]);
    expect(errorsOf({ key: "renew" })).toEqual([]);
  });
});

describe("user limit", () => {
  it.each(["0x10", "1e3", "16.5", "-1", "+5", "0b11", "Infinity", "١٢"])("refuses %s", (userLimit) => {
    expect(errorsOf({ userLimit }).join()).toMatch(/userLimit: User limit must be a whole number, in digits/);
  });

  it("reads decimal digits as typed", () => {
    const result = TierFormSchema.parse({ ...valid, userLimit: " 16 " });
    expect(result.userLimit).toBe(16);
  });

  it("keeps its bounds", () => {
    expect(errorsOf({ userLimit: "0" })).toEqual(["userLimit: User limit must be at least 1."]);
    expect(errorsOf({ userLimit: "1000001" })).toEqual(["userLimit: User limit is too large."]);
  });
});

describe("control characters", () => {
  it.each([
    ["name", "nul\u0000byte"],
    ["name", "bell\u0007"],
    ["description", "escape \u001b[31m"],
    ["description", "shown back \uFFFD"],
  ])("refuses them in %s", (field, value) => {
    expect(errorsOf({ [field]: value })).toEqual([
      `${field}: Remove the invisible control character (shown as \uFFFD).`,
    ]);
  });

  it("allows line breaks and tabs in the description", () => {
    expect(errorsOf({ description: "Line one\r\nLine\ttwo" })).toEqual([]);
  });
});
