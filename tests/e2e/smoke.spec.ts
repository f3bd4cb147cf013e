// Smoke test: every page, opened in a real browser as every role, must render, hydrate and stay
// quiet: no uncaught exception, no console error, no error boundary. Roles that may not see a page
// get the expected answer instead (anonymous: sent to sign in; signed in: 403 or sent home).
//
// A new page is one line in PAGES below; the "every page route is listed" test fails until it is.
import fs from "node:fs";
import path from "node:path";
import { expect, test, type Browser, type BrowserContext, type ConsoleMessage, type Page } from "@playwright/test";
import Stripe from "stripe";
import { expectNoSidewaysScroll } from "./customer-helpers.ts";
import { DEMO_INVITATION_TOKEN } from "../../prisma/seed.ts";
import { submitSignIn } from "./helpers.ts";

type Role = "anonymous" | "customer" | "support" | "admin";
type SignedInRole = Exclude<Role, "anonymous">;

const ROLES: readonly Role[] = ["anonymous", "customer", "support", "admin"];
const ALL: readonly Role[] = ROLES;
const SIGNED_IN: readonly SignedInRole[] = ["customer", "support", "admin"];
const STAFF: readonly SignedInRole[] = ["support", "admin"];

const DEMO_USERS: Record<SignedInRole, { email: string; password: string; home: string; heading: string }> = {
  customer: {
    email: "customer@example.com",
    password: "customer-demo-password",
    home: "/account",
    heading: "Your account",
  },
  support: { email: "support@example.com", password: "support-demo-password", home: "/admin", heading: "Overview" },
  admin: { email: "admin@example.com", password: "admin-demo-password", home: "/admin", heading: "Overview" },
};

/** Values of the `:name` placeholders in a row's path, from PARAMS. */
type Params = Record<string, string>;

type PageRow = {
  /** The URL; `:name` segments are filled from PARAMS (real rows in the test database). */
  path: string;
  /** Roles that may see the page. Others: anonymous → /login?next=…, signed in → 403 (or `signedIn`). */
  roles: readonly Role[];
  /** The page's h1 (a function when it depends on the params). */
  heading: string | RegExp | ((params: Params) => string);
  /** Where an allowed visit ends up, when the page redirects (e.g. "/account"). */
  lands?: string;
  /** The document's HTTP status for an allowed visit (200 unless said). */
  status?: number;
  /** What a signed-in role not in `roles` gets: 403 (default) or a redirect to their home page. */
  signedIn?: "forbidden" | "home";
  /** The h1 of that 403 when the page says more than "403 Forbidden" (an invitation for another email). */
  forbiddenHeading?: string;
  /** Marks every role's test of this row `test.fixme` with this reason (a known bug tracked elsewhere).
   *  SMOKE_FIXME=1 runs them anyway, to see whether they are fixed. */
  fixme?: string;
};

// Page routes are app/routes/*.tsx with a default export (app/routes/logout.tsx has none: it is a
// resource route, like the .ts ones). A new page is one more line, e.g.
//   { path: "/admin/things/:thingId", roles: STAFF, heading: "A thing" },
// with `thingId` added to PARAMS below when the page needs a real id.
/** The webhook endpoint the smoke test registers (never reached: it hears only account.created). */
const SMOKE_ENDPOINT_URL = "https://example.com/smoke-hooks";

const PAGES: readonly PageRow[] = [
  { path: "/", roles: ALL, heading: "Subscription tiers, run on Stripe." },
  { path: "/pricing", roles: ALL, heading: "Plans and pricing" },
  { path: "/login", roles: ["anonymous"], signedIn: "home", heading: "Sign in" },
  { path: "/signup", roles: ["anonymous"], signedIn: "home", heading: "Create an account" },
  { path: "/forgot-password", roles: ["anonymous"], signedIn: "home", heading: "Forgot your password?" },
  // A live link (mailed to the development outbox, never used) and one that is not.
  { path: "/reset-password/:resetToken", roles: ALL, heading: "Choose a new password" },
  { path: "/reset-password/not-a-live-token", roles: ALL, heading: "This link has expired or was already used" },
  { path: "/dev/mail", roles: ALL, heading: "Outbox" },
  { path: "/account", roles: SIGNED_IN, heading: "Your account" },
  { path: "/account/password", roles: SIGNED_IN, heading: "Change password" },
  { path: "/account/members", roles: SIGNED_IN, heading: "Members" },
  // Acme Studio's seeded invitation (to newhire@example.com): signed out, the way to sign in or up; signed
  // in as anyone else, a 403 saying whom it is for. And a link that is no invitation.
  {
    path: "/invitations/:demoInvitationToken",
    roles: ["anonymous"],
    heading: "Join Acme Studio",
    forbiddenHeading: "This invitation is for someone else",
  },
  { path: "/invitations/not-a-live-token", roles: ALL, status: 404, heading: "This invitation link is not valid" },
  { path: "/billing/success", roles: SIGNED_IN, lands: "/account", heading: "Your account" },
  { path: "/admin", roles: STAFF, heading: "Overview" },
  { path: "/admin/events", roles: STAFF, heading: "Stripe events" },
  { path: "/admin/events?status=failed", roles: STAFF, heading: "Stripe events" },
  { path: "/admin/events/:ignoredEventId", roles: STAFF, heading: (p) => p.ignoredEventId ?? "(no event)" },
  { path: "/admin/events/:failedEventId", roles: STAFF, heading: (p) => p.failedEventId ?? "(no event)" },
  { path: "/admin/events/evt_not_stored", roles: STAFF, status: 404, heading: "404 Not found" },
  { path: "/admin/events/replays/:replayJobId", roles: STAFF, heading: (p) => `Bulk replay #${p.replayJobId}` },
  { path: "/admin/reconcile", roles: STAFF, heading: "Reconciliation" },
  { path: "/admin/tiers", roles: STAFF, heading: "Tiers" },
  { path: "/admin/tiers/new", roles: ["admin"], heading: "New tier" },
  { path: "/admin/tiers/:tierKey", roles: STAFF, heading: "Pro" },
  // The change-price form (admins; support sees the page without it) and the legacy-subscriber preview.
  { path: "/admin/tiers/:tierKey?reprice=pro_monthly", roles: STAFF, heading: "Pro" },
  { path: "/admin/tiers/:tierKey?move=pro_monthly", roles: STAFF, heading: "Pro" },
  // A run's progress page: a real run is opened by admin-reprice.spec.ts (it needs legacy subscribers); here, one that does not exist.
  {
    path: "/admin/tiers/:tierKey/price-moves/:missingPriceMoveId",
    roles: STAFF,
    status: 404,
    heading: "404 Not found",
  },
  { path: "/admin/permissions", roles: STAFF, heading: "Permissions" },
  { path: "/admin/api-keys", roles: STAFF, heading: "API keys" },
  { path: "/admin/api", roles: ["admin"], heading: "API reference" },
  { path: "/admin/audit", roles: STAFF, heading: "Audit log" },
  { path: "/admin/users", roles: STAFF, heading: "Users" },
  { path: "/admin/users/:customerUserId", roles: STAFF, heading: DEMO_USERS.customer.email },
  { path: "/admin/accounts", roles: STAFF, heading: "Accounts" },
  { path: "/admin/accounts?q=acme&overLimit=1", roles: STAFF, heading: "Accounts" },
  { path: "/admin/accounts/:teamAccountId", roles: STAFF, heading: "Acme Studio" },
  { path: "/admin/webhooks", roles: STAFF, heading: "Webhooks" },
  { path: "/admin/webhooks/:webhookEndpointId", roles: STAFF, heading: SMOKE_ENDPOINT_URL },
  // Unknown URLs are answered by the catch-all route (app/routes/$.tsx), "/*" itself included: a 404
  // inside the site, hydrating cleanly, also under an existing route's path.
  { path: "/*", roles: ALL, status: 404, heading: "404 Not found" },
  { path: "/no-such-page", roles: ALL, status: 404, heading: "404 Not found" },
  { path: "/account/no-such-page", roles: ALL, status: 404, heading: "404 Not found" },
  { path: "/admin/no-such-page", roles: ALL, status: 404, heading: "404 Not found" },
];

/** How to find a real value for each `:name` used in PAGES; each is looked up once per worker. */
const PARAMS: Record<string, (browser: Browser) => Promise<string>> = {
  ignoredEventId: async (browser) => (await storedEvents(browser)).ignored,
  failedEventId: async (browser) => (await storedEvents(browser)).failed,
  replayJobId: async (browser) => bulkReplayOf(browser, (await storedEvents(browser)).failed),
  tierKey: async () => "pro", // seeded by prisma/seed.ts
  missingPriceMoveId: async () => "999999",
  customerUserId: (browser) => userIdOf(browser, DEMO_USERS.customer.email),
  teamAccountId: (browser) => teamAccountIdOf(browser),
  resetToken: (browser) => mailedResetToken(browser, DEMO_USERS.support.email),
  demoInvitationToken: async () => DEMO_INVITATION_TOKEN,
  webhookEndpointId: (browser) => webhookEndpointIdOf(browser),
};

// ---------------------------------------------------------------------------------------------
// Setup: one signed-in storage state per role, and two stored Stripe events (via signed webhooks).

const WEBHOOK_SECRET = "whsec_e2e_suite"; // playwright.config.ts starts the app with this secret

const storageStates: Partial<Record<SignedInRole, Awaited<ReturnType<BrowserContext["storageState"]>>>> = {};

async function signedInState(browser: Browser, role: SignedInRole) {
  const user = DEMO_USERS[role];
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto("/login");
  await submitSignIn(page, user.email, user.password);
  await expect(page).toHaveURL(user.home);
  const state = await context.storageState();
  await context.close();
  return state;
}

/** Makes the app receive one signed Stripe webhook, as Stripe (or the emulator) would send it. */
async function deliverWebhook(context: BrowserContext, type: string, object: Record<string, unknown>) {
  const id = `evt_smoke_${type.replace(/\W/g, "_")}_${Date.now()}`;
  const payload = JSON.stringify({
    id,
    object: "event",
    type,
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    api_version: "2025-01-27.acacia",
    data: { object },
  });
  const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET });
  const response = await context.request.post("/api/stripe/webhook", {
    data: payload,
    headers: { "Content-Type": "application/json", "Stripe-Signature": signature },
  });
  return { id, status: response.status(), body: await response.text() };
}

/** The id of the newest listed event with this status, read from the admin's event list. */
async function newestEventId(page: Page, status: string) {
  await page.goto(`/admin/events?status=${status}`);
  await waitForHydration(page);
  const link = page.getByTestId("events-table").locator(`tr[data-status="${status}"] td:first-child a`).first();
  await expect(link).toBeVisible();
  return (await link.textContent({ timeout: 5_000 }))!.trim();
}

test.beforeAll(async ({ browser }) => {
  for (const role of SIGNED_IN) storageStates[role] = await signedInState(browser, role);
});

let events: Promise<{ ignored: string; failed: string }> | undefined;

/**
 * Two stored events, made once per worker when a test first needs them (so a broken webhook fails
 * only the pages that show an event): the app receives signed webhooks, and the ids are read back
 * from the admin's event list.
 */
function storedEvents(browser: Browser) {
  return (events ??= (async () => {
    const context = await browser.newContext({ storageState: storageStates.admin });
    try {
      // An event Tierdesk does not act on: stored as "ignored".
      const ignored = await deliverWebhook(context, "customer.created", { id: "cus_smoke", object: "customer" });
      expect(ignored.status, `webhook ${ignored.id}: ${ignored.body}`).toBe(200);
      // A checkout naming no Tierdesk user: stored as "failed" (500, so Stripe would retry), replayable.
      const failed = await deliverWebhook(context, "checkout.session.completed", {
        id: "cs_smoke_no_user",
        object: "checkout.session",
        mode: "subscription",
        client_reference_id: null,
        metadata: {},
      });
      expect(failed.status, `webhook ${failed.id}: ${failed.body}`).toBe(500);
      const page = await context.newPage();
      const found = { ignored: await newestEventId(page, "ignored"), failed: await newestEventId(page, "failed") };
      expect(found).toEqual({ ignored: ignored.id, failed: failed.id });
      return found;
    } finally {
      await context.close();
    }
  })());
}

/** The id of a finished bulk replay of one failed event, started from the events page. */
async function bulkReplayOf(browser: Browser, eventId: string) {
  const context = await browser.newContext({ storageState: storageStates.admin });
  try {
    const page = await context.newPage();
    await page.goto(`/admin/events?${new URLSearchParams({ status: "failed", q: eventId, replayAll: "1" })}`);
    await waitForHydration(page);
    await page.getByRole("button", { name: /^Replay 1 events?$/ }).click();
    await expect(page).toHaveURL(/\/admin\/events\/replays\/\d+$/);
    const jobId = new URL(page.url()).pathname.split("/").pop()!;
    // While it runs, the job's page refreshes itself every 2 s: wait for the end, so tests see it still.
    await expect
      .poll(async () => (await context.request.get(`/admin/events/replays/${jobId}`)).text(), { timeout: 20_000 })
      .not.toContain('data-status="running"');
    return jobId;
  } finally {
    await context.close();
  }
}

/** A user's id, read from the link to them on the admin's user list. */
async function userIdOf(browser: Browser, email: string) {
  const context = await browser.newContext({ storageState: storageStates.admin });
  try {
    const page = await context.newPage();
    await page.goto("/admin/users");
    await waitForHydration(page);
    const link = page.getByRole("link", { name: email, exact: true });
    const href = await link.getAttribute("href", { timeout: 5_000 });
    const id = href?.match(/^\/admin\/users\/(\d+)$/)?.[1];
    if (!id) throw new Error(`No link to ${email} on /admin/users (href: ${href})`);
    return id;
  } finally {
    await context.close();
  }
}

/** The demo team's account id (prisma/seed.ts), read from the link to it on the admin's account list. */
async function teamAccountIdOf(browser: Browser) {
  const context = await browser.newContext({ storageState: storageStates.admin });
  try {
    const page = await context.newPage();
    await page.goto("/admin/accounts?q=acme-studio");
    await waitForHydration(page);
    const href = await page.getByRole("link", { name: "Acme Studio", exact: true }).getAttribute("href");
    const id = href?.match(/^\/admin\/accounts\/(\d+)$/)?.[1];
    if (!id) throw new Error(`No link to Acme Studio on /admin/accounts (href: ${href})`);
    return id;
  } finally {
    await context.close();
  }
}

/** An endpoint registered by the admin on /admin/webhooks (its id, from the link to its log). */
async function webhookEndpointIdOf(browser: Browser) {
  const context = await browser.newContext({ storageState: storageStates.admin });
  try {
    const page = await context.newPage();
    await page.goto("/admin/webhooks");
    await waitForHydration(page);
    await page.getByLabel("Endpoint URL").fill(SMOKE_ENDPOINT_URL);
    // One event that the smoke pages do not cause: nothing is sent to the (unreachable) URL.
    for (const type of ["account.entitlements.updated", "account.seats.updated"]) {
      await page.getByRole("checkbox", { name: new RegExp(type.replace(/\./g, "\\.")) }).uncheck();
    }
    await page.getByRole("button", { name: "Add endpoint" }).click();
    const href = await page.getByRole("link", { name: "Open its delivery log" }).getAttribute("href");
    const id = href?.match(/^\/admin\/webhooks\/(\d+)$/)?.[1];
    if (!id) throw new Error(`No link to the new endpoint on /admin/webhooks (href: ${href})`);
    return id;
  } finally {
    await context.close();
  }
}

/**
 * The token of a reset link mailed to `email`: asked for on /forgot-password, read from the
 * development outbox (/dev/mail; the e2e server runs without SMTP_URL in development).
 */
async function mailedResetToken(browser: Browser, email: string) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto("/forgot-password");
    await waitForHydration(page);
    await page.getByLabel("Email").fill(email);
    await page.getByRole("button", { name: "Send the link" }).click();
    await expect(page.getByTestId("reset-answer")).toBeVisible();
    await page.goto("/dev/mail");
    const message = page.getByTestId("outbox-message").filter({ hasText: email }).first();
    const href = await message.getByRole("link", { name: /\/reset-password\// }).getAttribute("href");
    const token = href?.match(/\/reset-password\/([A-Za-z0-9_-]{43})$/)?.[1];
    if (!token) throw new Error(`No reset link to ${email} on /dev/mail (href: ${href})`);
    return token;
  } finally {
    await context.close();
  }
}

const paramCache = new Map<string, Promise<string>>();

/** The row's URL with its `:name` placeholders filled, and the values used. */
async function resolve(template: string, browser: Browser): Promise<{ url: string; params: Params }> {
  const params: Params = {};
  for (const [, name] of template.matchAll(/:(\w+)/g)) {
    const find = PARAMS[name!];
    if (!find) throw new Error(`PARAMS has no :${name} (used by ${template})`);
    if (!paramCache.has(name!)) paramCache.set(name!, find(browser));
    params[name!] = await paramCache.get(name!)!;
  }
  return { url: template.replace(/:(\w+)/g, (_, name: string) => params[name]!), params };
}

// ---------------------------------------------------------------------------------------------
// Visiting a page and watching it.

type Visit = { page: Page; status: number | undefined; problems: () => string[] };

/**
 * Opens `url` in a fresh context for `role` and waits until React has hydrated it.
 * `expectedStatus` (e.g. 403) lets exactly Chromium's "Failed to load resource" line for that
 * document through; every other console error and uncaught exception is a problem.
 */
async function visit(
  browser: Browser,
  role: Role,
  url: string,
  expectedStatus = 200,
  viewport?: { width: number; height: number },
): Promise<Visit> {
  const context = await browser.newContext({
    ...(role === "anonymous" ? {} : { storageState: storageStates[role] }),
    ...(viewport ? { viewport } : {}),
  });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(`pageerror: ${error.stack ?? error.message}`));
  const expectedDocumentError = (message: ConsoleMessage) =>
    expectedStatus >= 400 &&
    message.location().url === page.url() &&
    new RegExp(`^Failed to load resource: the server responded with a status of ${expectedStatus} \\(`).test(
      message.text(),
    );
  page.on("console", (message) => {
    if (message.type() === "error" && !expectedDocumentError(message)) {
      problems.push(`console.error: ${message.text()} (${message.location().url})`);
    }
  });
  const response = await page.goto(url);
  await waitForHydration(page).catch((error: Error) => problems.push(`not hydrated: ${error.message}`));
  return { page, status: response?.status(), problems: () => problems };
}

/**
 * Waits until React has hydrated the page: Remix's router exists and <ScrollRestoration>'s effect
 * has set history.scrollRestoration (effects run only once hydration has committed); then until
 * the network is idle, so late requests (route modules, revalidations) have had their say.
 */
async function waitForHydration(page: Page) {
  await page.waitForFunction(() => document.readyState === "complete", undefined, { timeout: 10_000 });
  await page.waitForFunction(
    () => "__remixRouter" in window && window.history.scrollRestoration === "manual",
    undefined,
    { timeout: 10_000 },
  );
  await page.waitForLoadState("networkidle");
}

// ---------------------------------------------------------------------------------------------
// The tests: one per page and role.

for (const row of PAGES) {
  for (const role of ROLES) {
    const allowed = row.roles.includes(role);
    const outcome = allowed
      ? "renders"
      : role === "anonymous"
        ? "is sent to sign in"
        : row.signedIn === "home"
          ? "is sent home"
          : "gets 403";
    test(`${row.path} as ${role} ${outcome}`, async ({ browser }) => {
      test.fixme(Boolean(row.fixme) && !process.env.SMOKE_FIXME, row.fixme);
      const { url, params } = await resolve(row.path, browser);

      // What this role should get: the final URL, the document's status, its h1, an error panel or not.
      let expected: { url: string; status: number; heading: string | RegExp; errorPanel: boolean };
      if (allowed) {
        const status = row.status ?? 200;
        const heading = typeof row.heading === "function" ? row.heading(params) : row.heading;
        expected = { url: row.lands ?? url, status, heading, errorPanel: status >= 400 };
      } else if (role === "anonymous") {
        expected = {
          url: `/login?${new URLSearchParams({ next: url })}`,
          status: 200,
          heading: "Sign in",
          errorPanel: false,
        };
      } else if (row.signedIn === "home") {
        const home = DEMO_USERS[role];
        expected = { url: home.home, status: 200, heading: home.heading, errorPanel: false };
      } else {
        expected = { url, status: 403, heading: row.forbiddenHeading ?? "403 Forbidden", errorPanel: true };
      }

      const { page, status, problems } = await visit(browser, role, url, expected.status);
      try {
        expect(problems(), `errors in the browser on ${url}`).toEqual([]);
        await expect(page.getByText("Something went wrong")).toHaveCount(0);
        // An expected 403/404 is answered inside the app, by the ErrorPanel of app/root.tsx.
        await expect(page.locator(".error-panel")).toHaveCount(expected.errorPanel ? 1 : 0);
        expect(status, `HTTP status of ${url}`).toBe(expected.status);
        await expect(page).toHaveURL(expected.url);
        await expect(page.getByRole("heading", { level: 1, name: expected.heading })).toBeVisible();
      } finally {
        await page.context().close();
      }
    });
  }
}

// ---------------------------------------------------------------------------------------------
// The events list works once hydrated: filtering navigates on the client and replay posts.

test("/admin/events as support: filter by status and replay a failed event with JavaScript", async ({ browser }) => {
  const { failed } = await storedEvents(browser);
  const { page, problems } = await visit(browser, "support", "/admin/events");
  try {
    expect(problems(), "errors in the browser on /admin/events").toEqual([]);
    await page.getByLabel("Status").selectOption("failed");
    await page.getByRole("button", { name: "Filter" }).click();
    await expect(page).toHaveURL(/\/admin\/events\?status=failed/);
    const table = page.getByTestId("events-table");
    await expect(table.locator("tbody tr").first()).toHaveAttribute("data-status", "failed");
    const row = table.locator("tr", { has: page.getByRole("link", { name: failed, exact: true }) });
    await row.getByRole("button", { name: "Replay" }).click();
    // The checkout still names no user, so the replay fails again and says why, on the event's own page,
    // whose way back is the filtered list.
    await expect(page).toHaveURL(new RegExp(`/admin/events/${failed}\\?`));
    await expect(page.getByRole("alert")).toContainText(`Replaying ${failed} failed`);
    await expect(page.getByRole("link", { name: "← All events" })).toHaveAttribute("href", /status=failed/);
    await expect(page.locator(".error-panel")).toHaveCount(0);
    expect(problems(), "errors in the browser after filtering and replaying").toEqual([]);
  } finally {
    await page.context().close();
  }
});

// ---------------------------------------------------------------------------------------------
// The accounts console on a 360 px phone: rows become cards, nothing scrolls sideways, and a search
// finds the demo team by its owner's email (three members of the Partner tier's 25 seats).

test("/admin/accounts and an account's page at 360 px as support", async ({ browser }) => {
  const context = await browser.newContext({
    storageState: storageStates.support,
    viewport: { width: 360, height: 800 },
    isMobile: true,
    hasTouch: true,
  });
  const page = await context.newPage();
  try {
    await page.goto("/admin/accounts");
    await waitForHydration(page);
    await expectNoSidewaysScroll(page);
    await page.getByLabel("Search").fill("customer@example.com");
    await page.getByRole("button", { name: "Search" }).click();
    await expect(page).toHaveURL(/\/admin\/accounts\?q=customer%40example\.com/);
    const team = page.getByTestId("accounts-table").locator('tr[data-account="acme-studio"]');
    await expect(team).toHaveAttribute("data-over-limit", "false");
    await expect(team).toContainText("3 / 25");
    await expectNoSidewaysScroll(page);
    await team.getByRole("link", { name: "Acme Studio" }).click();
    await expect(page.getByRole("heading", { level: 1, name: "Acme Studio" })).toBeVisible();
    await expect(page.getByTestId("seats-used")).toHaveText("3 / 25");
    await expect(page.getByTestId("account-members").getByRole("link")).toHaveCount(3);
    await expectNoSidewaysScroll(page);
  } finally {
    await context.close();
  }
});
// The API pages, the members page and an invitation at 360 px: whoever may see them, nothing wider than the phone.

for (const [role, url] of [
  ["support", "/admin/api-keys"],
  ["admin", "/admin/api-keys"],
  ["admin", "/admin/api"],
  ["customer", "/account/members"],
  ["support", "/account/members"],
  ["admin", "/account/members"],
  ["anonymous", `/invitations/${DEMO_INVITATION_TOKEN}`],
] as const) {
  test(`${url.replace(DEMO_INVITATION_TOKEN, ":token")} as ${role} at 360 px fits the screen`, async ({ browser }) => {
    const { page, status, problems } = await visit(browser, role, url, 200, { width: 360, height: 800 });
    try {
      expect(status).toBe(200);
      expect(problems(), `errors in the browser on ${url}`).toEqual([]);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
      expect(overflow, "no horizontal scroll at 360 px").toBe(false);
    } finally {
      await page.context().close();
    }
  });
}

// The webhook pages at 360 px, as support and admin: nothing wider than the phone.
for (const role of ["support", "admin"] as const) {
  for (const template of ["/admin/webhooks", "/admin/webhooks/:webhookEndpointId"]) {
    test(`${template} as ${role} at 360 px fits the screen`, async ({ browser }) => {
      const { url } = await resolve(template, browser);
      const { page, status, problems } = await visit(browser, role, url, 200, { width: 360, height: 800 });
      try {
        expect(status).toBe(200);
        expect(problems(), `errors in the browser on ${url}`).toEqual([]);
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
        expect(overflow, "no horizontal scroll at 360 px").toBe(false);
      } finally {
        await page.context().close();
      }
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Every page route in app/routes is in PAGES.

/** The URL pattern of a flat-routes file name, e.g. "admin.events.$eventId" → "/admin/events/:eventId". */
function routePattern(fileBase: string) {
  const segments = fileBase
    .split(".")
    .filter((segment) => segment !== "_index" && !segment.startsWith("_")) // index routes, pathless layouts
    .map((segment) => segment.replace(/_$/, "")) // "admin_.x": a URL segment outside the layout
    .map((segment) => (segment.startsWith("$") ? (segment === "$" ? "*" : `:${segment.slice(1)}`) : segment));
  return `/${segments.join("/")}`;
}

test("every page route in app/routes has a row in PAGES", () => {
  const dir = path.resolve("app/routes");
  // A route is a file (admin.events._index.tsx) or a folder with a route file (admin.tiers/route.tsx).
  const routes = new Map<string, string>();
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.isFile() && entry.name.endsWith(".tsx") && !entry.name.includes(".test.")) {
      routes.set(entry.name.replace(/\.tsx$/, ""), path.join(dir, entry.name));
    } else if (entry.isDirectory() && fs.existsSync(path.join(dir, entry.name, "route.tsx"))) {
      routes.set(entry.name, path.join(dir, entry.name, "route.tsx"));
    }
  }
  const bases = [...routes.keys()];
  const pages = bases
    .filter((base) => /^export default\b/m.test(fs.readFileSync(routes.get(base)!, "utf8")))
    // A layout (admin.tsx) is not a page of its own when it has an index route (admin._index.tsx).
    .filter((base) => !bases.includes(`${base}._index`))
    .map(routePattern);
  // Rows name real values for params (:ignoredEventId): compare shapes, any param matching any.
  const shape = (pattern: string) => pattern.split("?")[0]!.replace(/\/:\w+/g, "/:param");
  const listed = new Set(PAGES.map((row) => shape(row.path)));
  expect(pages.map(shape).filter((page) => !listed.has(page))).toEqual([]);
});
