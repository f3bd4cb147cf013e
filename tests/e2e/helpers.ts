import { expect, type Page } from "@playwright/test";

/** Fills and submits the sign-in form on the current page (go to /login first). */
export async function submitSignIn(page: Page, email: string, password: string) {
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

export async function signIn(page: Page, email: string, password: string) {
  await page.goto("/login");
  await submitSignIn(page, email, password);
}

/** Creates a new customer through /signup and checks they land on /account. */
export async function signUpNewCustomer(page: Page, prefix: string) {
  const password = "a long enough password";
  await page.goto("/signup");
  await page.getByLabel("Email").fill(`${prefix}-${Date.now()}@example.com`);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByLabel("Confirm password").fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL("/account");
}

/**
 * From a pricing page left open since before the purchase, a second checkout is refused with a way
 * into the customer portal (a button with JavaScript, a form on the error page without); opens it.
 */
export async function secondCheckoutLeadsToPortal(stale: Page) {
  await stale.getByTestId("plan-hobbyist").getByRole("button", { name: "Subscribe monthly" }).click();
  await expect(stale.getByTestId("billing-error")).toHaveText(
    "You already have a subscription. Change or cancel it in the customer portal.",
  );
  await stale.getByRole("button", { name: "Open the customer portal" }).click();
  await expect(stale).toHaveURL(/\/portal\/bps_/);
}
