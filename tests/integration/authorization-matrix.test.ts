// Who may do what, on the real server: the production build served by server/app.ts (createRequestListener) on
// this file's database, every route file in app/routes × anonymous, customer, support and admin ×
// the methods the route accepts, as a browser sends them (document requests) and as Remix's client
// does (`?_data=` and `?index`). The policy:
//   anonymous → /login for pages that need sign-in, 401 JSON for APIs;
//   customer  → 403 on /admin/**;
//   support   → reads /admin/**, 403 on admin-only writes (tiers, permissions, users' roles and tiers),
//               but may sync a user or an account from Stripe and replay events;
//   admin     → everything.
// A route file missing from MATRIX fails the test: a new route must say who may use it.
import fs from "node:fs";
import type { Server } from "node:http";
import path from "node:path";
import type { ServerBuild } from "@remix-run/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig, useConfig } from "../../app/utils/config.server.ts";
import { startProductionServer } from "../production-server.ts";
import { testDb } from "../setup/database.ts";
import { useStripeEmulator } from "../stripe-harness.ts";
import { chooseSessionAccount } from "../../app/models/account.server.ts";
import { sessionIdFrom } from "../../app/web/session.server.ts";
import { getRequest, seedDemoData, sessionCookieFor } from "../utils.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const ROLES = ["anonymous", "customer", "support", "admin"] as const;
type Role = (typeof ROLES)[number];
const EMAILS: Record<Exclude<Role, "anonymous">, string> = {
  customer: "customer@example.com",
  support: "support@example.com",
  admin: "admin@example.com",
};

/**
 * What a request gets: a status, "login" (sent to /login?next=…), or "→/path" (a redirect there; a
 * trailing "…" matches any rest). Document requests see redirects as 302/303 with Location; `?_data=`
 * requests as 204 with X-Remix-Redirect, which Remix's client follows.
 */
type Outcome = number | "login" | `→${string}`;
type ByRole = readonly [anonymous: Outcome, customer: Outcome, support: Outcome, admin: Outcome];
type Check = {
  /** PUT and DELETE: /api/v1's writes (their action answers every method but its own with 405). */
  method: "GET" | "POST" | "PUT" | "DELETE";
  query?: string;
  /** Form fields; "{n}" becomes a number unique to the request. */
  body?: Record<string, string>;
  expect: ByRole;
  /** When `?_data=` differs: only the action runs then, while a document post also renders the page. */
  expectData?: ByRole;
  why?: string;
};
type RouteEntry = { path: string; checks: Check[] };

const all = (outcome: Outcome): ByRole => [outcome, outcome, outcome, outcome];
const SIGNED_IN: ByRole = ["login", 200, 200, 200];
const STAFF_READ: ByRole = ["login", 403, 200, 200];
const ADMIN_ONLY_READ: ByRole = ["login", 403, 403, 200];
/** An admin-only write with an invalid form: admins get the form's 400, everyone else never gets that far. */
const ADMIN_ONLY_WRITE: ByRole = ["login", 403, 403, 400];

// Ids of rows made in beforeAll, for the routes with parameters.
const ids = { customerId: 0, eventId: "evt_matrix_processed", jobId: 0, accountId: 0, endpointId: 0, moveId: 0 };

const MATRIX: Record<string, RouteEntry> = {
  "routes/$": {
    path: "/no-such-page",
    checks: [
      { method: "GET", expect: all(404) },
      { method: "POST", expect: all(404), why: "any method: the same 404" },
    ],
  },
  "routes/_index": { path: "/", checks: [{ method: "GET", query: "index", expect: all(200) }] },
  "routes/account": {
    path: "/account",
    checks: [
      { method: "GET", expect: SIGNED_IN },
      { method: "POST", body: { intent: "nothing" }, expect: ["login", 400, 400, 400] },
    ],
  },
  "routes/account_.members": {
    path: "/account/members",
    checks: [
      { method: "GET", expect: SIGNED_IN, why: "everyone signed in owns at least their personal account" },
      { method: "POST", body: { intent: "nothing" }, expect: ["login", 400, 400, 400] },
      {
        method: "POST",
        body: { intent: "invite", email: "not-an-email" },
        expect: ["login", 400, 400, 400],
        why: "the owner of their current (personal) account gets the form's field error",
      },
    ],
  },
  "routes/account.switch": {
    path: "/account/switch",
    checks: [
      { method: "GET", expect: all("→/account") },
      {
        method: "POST",
        body: { accountId: "999999" },
        expect: ["login", 403, 403, 403],
        why: "only an account the user belongs to can be chosen",
      },
    ],
  },
  "routes/account_.password": {
    path: "/account/password",
    checks: [
      { method: "GET", expect: SIGNED_IN },
      { method: "POST", body: { currentPassword: "x" }, expect: ["login", 400, 400, 400] },
    ],
  },
  "routes/admin": { path: "/admin", checks: [{ method: "GET", expect: STAFF_READ }] },
  "routes/admin._index": { path: "/admin", checks: [{ method: "GET", query: "index", expect: STAFF_READ }] },
  "routes/admin.accounts.$accountId": {
    path: "/admin/accounts/:accountId",
    checks: [
      { method: "GET", expect: STAFF_READ },
      // The seed's team has no Stripe customer to sync from (409), but support got as far as asking.
      { method: "POST", body: { intent: "sync" }, expect: ["login", 403, 409, 409], why: "support may sync" },
      { method: "POST", body: { intent: "tier", tier: "no-such-tier" }, expect: ADMIN_ONLY_WRITE },
      { method: "POST", body: { intent: "member-role", userId: "0", role: "owner" }, expect: ADMIN_ONLY_WRITE },
    ],
  },
  "routes/admin.accounts._index": {
    path: "/admin/accounts",
    checks: [{ method: "GET", query: "index", expect: STAFF_READ }],
  },
  "routes/admin.audit": { path: "/admin/audit", checks: [{ method: "GET", expect: STAFF_READ }] },
  "routes/admin.events.$eventId": {
    path: "/admin/events/:eventId",
    checks: [{ method: "GET", expect: STAFF_READ }],
  },
  "routes/admin.events._index": {
    path: "/admin/events",
    checks: [
      { method: "GET", query: "index", expect: STAFF_READ },
      {
        method: "POST",
        query: "index",
        body: { eventId: "evt_matrix_processed" },
        // A processed event is not replayed again: on to the event's own page, which says so.
        expect: [
          "login",
          403,
          "→/admin/events/evt_matrix_processed?replayed=1&refused=1…",
          "→/admin/events/evt_matrix_processed?replayed=1&refused=1…",
        ],
        why: "support may replay",
      },
    ],
  },
  "routes/admin.events.replays.$jobId": {
    path: "/admin/events/replays/:jobId",
    checks: [{ method: "GET", expect: STAFF_READ }],
  },
  "routes/admin.reconcile": {
    path: "/admin/reconcile",
    checks: [
      { method: "GET", expect: STAFF_READ },
      {
        method: "POST",
        body: { intent: "nothing" },
        expect: ["login", 403, 400, 400],
        why: "support may run and apply, as they may sync from Stripe",
      },
      {
        method: "POST",
        body: { intent: "apply", id: "999999" },
        expect: ["login", 403, 409, 409],
        why: "no such difference",
      },
    ],
  },
  "routes/admin.webhooks._index": {
    path: "/admin/webhooks",
    checks: [
      { method: "GET", query: "index", expect: STAFF_READ },
      {
        method: "POST",
        query: "index",
        body: { url: "not a url", eventTypes: "account.created" },
        expect: ADMIN_ONLY_WRITE,
        why: "only admins register endpoints",
      },
    ],
  },
  "routes/admin.webhooks.$endpointId": {
    path: "/admin/webhooks/:endpointId",
    checks: [
      { method: "GET", expect: STAFF_READ },
      { method: "POST", body: { intent: "nothing" }, expect: ADMIN_ONLY_WRITE, why: "edits and replays: admins" },
    ],
  },
  // The API reference: admins only (support keeps the key list; the reference is for whoever integrates).
  "routes/admin.api": { path: "/admin/api", checks: [{ method: "GET", expect: ADMIN_ONLY_READ }] },
  "routes/admin.api-keys": {
    path: "/admin/api-keys",
    checks: [
      { method: "GET", expect: STAFF_READ },
      { method: "POST", body: { intent: "create" }, expect: ADMIN_ONLY_WRITE, why: "no name: the form's 400" },
      {
        method: "POST",
        body: { intent: "revoke", id: "999999" },
        expect: ["login", 403, 403, 404],
        why: "revoking is admins' only; no such key",
      },
    ],
  },
  "routes/admin.permissions": {
    path: "/admin/permissions",
    checks: [
      { method: "GET", expect: STAFF_READ },
      { method: "POST", body: { intent: "create" }, expect: ADMIN_ONLY_WRITE },
    ],
  },
  "routes/admin.tiers.$key": {
    path: "/admin/tiers/pro",
    checks: [
      { method: "GET", expect: STAFF_READ },
      { method: "POST", body: { intent: "update" }, expect: ADMIN_ONLY_WRITE },
      {
        method: "POST",
        body: { intent: "reprice-confirm", lookupKey: "pro_monthly", amount: "not money" },
        expect: ADMIN_ONLY_WRITE,
        why: "changing a price is an admin's: support reads the prices only",
      },
    ],
  },
  "routes/admin.tiers.$key_.price-moves.$moveId": {
    path: "/admin/tiers/pro/price-moves/:moveId",
    checks: [{ method: "GET", expect: STAFF_READ }],
  },
  "routes/admin.tiers._index": {
    path: "/admin/tiers",
    checks: [{ method: "GET", query: "index", expect: STAFF_READ }],
  },
  "routes/admin.tiers.new": {
    path: "/admin/tiers/new",
    checks: [
      { method: "GET", expect: ADMIN_ONLY_READ },
      { method: "POST", body: {}, expect: ADMIN_ONLY_WRITE },
    ],
  },
  "routes/admin.users.$userId": {
    path: "/admin/users/:customerId",
    checks: [
      { method: "GET", expect: STAFF_READ },
      // The user has no Stripe customer to sync from (409), but support got as far as asking.
      { method: "POST", body: { intent: "sync" }, expect: ["login", 403, 409, 409], why: "support may sync" },
      { method: "POST", body: { intent: "role", role: "no-such-role" }, expect: ADMIN_ONLY_WRITE },
      { method: "POST", body: { intent: "tier", tier: "no-such-tier" }, expect: ADMIN_ONLY_WRITE },
    ],
  },
  "routes/admin.users._index": {
    path: "/admin/users",
    checks: [{ method: "GET", query: "index", expect: STAFF_READ }],
  },
  "routes/api.me.entitlements": {
    path: "/api/me/entitlements",
    checks: [{ method: "GET", expect: [401, 200, 200, 200] }],
  },
  // /api/v1 authenticates with API keys only: a session cookie is no key (401 problem details for all).
  "routes/api.v1.$": {
    path: "/api/v1/no-such-endpoint",
    checks: [
      { method: "GET", expect: all(404) },
      { method: "POST", body: {}, expect: all(404) },
    ],
  },
  "routes/api.v1.accounts.$ref.entitlements": {
    path: "/api/v1/accounts/1/entitlements",
    checks: [
      { method: "GET", expect: all(401) },
      { method: "POST", body: {}, expect: all(405) },
    ],
  },
  "routes/api.v1.accounts.$ref": {
    path: "/api/v1/accounts/ext:matrix",
    checks: [
      { method: "GET", expect: all(405) },
      { method: "POST", body: {}, expect: all(405) },
      { method: "PUT", body: {}, expect: all(401) },
    ],
  },
  "routes/api.v1.accounts.$ref.members": {
    path: "/api/v1/accounts/1/members",
    checks: [
      { method: "GET", expect: all(405) },
      { method: "POST", body: {}, expect: all(401) },
    ],
  },
  "routes/api.v1.accounts.$ref.members.$email": {
    path: "/api/v1/accounts/1/members/customer@example.com",
    checks: [
      { method: "GET", expect: all(405) },
      { method: "POST", body: {}, expect: all(405) },
      { method: "DELETE", expect: all(401) },
    ],
  },
  "routes/api.v1.accounts.$ref.checkout": {
    path: "/api/v1/accounts/1/checkout",
    checks: [
      { method: "GET", expect: all(405) },
      { method: "POST", body: {}, expect: all(401) },
    ],
  },
  "routes/api.v1.accounts.$ref.portal": {
    path: "/api/v1/accounts/1/portal",
    checks: [
      { method: "GET", expect: all(405) },
      { method: "POST", body: {}, expect: all(401) },
    ],
  },
  "routes/api.v1.check": {
    path: "/api/v1/check",
    checks: [
      { method: "GET", expect: all(405) },
      { method: "POST", body: {}, expect: all(401) },
    ],
  },
  "routes/api.v1.tiers": {
    path: "/api/v1/tiers",
    checks: [
      { method: "GET", expect: all(401) },
      { method: "POST", body: {}, expect: all(405) },
    ],
  },
  "routes/api.v1.openapi[.]json": {
    path: "/api/v1/openapi.json",
    checks: [
      { method: "GET", expect: all(200), why: "the API's description holds no secret: public" },
      { method: "POST", body: {}, expect: all(405) },
    ],
  },
  "routes/api.stripe.checkout": {
    path: "/api/stripe/checkout",
    checks: [
      { method: "GET", expect: all(405) },
      { method: "POST", body: { lookup_key: "no_such_key" }, expect: [401, 400, 400, 400] },
    ],
  },
  "routes/api.stripe.portal": {
    path: "/api/stripe/portal",
    checks: [
      { method: "GET", expect: all(405) },
      { method: "POST", body: {}, expect: [401, 404, 404, 404], why: "nobody here has a Stripe customer yet" },
    ],
  },
  "routes/api.stripe.webhook": {
    path: "/api/stripe/webhook",
    checks: [
      { method: "GET", expect: all(405) },
      { method: "POST", body: {}, expect: all(400), why: "sessions mean nothing here: no signature, 400" },
    ],
  },
  "routes/api.whop.checkout": {
    path: "/api/whop/checkout",
    checks: [
      { method: "GET", expect: all(405) },
      {
        method: "POST",
        body: { tier: "no_such_tier" },
        expect: [401, 503, 503, 503],
        why: "Whop is not configured here",
      },
    ],
  },
  "routes/api.whop.return": {
    path: "/api/whop/return",
    checks: [{ method: "GET", expect: ["login", "→/account", "→/account", "→/account"] }],
  },
  "routes/api.whop.webhook": {
    path: "/api/whop/webhook",
    checks: [
      { method: "GET", expect: all(405) },
      { method: "POST", body: {}, expect: all(503), why: "Whop is not configured here" },
    ],
  },
  "routes/billing.success": {
    path: "/billing/success",
    checks: [{ method: "GET", expect: ["login", "→/account", "→/account", "→/account"] }],
  },
  "routes/dev.mail": {
    path: "/dev/mail",
    checks: [{ method: "GET", expect: all(404), why: "the development outbox does not exist in production" }],
  },
  "routes/forgot-password": {
    path: "/forgot-password",
    checks: [
      { method: "GET", expect: [200, "→/account", "→/admin", "→/admin"] },
      {
        method: "POST",
        body: { email: "not-an-email" },
        expect: [400, "→/account", "→/admin", "→/admin"],
        expectData: all(400),
      },
    ],
  },
  "routes/healthz": { path: "/healthz", checks: [{ method: "GET", expect: all(200) }] },
  "routes/invitations.$token": {
    path: "/invitations/not-a-token",
    checks: [
      { method: "GET", expect: all(404), why: "a link is open to whoever holds it; this one is no invitation" },
      { method: "POST", body: {}, expect: ["login", 404, 404, 404], why: "joining needs a sign-in first" },
    ],
  },
  "routes/login": {
    path: "/login",
    checks: [
      { method: "GET", expect: [200, "→/account", "→/admin", "→/admin"] },
      {
        method: "POST",
        // A new address each time: failed sign-ins are rate limited per address too.
        body: { email: "nobody-{n}@example.com", password: "wrong-password-123" },
        // Signed-in visitors are sent home by the page's loader, which a document post also runs.
        expect: [401, "→/account", "→/admin", "→/admin"],
        expectData: all(401),
      },
    ],
  },
  "routes/logout": {
    path: "/logout",
    checks: [
      { method: "GET", expect: all("→/") },
      { method: "POST", body: {}, expect: all("→/"), why: "with a session of its own, so the others stay signed in" },
    ],
  },
  "routes/pricing": {
    path: "/pricing",
    checks: [
      { method: "GET", expect: all(200) },
      { method: "POST", body: { intent: "nothing" }, expect: ["login", 400, 400, 400] },
    ],
  },
  "routes/reset-password.$token": {
    path: "/reset-password/not-a-token",
    checks: [
      { method: "GET", expect: all(200), why: "a link works whoever is signed in: it says it has expired" },
      { method: "POST", body: { password: "short" }, expect: all(400) },
    ],
  },
  "routes/signup": {
    path: "/signup",
    checks: [
      { method: "GET", expect: [200, "→/account", "→/admin", "→/admin"] },
      {
        method: "POST",
        body: { email: "not-an-email" },
        expect: [400, "→/account", "→/admin", "→/admin"],
        expectData: all(400),
      },
    ],
  },
};

// ---------------------------------------------------------------------------------------------

useStripeEmulator();
let server: Server;
let origin = "";
let build: ServerBuild;
const cookies: Partial<Record<Role, string>> = {};
let clients = 0;

beforeAll(async () => {
  // Behind a proxy (TRUST_PROXY): each request comes from an address of its own, so the sign-in rate
  // limits, which this many requests from one address would reach, stay out of the answers.
  const config = parseConfig({ NODE_ENV: "production", SESSION_SECRET: "matrix-".repeat(10), TRUST_PROXY: "1" });
  useConfig(config);
  await seedDemoData();
  const prisma = testDb().prisma;
  ids.customerId = (await prisma.user.findUniqueOrThrow({ where: { email: EMAILS.customer } })).id;
  ids.accountId = (await prisma.account.findUniqueOrThrow({ where: { slug: "acme-studio" } })).id;
  ids.endpointId = (
    await prisma.webhookEndpoint.create({
      data: { url: "https://example.com/hooks", eventTypes: ["account.created"], secret: "whsec_matrix" },
    })
  ).id;
  const stored = await prisma.stripeEvent.create({
    data: { eventId: ids.eventId, eventType: "invoice.paid", status: "processed", attempts: 1, payload: "{}" },
  });
  ids.jobId = (
    await prisma.replayJob.create({
      data: {
        createdByEmail: EMAILS.admin,
        filter: { status: "failed" },
        upToId: stored.id,
        total: 0,
        status: "finished",
      },
    })
  ).id;
  ids.moveId = (
    await prisma.priceMove.create({
      data: {
        createdByEmail: EMAILS.admin,
        tierKey: "pro",
        lookupKey: "pro_monthly",
        status: "finished",
      },
    })
  ).id;
  for (const role of ["customer", "support", "admin"] as const) cookies[role] = await sessionCookieFor(EMAILS[role]);
  ({ server, origin, build } = await startProductionServer(config));
}, 60_000);

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
});

function withIds(text: string) {
  return text
    .replace(":customerId", String(ids.customerId))
    .replace(":accountId", String(ids.accountId))
    .replace(":eventId", ids.eventId)
    .replace(":jobId", String(ids.jobId))
    .replace(":endpointId", String(ids.endpointId))
    .replace(":moveId", String(ids.moveId));
}

function urlOf(entry: RouteEntry, check: Check, dataRoute: string | null) {
  const params = new URLSearchParams(check.query ? `${check.query}` : "");
  if (dataRoute) params.set("_data", dataRoute);
  const search = params.toString().replace(/^index=(&|$)/, "index$1");
  return `${withIds(entry.path)}${search ? `?${search}` : ""}`;
}

async function send(role: Role, entry: RouteEntry, check: Check, dataRoute: string | null) {
  // Signing out ends the session it is sent with: give it one of its own.
  const cookie =
    role === "anonymous" ? undefined : entry.path === "/logout" ? await sessionCookieFor(EMAILS[role]) : cookies[role];
  const headers: Record<string, string> = {
    "X-Forwarded-For": `10.${++clients >> 16}.${(clients >> 8) & 255}.${clients & 255}`,
  };
  if (cookie) headers.Cookie = cookie;
  let body: string | undefined;
  if (check.method !== "GET") {
    headers["Content-Type"] = "application/x-www-form-urlencoded";
    headers.Origin = origin; // a same-site form post (cross-site ones are refused before any route)
    const fields = Object.entries(check.body ?? {}).map(([name, value]) => [
      name,
      value.replace("{n}", String(clients)),
    ]);
    body = new URLSearchParams(fields).toString();
  }
  return fetch(`${origin}${urlOf(entry, check, dataRoute)}`, {
    method: check.method,
    headers,
    body,
    redirect: "manual",
  });
}

function describeAnswer(response: Response) {
  const location = response.headers.get("location") ?? response.headers.get("x-remix-redirect");
  return `${response.status}${location ? ` → ${location}` : ""}`;
}

function matches(expected: Outcome, response: Response, data: boolean) {
  if (typeof expected === "number") return response.status === expected;
  const location = data ? response.headers.get("x-remix-redirect") : response.headers.get("location");
  const redirected = data ? response.status === 204 : response.status === 302 || response.status === 303;
  if (!redirected || !location) return false;
  if (expected === "login") return location.startsWith("/login?next=");
  const target = withIds(expected.slice(1));
  return target.endsWith("…") ? location.startsWith(target.slice(0, -1)) : location === target;
}

describe("authorization matrix", () => {
  it("covers every route file in app/routes", () => {
    // A route is a module file, or a folder holding route.tsx (Remix's folder routes; its other files are not routes).
    const routesDir = path.join(ROOT, "app/routes");
    const files = fs
      .readdirSync(routesDir, { withFileTypes: true })
      .filter((entry) =>
        entry.isDirectory()
          ? fs.readdirSync(path.join(routesDir, entry.name)).some((name) => /^route\.(tsx?|jsx?)$/.test(name))
          : /\.(tsx?|jsx?)$/.test(entry.name),
      )
      .map((entry) => `routes/${entry.name.replace(/\.[jt]sx?$/, "")}`)
      .sort();
    expect(Object.keys(MATRIX).sort(), "add the new route to MATRIX in this file").toEqual(files);
  });

  it("checks every method each route accepts", () => {
    for (const [id, entry] of Object.entries(MATRIX)) {
      const module = build.routes[id]?.module as { loader?: unknown; action?: unknown } | undefined;
      expect(module, `${id} is in the build`).toBeDefined();
      const methods = new Set(entry.checks.map((check) => check.method));
      if (module?.loader) expect(methods.has("GET"), `${id} has a loader: add a GET check`).toBe(true);
      if (module?.action) expect(methods.has("POST"), `${id} has an action: add a POST check`).toBe(true);
    }
  });

  it("answers every route, role and method as the policy says (documents, ?_data= and ?index)", async () => {
    const failures: string[] = [];
    let requests = 0;
    for (const [id, entry] of Object.entries(MATRIX)) {
      const module = build.routes[id]?.module as { default?: unknown; loader?: unknown; action?: unknown } | undefined;
      const checks: Check[] = [...entry.checks];
      // A route without an action refuses posts; pages (not resource routes) answer their own 405.
      if (!module?.action) checks.push({ method: "POST", query: entry.checks[0]?.query, body: {}, expect: all(405) });
      for (const check of checks) {
        // Pages are also asked as Remix's client asks (fetchers, client navigations): ?_data=<route id>,
        // for the methods the route has a loader or an action for.
        const handles = check.method === "GET" ? module?.loader : module?.action;
        const variants = module?.default && handles ? [null, id] : [null];
        for (const dataRoute of variants) {
          for (const [i, role] of ROLES.entries()) {
            const expected = (dataRoute && check.expectData ? check.expectData : check.expect)[i]!;
            const response = await send(role, entry, check, dataRoute);
            requests++;
            if (!matches(expected, response, dataRoute !== null)) {
              failures.push(
                `${role.padEnd(9)} ${check.method} ${urlOf(entry, check, dataRoute)}: expected ${String(expected)}, got ${describeAnswer(response)}`,
              );
            }
            // APIs refuse anonymous callers in JSON (/api/v1: problem details, RFC 9457), never with a page.
            if (
              expected === 401 &&
              !module?.default &&
              !/^application\/(problem\+)?json/.test(response.headers.get("content-type") ?? "")
            ) {
              failures.push(`${role} ${check.method} ${urlOf(entry, check, dataRoute)}: a 401 that is not JSON`);
            }
            await response.arrayBuffer();
          }
        }
      }
    }
    expect(failures, `${failures.length} of ${requests} requests`).toEqual([]);
    expect(requests).toBeGreaterThan(300);
  }, 60_000);
});

describe("cross-site posts through the real server", () => {
  const signOut = async (headers: Record<string, string>) =>
    fetch(`${origin}/logout`, {
      method: "POST",
      headers: { Cookie: await sessionCookieFor(EMAILS.customer), "X-Forwarded-For": "10.250.0.1", ...headers },
      redirect: "manual",
    });

  it("refuses a post from another site named by Origin, or by Referer alone (403), before any route", async () => {
    const crossSite: Record<string, string>[] = [
      { Origin: "https://evil.example" },
      { Referer: "https://evil.example/attack.html" },
    ];
    for (const headers of crossSite) {
      const response = await signOut(headers);
      expect(response.status, JSON.stringify(headers)).toBe(403);
      expect(await response.json()).toEqual({ error: "Cross-site requests are not allowed." });
    }
  });

  it("lets this site's own Referer through", async () => {
    const response = await signOut({ Referer: `${origin}/account` });
    expect(response.status).toBe(302);
  });
});

describe("a team's members and owners through the real server (/account/members)", () => {
  /** A session of `email` acting for Acme Studio (the seeded team: customer@ owns it, teammate@ is a member). */
  async function actingForTeam(email: string) {
    const cookie = await sessionCookieFor(email);
    const team = await testDb().prisma.account.findUniqueOrThrow({ where: { slug: "acme-studio" } });
    expect(await chooseSessionAccount((await sessionIdFrom(getRequest("/", cookie)))!, team.id)).toBe(true);
    return cookie;
  }
  const post = (cookie: string, fields: Record<string, string>) =>
    fetch(`${origin}/account/members`, {
      method: "POST",
      headers: {
        Cookie: cookie,
        Origin: origin,
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Forwarded-For": `10.251.0.${++clients & 255}`,
      },
      body: new URLSearchParams(fields).toString(),
      redirect: "manual",
    });

  it("a member reads the list but may not invite, remove, revoke or promote (403); the owner may", async () => {
    const prisma = testDb().prisma;
    const member = await actingForTeam("teammate@example.com");
    const owner = await actingForTeam("customer@example.com");
    const page = await fetch(`${origin}/account/members`, { headers: { Cookie: member } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("designer@example.com");
    const ownerId = String((await prisma.user.findUniqueOrThrow({ where: { email: EMAILS.customer } })).id);
    const invitation = await prisma.invitation.findFirstOrThrow({ where: { email: "newhire@example.com" } });
    const refused: Record<string, string>[] = [
      { intent: "invite", email: "someone-new@example.com" },
      { intent: "remove", userId: ownerId },
      { intent: "revoke", invitationId: String(invitation.id) },
      { intent: "make-owner", userId: ownerId },
    ];
    for (const fields of refused) {
      const response = await post(member, fields);
      expect(response.status, fields.intent).toBe(403);
    }
    // The owner gets as far as the form: the teammate is already a member, said at the field.
    const taken = await post(owner, { intent: "invite", email: "teammate@example.com" });
    expect(taken.status).toBe(409);
    expect(await taken.text()).toContain("teammate@example.com is already a member of Acme Studio.");
  });
});
