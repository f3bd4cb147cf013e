// /api/v1 on the real server (issue 20, docs/decisions/017): API keys (missing, malformed, unknown,
// revoked, wrong scope), problem details, the per-key rate limit, entitlements by id and by ext:,
// check's answers and reasons, tiers with live prices; the in-process cache dropped when a webhook
// changes an account's tier; and a second server process refusing a revoked key, and seeing a new
// tier, within a second. The production build on this file's PostgreSQL database: needs `npm run build`.
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import type { Server } from "node:http";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey, revokeApiKey } from "../../app/services/api/keys.server.ts";
import { setExemptTier } from "../../app/services/customers/account-admin.server.ts";
import {
  CheckResponseSchema,
  EntitlementsResponseSchema,
  ProblemSchema,
  TiersResponseSchema,
} from "../../app/services/api/schemas.ts";
import { parseConfig, useConfig } from "../../app/utils/config.server.ts";
import { requireApiKeyOf } from "../../app/web/api-auth.server.ts";
import { startProductionServer } from "../production-server.ts";
import { requirePostgres, testDatabaseUrl, testDb } from "../setup/database.ts";
import { event, subscription, TEST_WEBHOOK_SECRET, webhookRequest } from "../stripe-fixtures.ts";
import { useStripeEmulator } from "../stripe-harness.ts";
import { createBillingUser, seedDemoData } from "../utils.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const prisma = () => testDb().prisma;
useStripeEmulator();

let server: Server | undefined;
let origin = "";
let admin = { id: 0, email: "admin@example.com" };
const secrets = { read: "", write: "", revoked: "" };
const accounts = { pro: 0, lapsed: 0, crowded: 0 };
const RATE_LIMIT = 1000;

async function call(
  pathname: string,
  {
    secret,
    body,
    authorization,
    at = origin,
  }: { secret?: string; body?: unknown; authorization?: string; at?: string } = {},
) {
  const headers: Record<string, string> = {};
  if (authorization !== undefined) headers.Authorization = authorization;
  else if (secret) headers.Authorization = `Bearer ${secret}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(`${at}${pathname}`, {
    method: body === undefined ? "GET" : "POST",
    headers,
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  return { response, json: (await response.json()) as Record<string, unknown> };
}

function expectProblem(result: Awaited<ReturnType<typeof call>>, status: number, code: string) {
  expect(result.response.status).toBe(status);
  expect(result.response.headers.get("Content-Type")).toBe("application/problem+json");
  const body = ProblemSchema.parse(result.json);
  expect(body).toMatchObject({ status, code, type: `urn:tierdesk:problem:${code}` });
  expect(body.title.length).toBeGreaterThan(0);
  expect(body.detail.length).toBeGreaterThan(0);
}

const tierId = async (key: string) => (await prisma().subscriptionTier.findUniqueOrThrow({ where: { key } })).id;

beforeAll(async () => {
  await seedDemoData();
  admin = await prisma().user.findUniqueOrThrow({
    where: { email: "admin@example.com" },
    select: { id: true, email: true },
  });
  secrets.read = (await createApiKey(admin, { name: "Reader", scope: "read" })).secret;
  secrets.write = (await createApiKey(admin, { name: "Writer", scope: "write" })).secret;
  const revoked = await createApiKey(admin, { name: "Old", scope: "read" });
  await revokeApiKey(admin, revoked.key.id);
  secrets.revoked = revoked.secret;

  const pro = await createBillingUser({
    email: "api-pro@example.com",
    tierId: await tierId("pro"),
    stripeCustomerId: "cus_api_pro",
    stripeSubscriptionId: "sub_api_pro",
    subscriptionStatus: "active",
    billingSource: "stripe",
  });
  accounts.pro = pro.accountId;
  await prisma().account.update({ where: { id: pro.accountId }, data: { externalId: "org_42" } });
  // Stripe's retries of a past-due renewal ran out: the subscription is unpaid, Pro not in force.
  const lapsed = await createBillingUser({
    email: "api-lapsed@example.com",
    tierId: await tierId("pro"),
    stripeCustomerId: "cus_api_lapsed",
    stripeSubscriptionId: "sub_api_lapsed",
    subscriptionStatus: "unpaid",
    billingSource: "stripe",
  });
  accounts.lapsed = lapsed.accountId;
  // Free (1 seat) with two members: over its seat limit.
  const crowded = await createBillingUser({ email: "api-crowded@example.com" });
  accounts.crowded = crowded.accountId;
  const teammate = await prisma().user.create({ data: { email: "api-crowded-2@example.com", passwordHash: "x" } });
  await prisma().membership.create({ data: { accountId: crowded.accountId, userId: teammate.id } });

  const config = parseConfig({
    NODE_ENV: "production",
    SESSION_SECRET: "api-v1-test-".repeat(5),
    API_RATE_LIMIT_PER_MINUTE: String(RATE_LIMIT),
  });
  useConfig(config);
  ({ server, origin } = await startProductionServer(config));
}, 60_000);

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
});

describe("authentication", () => {
  it("refuses a missing, malformed, unknown or revoked key with 401 problem details", async () => {
    expectProblem(await call("/api/v1/tiers"), 401, "missing_api_key");
    expectProblem(await call("/api/v1/tiers", { authorization: "Basic dXNlcjpwYXNz" }), 401, "invalid_api_key");
    expectProblem(await call("/api/v1/tiers", { authorization: "Bearer tdk_short" }), 401, "invalid_api_key");
    const unknown = `tdk_${"A".repeat(43)}`;
    expectProblem(await call("/api/v1/tiers", { secret: unknown }), 401, "invalid_api_key");
    expectProblem(await call("/api/v1/tiers", { secret: secrets.revoked }), 401, "revoked_api_key");
    const refused = await call("/api/v1/tiers");
    expect(refused.response.headers.get("WWW-Authenticate")).toMatch(/^Bearer/);
  });

  it("a read key asking for the write scope: 403 insufficient_scope (over HTTP: api-v1-writes.test.ts)", async () => {
    const refused = await requireApiKeyOf(`Bearer ${secrets.read}`, "write").then(
      () => null,
      (thrown: unknown) => thrown as Response,
    );
    expect(refused).toBeInstanceOf(Response);
    const json = (await refused!.json()) as Record<string, unknown>;
    expectProblem({ response: refused!, json }, 403, "insufficient_scope");
    await expect(requireApiKeyOf(`Bearer ${secrets.write}`, "write")).resolves.toMatchObject({ scope: "write" });
    await expect(requireApiKeyOf(`Bearer ${secrets.write}`, "read")).resolves.toMatchObject({ scope: "write" });
  });

  it("answers a live key, and notes its use at most once a minute", async () => {
    const { response } = await call("/api/v1/tiers", { secret: secrets.read });
    expect(response.status).toBe(200);
    // Noted in the background, just after the answer.
    let key = await prisma().apiKey.findFirstOrThrow({ where: { name: "Reader" } });
    for (let tries = 0; !key.lastUsedAt && tries < 100; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      key = await prisma().apiKey.findFirstOrThrow({ where: { name: "Reader" } });
    }
    expect(key.lastUsedAt).toBeInstanceOf(Date);
    await call("/api/v1/tiers", { secret: secrets.read });
    const again = await prisma().apiKey.findFirstOrThrow({ where: { name: "Reader" } });
    expect(again.lastUsedAt).toEqual(key.lastUsedAt);
  });

  it("a session cookie is no key; unknown endpoints and bad bodies are problems too", async () => {
    expectProblem(await call("/api/v1/no-such-thing", { secret: secrets.read }), 404, "not_found");
    expectProblem(await call("/api/v1/check", { secret: secrets.read, body: "{not json" }), 400, "invalid_request");
    const invalid = await call("/api/v1/check", { secret: secrets.read, body: { account: "x y", permission: "" } });
    expectProblem(invalid, 400, "invalid_request");
    expect(Object.keys(invalid.json.errors as object).sort()).toEqual(["account", "permission"]);
    expectProblem(await call("/api/v1/accounts/nope/entitlements", { secret: secrets.read }), 400, "invalid_request");
  });

  it("over the key's rate limit: 429 with Retry-After, counted across instances in the database", async () => {
    const { key, secret } = await createApiKey(admin, { name: "Busy", scope: "read" });
    // The limit's count as every instance sees it: spent (rate-limiter-flexible's row for this key).
    await prisma().rateLimit.create({
      data: { key: `api-key:${key.id}`, points: RATE_LIMIT, expire: BigInt(Date.now() + 30_000) },
    });
    const limited = await call("/api/v1/tiers", { secret });
    expectProblem(limited, 429, "rate_limited");
    expect(Number(limited.response.headers.get("Retry-After"))).toBeGreaterThanOrEqual(1);
    expect(Number(limited.response.headers.get("Retry-After"))).toBeLessThanOrEqual(30);
  });
});

describe("the rate limit counted in memory between writes", () => {
  it("admits exactly what is left of the shared count, then refuses", async () => {
    const { key, secret } = await createApiKey(admin, { name: "Nearly spent", scope: "read" });
    await prisma().rateLimit.create({
      data: { key: `api-key:${key.id}`, points: RATE_LIMIT - 5, expire: BigInt(Date.now() + 30_000) },
    });
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await call("/api/v1/tiers", { secret })).response.status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429, 429]);
    // The admitted requests reach the shared count within a flush interval (50 ms).
    await new Promise((resolve) => setTimeout(resolve, 200));
    const row = await prisma().rateLimit.findUniqueOrThrow({ where: { key: `api-key:${key.id}` } });
    expect(row.points).toBe(RATE_LIMIT);
  });
});

describe("entitlements", () => {
  it("by account id and by ext: give the same answer: tier, status, permissions, seats, source", async () => {
    const byId = await call(`/api/v1/accounts/${accounts.pro}/entitlements`, { secret: secrets.read });
    expect(byId.response.status).toBe(200);
    const body = EntitlementsResponseSchema.parse(byId.json);
    expect(body).toMatchObject({
      account: { id: accounts.pro, externalId: "org_42", name: "api-pro" },
      tier: { key: "pro", name: "Pro" },
      status: "active",
      seats: { limit: 5, used: 1, pending: 0 },
      source: { provider: "stripe" },
    });
    expect(body.permissions).toContain("api.access");
    expect(body.source.reason).toMatch(/active, which grants Pro/);
    const byExt = await call(`/api/v1/accounts/ext:org_42/entitlements`, { secret: secrets.read });
    expect(byExt.json).toEqual(byId.json);
    expectProblem(await call(`/api/v1/accounts/ext:nobody/entitlements`, { secret: secrets.read }), 404, "not_found");
    expectProblem(await call(`/api/v1/accounts/999999/entitlements`, { secret: secrets.read }), 404, "not_found");
  });
});

describe("check", () => {
  const check = async (account: string, permission: string) => {
    const result = await call("/api/v1/check", { secret: secrets.read, body: { account, permission } });
    expect(result.response.status).toBe(200);
    return CheckResponseSchema.parse(result.json);
  };

  it("allowed: reason null, with the tier", async () => {
    expect(await check("ext:org_42", "api.access")).toEqual({
      allowed: true,
      reason: null,
      tier: { key: "pro", name: "Pro" },
      warnings: [],
    });
  });

  it("a permission the tier lacks: no_such_permission", async () => {
    const answer = await check(String(accounts.crowded), "api.access");
    expect(answer).toMatchObject({ allowed: false, reason: { code: "no_such_permission" }, tier: { key: "free" } });
    expect(answer.reason?.message).toContain('does not include "api.access"');
  });

  it("Pro unpaid after Stripe's retries: past_due_beyond_grace for what Pro grants", async () => {
    const answer = await check(String(accounts.lapsed), "api.access");
    expect(answer).toMatchObject({ allowed: false, reason: { code: "past_due_beyond_grace" }, tier: { key: "free" } });
    // What the free tier grants anyway stays allowed.
    expect(await check(String(accounts.lapsed), "projects.create")).toMatchObject({ allowed: true });
  });

  it("over the seat limit: still allowed, with the warning (decision 017)", async () => {
    expect(await check(String(accounts.crowded), "projects.create")).toEqual({
      allowed: true,
      reason: null,
      tier: { key: "free", name: "Free" },
      warnings: ["over_seat_limit"],
    });
  });

  it("an unknown account: unknown_account", async () => {
    expect(await check("ext:nobody", "api.access")).toMatchObject({
      allowed: false,
      reason: { code: "unknown_account" },
      tier: null,
    });
  });
});

describe("tiers", () => {
  it("customer-facing tiers with Stripe's live prices", async () => {
    const { response, json } = await call("/api/v1/tiers", { secret: secrets.read });
    expect(response.status).toBe(200);
    const body = TiersResponseSchema.parse(json);
    expect(body.pricesLive).toBe(true);
    const pro = body.tiers.find((tier) => tier.key === "pro");
    expect(pro?.prices).toContainEqual(
      expect.objectContaining({ lookupKey: "pro_monthly", unitAmount: 2900, currency: "gbp", interval: "month" }),
    );
    expect(pro?.permissions).toContain("api.access");
  });
});

describe("the cache", () => {
  it("a webhook changing the account's tier is answered at once, though the old answer was cached", async () => {
    const before = await call(`/api/v1/accounts/${accounts.pro}/entitlements`, { secret: secrets.read });
    expect(before.json.tier).toEqual({ key: "pro", name: "Pro" });
    // A write that announces nothing is not seen: the answer comes from the cache (on PostgreSQL; the
    // embedded database is one process with nothing to listen to, so nothing is cached there).
    await prisma().account.update({ where: { id: accounts.pro }, data: { name: "renamed quietly" } });
    const cached = await call(`/api/v1/accounts/${accounts.pro}/entitlements`, { secret: secrets.read });
    expect(cached.json.account).toMatchObject({ name: testDatabaseUrl() ? "api-pro" : "renamed quietly" });
    const canceled = subscription({
      id: "sub_api_pro",
      customer: "cus_api_pro",
      lookupKey: "pro_monthly",
      status: "canceled",
    });
    const delivery = webhookRequest(event("customer.subscription.deleted", canceled), { secret: TEST_WEBHOOK_SECRET });
    const answered = await fetch(`${origin}/api/stripe/webhook`, {
      method: "POST",
      headers: Object.fromEntries(delivery.headers),
      body: await delivery.text(),
    });
    expect(answered.status).toBe(200);
    const started = Date.now();
    for (;;) {
      const after = await call(`/api/v1/accounts/${accounts.pro}/entitlements`, { secret: secrets.read });
      if ((after.json.tier as { key: string }).key === "free") {
        expect(after.json.account).toMatchObject({ name: "renamed quietly" });
        break;
      }
      expect(Date.now() - started).toBeLessThan(1000);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(
      (await call("/api/v1/check", { secret: secrets.read, body: { account: "ext:org_42", permission: "api.access" } }))
        .json,
    ).toMatchObject({ allowed: false, reason: { code: "no_such_permission" } });
  });
});

// ---------------------------------------------------------------------------------------------
// A second instance: a server process of its own on this file's PostgreSQL database

let child: ChildProcess | undefined;
let dataDir = "";
let other = "";

async function startInstance(databaseUrl: string): Promise<string> {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "tierdesk-api-"));
  let output = "";
  child = spawn(process.execPath, ["--import", "tsx", "server/index.ts"], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: "production",
      HOST: "127.0.0.1",
      PORT: "0",
      DATABASE_URL: databaseUrl,
      DATABASE_POOL_SIZE: "3",
      DATA_DIR: dataDir,
      SESSION_SECRET: "api-v1-instances-".repeat(3),
      STRIPE_API_KEY: "",
      WHOP_API_KEY: "",
      APP_URL: "",
      WORKER_ENABLED: "false",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  const deadline = Date.now() + 60_000;
  for (;;) {
    const line = output.split("\n").find((text) => text.includes("Tierdesk listening"));
    if (line) return `http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}`;
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`The instance did not start:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child!.once("exit", resolve));
    child.kill("SIGTERM");
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
    if (child.exitCode === null) child.kill("SIGKILL");
  }
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

/** Polls until `done` says so; the milliseconds it took (fails past `withinMs`). */
async function within(withinMs: number, done: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await done()) return Date.now() - started;
    if (Date.now() - started > withinMs) throw new Error(`not within ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe("another instance", () => {
  it("refuses a key revoked on this one within a second, though it had cached it", async (ctx) => {
    other = await startInstance(requirePostgres(ctx));
    const { key, secret } = await createApiKey(admin, { name: "Short-lived", scope: "read" });
    const check = { account: "ext:org_42", permission: "projects.create" };
    // Warm: the other instance has the key (and the account) in its cache.
    for (let i = 0; i < 3; i++) {
      expect((await call("/api/v1/check", { secret, body: check, at: other })).response.status).toBe(200);
    }
    await revokeApiKey(admin, key.id);
    const ms = await within(1000, async () => {
      const { response } = await call("/api/v1/check", { secret, body: check, at: other });
      return response.status === 401;
    });
    expect(ms).toBeLessThan(1000);
    expectProblem(await call("/api/v1/check", { secret, body: check, at: other }), 401, "revoked_api_key");
  }, 90_000);

  it("sees an account's new tier (an admin's change on this instance) within a second", async (ctx) => {
    requirePostgres(ctx);
    expect(other).not.toBe("");
    const entitlements = async () =>
      (await call(`/api/v1/accounts/${accounts.crowded}/entitlements`, { secret: secrets.read, at: other })).json;
    expect((await entitlements()).tier).toEqual({ key: "free", name: "Free" });
    // Cached now: a write that announces nothing is not seen there.
    await prisma().account.update({ where: { id: accounts.crowded }, data: { name: "crowded quietly" } });
    expect((await entitlements()).account).toMatchObject({ name: "api-crowded" });
    expect(await setExemptTier(admin, accounts.crowded, "partner")).toMatchObject({ ok: true });
    const ms = await within(1000, async () => ((await entitlements()).tier as { key: string }).key === "partner");
    expect(ms).toBeLessThan(1000);
    expect(await entitlements()).toMatchObject({ source: { provider: "exempt" }, seats: { limit: 25, used: 2 } });
  });
});
