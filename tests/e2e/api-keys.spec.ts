// API keys in Chromium (issue 20): an admin creates a key on /admin/api-keys and sees its secret once
// (a reload shows only the prefix), a backend uses it against /api/v1/check, the admin revokes it, and
// the next call is refused with 401 problem details. Then the API reference (/admin/api), read out of
// /api/v1/openapi.json: admins only, linked from the admin menu. At 1280 and 360 px, with screenshots.
import { expect, type Page, test } from "@playwright/test";
import { expectFitsAndAccessible, expectNoSidewaysScroll } from "./customer-helpers.ts";
import { signIn } from "./helpers.ts";

function watch(page: Page) {
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(`pageerror: ${error.message}`));
  page.on("console", (message) => {
    // The empty form is refused with a 400 on purpose (its field error is the point).
    const refusedForm =
      message.text().startsWith("Failed to load resource: the server responded with a status of 400") &&
      message.location().url.includes("_data=routes%2Fadmin.api-keys");
    if (message.type() === "error" && !refusedForm) problems.push(`console.error: ${message.text()}`);
  });
  return problems;
}

for (const width of [1280, 360]) {
  test.describe(`${width} px wide`, () => {
    test.use({ viewport: { width, height: 800 }, ...(width < 500 ? { isMobile: true, hasTouch: true } : {}) });

    test("an admin creates a key, a backend uses it, the admin revokes it, and it is refused", async ({
      page,
      request,
    }) => {
      const problems = watch(page);
      await signIn(page, "admin@example.com", "admin-demo-password");
      await expect(page).toHaveURL("/admin");
      await page.getByRole("navigation", { name: "Admin" }).getByRole("link", { name: "API keys" }).click();
      await expect(page).toHaveURL("/admin/api-keys");
      await expect(page.getByRole("heading", { level: 1, name: "API keys" })).toBeVisible();

      // A key needs a name: refused at the field.
      await page.getByRole("button", { name: "Create key" }).click();
      await expect(page.getByText("Name is required.")).toBeVisible();

      const name = `Backend ${width}`;
      await page.getByLabel("Name").fill(name);
      await page.getByLabel("Scope").selectOption("read");
      await page.getByRole("button", { name: "Create key" }).click();
      const secret = (await page.getByTestId("api-key-secret").textContent())!.trim();
      expect(secret).toMatch(/^tdk_[A-Za-z0-9_-]{43}$/);
      const row = page.getByTestId("api-keys-table").locator(`tr[data-api-key="${name}"]`);
      await expect(row).toContainText(`${secret.slice(0, 12)}…`);
      await expect(row).toContainText("admin@example.com");
      await expect(row).toContainText("never");
      await expectNoSidewaysScroll(page);
      await page.screenshot({ path: test.info().outputPath(`api-keys-created-${width}.png`), fullPage: true });

      // Shown once: a reload shows the prefix, never the secret.
      await page.reload();
      await expect(page.getByTestId("api-key-secret")).toHaveCount(0);
      await expect(page.locator("body")).not.toContainText(secret);
      await expect(row).toContainText(`${secret.slice(0, 12)}…`);

      // The admin's own account, by id, as a product's backend would ask about it.
      const me = (await (await page.request.get("/api/me/entitlements")).json()) as { account: { id: number } };
      const check = () =>
        request.post("/api/v1/check", {
          headers: { Authorization: `Bearer ${secret}` },
          data: { account: String(me.account.id), permission: "projects.create" },
        });
      const allowed = await check();
      expect(allowed.status()).toBe(200);
      expect(await allowed.json()).toMatchObject({ allowed: true, reason: null, tier: { key: "free" } });
      // Noted in the background, just after the answer.
      await expect(async () => {
        await page.reload();
        await expect(row.locator('td[data-label="Last used"]')).not.toContainText("never", { timeout: 500 });
      }).toPass({ timeout: 5_000 });

      await row.getByRole("button", { name: `Revoke ${name}` }).click();
      await expect(page.getByRole("status")).toContainText(`Revoked ${name}`);
      await expect(row.getByRole("button", { name: `Revoke ${name}` })).toHaveCount(0);
      await expect(row.locator('td[data-label="Revoked"] time')).toHaveCount(1);

      const refused = await check();
      expect(refused.status()).toBe(401);
      expect(refused.headers()["content-type"]).toBe("application/problem+json");
      expect(await refused.json()).toMatchObject({ status: 401, code: "revoked_api_key" });

      await expectNoSidewaysScroll(page);
      await page.screenshot({ path: test.info().outputPath(`api-keys-revoked-${width}.png`), fullPage: true });
      expect(problems).toEqual([]);
    });

    test("an admin reads the API reference: operations, scopes, fields and problem codes", async ({ page }) => {
      const problems = watch(page);
      await signIn(page, "admin@example.com", "admin-demo-password");
      await page.getByRole("navigation", { name: "Admin" }).getByRole("link", { name: "API reference" }).click();
      await expect(page).toHaveURL("/admin/api");
      await expect(page.getByRole("heading", { level: 1, name: "API reference" })).toBeVisible();
      await expect(page.getByText("Authorization: Bearer tdk_…").first()).toBeVisible();
      await expect(page.getByRole("link", { name: "API keys" }).last()).toHaveAttribute("href", "/admin/api-keys");

      // Each operation from the document: method, path, scope; a write's body fields and its problems.
      const operations = page.locator("[data-operation]");
      await expect(operations).toHaveCount(9);
      const checkout = page.locator('[data-operation="createCheckout"]');
      await expect(checkout.getByRole("heading", { level: 2 })).toHaveText("POST /api/v1/accounts/{ref}/checkout");
      await expect(checkout).toContainText("write scope");
      const body = checkout.locator("table.api-fields").nth(1);
      await expect(body.locator("tr", { hasText: "lookupKey" })).toContainText("string");
      await expect(body.locator("tr", { hasText: "lookupKey" })).toContainText("yes");
      await expect(checkout.locator('tr[data-status="409"]')).toContainText("already_subscribed");
      await expect(checkout.locator('tr[data-status="422"]')).toContainText("price_not_offered");
      const check = page.locator('[data-operation="check"]');
      await expect(check).toContainText("read scope");
      await check.locator("summary", { hasText: "Fields of the 200 answer" }).click();
      await expect(check.locator("tr", { hasText: "warnings" })).toContainText('array of "over_seat_limit"');
      await expectFitsAndAccessible(page);
      await page.screenshot({ path: test.info().outputPath(`api-reference-${width}.png`), fullPage: true });

      // The machine-readable document the page links to, served without a key.
      const href = await page.getByRole("link", { name: "/api/v1/openapi.json", exact: true }).getAttribute("href");
      const document = await page.context().request.fetch(href!, { headers: { Cookie: "" } });
      expect(document.status()).toBe(200);
      expect(((await document.json()) as { openapi: string }).openapi).toBe("3.1.0");
      expect(problems).toEqual([]);
    });
  });
}

test("support is not shown the API reference, and is refused it", async ({ page }) => {
  await signIn(page, "support@example.com", "support-demo-password");
  await expect(page).toHaveURL("/admin");
  const menu = page.getByRole("navigation", { name: "Admin" });
  await expect(menu.getByRole("link", { name: "API keys" })).toBeVisible();
  await expect(menu.getByRole("link", { name: "API reference" })).toHaveCount(0);
  const response = await page.goto("/admin/api");
  expect(response?.status()).toBe(403);
});
