import { expect, it } from "vitest";
import { isCrossSiteRequest } from "../../app/utils/cross-site.server.ts";

const headers = (values: Record<string, string>) => new Headers(values);
const OWN = "https://billing.example.com";

it("refuses state-changing requests a browser marks as coming from another site", () => {
  expect(isCrossSiteRequest("POST", headers({ Origin: "https://evil.example" }), OWN)).toBe(true);
  expect(isCrossSiteRequest("POST", headers({ "Sec-Fetch-Site": "cross-site" }), OWN)).toBe(true);
  expect(isCrossSiteRequest("POST", headers({ Origin: "null" }), OWN)).toBe(true);
});

it("lets same-origin posts, safe methods and non-browser clients through", () => {
  expect(isCrossSiteRequest("POST", headers({ Origin: OWN, "Sec-Fetch-Site": "same-origin" }), OWN)).toBe(false);
  expect(isCrossSiteRequest("GET", headers({ Origin: "https://evil.example" }), OWN)).toBe(false);
  expect(isCrossSiteRequest("POST", headers({}), OWN)).toBe(false);
});
