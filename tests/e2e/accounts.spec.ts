// The header's account switcher (issue 19): a member of a team switches to it and /account says so
// (and whom to ask about its billing),
// at a desktop width and at 360 px.
import { expect, test } from "@playwright/test";
import { signIn } from "./helpers.ts";

for (const width of [1280, 360]) {
  test(`a teammate switches to the team account from the header (${width} px)`, async ({ page }) => {
    await page.setViewportSize({ width, height: 800 });
    const problems: string[] = [];
    page.on("pageerror", (error) => problems.push(error.message));
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(message.text());
    });
    await signIn(page, "teammate@example.com", "teammate-demo-password");
    await expect(page).toHaveURL("/account");
    await expect(page.getByTestId("current-account")).toHaveText("teammate (owner)");
    const switcher = page.getByTestId("account-switcher");
    await switcher.getByLabel("Account").selectOption({ label: "Acme Studio (member)" });
    await switcher.getByRole("button", { name: "Switch" }).click();
    await expect(page).toHaveURL("/account");
    await expect(page.getByTestId("current-account")).toHaveText("Acme Studio (member)");
    await expect(page.getByTestId("account-seats")).toHaveText(/^3 of \d+ in use$/);
    // A member changes nothing about the team's billing: the page says whom to ask instead.
    await expect(page.getByTestId("ask-owner")).toContainText("ask customer@example.com");
    // Switch back, so each width starts from the teammate's own account.
    await switcher.getByLabel("Account").selectOption({ label: "teammate" });
    await switcher.getByRole("button", { name: "Switch" }).click();
    await expect(page.getByTestId("current-account")).toHaveText("teammate (owner)");
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
    expect(overflow, "no horizontal scroll").toBe(false);
    expect(problems).toEqual([]);
  });
}
