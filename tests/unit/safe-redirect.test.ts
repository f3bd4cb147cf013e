import { expect, it } from "vitest";
import { safeRedirect } from "../../app/utils/safe-redirect.ts";

it.each([
  ["/admin", "/admin"],
  ["/pricing?plan=pro#monthly", "/pricing?plan=pro#monthly"],
  ["//evil.com", "/"],
  ["//evil.com/admin", "/"],
  ["/\\evil.com", "/"],
  ["https://evil.com", "/"],
  ["http:/evil.com", "/"],
  ["javascript:alert(1)", "/"],
  ["admin", "/"],
  ["", "/"],
  [null, "/"],
  ["/\t/evil.com", "/"],
])("safeRedirect(%j) → %j", (input, expected) => {
  expect(safeRedirect(input)).toBe(expected);
});

it("uses the given fallback", () => {
  expect(safeRedirect("//evil.com", "/account")).toBe("/account");
});
