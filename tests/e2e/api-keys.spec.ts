// API keys in Chromium (issue 20): an admin creates a key on /admin/api-keys and sees its secret once
// (a reload shows only the prefix), a backend uses it against /api/v1/check, the admin revokes it, and
// the next call is refused with 401 problem details. At 1280 and 360 px, with screenshots.
import { expect, type Page, test } from "@playwright/test";
import { expectNoSidewaysScroll } from "./customer-helpers.ts";
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
  });
}
