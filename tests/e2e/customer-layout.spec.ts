// Every page fits a 360 px and a 390 px phone without sideways scrolling (tables scroll in their own
// box or become cards, the admin navigation wraps), and at 1,280 px the events table fits too.
import { expect, type Page, test } from "@playwright/test";
import Stripe from "stripe";
import { expectNoSidewaysScroll } from "./customer-helpers.ts";
import { signIn } from "./helpers.ts";

const WEBHOOK_SECRET = "whsec_e2e_suite"; // playwright.config.ts starts the app with this secret

const CUSTOMER_PAGES = ["/", "/pricing", "/account", "/account/password", "/billing/success", "/nope"];
const ANONYMOUS_PAGES = [
  "/",
  "/pricing",
  "/login",
  "/signup",
  "/forgot-password",
  "/reset-password/not-a-live-token",
  "/dev/mail",
  "/nope",
];
const ADMIN_PAGES = [
  "/admin",
  "/admin/tiers",
  "/admin/tiers/new",
  "/admin/tiers/pro",
  "/admin/permissions",
  "/admin/api",
  "/admin/audit",
  "/admin/users",
  "/admin/accounts",
  "/admin/events",
  "/admin/nope",
];

/** One stored event with a long id and type (a signed webhook), so the events pages have rows to lay out. */
async function storedEventId(page: Page) {
  const id = `evt_layout_${Date.now()}_with_a_rather_long_identifier`;
  const payload = JSON.stringify({
    id,
    object: "event",
    type: "customer.subscription.trial_will_end",
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    api_version: "2025-01-27.acacia",
    data: {
      object: { id: "sub_layout_with_a_long_id", object: "subscription", customer: "cus_layout_long_customer_id" },
    },
  });
  const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET });
  const response = await page.request.post("/api/stripe/webhook", {
    data: payload,
    headers: { "Content-Type": "application/json", "Stripe-Signature": signature },
  });
  expect(response.status(), await response.text()).toBe(200);
  return id;
}

async function customerUserId(page: Page) {
  await page.goto("/admin/users");
  const href = await page.getByRole("link", { name: "customer@example.com", exact: true }).getAttribute("href");
  return href?.split("/").pop() ?? "";
}

for (const width of [360, 390]) {
  test.describe(`${width} px wide`, () => {
    test.use({ viewport: { width, height: 800 }, isMobile: true, hasTouch: true });

    test("anonymous and customer pages fit", async ({ page }) => {
      for (const path of ANONYMOUS_PAGES) {
        await page.goto(path);
        await expectNoSidewaysScroll(page);
      }
      await signIn(page, "customer@example.com", "customer-demo-password");
      await expect(page).toHaveURL("/account");
      for (const path of CUSTOMER_PAGES) {
        await page.goto(path);
        await expectNoSidewaysScroll(page);
      }
    });

    test("admin pages fit, with their navigation wrapped", async ({ page }) => {
      const eventId = await storedEventId(page);
      await signIn(page, "admin@example.com", "admin-demo-password");
      await expect(page).toHaveURL("/admin");
      const userId = await customerUserId(page);
      for (const path of [...ADMIN_PAGES, `/admin/users/${userId}`, `/admin/events/${eventId}`]) {
        await page.goto(path);
        await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
        await expectNoSidewaysScroll(page);
      }
      // The navigation is a wrapping row above the page, every link on screen.
      await page.goto("/admin");
      for (const link of await page.getByRole("navigation", { name: "Admin" }).getByRole("link").all()) {
        const box = await link.boundingBox();
        expect(box && box.x >= 0 && box.x + box.width <= width).toBe(true);
      }
    });
  });
}

test("at 1,280 px the events table fits without scrolling sideways", async ({ page }) => {
  await storedEventId(page);
  await page.setViewportSize({ width: 1280, height: 800 });
  await signIn(page, "support@example.com", "support-demo-password");
  await expect(page).toHaveURL("/admin");
  await page.goto("/admin/events");
  const table = page.getByTestId("events-table");
  await expect(table.locator("tbody tr").first()).toBeVisible();
  const fits = await table.evaluate((element) => {
    const box = element.parentElement ?? element;
    return { table: element.scrollWidth, box: box.clientWidth };
  });
  expect(fits.table).toBeLessThanOrEqual(fits.box);
  await expectNoSidewaysScroll(page);
});
