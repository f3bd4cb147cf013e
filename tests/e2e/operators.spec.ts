// The operator dashboard and the support console in Chromium, as admins and support use them.
import { type Browser, type BrowserContext, expect, type Page, test } from "@playwright/test";
import Stripe from "stripe";
import { signIn, signUpNewCustomer } from "./helpers.ts";

const WEBHOOK_SECRET = "whsec_e2e_suite"; // playwright.config.ts starts the app with this secret

async function as(browser: Browser, email: string, password: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("console", (message) => {
    if (message.type() === "error" && !/status of (403|404|409|400)/.test(message.text())) errors.push(message.text());
  });
  await signIn(page, email, password);
  await expect(page).not.toHaveURL(/\/login/);
  test.info().annotations.push({ type: "console", description: "" });
  page.on("close", () => expect(errors, "page errors or console errors").toEqual([]));
  return { context, page };
}

const asAdmin = (browser: Browser) => as(browser, "admin@example.com", "admin-demo-password");
const asSupport = (browser: Browser) => as(browser, "support@example.com", "support-demo-password");

async function deliverWebhook(context: BrowserContext, type: string, object: Record<string, unknown>) {
  const id = `evt_ops_${Date.now()}_${Math.random().toString(36).slice(2, 8)}`;
  const payload = JSON.stringify({
    id,
    object: "event",
    type,
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    data: { object },
  });
  const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET });
  const response = await context.request.post("/api/stripe/webhook", {
    data: payload,
    headers: { "Content-Type": "application/json", "Stripe-Signature": signature },
  });
  return { id, status: response.status() };
}

function subscriptionObject(customer: string, lookupKey: string, extra: Record<string, unknown> = {}) {
  return {
    id: `sub_ops_${Date.now()}`,
    object: "subscription",
    status: "active",
    customer,
    metadata: {},
    items: {
      object: "list",
      data: [
        {
          id: "si_ops",
          object: "subscription_item",
          price: { id: "price_ops", object: "price", lookup_key: lookupKey },
        },
      ],
    },
    ...extra,
  };
}

test("an admin creates a tier with two permissions and two lookup keys and sees their live prices; a key Stripe does not know is flagged", async ({
  browser,
}) => {
  const { page } = await asAdmin(browser);
  await page.goto("/admin/tiers");
  await page.getByRole("link", { name: "New tier" }).click();
  await expect(page).toHaveURL("/admin/tiers/new");
  await page.getByLabel("Name").fill("Team");
  await page.getByLabel("Key", { exact: true }).fill("team");
  await page.getByLabel("Description").fill("For teams of ten.");
  await page.getByLabel("User limit").fill("10");
  await page.getByLabel("Billing provider").selectOption("stripe");
  await page.getByLabel("Fallback price").fill("£49");
  await page.getByLabel("Lookup keys").fill("team_monthly\nteam_yearly");
  await page.getByLabel("export.csv").check();
  await page.getByLabel("api.access").check();
  await page.getByRole("button", { name: "Create tier" }).click();
  await expect(page).toHaveURL(/\/admin\/tiers\/team\?saved=1/);
  await expect(page.getByRole("status")).toHaveText("Saved.");
  const keys = page.getByTestId("tier-keys");
  await expect(keys.locator('[data-lookup-key="team_monthly"]')).toContainText("£49.00 / month · Team");
  await expect(keys.locator('[data-lookup-key="team_yearly"]')).toContainText("£490.00 / year · Team");
  await expect(page.getByTestId("tier-integration")).toContainText("valid");

  // A key Stripe does not know: saved, with a warning, and the tier is not valid.
  await page.getByLabel("Lookup keys").fill("team_monthly\nteam_yearly\nteam_weekly");
  await page.getByRole("button", { name: "Save tier" }).click();
  await expect(page.getByTestId("lookup-key-warning")).toContainText("team_weekly");
  await expect(keys.locator('[data-lookup-key="team_weekly"]')).toContainText("missing in Stripe");
  await expect(page.getByTestId("tier-integration")).toContainText("not valid");
  await page.goto("/admin/tiers");
  await expect(page.locator('tr[data-tier="team"] [data-integration="invalid"]')).toContainText(
    '"team_weekly": missing in Stripe',
  );

  // The change is in the audit log, with before and after.
  await page.getByRole("navigation", { name: "Admin" }).getByRole("link", { name: "Audit log" }).click();
  const entry = page.getByTestId("audit-trail").locator('li[data-entity="tier"]').first();
  await expect(entry).toContainText("admin@example.com updated tier team");
  await expect(entry).toContainText(
    'lookupKeys: ["team_monthly","team_yearly"] → ["team_monthly","team_yearly","team_weekly"]',
  );
  await page.close();
});

test("a duplicate key is refused at the field and the form keeps what was typed", async ({ browser }) => {
  const { page } = await asAdmin(browser);
  await page.goto("/admin/tiers/new");
  await page.getByLabel("Name").fill("Another Pro");
  await page.getByLabel("Key", { exact: true }).fill("pro");
  await page.getByLabel("Description").fill("Typed with care.");
  await page.getByLabel("Lookup keys").fill("another_pro_monthly");
  await page.getByLabel("team.invite").check();
  await page.getByRole("button", { name: "Create tier" }).click();
  await expect(page.getByText('A tier with key "pro" already exists.')).toBeVisible();
  await expect(page.getByLabel("Key", { exact: true })).toHaveAttribute("aria-invalid", "true");
  await expect(page.getByLabel("Name")).toHaveValue("Another Pro");
  await expect(page.getByLabel("Description")).toHaveValue("Typed with care.");
  await expect(page.getByLabel("Lookup keys")).toHaveValue("another_pro_monthly");
  await expect(page.getByLabel("team.invite")).toBeChecked();
  await page.close();
});

test("support reads tiers and permissions but gets 403 posting an edit", async ({ browser }) => {
  const { context, page } = await asSupport(browser);
  await page.goto("/admin/tiers/pro");
  await expect(page.getByRole("heading", { name: "Pro", level: 1 })).toBeVisible();
  await expect(page.getByRole("button", { name: "Save tier" })).toHaveCount(0);
  await expect(page.getByLabel("Name")).toBeDisabled();
  const response = await context.request.post("/admin/tiers/pro", {
    form: { intent: "save", name: "Hacked", key: "pro", userLimit: "1", billingProvider: "exempt" },
  });
  expect(response.status()).toBe(403);
  await page.goto("/admin/permissions");
  await expect(page.getByTestId("permissions-table")).toContainText("export.csv");
  await expect(page.getByRole("button", { name: "Create permission" })).toHaveCount(0);
  await page.goto("/admin/tiers/pro");
  await expect(page.getByLabel("Name")).toHaveValue("Pro");
  await page.close();
});

test("support finds a customer by email, opens a failed event from their page, replays it and sees it processed with two attempts", async ({
  browser,
}) => {
  // A customer who subscribed through the emulator, then an event Tierdesk cannot apply yet.
  const customerContext = await browser.newContext();
  const customer = await customerContext.newPage();
  await signUpNewCustomer(customer, "support-flow");
  const email = (await customer.getByTestId("signed-in-as").textContent())?.trim() ?? "";
  await customer.goto("/pricing");
  await customer
    .getByTestId("plan-hobbyist")
    .getByRole("button", { name: /Subscribe monthly/ })
    .click();
  await expect(customer).toHaveURL(/\/checkout\/cs_/);
  await customer.getByRole("button", { name: /Pay/ }).click();
  await expect(customer).toHaveURL(/\/billing\/success/);
  await customerContext.close();

  const { context, page } = await asSupport(browser);
  await page.goto("/admin/users");
  await page.getByLabel("Search").fill(email);
  await page.getByRole("button", { name: "Search" }).click();
  await expect(page).toHaveURL(new RegExp(`q=${encodeURIComponent(email).replace(/\./g, "\\.")}`));
  await page.getByRole("link", { name: email }).click();
  await expect(page).toHaveURL(/\/admin\/users\/\d+$/);
  await expect(page.getByTestId("tier-in-force")).toHaveText("Hobbyist");
  const customerId = (await page.locator("dd code").first().textContent())?.trim() ?? "";
  expect(customerId).toMatch(/^cus_/);

  const failed = await deliverWebhook(
    context,
    "customer.subscription.updated",
    subscriptionObject(customerId, "ops_enterprise_monthly"),
  );
  expect(failed.status).toBe(500);
  await page.reload();
  await page.getByTestId("user-events").getByRole("link", { name: failed.id }).click();
  await expect(page.getByTestId("event-status")).toHaveText("failed");
  await expect(page.getByTestId("attempts").locator("tbody tr")).toHaveCount(1);

  // An admin fixes the cause: the key now belongs to Pro.
  const { page: adminPage } = await asAdmin(browser);
  await adminPage.goto("/admin/tiers/pro");
  await adminPage.getByLabel("Lookup keys").fill("pro_monthly\npro_yearly\nops_enterprise_monthly");
  await adminPage.getByRole("button", { name: "Save tier" }).click();
  await expect(adminPage.getByRole("status")).toHaveText("Saved.");
  await adminPage.close();

  await page.getByRole("button", { name: "Replay this event" }).click();
  await expect(page.getByTestId("replay-result")).toHaveText(`Replayed ${failed.id}: processed.`);
  await page.goto(`/admin/events/${failed.id}`);
  await expect(page.getByTestId("event-status")).toHaveText("processed");
  await expect(page.getByTestId("event-attempts")).toHaveText("2");
  await expect(page.getByTestId("attempts").locator("tbody tr")).toHaveCount(2);
  // The event names the account that has the customer (the user's personal one, named after their
  // email), and leads to its page, which shows the plan the replay applied.
  await page
    .getByTestId("event-customer")
    .getByRole("link", { name: email.split("@")[0], exact: true })
    .click();
  await expect(page).toHaveURL(/\/admin\/accounts\/\d+$/);
  await expect(page.getByTestId("tier-in-force")).toHaveText("Pro");
  await page.close();
});

test("a payload containing <script> renders as text", async ({ browser }) => {
  const { context, page } = await asSupport(browser);
  let alerted = false;
  page.on("dialog", async (dialog) => {
    alerted = true;
    await dialog.dismiss();
  });
  const script = "<script>alert('xss')</script><img src=x onerror=alert(1)>";
  const { id } = await deliverWebhook(context, "customer.created", {
    id: "cus_xss",
    object: "customer",
    name: script,
    email: "x@example.com",
  });
  await page.goto(`/admin/events/${id}`);
  await expect(page.getByTestId("payload")).toContainText(script);
  await expect(page.locator("img[src=x]")).toHaveCount(0);
  expect(alerted).toBe(false);
  await page.close();
});

test("support cannot change a role (403); an admin can", async ({ browser }) => {
  const { context, page } = await asSupport(browser);
  await page.goto("/admin/users?q=customer%40example.com");
  await page.getByRole("link", { name: "customer@example.com" }).click();
  await expect(page).toHaveURL(/\/admin\/users\/\d+$/);
  await expect(page.getByRole("button", { name: "Change role" })).toHaveCount(0);
  const userPath = new URL(page.url()).pathname;
  const refused = await context.request.post(userPath, { form: { intent: "role", role: "admin" } });
  expect(refused.status()).toBe(403);
  await page.close();

  const { page: adminPage } = await asAdmin(browser);
  await adminPage.goto(userPath);
  await expect(adminPage.getByTestId("user-role")).toHaveText("customer");
  await adminPage.getByLabel("Role", { exact: true }).selectOption("support");
  await adminPage.getByRole("button", { name: "Change role" }).click();
  await expect(adminPage.getByRole("status")).toContainText("Role changed to support");
  await expect(adminPage.getByTestId("user-role")).toHaveText("support");
  await adminPage.getByLabel("Role", { exact: true }).selectOption("customer");
  await adminPage.getByRole("button", { name: "Change role" }).click();
  await expect(adminPage.getByTestId("user-role")).toHaveText("customer");
  await adminPage.close();
});

test("a tier's form shows only its provider's field, and switching provider swaps them without losing what was typed", async ({
  browser,
}) => {
  const { page } = await asAdmin(browser);
  await page.goto("/admin/tiers/pro");
  await expect(page.getByLabel("Lookup keys")).toBeVisible();
  await expect(page.getByLabel("Whop product key")).toBeHidden();
  await page.goto("/admin/tiers/new");
  await page.getByLabel("Billing provider").selectOption("stripe");
  await page.getByLabel("Lookup keys").fill("typed_monthly");
  await page.getByLabel("Billing provider").selectOption("whop");
  await expect(page.getByLabel("Whop product key")).toBeVisible();
  await expect(page.getByLabel("Lookup keys")).toBeHidden();
  await page.getByLabel("Billing provider").selectOption("stripe");
  await expect(page.getByLabel("Lookup keys")).toHaveValue("typed_monthly");
  await page.close();
});

test("support's 403 page leads back to the admin overview", async ({ browser }) => {
  const { page } = await asSupport(browser);
  const response = await page.goto("/admin/tiers/new");
  expect(response?.status()).toBe(403);
  await page.getByRole("link", { name: "Back to the admin overview" }).click();
  await expect(page).toHaveURL(/\/admin$/);
  await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
  await page.close();
});

test("at 1,280 px the events table's Replay button stays on one line, and a replay lands on the event's page", async ({
  browser,
}) => {
  const { context, page } = await asSupport(browser);
  await page.setViewportSize({ width: 1280, height: 900 });
  const failed = await deliverWebhook(
    context,
    "customer.subscription.updated",
    subscriptionObject("cus_ops_unknown_layout", "ops_layout_monthly"),
  );
  expect(failed.status).toBe(500);
  await page.goto("/admin/events?status=failed");
  const replay = page.getByRole("button", { name: `Replay ${failed.id}` });
  const box = (await replay.boundingBox())!;
  const lineHeight = await replay.evaluate((button) => parseFloat(getComputedStyle(button).lineHeight) || 20);
  const padding = await replay.evaluate(
    (button) => parseFloat(getComputedStyle(button).paddingTop) + parseFloat(getComputedStyle(button).paddingBottom),
  );
  expect(box.height, "one line of text").toBeLessThan(padding + lineHeight * 1.5 + 4);
  // The table fits the page: nothing scrolls sideways.
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(1280);
  await replay.click();
  await expect(page).toHaveURL(new RegExp(`/admin/events/${failed.id}\\?`));
  await expect(page.getByTestId("event-attempts")).toHaveText("2");
  await page.close();
});
