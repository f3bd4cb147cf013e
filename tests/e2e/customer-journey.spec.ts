// The paying customer's journey through the bundled Stripe emulator, on a desktop and on a 390 px
// phone: subscribe, see price and interval, switch plan from /pricing, cancel at the end of the
// period (the plan is kept, the date shown), resume, cancel again and let the period end → Free.
// A second checkout from a stale page points to the portal, and a customer deleted in Stripe, with
// and without the webhook, can subscribe again. A subscriber whose price changed in Stripe (the lookup
// key moved to a new price) is told the price they keep.
import { expect, type Page, test } from "@playwright/test";
import { emulatorOrigin, expectFitsAndAccessible, expectNoSidewaysScroll, VIEWPORTS } from "./customer-helpers.ts";
import { secondCheckoutLeadsToPortal, signUpNewCustomer } from "./helpers.ts";

/** From /account: the portal, its subscription's id, and a cancellation at period end confirmed. */
async function cancelAtPeriodEnd(page: Page) {
  await page.getByRole("button", { name: "Manage billing" }).click();
  await expect(page).toHaveURL(/\/portal\/bps_/);
  const subscriptionId = await page.locator("[data-subscription-id]").getAttribute("data-subscription-id");
  await page.getByRole("button", { name: "Cancel subscription" }).click();
  const endDate = (await page.locator(".period-end").textContent())?.trim() ?? "";
  expect(endDate).toMatch(/^\d{1,2} \w+ \d{4}$/);
  await page.getByRole("button", { name: "Confirm cancellation" }).click();
  await expect(page.getByRole("status")).toContainText(`will be canceled on ${endDate}`);
  await page.getByRole("link", { name: /Return to/ }).click();
  await expect(page).toHaveURL("/account");
  return { subscriptionId: subscriptionId ?? "", endDate };
}

/** From /pricing: pays for a plan at the emulator's Checkout and lands on the success page. */
async function subscribe(page: Page, plan: string, button: string) {
  await page.getByTestId(`plan-${plan}`).getByRole("button", { name: button }).click();
  await expect(page).toHaveURL(/\/checkout\/cs_/);
  const emulator = emulatorOrigin(page);
  await page.getByRole("button", { name: "Pay" }).click();
  await expect(page).toHaveURL(/\/billing\/success\?session_id=cs_/);
  return emulator;
}

for (const viewport of VIEWPORTS) {
  test.describe(viewport.name, () => {
    test.use(viewport.use);

    test("pricing → checkout → account shows price and interval → switch plan → cancel at period end keeps the plan → resume → the period ends → Free", async ({
      page,
    }) => {
      const problems: string[] = [];
      page.on("pageerror", (error) => problems.push(error.message));

      await signUpNewCustomer(page, `journey-${viewport.use.viewport.width}`);
      await expect(page.getByTestId("current-tier")).toHaveText("Free");
      await expect(page.getByTestId("next-action")).toHaveAttribute("data-action", "subscribe");
      await expectFitsAndAccessible(page);
      await page.getByRole("link", { name: "Choose a plan" }).click();
      await expect(page).toHaveURL("/pricing");
      await expect(page.getByTestId("plan-free").getByTestId("current-plan")).toBeVisible();
      await expectFitsAndAccessible(page);

      const emulator = await subscribe(page, "pro", "Subscribe monthly");
      await expect(page.getByTestId("current-tier")).toHaveText("Pro");
      await expectFitsAndAccessible(page);
      await page.getByRole("link", { name: "Go to your account" }).click();
      await expect(page.getByTestId("current-tier")).toHaveText("Pro");
      await expect(page.getByTestId("plan-price")).toHaveText("£29.00 per month");
      await expect(page.getByTestId("subscription-status")).toContainText(/^Active\. Renews on \d{1,2} \w+ \d{4}\.$/);
      await expect(page.getByTestId("permissions")).toContainText("Use the API");
      await expect(page.getByTestId("next-action")).toHaveAttribute("data-action", "change-plan");
      await expectFitsAndAccessible(page);

      // /pricing marks the plan and its interval, and offers switches instead of "Manage subscription".
      await page.getByRole("link", { name: "Change plan" }).click();
      const pro = page.getByTestId("plan-pro");
      await expect(pro.getByTestId("current-plan")).toHaveText("Your current plan");
      await expect(pro.getByTestId("price-pro_monthly")).toContainText("Current");
      await expect(pro.getByTestId("price-pro_yearly")).not.toContainText("Current");
      await expect(pro.getByRole("button", { name: "Switch to yearly billing" })).toBeVisible();
      await expect(page.getByRole("button", { name: /Manage subscription|Subscribe/ })).toHaveCount(0);
      await expectFitsAndAccessible(page);
      await page.getByTestId("plan-hobbyist").getByRole("button", { name: "Switch to Hobbyist" }).click();
      await expect(page.getByRole("heading", { name: "Confirm your new plan" })).toBeVisible();
      await expect(page.getByText("Hobbyist (monthly) — £7.00 / month")).toBeVisible();
      await expectNoSidewaysScroll(page);
      await page.getByRole("button", { name: "Confirm" }).click();
      await expect(page).toHaveURL("/account?plan=changed");
      await expect(page.getByTestId("account-notice")).toHaveText("Your plan change is confirmed.");
      await expect(page.getByTestId("current-tier")).toHaveText("Hobbyist");
      await expect(page.getByTestId("plan-price")).toHaveText("£7.00 per month");
      await expect(page.getByTestId("permissions")).not.toContainText("Use the API");

      // Cancelling in the portal ends the plan at the end of the period: kept until then, date shown.
      const { subscriptionId, endDate } = await cancelAtPeriodEnd(page);
      await expect(page.getByTestId("subscription-status")).toContainText(`Your Hobbyist plan ends on ${endDate}`);
      await expect(page.getByTestId("current-tier")).toHaveText("Hobbyist");
      await expect(page.getByTestId("permissions")).toContainText("Export data as CSV");
      await expect(page.getByTestId("next-action")).toHaveAttribute("data-action", "resume");
      await expectFitsAndAccessible(page);
      // /pricing refuses plan changes until then, and offers to resume right there.
      await page.goto("/pricing");
      await expect(page.getByTestId("plan-pro")).toContainText("Your subscription is set to end");
      await expectFitsAndAccessible(page);
      await page.getByTestId("plan-pro").getByRole("button", { name: "Resume subscription" }).click();
      await expect(page).toHaveURL("/account?subscription=resumed");
      await expect(page.getByTestId("subscription-status")).toContainText(`Renews on ${endDate}`);
      await expect(page.getByTestId("next-action")).toHaveAttribute("data-action", "change-plan");

      // Cancelled again, then the period ends (the emulator's control): Stripe deletes it → Free.
      await cancelAtPeriodEnd(page);
      const ended = await page.request.post(`${emulator}/_emulator/subscriptions/${subscriptionId}/renew`);
      expect(ended.ok(), await ended.text()).toBe(true);
      await page.reload();
      await expect(page.getByTestId("current-tier")).toHaveText("Free");
      await expect(page.getByTestId("subscription-status")).toHaveText("Your previous subscription has ended.");
      await expect(page.getByTestId("next-action")).toHaveAttribute("data-action", "subscribe");
      expect(problems).toEqual([]);
    });
  });
}

test("a second checkout is refused with a way into the portal; a customer deleted in Stripe can subscribe again, whether or not its webhook arrived", async ({
  page,
  context,
}) => {
  await signUpNewCustomer(page, "deleted");
  const email = (await page.getByTestId("signed-in-as").textContent())?.trim() ?? "";
  await page.goto("/pricing");
  // The same pricing page, left open in another tab from before the purchase.
  const stale = await context.newPage();
  await stale.goto("/pricing");
  const emulator = await subscribe(page, "pro", "Subscribe monthly");
  await expect(page.getByTestId("current-tier")).toHaveText("Pro");

  // A second checkout from the stale tab is refused, with a way into the portal.
  await secondCheckoutLeadsToPortal(stale);
  await expect(stale.locator(".plan-name")).toHaveText("Pro (monthly)");
  await stale.close();

  const customerOf = async () => {
    const response = await page.request.get(`${emulator}/_emulator/events?type=checkout.session.completed`);
    const { data } = (await response.json()) as {
      data: Array<{ event: { data: { object: { customer: string; customer_details: { email: string } | null } } } }>;
    };
    return data.filter((r) => r.event.data.object.customer_details?.email === email).at(-1)?.event.data.object.customer;
  };
  const deleteCustomer = async (id: string) => {
    const response = await page.request.delete(`${emulator}/v1/customers/${id}`, {
      headers: { Authorization: "Bearer sk_test_e2e" },
    });
    expect(response.ok(), await response.text()).toBe(true);
  };

  // Webhook lost: the portal button says what happened instead of "could not be reached".
  const first = await customerOf();
  expect(first).toMatch(/^cus_/);
  await page.request.post(`${emulator}/_emulator/webhooks/hold`);
  try {
    await deleteCustomer(first ?? "");
    await page.goto("/account");
    await page.getByRole("button", { name: "Manage billing" }).click();
    await expect(page.getByTestId("billing-error")).toContainText("Your billing account no longer exists in Stripe");
    await page.reload();
    await expect(page.getByTestId("current-tier")).toHaveText("Free");
  } finally {
    await page.request.post(`${emulator}/_emulator/webhooks/release`);
  }
  await page.goto("/pricing");
  await subscribe(page, "pro", "Subscribe yearly");
  await expect(page.getByTestId("current-tier")).toHaveText("Pro");

  // Webhook delivered: customer.deleted unlinks at once, and Checkout opens again.
  const second = await customerOf();
  expect(second).not.toBe(first);
  await deleteCustomer(second ?? "");
  await expect(async () => {
    await page.goto("/account");
    await expect(page.getByTestId("current-tier")).toHaveText("Free", { timeout: 1_000 });
  }).toPass();
  await page.goto("/pricing");
  await subscribe(page, "hobbyist", "Subscribe monthly");
  await expect(page.getByTestId("current-tier")).toHaveText("Hobbyist");
});

test("Pro's price changes in Stripe: a subscriber keeps theirs, and /account and /pricing say so", async ({ page }) => {
  await signUpNewCustomer(page, "grandfathered");
  await page.goto("/pricing");
  const emulator = await subscribe(page, "pro", "Subscribe monthly");
  await page.goto("/account");
  await expect(page.getByTestId("plan-price")).toHaveText("£29.00 per month");
  await expect(page.getByTestId("legacy-price")).toHaveCount(0);

  // What an operator does in Stripe: a new price takes the lookup key; subscriptions keep the old one.
  const moveProMonthlyTo = async (amount: number) => {
    const response = await page.request.post(`${emulator}/v1/prices`, {
      headers: { Authorization: "Bearer sk_test_e2e" },
      form: {
        product: "prod_emu_pro",
        currency: "gbp",
        unit_amount: String(amount),
        "recurring[interval]": "month",
        nickname: "Pro monthly",
        lookup_key: "pro_monthly",
        transfer_lookup_key: "true",
      },
    });
    expect(response.ok(), await response.text()).toBe(true);
  };
  const pro = page.getByTestId("plan-pro");
  await moveProMonthlyTo(3500);
  try {
    // The price webhook drops the app's caches as it arrives.
    await expect(async () => {
      await page.reload();
      await expect(page.getByTestId("legacy-price")).toHaveText(
        "You pay £29.00 per month, a price kept from when you subscribed; Pro is £35.00 per month for new subscribers.",
        { timeout: 1_000 },
      );
    }).toPass();
    await expect(page.getByTestId("plan-price")).toHaveText("£29.00 per month");
    await expect(page.getByTestId("current-tier")).toHaveText("Pro");
    await expectFitsAndAccessible(page);

    await page.goto("/pricing");
    await expect(pro.getByTestId("current-plan")).toBeVisible();
    await expect(pro.getByTestId("legacy-price")).toHaveText(
      "You pay £29.00/month, a price kept from when you subscribed.",
    );
    await expect(pro.getByTestId("price-pro_monthly")).toContainText("£35.00");
    await expectFitsAndAccessible(page);
  } finally {
    // Pro costs £29 again for the specs that follow (a new price: this subscriber stays grandfathered).
    await moveProMonthlyTo(2900);
    await expect(async () => {
      await page.goto("/pricing");
      await expect(pro.getByTestId("price-pro_monthly")).toContainText("£29.00", { timeout: 1_000 });
    }).toPass();
  }
});
