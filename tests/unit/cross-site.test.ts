import { expect, it } from "vitest";
import { isCrossSiteRequest } from "../../app/utils/cross-site.server.ts";

const headers = (values: Record<string, string>) => new Headers(values);
const OWN = ["billing.example.com"];

it("refuses state-changing requests a browser marks as coming from another site", () => {
  expect(isCrossSiteRequest("POST", headers({ Origin: "https://evil.example" }), OWN)).toBe(true);
  expect(isCrossSiteRequest("POST", headers({ Origin: "https://billing.example.com.evil.example" }), OWN)).toBe(true);
  expect(isCrossSiteRequest("POST", headers({ "Sec-Fetch-Site": "cross-site" }), OWN)).toBe(true);
  expect(isCrossSiteRequest("POST", headers({ Origin: "null" }), OWN)).toBe(true);
});

it("lets same-host posts (whatever the scheme a proxy terminated), safe methods and non-browser clients through", () => {
  expect(
    isCrossSiteRequest(
      "POST",
      headers({ Origin: "https://billing.example.com", "Sec-Fetch-Site": "same-origin" }),
      OWN,
    ),
  ).toBe(false);
  expect(isCrossSiteRequest("POST", headers({ Origin: "http://Billing.Example.com" }), OWN)).toBe(false);
  expect(isCrossSiteRequest("GET", headers({ Origin: "https://evil.example" }), OWN)).toBe(false);
  expect(isCrossSiteRequest("POST", headers({}), OWN)).toBe(false);
});

it("compares ports too", () => {
  expect(isCrossSiteRequest("POST", headers({ Origin: "http://localhost:3000" }), ["localhost:3000"])).toBe(false);
  expect(isCrossSiteRequest("POST", headers({ Origin: "http://localhost:4000" }), ["localhost:3000"])).toBe(true);
});

it("refuses a cross-site Referer when there is no Origin, and lets this site's Referer through", () => {
  expect(isCrossSiteRequest("POST", headers({ Referer: "https://evil.example/attack.html" }), OWN)).toBe(true);
  expect(isCrossSiteRequest("POST", headers({ Referer: "https://billing.example.com.evil.example/" }), OWN)).toBe(true);
  expect(isCrossSiteRequest("POST", headers({ Referer: "not a url" }), OWN)).toBe(true);
  expect(isCrossSiteRequest("POST", headers({ Referer: "https://billing.example.com/login?next=/x" }), OWN)).toBe(
    false,
  );
  // Origin, when present, decides.
  expect(
    isCrossSiteRequest(
      "POST",
      headers({ Origin: "https://billing.example.com", Referer: "https://billing.example.com/pricing" }),
      OWN,
    ),
  ).toBe(false);
  expect(isCrossSiteRequest("GET", headers({ Referer: "https://evil.example/" }), OWN)).toBe(false);
});
