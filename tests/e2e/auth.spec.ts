import { expect, test } from "@playwright/test";
import { signIn, submitSignIn } from "./helpers.ts";

const DEMO_USERS = [
  { email: "admin@example.com", password: "admin-demo-password", lands: "/admin" },
  { email: "support@example.com", password: "support-demo-password", lands: "/admin" },
  { email: "customer@example.com", password: "customer-demo-password", lands: "/account" },
];

for (const user of DEMO_USERS) {
  test(`${user.email} signs in and lands on ${user.lands}`, async ({ page }) => {
    await signIn(page, user.email, user.password);
    await expect(page).toHaveURL(user.lands);
    await expect(page.getByTestId("signed-in-as")).toHaveText(user.email);
  });
}

test("a wrong password shows an error on the page", async ({ page }) => {
  await signIn(page, "customer@example.com", "wrong password");
  await expect(page.getByRole("alert")).toHaveText("Invalid email or password.");
  await expect(page).toHaveURL(/\/login/);
});

test("a customer gets 403 on /admin", async ({ page }) => {
  await signIn(page, "customer@example.com", "customer-demo-password");
  await expect(page).toHaveURL("/account");
  const response = await page.goto("/admin");
  expect(response?.status()).toBe(403);
  await expect(page.getByRole("heading", { name: "403 Forbidden" })).toBeVisible();
});

test("an anonymous visit to /admin returns there after sign-in", async ({ page }) => {
  await page.goto("/admin");
  await expect(page).toHaveURL("/login?next=%2Fadmin");
  await submitSignIn(page, "support@example.com", "support-demo-password");
  await expect(page).toHaveURL("/admin");
  await expect(page.getByRole("heading", { name: "Overview" })).toBeVisible();
});

test("sign out by the header button", async ({ page }) => {
  await signIn(page, "customer@example.com", "customer-demo-password");
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Sign in" })).toBeVisible();
  const response = await page.goto("/account");
  expect(page.url()).toContain("/login?next=%2Faccount");
  expect(response?.status()).toBe(200);
});
