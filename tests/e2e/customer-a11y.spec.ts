// WCAG 2.1 AA on the customer pages (axe: zero violations) on a desktop and a 390 px phone, and the
// errors customers meet: a 404 inside the site with a way back, one message per form field.
// /billing/success after a real payment is checked in customer-journey.spec.ts.
import { expect, test } from "@playwright/test";
import { expectFitsAndAccessible, VIEWPORTS } from "./customer-helpers.ts";
import { signIn } from "./helpers.ts";

const ANONYMOUS_PAGES = ["/", "/pricing", "/login", "/signup", "/no-such-page", "/pricing?checkout=cancelled"];
const CUSTOMER_PAGES = ["/", "/pricing", "/account", "/billing/success", "/account/no-such-page"];

for (const viewport of VIEWPORTS) {
  test.describe(viewport.name, () => {
    test.use(viewport.use);

    test("anonymous pages: accessible, and nothing scrolls sideways", async ({ page }) => {
      for (const path of ANONYMOUS_PAGES) {
        await page.goto(path);
        await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
        await expectFitsAndAccessible(page);
      }
    });

    test("a signed-in customer's pages: accessible, and nothing scrolls sideways", async ({ page }) => {
      await signIn(page, "customer@example.com", "customer-demo-password");
      await expect(page).toHaveURL("/account");
      for (const path of CUSTOMER_PAGES) {
        await page.goto(path);
        await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
        await expectFitsAndAccessible(page);
      }
    });
  });
}

test("a 404 keeps the site's header and the user signed in, hydrates cleanly, and offers a way back", async ({
  page,
}) => {
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(error.message));
  page.on("console", (message) => {
    if (message.type() === "error" && !message.text().startsWith("Failed to load resource"))
      problems.push(message.text());
  });
  await signIn(page, "customer@example.com", "customer-demo-password");
  await expect(page).toHaveURL("/account");
  for (const path of ["/nope", "/account/nope", "/admin/nope"]) {
    const response = await page.goto(path);
    expect(response?.status()).toBe(404);
    await page.waitForFunction(() => "__remixRouter" in window && window.history.scrollRestoration === "manual");
    await expect(page.getByRole("heading", { level: 1, name: "404 Not found" })).toBeVisible();
    await expect(page.getByText("There is no page at this address.")).toBeVisible();
    await expect(page.getByText(/No route matches/)).toHaveCount(0);
    await expect(page.getByTestId("signed-in-as")).toHaveText("customer@example.com");
  }
  expect(problems).toEqual([]);
  // The way back is a client-side navigation that works.
  await page.getByRole("link", { name: "Go to the home page" }).click();
  await expect(page).toHaveURL("/");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Subscription tiers, run on Stripe.");
});

test("an empty form shows one message per field", async ({ page }) => {
  await page.goto("/login");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.locator("#email-error")).toHaveText("Email is required.");
  await expect(page.locator("#password-error")).toHaveText("Password is required.");
  await expect(page.locator(".field-errors")).toHaveCount(2);
  await expect(page.getByLabel("Email")).toHaveAttribute("aria-invalid", "true");
  await expect(page.getByText("Enter a valid email address.")).toHaveCount(0);
  // Sign-up answers the same way (tests/integration/customer-pages.test.ts); not posted here, since
  // every sign-up attempt counts against the per-IP limit the other specs' new customers need.
});
