// An admin changes Pro's monthly price from the tier page (£29 → £35) and sees both prices in Stripe
// with their live subscribers: the new one takes the lookup key, the old one keeps its subscriber.
// Named to run before operators.spec.ts: that spec gives Pro a lookup key Stripe does not know
// (ops_enterprise_monthly), which takes Pro off sale by design (an invalid tier is not sold).
import { expect, type Page, test } from "@playwright/test";
import Stripe from "stripe";
import { signIn, signUpNewCustomer } from "./helpers.ts";

let emulator = "";

/** A Pro monthly subscriber, through the pricing page and the emulator's hosted Checkout. */
async function subscribeToProMonthly(page: Page) {
  await signUpNewCustomer(page, "reprice");
  await page.goto("/pricing");
  await page.getByTestId("plan-pro").getByRole("button", { name: "Subscribe monthly" }).click();
  await expect(page).toHaveURL(/\/checkout\/cs_/);
  emulator = new URL(page.url()).origin;
  await page.getByRole("button", { name: /Pay/ }).click();
  await expect(page).toHaveURL(/\/billing\/success\?session_id=cs_/);
}

/** A price's row on the tier page. */
const priceRow = (page: Page, amount: string, kind: "current" | "legacy") =>
  page
    .getByTestId("stripe-prices")
    .locator(`tr[data-role="${kind}"]`)
    .filter({ hasText: amount })
    .filter({ hasText: "month" });

test.afterAll(async () => {
  // Later specs sell Pro at £29 again: a new £29 price takes the key back (the emulator keeps the rest).
  if (!emulator) return;
  const { hostname, port } = new URL(emulator);
  const stripe = new Stripe("sk_test_e2e", { host: hostname, port: Number(port), protocol: "http" });
  await stripe.prices.create({
    product: "prod_emu_pro",
    currency: "gbp",
    unit_amount: 2900,
    recurring: { interval: "month" },
    lookup_key: "pro_monthly",
    transfer_lookup_key: true,
  });
});

test("an admin changes Pro from £29 to £35 and sees both prices with their subscribers", async ({ browser }) => {
  const customer = await browser.newContext();
  await subscribeToProMonthly(await customer.newPage());
  await customer.close();

  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, "admin@example.com", "admin-demo-password");
  await expect(page).toHaveURL("/admin");
  await page.goto("/admin/tiers/pro");
  const current = priceRow(page, "£29.00", "current");
  // The count is Stripe's, kept by a background listing: a reload shows it once it is done.
  await expect(async () => {
    await page.reload();
    await expect(current.getByTestId("price-subscribers")).toHaveText(/^[1-9]\d*$/, { timeout: 1_000 });
  }).toPass({ timeout: 15_000 });
  const subscribers = (await current.getByTestId("price-subscribers").textContent())!.trim();
  // Earlier specs may have left other £29 prices (legacy now): this one is followed by its id.
  const currentPriceId = (await current.getAttribute("data-price"))!;

  await page
    .getByTestId("price-keys")
    .locator('[data-lookup-key="pro_monthly"]')
    .getByRole("link", { name: "Change price…" })
    .click();
  await expect(page).toHaveURL("/admin/tiers/pro?reprice=pro_monthly");
  const form = page.getByTestId("reprice-form");
  await form.getByLabel("New amount").fill("35");
  await form.getByRole("button", { name: "Review change" }).click();

  const confirmation = page.getByTestId("reprice-confirmation");
  await expect(confirmation.getByTestId("reprice-before")).toContainText(
    `£29.00 every month (GBP), ${subscribers} live subscriptions`,
  );
  await expect(confirmation.getByTestId("reprice-after")).toContainText(
    "£35.00 every month (GBP), 0 live subscriptions",
  );
  await confirmation.getByRole("button", { name: "Create the new price" }).click();

  await expect(page).toHaveURL("/admin/tiers/pro?repriced=pro_monthly");
  await expect(page.getByRole("status").filter({ hasText: "New price created for pro_monthly" })).toBeVisible();
  const legacy = page.getByTestId("stripe-prices").locator(`tr[data-price="${currentPriceId}"][data-role="legacy"]`);
  const renewed = priceRow(page, "£35.00", "current");
  await expect(async () => {
    await page.reload();
    await expect(legacy.getByTestId("price-subscribers")).toHaveText(subscribers, { timeout: 1_000 });
    await expect(renewed.getByTestId("price-subscribers")).toHaveText("0", { timeout: 1_000 });
  }).toPass({ timeout: 15_000 });
  await expect(renewed).toContainText("pro_monthly");
  await expect(page.getByTestId("price-keys").locator('[data-lookup-key="pro_monthly"]')).toContainText(
    `£35.00 every month · ${subscribers} on legacy prices`,
  );

  // Move them: the preview, then the run's progress page (admins start it; support may watch it).
  await page.goto("/admin/tiers/pro?move=pro_monthly");
  await page.getByRole("button", { name: /^Move \d+ subscribers?$/ }).click();
  await expect(page).toHaveURL(/\/admin\/tiers\/pro\/price-moves\/\d+$/);
  await expect(page.getByRole("heading", { level: 1 })).toContainText("Moving pro_monthly subscribers");
  await expect(async () => {
    await page.reload();
    await expect(page.getByTestId("price-move-progress")).toHaveAttribute("data-status", "finished", {
      timeout: 1_000,
    });
  }).toPass({ timeout: 30_000 });
  const progressUrl = page.url();
  await context.close();

  const support = await browser.newContext();
  const supportPage = await support.newPage();
  await signIn(supportPage, "support@example.com", "support-demo-password");
  await expect(supportPage).toHaveURL("/admin"); // signed in before asking for the page
  await supportPage.goto(progressUrl);
  await expect(supportPage.getByTestId("price-move-progress")).toContainText("done");
  await support.close();
});
