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

it("percent-encodes non-ASCII paths as UTF-8 so they fit a Location header", () => {
  expect(safeRedirect("/ʼ/x")).toBe("/%CA%BC/x");
  expect(safeRedirect("/pricing?q=café")).toBe("/pricing?q=caf%C3%A9");
  expect(safeRedirect("/pricing?q=caf%C3%A9")).toBe("/pricing?q=caf%C3%A9");
});

it.each(["/.//evil.example", "/a/..//evil.example", "/%2e//evil.example", "/./\\evil.example", "/.%2F/evil.example"])(
  "does not let dot segments collapse %j into an off-site address",
  (input) => {
    const result = safeRedirect(input);
    expect(result.startsWith("//")).toBe(false);
    expect(new URL(result, "https://app.example").host).toBe("app.example");
  },
);
