// Whop as the second billing provider, in Chromium against the real server and the bundled Whop
// emulator (started by the server beside the Stripe one): an admin sees a Whop product the emulator
// lacks flagged on /admin/tiers; a customer buys the Whop tier through Whop's (emulated) checkout.
import { type Browser, expect, type Page, test } from "@playwright/test";
import { signIn, signUpNewCustomer } from "./helpers.ts";

/** A page that fails the test on any uncaught exception or console error. */
async function watchedPage(browser: Browser): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("close", () => expect(errors, "page errors or console errors").toEqual([]));
  return page;
}

test("an admin sees the seeded Whop tier's product live, and a Whop product key the emulator lacks flagged as missing", async ({
  browser,
}) => {
  const page = await watchedPage(browser);
  await signIn(page, "admin@example.com", "admin-demo-password");
  await expect(page).toHaveURL("/admin");

  // The seeded Whop tier: its product is found in Whop, with its plan's price and period.
  await page.goto("/admin/tiers");
  const basic = page.locator('tr[data-tier="whop_basic"]');
  await expect(basic.locator('[data-whop-product="prod_whop_basic"]')).toHaveAttribute("data-state", "found");
  await expect(basic.locator('[data-whop-plan="plan_emu_whop_basic_monthly"]')).toContainText("$5.00 / month");
  await expect(basic.locator('[data-integration="valid"]')).toBeVisible();

  const key = `whop-gone-${Date.now() % 100_000}`;
  await page.goto("/admin/tiers/new");
  await page.getByLabel("Name").fill("Whop Gone");
  await page.getByLabel("Key", { exact: true }).fill(key);
  await page.getByLabel("Billing provider").selectOption("whop");
  await page.getByLabel("Whop product key").fill("prod_not_in_the_emulator");
  await page.getByLabel("Fallback price").fill("$9");
  await page.getByRole("button", { name: "Create tier" }).click();
  await expect(page).toHaveURL(new RegExp(`/admin/tiers/${key}\\?saved=1`));
  await expect(page.getByTestId("tier-whop-product").locator("[data-whop-product]")).toHaveAttribute(
    "data-state",
    "missing",
  );

  await page.goto("/admin/tiers");
  const row = page.locator(`tr[data-tier="${key}"]`);
  await expect(row.locator('[data-whop-product="prod_not_in_the_emulator"]')).toContainText("missing in Whop");
  await expect(row.locator('[data-integration="invalid"]')).toContainText(
    '"prod_not_in_the_emulator": missing in Whop',
  );
  await page.getByLabel("Integration").selectOption("invalid");
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page.locator(`tr[data-tier="${key}"]`)).toBeVisible();
  await expect(page.locator('tr[data-tier="whop_basic"]')).toHaveCount(0);
  await page.close();
});

// Needs /pricing wired to the Whop helpers (a "Subscribe with Whop" button for a Whop tier, see the
// Whop report's wiring notes); /account already shows the tier in `current-tier`.
test("a customer buys the Whop tier through Whop's checkout and sees it on /account", async ({ browser }) => {
  const page = await watchedPage(browser);
  await signUpNewCustomer(page, "whop-buyer");
  await expect(page.getByTestId("current-tier")).toHaveText("Free");

  await page.goto("/pricing");
  const plan = page.getByTestId("plan-whop_basic");
  await expect(plan.getByText("$5.00")).toBeVisible();
  await plan.getByRole("button", { name: "Subscribe with Whop" }).click();

  // Whop's hosted checkout (the emulator's), for the plan the tier sells.
  await expect(page).toHaveURL(/\/checkout\/ch_/);
  await expect(page.getByRole("heading", { name: "Join Whop Basic" })).toBeVisible();
  await expect(page.getByText("$5.00 / month")).toBeVisible();
  // The Whop account's email need not be the Tierdesk one: the checkout's metadata links the buyer.
  await page.getByLabel("Email").fill(`whop-account-${Date.now()}@example.com`);
  await page.getByRole("button", { name: "Pay" }).click();

  // Back through /api/whop/return to the account, on the Whop tier.
  await expect(page).toHaveURL("/account");
  await expect(page.getByTestId("current-tier")).toHaveText("Whop Basic");
  await expect(page.getByTestId("permissions")).toContainText("Export data as CSV");

  // A paying Whop member is not offered a second checkout.
  await page.goto("/pricing");
  await expect(page.getByRole("button", { name: "Subscribe with Whop" })).toHaveCount(0);
  await page.close();
});
