// Stripe down, pages fast (docs/decisions/012): with Stripe refusing connections or answering 5 s late,
// /admin, /admin/tiers, /pricing and /account answer at once once the breaker has opened, showing
// Stripe's last good answer with its age (admin statuses still "could not verify"); the answer kept in
// the database is what a fresh instance shows; and a price.updated webhook received by one instance
// drops the cached prices of another within a second. The production build, served in this process
// and as separate server processes on the same PostgreSQL database: needs `npm run build`.
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import type { Server } from "node:http";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import Stripe from "stripe";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { getStripe, stripeConnection, useStripeConnection } from "../../app/services/stripe/client.server.ts";
import { stripeBreakerOpen } from "../../app/services/stripe/breaker.server.ts";
import { invalidatePriceCache, lookupPrices } from "../../app/services/stripe/prices.server.ts";
import { clearSubscriptionDetailsCache } from "../../app/services/stripe/subscription-details.server.ts";
import { parseConfig, useConfig } from "../../app/utils/config.server.ts";
import { startProductionServer } from "../production-server.ts";
import { requirePostgres, testDb } from "../setup/database.ts";
import { faultyStripeProxy, useStripeEmulator } from "../stripe-harness.ts";
import { startStripeEmulator } from "../../stripe-emulator/emulator.ts";
import { TEST_WEBHOOK_SECRET } from "../stripe-fixtures.ts";
import { seedDemoData, sessionCookieFor, setBilling } from "../utils.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const prisma = () => testDb().prisma;
const harness = useStripeEmulator();

let proxy: Awaited<ReturnType<typeof faultyStripeProxy>>;
let server: Server | undefined;
let origin = "";
const cookies: Record<string, string> = {};

// What each page shows when Stripe could not be asked, and what it shows from the last good answer.
const PAGES = [
  { path: "/admin", as: "admin", marks: ['data-testid="stripe-last-known"', "could not be reached"] },
  { path: "/admin/tiers", as: "admin", marks: ['data-testid="stripe-last-known"', "could not verify", "£29.00"] },
  { path: "/pricing", as: null, marks: ['data-testid="prices-as-of"', "£29.00", "£290.00"] },
  { path: "/account", as: "customer", marks: ["Billing details could not be loaded from Stripe just now"] },
  { path: "/admin/tiers/pro", as: "admin", marks: ['data-testid="stripe-last-known"', "could not verify", "£29.00"] },
] as const;
// The old behaviour: about a second per load while Stripe was unreachable. Once the breaker is open
// a page asks nothing of Stripe; generous for a loaded 2-core machine, far under that second.
const FAST_MS = 400;

async function load(page: (typeof PAGES)[number]) {
  const started = performance.now();
  const response = await fetch(`${origin}${page.path}`, {
    headers: page.as ? { Cookie: cookies[page.as]! } : {},
    redirect: "manual",
  });
  const body = await response.text();
  return { status: response.status, body, ms: performance.now() - started };
}

/** Every cached Stripe answer in this process dropped: the next page must ask Stripe (or the breaker). */
function dropCaches() {
  invalidatePriceCache();
  clearSubscriptionDetailsCache();
}

async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

beforeAll(async () => {
  await seedDemoData();
  proxy = await faultyStripeProxy(harness.emulator.url);
  useStripeConnection({ ...stripeConnection(), apiBase: proxy.url });
  // The customer pays for Pro (monthly) in Stripe; the database says so too.
  const stripe = getStripe();
  const customer = await stripe.customers.create({ email: "customer@example.com" });
  const session = await stripe.checkout.sessions.create({
    mode: "subscription",
    customer: customer.id,
    line_items: [{ price: "price_emu_pro_monthly", quantity: 1 }],
    success_url: "http://localhost/billing/success?session_id={CHECKOUT_SESSION_ID}",
    cancel_url: "http://localhost/pricing",
  });
  const { subscription } = await harness.emulator.completeCheckout(session.id);
  await harness.emulator.settle();
  const pro = await prisma().subscriptionTier.findUniqueOrThrow({ where: { key: "pro" } });
  const customerUser = await prisma().user.findUniqueOrThrow({ where: { email: "customer@example.com" } });
  await setBilling(customerUser.id, {
    stripeCustomerId: customer.id,
    stripeSubscriptionId: subscription.id,
    subscriptionStatus: "active",
    tierId: pro.id,
  });
  cookies.admin = await sessionCookieFor("admin@example.com");
  cookies.customer = await sessionCookieFor("customer@example.com");
  const config = parseConfig({ NODE_ENV: "production", SESSION_SECRET: "stripe-outage-".repeat(5) });
  useConfig(config);
  ({ server, origin } = await startProductionServer(config));
}, 60_000);

afterAll(async () => {
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  await proxy?.close();
});

describe("pages while Stripe is down or slow", () => {
  it("with Stripe up, shows live prices and keeps them as the last good answer in the database", async () => {
    dropCaches();
    for (const page of PAGES) {
      const { status, body } = await load(page);
      expect(status, page.path).toBe(200);
      for (const mark of [
        "could not be reached",
        "stripe-unverified",
        "stripe-last-known",
        "prices-as-of",
        "could not be loaded",
      ])
        expect(body, `${page.path}: ${mark}`).not.toContain(mark);
    }
    expect((await load(PAGES[3])).body).toContain("£29.00 per month");
    const kept = await waitFor("the snapshot", async () => {
      const rows = await prisma().stripePriceSnapshot.findMany({ orderBy: { lookupKey: "asc" } });
      return rows.length >= 4 && rows;
    });
    expect(kept.find((row) => row.lookupKey === "pro_monthly")?.price).toMatchObject({
      lookupKey: "pro_monthly",
      unitAmount: 2900,
      currency: "gbp",
    });

    // Written once per answer from Stripe, not per page: pages served from the cache write nothing.
    const newest = async () =>
      (await prisma().stripePriceSnapshot.aggregate({ _max: { fetchedAt: true } }))._max.fetchedAt;
    await new Promise((resolve) => setTimeout(resolve, 100)); // the last background write has landed
    const before = await newest();
    for (const page of PAGES) await load(page);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await newest()).toEqual(before);
  });

  it("with Stripe refusing connections, every page answers at once with the last answer and its age", async () => {
    proxy.setFault("down");
    dropCaches();
    // The first page finds out (within its budget); the breaker then answers for Stripe.
    const first = await load(PAGES[0]);
    expect(first.status).toBe(200);
    expect(first.ms).toBeLessThan(1_500);
    expect(stripeBreakerOpen()).toBe(true);
    for (const page of PAGES) {
      dropCaches();
      const { status, body, ms } = await load(page);
      expect(status, page.path).toBe(200);
      for (const mark of page.marks) expect(body, `${page.path}: ${mark}`).toContain(mark);
      expect(body, page.path).toMatch(
        page.as === "customer" ? /Pro/ : /as of (just now|1 minute ago) \(\d\d:\d\d UTC\)/,
      );
      expect(ms, page.path).toBeLessThan(FAST_MS);
    }
    expect((await load(PAGES[0])).body).toMatch(/Stripe did not answer \(.*\) since \d\d:\d\d UTC; retrying every 5 s/);
  });

  it("with Stripe answering 5 s late, the first page waits its budget once, then none waits", async () => {
    proxy.setFault({ delayMs: 5_000 });
    // A new connection: its breaker starts closed, as in an instance that has not seen the outage.
    useStripeConnection({ ...stripeConnection() });
    dropCaches();
    const first = await load(PAGES[2]);
    expect(first.body).toContain('data-testid="prices-as-of"');
    expect(first.ms).toBeLessThan(1_500);
    expect(stripeBreakerOpen()).toBe(true);
    for (const page of PAGES) {
      dropCaches();
      const { status, body, ms } = await load(page);
      expect(status, page.path).toBe(200);
      for (const mark of page.marks) expect(body, `${page.path}: ${mark}`).toContain(mark);
      expect(ms, page.path).toBeLessThan(FAST_MS);
    }
  });

  it("closes once a background probe finds Stripe back (no visitor waits on the probe)", async () => {
    proxy.setFault("up");
    expect(stripeBreakerOpen()).toBe(true);
    // The probe goes at most every 5 s, started by a visit, which itself does not wait for it.
    await waitFor(
      "the breaker to close",
      async () => {
        dropCaches();
        const page = await load(PAGES[2]);
        expect(page.ms).toBeLessThan(FAST_MS);
        return !stripeBreakerOpen();
      },
      12_000,
    );
    const live = await load(PAGES[2]);
    expect(live.body).not.toContain('data-testid="prices-as-of"');
    expect(live.body).toContain("£29.00");
  }, 30_000);
});

describe("hearing other instances' catalog changes", () => {
  const listenerPids = async (client: pg.Client) =>
    (
      await client.query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN tierdesk_stripe_catalog'`,
      )
    ).rows.map((row) => row.pid);

  it("reconnects when its connection drops, and a change announced afterwards still drops the cache", async (ctx) => {
    const databaseUrl = requirePostgres(ctx);
    proxy.setFault("up");
    useStripeConnection({ ...stripeConnection() });
    expect((await lookupPrices(["pro_monthly"])).unavailable).toBe(false);
    const other = new pg.Client({ connectionString: databaseUrl });
    await other.connect();
    ctx.onTestFinished(() => other.end());
    const [before] = await listenerPids(other);
    expect(before).toBeDefined();

    // The connection is cut (a database restart, a proxy's idle timeout): another takes its place.
    await other.query("SELECT pg_terminate_backend($1)", [before]);
    const [after] = await waitFor("a new listener", async () => {
      const pids = await listenerPids(other);
      return pids.length === 1 && pids[0] !== before && pids;
    });
    expect(after).not.toBe(before);

    // Warm again, Stripe goes away: the cache answers, until another instance announces a change.
    expect((await lookupPrices(["pro_monthly"])).unavailable).toBe(false);
    proxy.setFault("down");
    expect((await lookupPrices(["pro_monthly"])).unavailable).toBe(false);
    await other.query("NOTIFY tierdesk_stripe_catalog");
    await waitFor("the cache to be dropped", async () => (await lookupPrices(["pro_monthly"])).unavailable);
    proxy.setFault("up");
  });
});

// ---------------------------------------------------------------------------------------------
// Other instances: separate server processes on this file's PostgreSQL database

type Instance = { child: ChildProcess; origin: string; output: () => string };
const instances: Instance[] = [];
const dataDirs: string[] = [];

async function startInstance(databaseUrl: string, name: string, stripeApiBase: string): Promise<Instance> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `tierdesk-outage-${name}-`));
  dataDirs.push(dataDir);
  let output = "";
  const child = spawn(process.execPath, ["--import", "tsx", "server/index.ts"], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: "production",
      LOG_LEVEL: "info",
      HOST: "127.0.0.1",
      PORT: "0",
      DATABASE_URL: databaseUrl,
      DATABASE_POOL_SIZE: "3",
      DATA_DIR: dataDir,
      SESSION_SECRET: "stripe-outage-instances-".repeat(3),
      STRIPE_API_KEY: "sk_test_outage",
      STRIPE_API_BASE: stripeApiBase,
      STRIPE_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
      WHOP_API_KEY: "",
      APP_URL: "",
      WORKER_ENABLED: "false",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  const instance: Instance = { child, origin: "", output: () => output };
  instances.push(instance);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const line = output.split("\n").find((text) => text.includes("Tierdesk listening"));
    if (line) {
      instance.origin = `http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}`;
      return instance;
    }
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`Instance ${name} did not start:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function stopInstance({ child }: Instance) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
  if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
}

const pricing = async (instance: Instance) => (await fetch(`${instance.origin}/pricing`)).text();

/** Pro's monthly price as /pricing shows it. */
const proMonthly = (body: string) => /data-testid="price-pro_monthly"[^>]*>([^<]+)</.exec(body)?.[1]?.trim();

afterEach(async () => {
  const stopping = instances.splice(0);
  await Promise.all(stopping.map(stopInstance));
  // Each stopped cleanly (the catalog listener closed with the database): exit code 0.
  for (const { child, output } of stopping) expect(child.exitCode, output()).toBe(0);
}, 30_000);

afterAll(() => {
  for (const dir of dataDirs) fs.rmSync(dir, { recursive: true, force: true });
});

describe("other instances", () => {
  it("a fresh instance with Stripe down shows the last answer another instance kept, with its age", async (ctx) => {
    const databaseUrl = requirePostgres(ctx);
    expect(await prisma().stripePriceSnapshot.count()).toBeGreaterThanOrEqual(4);
    proxy.setFault("down");
    const fresh = await startInstance(databaseUrl, "fresh", proxy.url);
    const body = await pricing(fresh);
    expect(body).toContain('data-testid="prices-as-of"');
    expect(body).toMatch(/the last ones Stripe gave us, (<!-- -->)?as of (just now|\d+ minutes? ago)/);
    expect(proMonthly(body)).toBe("£29.00");
    const again = performance.now();
    await pricing(fresh);
    expect(performance.now() - again).toBeLessThan(FAST_MS);
    proxy.setFault("up");
  }, 60_000);

  it("a price.updated webhook to one instance makes another serve the new price within a second", async (ctx) => {
    const databaseUrl = requirePostgres(ctx);
    // A Stripe of their own that sends no webhooks: only the one sent to A below may tell anyone.
    const emulator = await startStripeEmulator({ port: 0 });
    ctx.onTestFinished(() => emulator.close());
    const [a, b] = await Promise.all([
      startInstance(databaseUrl, "a", emulator.url),
      startInstance(databaseUrl, "b", emulator.url),
    ]);
    // Both warm (the second load of each is from its cache).
    for (const instance of [a, b]) {
      expect(proMonthly(await pricing(instance))).toMatch(/^£\d/);
    }
    const before = proMonthly(await pricing(b));

    // In Stripe: Pro's monthly price is replaced by a new one (prices are immutable), key transferred.
    const stripe = new Stripe("sk_test_outage", {
      host: "127.0.0.1",
      port: Number(new URL(emulator.url).port),
      protocol: "http",
    });
    const old = (await stripe.prices.list({ lookup_keys: ["pro_monthly"] })).data[0]!;
    const newAmount = (old.unit_amount ?? 0) + 1000;
    const replacement = await stripe.prices.create({
      product: typeof old.product === "string" ? old.product : old.product.id,
      currency: old.currency,
      unit_amount: newAmount,
      recurring: { interval: "month" },
      lookup_key: "pro_monthly",
      transfer_lookup_key: true,
    });
    const expected = `£${(newAmount / 100).toFixed(2)}`;
    // B's cache still answers: it shows the old price until told.
    expect(proMonthly(await pricing(b))).toBe(before);

    // Stripe tells instance A.
    const payload = JSON.stringify({
      id: `evt_outage_${Date.now()}`,
      object: "event",
      type: "price.updated",
      created: Math.floor(Date.now() / 1000),
      data: { object: replacement },
    });
    const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret: TEST_WEBHOOK_SECRET });
    const told = performance.now();
    const delivered = await fetch(`${a.origin}/api/stripe/webhook`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Stripe-Signature": signature },
      body: payload,
    });
    expect(delivered.status).toBe(200);
    await waitFor("instance B to show the new price", async () => proMonthly(await pricing(b)) === expected, 5_000);
    expect(performance.now() - told).toBeLessThan(1_000);
  }, 90_000);
});
