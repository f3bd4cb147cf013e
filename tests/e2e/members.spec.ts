// Members and invitations in a real browser (issue 19, seats), with mail in the development outbox
// (the e2e server runs without SMTP_URL in development): an owner invites two people on
// /account/members, each opens the link from the mail, signs up with the invited email (pre-filled)
// and lands in the team; the owner's page then shows 3 seats used. At 1280 and 360 px, with a
// screenshot of the page at each; no page errors or console errors anywhere.
import { type Browser, expect, type Page, test } from "@playwright/test";
import { expectNoSidewaysScroll } from "./customer-helpers.ts";
import { signIn, signUpNewCustomer } from "./helpers.ts";

// A new customer's account is on the Free plan, 1 seat: an operator gives it room first.
const SEATS = 10;

/** Uncaught exceptions and console errors, except Chromium's line for a form refused with 409 (as expected). */
function watch(page: Page) {
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(`pageerror: ${error.message}`));
  page.on("console", (message) => {
    const refusedForm =
      message.text().startsWith("Failed to load resource: the server responded with a status of 409") &&
      message.location().url.includes(`_data=${encodeURIComponent("routes/account_.members")}`);
    if (message.type() === "error" && !refusedForm) {
      problems.push(`console.error: ${message.text()} (${message.location().url})`);
    }
  });
  return problems;
}

/** The admin sets the Free plan's user limit on /admin/tiers/free. */
async function setFreeSeatLimit(browser: Browser, limit: number) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await signIn(page, "admin@example.com", "admin-demo-password");
    await expect(page).toHaveURL("/admin");
    await page.goto("/admin/tiers/free");
    await page.getByLabel("User limit").fill(String(limit));
    await page.getByRole("button", { name: "Save tier" }).click();
    await expect(page.getByLabel("User limit")).toHaveValue(String(limit));
  } finally {
    await context.close();
  }
}

test.describe.configure({ mode: "serial" });
test.beforeAll(async ({ browser }) => setFreeSeatLimit(browser, SEATS));
// The other specs see the seeded Free plan again.
test.afterAll(async ({ browser }) => setFreeSeatLimit(browser, 1));

/** The invitation link mailed to `email`, read from the development outbox. */
async function mailedInvitation(page: Page, email: string) {
  await page.goto("/dev/mail");
  const message = page.getByTestId("outbox-message").filter({ hasText: email }).first();
  await expect(message).toContainText("invited you to");
  const href = await message.getByRole("link", { name: /\/invitations\// }).getAttribute("href");
  const path = href ? new URL(href).pathname : "";
  expect(path).toMatch(/^\/invitations\/[A-Za-z0-9_-]{43}$/);
  return path;
}

for (const width of [1280, 360]) {
  test.describe(`${width} px wide`, () => {
    test.use({ viewport: { width, height: 800 }, ...(width < 500 ? { isMobile: true, hasTouch: true } : {}) });

    test("an owner invites two people; each joins from the mailed link by signing up", async ({ page, browser }) => {
      const problems = watch(page);
      await signUpNewCustomer(page, `team-owner-${width}`);
      await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Members" }).click();
      await expect(page).toHaveURL("/account/members");
      await expect(page.getByRole("heading", { level: 1, name: "Members" })).toBeVisible();
      const team = (await page.locator(".lead strong").textContent())!.trim();
      await expect(page.getByTestId("seats")).toHaveText(`1 of ${SEATS} seats used`);

      // A mistyped address is refused at the field, and what was typed stays.
      await page.getByLabel("Invite by email").fill("not-an-email");
      await page.getByRole("button", { name: "Send invitation" }).click();
      await expect(page.getByText("Enter a valid email address.")).toBeVisible();

      const invited = [`first-${width}-${Date.now()}@example.com`, `second-${width}-${Date.now()}@example.com`];
      for (const email of invited) {
        await page.getByLabel("Invite by email").fill(email);
        await page.getByRole("button", { name: "Send invitation" }).click();
        await expect(page.getByTestId("members-notice")).toHaveText(
          `Invitation sent to ${email}. The link works once, within 7 days.`,
        );
      }
      await expect(page.getByTestId("seats")).toHaveText(`1 of ${SEATS} seats used · 2 pending invitations`);
      await expect(page.getByTestId("invitation")).toHaveCount(2);
      // Inviting the same address again is refused at the field.
      await page.getByLabel("Invite by email").fill(invited[0]!);
      await page.getByRole("button", { name: "Send invitation" }).click();
      await expect(page.locator("#invite-member").getByRole("alert")).toContainText("is already invited");

      for (const email of invited) {
        const context = await browser.newContext({ viewport: { width, height: 800 } });
        const guest = await context.newPage();
        const guestProblems = watch(guest);
        const link = await mailedInvitation(guest, email);
        await guest.goto(link);
        await expect(guest.getByRole("heading", { level: 1, name: `Join ${team}` })).toBeVisible();
        await guest.getByRole("link", { name: `Sign up as ${email}` }).click();
        await expect(guest).toHaveURL(/\/signup\?/);
        await expect(guest.getByLabel("Email")).toHaveValue(email);
        await guest.getByLabel("Password", { exact: true }).fill("a long enough password");
        await guest.getByLabel("Confirm password").fill("a long enough password");
        await guest.getByRole("button", { name: "Create account" }).click();
        // Back on the invitation, signed in as the invited email.
        await expect(guest).toHaveURL(link);
        await guest.getByRole("button", { name: `Join ${team}` }).click();
        await expect(guest).toHaveURL("/account");
        await guest.goto("/account/members");
        await expect(guest.locator(".lead")).toHaveText(`Who belongs to ${team} (you are a member).`);
        await expect(guest.getByTestId("seat-limit-banner")).toHaveCount(0);
        expect(guestProblems).toEqual([]);
        await context.close();
      }

      await page.goto("/account/members");
      await expect(page.getByTestId("seats")).toHaveText(`3 of ${SEATS} seats used`);
      await expect(page.getByTestId("member")).toHaveCount(3);
      await expect(page.getByTestId("invitation")).toHaveCount(0);
      await expectNoSidewaysScroll(page);
      await page.screenshot({ path: test.info().outputPath(`members-${width}.png`), fullPage: true });
      expect(problems).toEqual([]);
    });
  });
}
