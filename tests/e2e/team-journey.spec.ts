// A team's whole journey (issue 19) on the instance that sends real mail over SMTP (playwright.config.ts
// starts it with a catcher): an owner subscribes to the 5-seat Pro tier through the Stripe emulator's
// Checkout, invites two people, each joins from the mail that arrived over SMTP, and /pricing shows
// "3 of 5 seats". Then the owner downgrades to the 1-seat Hobbyist tier in the emulator's portal:
// nobody is removed, the owner sees the over-limit banner with the numbers, and a new invitation is
// refused at the field.
import { expect, type Page, test } from "@playwright/test";
import { SMTP_APP_PORT, SMTP_CATCHER_HTTP_PORT } from "../../playwright.config.ts";
import { signUpNewCustomer } from "./helpers.ts";

test.use({ baseURL: `http://127.0.0.1:${SMTP_APP_PORT}` });

type CaughtMail = { to: string[]; subject: string; text: string };

/** The invitation link in the mail that reached `email` over SMTP (waits for the queue to send it). */
async function invitationLinkMailedTo(email: string): Promise<string> {
  let mail: CaughtMail | undefined;
  await expect
    .poll(
      async () => {
        const response = await fetch(`http://127.0.0.1:${SMTP_CATCHER_HTTP_PORT}/mail?to=${encodeURIComponent(email)}`);
        mail = ((await response.json()) as CaughtMail[])[0];
        return mail?.subject ?? null;
      },
      { timeout: 20_000, message: `an invitation mailed to ${email}` },
    )
    .toMatch(/invited you to/);
  const link = /https?:\/\/\S+\/invitations\/[A-Za-z0-9_-]{43}/.exec(mail!.text)?.[0];
  expect(link, "the mail's text holds the link").toBeTruthy();
  return new URL(link!).pathname;
}

function watch(page: Page) {
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(`pageerror: ${error.message}`));
  page.on("console", (message) => {
    // Chromium logs a form the server refused (409/400 with field errors) as a failed resource: expected.
    const refusedForm = /Failed to load resource: the server responded with a status of (400|409)/.test(message.text());
    if (message.type() === "error" && !refusedForm) problems.push(`console.error: ${message.text()}`);
  });
  return problems;
}

test("an owner subscribes to 5 seats, two people join from mail sent over SMTP, a downgrade marks the team over its limit", async ({
  page,
  browser,
}) => {
  test.setTimeout(120_000);
  const problems = watch(page);
  await signUpNewCustomer(page, "team-journey-owner");

  // Subscribe to Pro (5 seats) through the emulator's Checkout.
  await page.goto("/pricing");
  await page.getByTestId("plan-pro").getByRole("button", { name: "Subscribe monthly" }).click();
  await expect(page).toHaveURL(/\/checkout\/cs_/);
  await page.getByRole("button", { name: "Pay" }).click();
  await expect(page).toHaveURL(/\/billing\/success\?session_id=cs_/);
  await expect(page.getByTestId("current-tier")).toHaveText("Pro");

  // Invite two people.
  await page.goto("/account/members");
  const team = (await page.locator(".lead strong").textContent())!.trim();
  await expect(page.getByTestId("seats")).toHaveText("1 of 5 seats used");
  const stamp = Date.now();
  const invited = [`journey-first-${stamp}@example.com`, `journey-second-${stamp}@example.com`];
  for (const email of invited) {
    await page.getByLabel("Invite by email").fill(email);
    await page.getByRole("button", { name: "Send invitation" }).click();
    await expect(page.getByTestId("members-notice")).toContainText(`Invitation sent to ${email}`);
  }
  await expect(page.getByTestId("seats")).toHaveText("1 of 5 seats used · 2 pending invitations");

  // Each opens the link from the mail that arrived over SMTP, signs up with that email and joins.
  for (const email of invited) {
    const link = await invitationLinkMailedTo(email);
    const context = await browser.newContext();
    const guest = await context.newPage();
    const guestProblems = watch(guest);
    await guest.goto(link);
    await expect(guest.getByRole("heading", { level: 1, name: `Join ${team}` })).toBeVisible();
    await guest.getByRole("link", { name: `Sign up as ${email}` }).click();
    await expect(guest.getByLabel("Email")).toHaveValue(email);
    await guest.getByLabel("Password", { exact: true }).fill("a long enough password");
    await guest.getByLabel("Confirm password").fill("a long enough password");
    await guest.getByRole("button", { name: "Create account" }).click();
    await expect(guest).toHaveURL(link);
    await guest.getByRole("button", { name: `Join ${team}` }).click();
    await expect(guest).toHaveURL("/account");
    // The team's plan is theirs to use: Pro, paid by the owner.
    await expect(guest.getByTestId("current-tier")).toHaveText("Pro");
    expect(guestProblems).toEqual([]);
    await context.close();
  }

  // The pricing page counts the team's seats on its plan.
  await page.goto("/pricing");
  await expect(page.getByTestId("plan-pro").getByTestId("seats-used")).toContainText("3 of 5 seats");

  // Downgrade to Hobbyist (1 seat) in the portal: everyone stays, the owner sees the banner.
  await page.goto("/account");
  await page.getByRole("button", { name: "Manage billing" }).click();
  await expect(page).toHaveURL(/\/portal\/bps_/);
  await page.getByRole("button", { name: "Switch to Hobbyist (monthly)" }).click();
  await page.getByRole("link", { name: /Return to/ }).click();
  await expect(page).toHaveURL("/account");
  await expect(page.getByTestId("current-tier")).toHaveText("Hobbyist");
  const banner = page.getByTestId("seat-limit-banner");
  await expect(banner).toContainText(`${team} has 3 members but its Hobbyist plan allows 1`);
  await expect(banner.getByRole("link", { name: "Remove members" })).toHaveAttribute("href", "/account/members");
  await expect(banner.getByRole("link", { name: "Upgrade" })).toHaveAttribute("href", "/pricing");

  // A new invitation is refused at the field, with the numbers; nobody was removed.
  await page.goto("/account/members");
  await expect(page.getByTestId("member")).toHaveCount(3);
  await page.getByLabel("Invite by email").fill(`journey-third-${stamp}@example.com`);
  await page.getByRole("button", { name: "Send invitation" }).click();
  await expect(page.locator("#invite-member").getByRole("alert")).toContainText(
    `${team} has 3 members but its plan allows 1`,
  );
  await expect(page.getByTestId("invitation")).toHaveCount(0);
  expect(problems).toEqual([]);
});
