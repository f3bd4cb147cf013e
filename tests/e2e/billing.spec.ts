// The customer journey through the bundled Stripe emulator: upgrade, see the plan, cancel.
import { expect, test } from "@playwright/test";
import { secondCheckoutLeadsToPortal, signUpNewCustomer, submitSignIn } from "./helpers.ts";

test("anonymous → sign in → pricing → Pro monthly → pay → account shows Pro → portal switch → cancel → free", async ({
  page,
}) => {
  await page.goto("/pricing");
  await expect(page.getByTestId("emulator-banner")).toBeVisible();
  const pro = page.getByTestId("plan-pro");
  await expect(pro.getByText("£29.00")).toBeVisible();
  await expect(pro.getByText("£290.00")).toBeVisible();

  await pro.getByRole("link", { name: "Sign in to subscribe" }).click();
  await expect(page).toHaveURL("/login?next=%2Fpricing");
  await submitSignIn(page, "customer@example.com", "customer-demo-password");
  await expect(page).toHaveURL("/pricing");

  await page.getByTestId("plan-pro").getByRole("button", { name: "Subscribe monthly" }).click();
  await expect(page).toHaveURL(/\/checkout\/cs_/);
  await expect(page.getByText("£29.00 / month")).toBeVisible();
  await page.getByRole("button", { name: /Pay/ }).click();

  await expect(page).toHaveURL(/\/billing\/success\?session_id=cs_/);
  await expect(page.getByTestId("current-tier")).toHaveText("Pro");
  await page.getByRole("link", { name: "Go to your account" }).click();
  await expect(page.getByTestId("current-tier")).toHaveText("Pro");
  await expect(page.getByTestId("subscription-status")).toContainText(/^Active\. Renews on \d{1,2} \w+ \d{4}\.$/);
  await expect(page.getByTestId("permissions")).toContainText("Use the API");

  // A subscriber switches plan from the pricing page (through the portal), never a second checkout.
  await page.goto("/pricing");
  await expect(page.getByTestId("plan-hobbyist").getByRole("button", { name: "Switch to Hobbyist" })).toBeVisible();
  await expect(page.getByRole("button", { name: "Subscribe monthly" })).toHaveCount(0);

  // Switching plan in the portal reaches the account through the webhook.
  await page.goto("/account");
  await page.getByRole("button", { name: "Manage billing" }).click();
  await expect(page).toHaveURL(/\/portal\/bps_/);
  await page.getByRole("button", { name: "Switch to Hobbyist (monthly)" }).click();
  await page.getByRole("link", { name: /Return to/ }).click();
  await expect(page).toHaveURL("/account");
  await expect(page.getByTestId("current-tier")).toHaveText("Hobbyist");
  await expect(page.getByTestId("permissions")).not.toContainText("Use the API");

  // The portal cancels at the end of the period by default; "cancel immediately" ends it now.
  await page.getByRole("button", { name: "Manage billing" }).click();
  await expect(page).toHaveURL(/\/portal\/bps_/);
  await page.getByRole("button", { name: /Cancel subscription/ }).click();
  await page.getByRole("button", { name: "Cancel immediately instead" }).click();
  await page.getByRole("link", { name: /Return to/ }).click();
  await expect(page).toHaveURL("/account");
  await expect(page.getByTestId("current-tier")).toHaveText("Free");
  await expect(page.getByTestId("permissions")).not.toContainText("Use the API");
});

test("a free customer sees one button per price and errors show on the page", async ({ page }) => {
  await signUpNewCustomer(page, "e2e");
  await expect(page.getByTestId("current-tier")).toHaveText("Free");
  // Without a subscription there is nothing to manage yet.
  await expect(page.getByRole("button", { name: "Manage billing" })).toHaveCount(0);

  await page.goto("/pricing");
  const hobbyist = page.getByTestId("plan-hobbyist");
  await expect(hobbyist.getByRole("button", { name: "Subscribe monthly" })).toBeVisible();
  await expect(hobbyist.getByRole("button", { name: "Subscribe yearly" })).toBeVisible();
  await expect(page.getByTestId("plan-partner")).toHaveCount(0);

  // Cancelling at checkout comes back to pricing with nothing changed, and says so.
  await hobbyist.getByRole("button", { name: "Subscribe yearly" }).click();
  await expect(page).toHaveURL(/\/checkout\/cs_/);
  await page
    .getByRole("link", { name: /Cancel/ })
    .or(page.getByRole("button", { name: /Cancel/ }))
    .first()
    .click();
  await expect(page).toHaveURL("/pricing?checkout=cancelled");
  await expect(page.getByTestId("checkout-cancelled")).toContainText("you have not been charged");
  await expect(page.getByRole("button", { name: "Subscribe yearly" }).first()).toBeVisible();

  // A failed checkout request shows its message on the page (no alert dialog), and the user stays.
  page.on("dialog", () => {
    throw new Error("no alert() may be used");
  });
  await page.route("**/api/stripe/checkout", (route) =>
    route.fulfill({
      status: 502,
      contentType: "application/json",
      body: JSON.stringify({ error: "Stripe could not be reached. Please try again in a moment." }),
    }),
  );
  await page.getByTestId("plan-pro").getByRole("button", { name: "Subscribe monthly" }).click();
  await expect(page.getByTestId("billing-error")).toHaveText(
    "Stripe could not be reached. Please try again in a moment.",
  );
  await expect(page).toHaveURL("/pricing?checkout=cancelled");
  await page.unroute("**/api/stripe/checkout");

  // The abandoned checkout changed nothing: still Free, and (though it created the account's Stripe
  // customer) still nothing to manage.
  await page.goto("/account");
  await expect(page.getByTestId("current-tier")).toHaveText("Free");
  await expect(page.getByRole("button", { name: "Manage billing" })).toHaveCount(0);
});

test("without JavaScript: checkout by plain form post, and errors explained on a page", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await signUpNewCustomer(page, "nojs");
  // A pricing page left open from before paying.
  const stale = await context.newPage();
  await stale.goto("/pricing");

  // A form post naming a price nobody sells (the form tampered with on the way): the browser shows why.
  await page.goto("/pricing");
  await page.route("**/api/stripe/checkout", (route) => route.continue({ postData: "lookup_key=not_a_price" }));
  await page.getByTestId("plan-pro").getByRole("button", { name: "Subscribe monthly" }).click();
  await expect(page.getByTestId("billing-error")).toContainText('"not_a_price"');
  await page.getByRole("link", { name: "Back to pricing" }).click();
  await expect(page).toHaveURL("/pricing");
  await page.unroute("**/api/stripe/checkout");

  await page.getByTestId("plan-pro").getByRole("button", { name: "Subscribe yearly" }).click();
  await expect(page).toHaveURL(/\/checkout\/cs_/);
  await expect(page.getByText("£290.00 / year")).toBeVisible();
  await page.getByRole("button", { name: /Pay/ }).click();
  await expect(page).toHaveURL(/\/billing\/success\?session_id=cs_/);
  await expect(page.getByTestId("current-tier")).toHaveText("Pro");

  // A second checkout from the stale page is refused on a page that still leads into the portal.
  await secondCheckoutLeadsToPortal(stale);
  await context.close();
});

test("buying through hosted Checkout while Stripe's events arrive shuffled still ends on the plan", async ({
  page,
}) => {
  await signUpNewCustomer(page, "e2e-shuffled");
  await page.goto("/pricing");
  await page.getByTestId("plan-hobbyist").getByRole("button", { name: "Subscribe monthly" }).click();
  await expect(page).toHaveURL(/\/checkout\/cs_/);
  const sessionId = new URL(page.url()).pathname.split("/").pop();
  const emulator = new URL(page.url()).origin;
  const order = await page.request.post(`${emulator}/_emulator/webhooks/order`, { data: { order: "shuffle:4" } });
  expect(order.ok(), await order.text()).toBe(true);
  try {
    await page.getByRole("button", { name: /Pay/ }).click();
    await expect(page).toHaveURL(/\/billing\/success\?session_id=cs_/);
    await page.getByRole("link", { name: "Go to your account" }).click();
    await expect(page.getByTestId("current-tier")).toHaveText("Hobbyist");
    await expect(page.getByTestId("subscription-status")).toContainText(/^Active\. Renews on /);
  } finally {
    await page.request.post(`${emulator}/_emulator/webhooks/order`, { data: { order: "created" } });
  }

  // The webhooks of this checkout: Stripe's whole sequence, every one answered 200, not in creation order.
  type Delivered = {
    event: { id: string; type: string; data: { object: Record<string, unknown> } };
    deliveries: Array<{ status: number; at: number }>;
  };
  const { data } = (await (await page.request.get(`${emulator}/_emulator/events`)).json()) as { data: Delivered[] };
  const completed = data.find(
    (r) => r.event.type === "checkout.session.completed" && r.event.data.object.id === sessionId,
  );
  const customer = completed?.event.data.object.customer;
  expect(customer).toEqual(expect.stringMatching(/^cus_/));
  const ours = data.filter((r) => {
    const object = r.event.data.object;
    return object.customer === customer || object.id === customer;
  });
  expect(ours.map((r) => r.event.type)).toEqual(
    expect.arrayContaining(["customer.subscription.created", "customer.subscription.updated", "invoice.paid"]),
  );
  expect(ours.flatMap((r) => r.deliveries.map((d) => d.status))).toEqual(ours.map(() => 200));
  const sent = [...ours].sort((a, b) => a.deliveries[0]!.at - b.deliveries[0]!.at).map((r) => r.event.id);
  expect(sent).not.toEqual(ours.map((r) => r.event.id));
});
