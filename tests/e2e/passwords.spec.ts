// Passwords in a real browser, with mail in the development outbox (the e2e server runs without
// SMTP_URL in development): "Forgot password?" from /login, the mailed link read on /dev/mail, a new
// password set through it (then used once only), and changing a password on /account. At a desktop
// width and at 360 px; no page errors or console errors anywhere.
import { expect, type Page, test } from "@playwright/test";
import { expectNoSidewaysScroll } from "./customer-helpers.ts";
import { signUpNewCustomer, submitSignIn } from "./helpers.ts";

/**
 * Collects uncaught exceptions and console errors of a page. `refusedForm` names a route whose action
 * is expected to answer a refused form with 400: Chromium logs that response, which is no problem.
 */
function watch(page: Page, refusedForm?: string) {
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(`pageerror: ${error.message}`));
  page.on("console", (message) => {
    const expected =
      refusedForm !== undefined &&
      message.text().startsWith("Failed to load resource: the server responded with a status of 400") &&
      message.location().url.includes(`_data=${encodeURIComponent(refusedForm)}`);
    if (message.type() === "error" && !expected) {
      problems.push(`console.error: ${message.text()} (${message.location().url})`);
    }
  });
  return problems;
}

async function shot(page: Page, name: string) {
  await page.screenshot({ path: test.info().outputPath(`${name}.png`), fullPage: true });
}

for (const width of [1280, 360]) {
  test.describe(`${width} px wide`, () => {
    test.use({ viewport: { width, height: 800 }, ...(width < 500 ? { isMobile: true, hasTouch: true } : {}) });

    test("forgot password: the mailed link sets a new password once, and ends the other session", async ({
      page,
      browser,
    }) => {
      const problems = watch(page);
      await signUpNewCustomer(page, `reset-${width}`);
      await page.goto("/account");
      const email = (await page.locator(".email").textContent())!.trim();
      const cookies = await page.context().cookies();
      await page.getByRole("button", { name: "Sign out" }).click();
      // Another browser stays signed in as the same user until the reset.
      const other = await browser.newContext();
      await other.addCookies(cookies);

      await page.goto("/login");
      await page.getByRole("link", { name: "Forgot password?" }).click();
      await expect(page).toHaveURL("/forgot-password");
      await expect(page.getByRole("heading", { level: 1, name: "Forgot your password?" })).toBeVisible();
      await page.getByRole("button", { name: "Send the link" }).click();
      await expect(page.getByText("Email is required.")).toBeVisible();
      await page.getByLabel("Email").fill(email);
      await page.getByRole("button", { name: "Send the link" }).click();
      await expect(page.getByTestId("reset-answer")).toHaveText(
        "If an account exists for that email, we sent a link; it is valid for one hour.",
      );
      await expectNoSidewaysScroll(page);
      await shot(page, "forgot-password-sent");

      await page.goto("/dev/mail");
      const message = page.getByTestId("outbox-message").filter({ hasText: email }).first();
      await expect(message.getByRole("heading", { name: "Reset your Tierdesk password" })).toBeVisible();
      await expectNoSidewaysScroll(page);
      await shot(page, "dev-mail");
      await message.getByRole("link", { name: /\/reset-password\// }).click();
      await expect(page).toHaveURL(/\/reset-password\/[A-Za-z0-9_-]{43}$/);
      const link = page.url();

      await page.getByLabel("New password", { exact: true }).fill("short");
      await page.getByLabel("Confirm new password").fill("short");
      await page.getByRole("button", { name: "Set the new password" }).click();
      await expect(page.getByText("Use at least 10 characters.")).toBeVisible();
      await expectNoSidewaysScroll(page);
      await shot(page, "reset-password-form");
      await page.getByLabel("New password", { exact: true }).fill("a brand new password");
      await page.getByLabel("Confirm new password").fill("a brand new password");
      await page.getByRole("button", { name: "Set the new password" }).click();
      await expect(page).toHaveURL("/login?password=reset");
      await expect(page.getByTestId("password-reset-notice")).toBeVisible();

      const otherPage = await other.newPage();
      await otherPage.goto("/account");
      await expect(otherPage).toHaveURL(/\/login\?next=/);
      await other.close();

      await submitSignIn(page, email, "a brand new password");
      await expect(page).toHaveURL("/account");

      await page.goto(link);
      await expect(
        page.getByRole("heading", { level: 1, name: "This link has expired or was already used" }),
      ).toBeVisible();
      await expect(page.getByRole("link", { name: "Ask for a new link" })).toHaveAttribute("href", "/forgot-password");
      await expectNoSidewaysScroll(page);
      await shot(page, "reset-link-used");
      expect(problems).toEqual([]);
    });

    test("change password on /account: the current one is required", async ({ page }) => {
      const problems = watch(page, "routes/account_.password");
      await signUpNewCustomer(page, `change-${width}`);
      await page.getByRole("link", { name: "Change password" }).click();
      await expect(page).toHaveURL("/account/password");
      await page.getByLabel("Current password").fill("not the password");
      await page.getByLabel("New password", { exact: true }).fill("another long password");
      await page.getByLabel("Confirm new password").fill("another long password");
      await page.getByRole("button", { name: "Change password" }).click();
      await expect(page.getByText("That is not your current password.")).toBeVisible();
      await expectNoSidewaysScroll(page);
      await shot(page, "change-password-error");
      await page.getByLabel("Current password").fill("a long enough password");
      await page.getByLabel("New password", { exact: true }).fill("another long password");
      await page.getByLabel("Confirm new password").fill("another long password");
      await page.getByRole("button", { name: "Change password" }).click();
      await expect(page).toHaveURL("/account?password=changed");
      await expect(page.getByTestId("account-notice")).toHaveText(
        "Your password is changed. Your other sessions were signed out.",
      );
      expect(problems).toEqual([]);
    });
  });
}
