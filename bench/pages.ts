// Pages against a distant Stripe: the production app, its Stripe 200 ms away (a delaying proxy in
// front of the emulator, bench/lib/stripe-proxy.ts), /pricing (anonymous), /admin/tiers (admin) and
// /account (a subscribed customer), with 3, 12 and 40 lookup keys on the tiers, cold (caches dropped
// by signed price.updated and customer.subscription.updated webhooks) and warm. Stripe calls are counted at the proxy. The
// baseline, measured in the same run, is one round trip to Stripe through the same proxy.
// Then Stripe down (connections reset) and 5 s slow: every page must still answer in about 3 s, with
// its fallback marked.
//
// `--stripe-down` measures only this: /admin, /admin/tiers, /pricing and /account with Stripe up,
// refusing connections, and answering 5 s late, each load after the caches were dropped (so every load
// must ask Stripe, or its breaker), median and p95 of `--loads` loads after warm-up; the baseline is the
// same page with Stripe up, measured in the same run just before and after each outage. Goal: ≤ 1.2×.
//
//   npm run bench:pages [-- --skip-build --keys 3,12,40 --repeat 3 --delay 200]
//   npm run bench:pages -- --stripe-down [--loads 30 --skip-build]
import { parseArgs } from "node:util";
import Stripe from "stripe";
import { startStripeEmulator } from "../stripe-emulator/emulator.ts";
import { createBenchDatabase, SERVER_URL, withClient } from "./lib/postgres.ts";
import { buildApp, type RunningProcess, startApp, WEBHOOK_SECRET } from "./lib/processes.ts";
import { percentile } from "./lib/load.ts";
import { describeMachine, header, median, ms, table } from "./lib/report.ts";
import { startStripeProxy, type StripeProxy } from "./lib/stripe-proxy.ts";

const { values: options } = parseArgs({
  options: {
    keys: { type: "string", default: "3,12,40" },
    repeat: { type: "string", default: "3" },
    delay: { type: "string", default: "200" },
    "skip-build": { type: "boolean", default: false },
    "stripe-down": { type: "boolean", default: false },
    loads: { type: "string", default: "30" },
  },
});
const keyCounts = options.keys.split(",").map(Number);
const repeat = Number(options.repeat);
const delayMs = Number(options.delay);

// `data`: the same page's loader alone (Remix's ?_data= request), to tell loader time from rendering.
const PAGES = [
  {
    path: "/pricing",
    data: "/pricing?_data=routes/pricing",
    as: null,
    fallback: "Live prices could not be loaded from Stripe just now",
  },
  {
    path: "/admin/tiers",
    data: "/admin/tiers?index&_data=routes/admin.tiers._index",
    as: "admin@example.com",
    fallback: 'data-testid="stripe-unverified"',
  },
  {
    path: "/account",
    data: "/account?_data=routes/account",
    as: "customer@example.com",
    fallback: "Billing details could not be loaded from Stripe just now",
  },
] as const;
// `--stripe-down`: the four pages, and what each shows when Stripe could not be asked (its last answer, aged).
const OUTAGE_PAGES = [
  { path: "/admin", as: "admin@example.com", lastKnown: 'data-testid="stripe-last-known"' },
  { path: "/admin/tiers", as: "admin@example.com", lastKnown: 'data-testid="stripe-last-known"' },
  { path: "/pricing", as: null, lastKnown: 'data-testid="prices-as-of"' },
  {
    path: "/account",
    as: "customer@example.com",
    lastKnown: "Billing details could not be loaded from Stripe just now",
  },
] as const;

const PASSWORDS: Record<string, string> = {
  "admin@example.com": "admin-demo-password",
  "customer@example.com": "customer-demo-password",
};

type Visit = { ms: number; status: number; calls: number; callNames: string; body: string };

async function visit(app: RunningProcess, proxy: StripeProxy, path: string, cookie: string | null): Promise<Visit> {
  proxy.resetCalls();
  const started = performance.now();
  const response = await fetch(`${app.origin}${path}`, {
    headers: cookie ? { Cookie: cookie } : {},
    redirect: "manual",
  });
  const body = await response.text();
  const elapsed = performance.now() - started;
  const calls = proxy.calls();
  const callNames = Object.entries(calls)
    .map(([name, n]) => `${n}× ${name}`)
    .join(", ");
  return { ms: elapsed, status: response.status, calls: proxy.totalCalls(), callNames, body };
}

async function signIn(app: RunningProcess, email: string): Promise<string> {
  const response = await fetch(`${app.origin}/login`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: app.origin },
    body: new URLSearchParams({ email, password: PASSWORDS[email]!, next: "" }),
    redirect: "manual",
  });
  const cookie = response.headers.get("set-cookie")?.split(";")[0];
  if (!cookie) throw new Error(`Signing in as ${email} failed: HTTP ${response.status}`);
  return cookie;
}

async function sendSignedEvent(app: RunningProcess, type: string, object: object, created: number) {
  const payload = JSON.stringify({
    id: `evt_bench_cache_${Date.now()}_${Math.random().toString(36).slice(2)}`,
    object: "event",
    type,
    created,
    data: { object },
  });
  const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET });
  const response = await fetch(`${app.origin}/api/stripe/webhook`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "Stripe-Signature": signature },
    body: payload,
  });
  if (response.status !== 200) throw new Error(`${type} webhook: HTTP ${response.status} ${await response.text()}`);
}

let lastEventCreated = Math.floor(Date.now() / 1000);
/**
 * Drops the app's caches the way Stripe does: a signed price.updated webhook (the price caches) and a
 * newer customer.subscription.updated for the customer's subscription (its cached details).
 */
async function dropCaches(app: RunningProcess, subscription: { id: string }) {
  const created = (lastEventCreated = Math.max(lastEventCreated + 1, Math.floor(Date.now() / 1000)));
  await sendSignedEvent(app, "price.updated", { id: "price_bench", object: "price" }, created);
  await sendSignedEvent(app, "customer.subscription.updated", subscription, created);
}

/** The tiers' lookup keys: the emulator's own four first, then synthetic ones, split between Hobbyist and Pro. */
function lookupKeys(count: number) {
  const real = ["hobbyist_monthly", "hobbyist_yearly", "pro_monthly", "pro_yearly"];
  return Array.from({ length: count }, (_, i) => real[i] ?? `bench_key_${String(i).padStart(2, "0")}`);
}

async function setTierKeys(databaseUrl: string, keys: readonly string[]) {
  await withClient(databaseUrl, async (client) => {
    await client.query("DELETE FROM subscription_tier_price");
    const half = Math.ceil(keys.length / 2);
    for (const [i, key] of keys.entries()) {
      await client.query(
        `INSERT INTO subscription_tier_price (tier_id, lookup_key, position)
         SELECT id, $1, $2 FROM subscription_tier WHERE key = $3`,
        [key, i, i < half ? "hobbyist" : "pro"],
      );
    }
  });
}

type Mode = "up" | "down" | "slow";
const FAULTS: Record<Mode, { delayMs: number } | "down"> = {
  up: { delayMs: 0 },
  down: "down",
  slow: { delayMs: 5000 },
};
const WARM_UP_LOADS = 5;

/** Loads of each page in `mode`, each after the caches were dropped; checks what each load shows. */
async function measureMode(
  app: RunningProcess,
  proxy: StripeProxy,
  subscription: { id: string },
  cookieFor: (email: string | null) => string | null,
  mode: Mode,
  loads: number,
): Promise<Map<string, number[]>> {
  const times = new Map<string, number[]>();
  proxy.setMode(FAULTS[mode]);
  for (const page of OUTAGE_PAGES) {
    const samples: number[] = [];
    for (let i = 0; i < WARM_UP_LOADS + loads; i++) {
      // Dropped the way Stripe drops them (signed webhooks, which ask Stripe nothing): this load must ask.
      await dropCaches(app, subscription);
      const result = await visit(app, proxy, page.path, cookieFor(page.as));
      const shown = result.body.includes(page.lastKnown);
      if (result.status !== 200 || shown !== (mode !== "up"))
        throw new Error(`${page.path} with Stripe ${mode}: HTTP ${result.status}, last answer shown: ${shown}`);
      if (i >= WARM_UP_LOADS) samples.push(result.ms);
    }
    times.set(page.path, samples);
  }
  return times;
}

/** Stripe back up: pages show live answers again once the breaker's background probe found it (≤ 5 s). */
async function waitForStripeBack(
  app: RunningProcess,
  proxy: StripeProxy,
  cookieFor: (email: string | null) => string | null,
) {
  proxy.setMode(FAULTS.up);
  const page = OUTAGE_PAGES[2];
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (!(await visit(app, proxy, page.path, cookieFor(page.as))).body.includes(page.lastKnown)) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error("Pages still show the last answer 30 s after Stripe came back.");
}

/** `--stripe-down`: each page with Stripe refusing and 5 s slow against the same page with Stripe up. */
async function stripeDown(
  app: RunningProcess,
  proxy: StripeProxy,
  databaseUrl: string,
  subscription: { id: string },
  cookieFor: (email: string | null) => string | null,
  machine: string,
): Promise<boolean> {
  const loads = Number(options.loads);
  const keys = lookupKeys(12);
  await setTierKeys(databaseUrl, keys);
  proxy.setLookupKeys(keys);
  header(
    `Pages with Stripe down and 5 s slow, against Stripe up (12 lookup keys, caches dropped before every load)`,
    machine,
  );
  console.log(
    `${loads} loads per page and mode after ${WARM_UP_LOADS} warm-up loads. Stripe up is the emulator on loopback through the proxy, no added delay (the strictest baseline: a real Stripe is 100–300 ms away).\n`,
  );
  // Up, down, up, slow, up: each outage against the Stripe-up loads just before and after it.
  const up1 = await measureMode(app, proxy, subscription, cookieFor, "up", loads);
  const down = await measureMode(app, proxy, subscription, cookieFor, "down", loads);
  await waitForStripeBack(app, proxy, cookieFor);
  const up2 = await measureMode(app, proxy, subscription, cookieFor, "up", loads);
  const slow = await measureMode(app, proxy, subscription, cookieFor, "slow", loads);
  await waitForStripeBack(app, proxy, cookieFor);
  const up3 = await measureMode(app, proxy, subscription, cookieFor, "up", loads);
  proxy.setMode(FAULTS.up);

  const stats = (samples: number[]) => {
    const sorted = [...samples].sort((a, b) => a - b);
    return { median: percentile(sorted, 50), p95: percentile(sorted, 95) };
  };
  let allGood = true;
  const rows: string[][] = [];
  for (const page of OUTAGE_PAGES) {
    for (const [label, outage, before, after] of [
      ["refusing connections", down, up1, up2],
      ["5 s slow", slow, up2, up3],
    ] as const) {
      const baseline = stats([...before.get(page.path)!, ...after.get(page.path)!]);
      const faulty = stats(outage.get(page.path)!);
      const medianRatio = faulty.median / baseline.median;
      const p95Ratio = faulty.p95 / baseline.p95;
      const ok = medianRatio <= 1.2 && p95Ratio <= 1.2;
      if (!ok) allGood = false;
      rows.push([
        page.path,
        label,
        `${ms(baseline.median)} / ${ms(baseline.p95)}`,
        `${ms(faulty.median)} / ${ms(faulty.p95)}`,
        `${medianRatio.toFixed(2)}× / ${p95Ratio.toFixed(2)}×`,
        ok ? "✓" : "✗",
      ]);
    }
  }
  table(["page", "Stripe", "up: median / p95 ms", "outage: median / p95 ms", "ratio median / p95", "≤ 1.2×"], rows);
  console.log("Every outage load showed Stripe's last answer with its age; every Stripe-up load showed live answers.");
  return allGood;
}

async function main() {
  buildApp(options["skip-build"]);
  const machine = await describeMachine(SERVER_URL);
  const db = await createBenchDatabase("pages", { demoUsers: true });
  const emulator = await startStripeEmulator({ port: 0 });
  const proxy = await startStripeProxy(emulator.url);
  let app: RunningProcess | undefined;
  try {
    // The customer subscribes to Pro (monthly) in the emulator; the database says so too.
    const stripe = new Stripe("sk_test_bench", {
      host: "127.0.0.1",
      port: new URL(emulator.url).port,
      protocol: "http",
    });
    const customer = await stripe.customers.create({ email: "customer@example.com" });
    const session = await stripe.checkout.sessions.create({
      mode: "subscription",
      customer: customer.id,
      line_items: [{ price: "price_emu_pro_monthly", quantity: 1 }],
      success_url: "http://localhost/billing/success?session_id={CHECKOUT_SESSION_ID}",
      cancel_url: "http://localhost/pricing",
    });
    const { subscription } = await emulator.completeCheckout(session.id);
    await withClient(db.url, (client) =>
      client.query(
        // Billing lives on the customer's personal account: the oldest one they own.
        `UPDATE accounts SET stripe_customer_id = $1, stripe_subscription_id = $2, subscription_status = 'active',
                tier_id = (SELECT id FROM subscription_tier WHERE key = 'pro'), subscription_synced_at = now()
          WHERE id = (SELECT m.account_id FROM memberships m JOIN users u ON u.id = m.user_id
                       WHERE u.email = 'customer@example.com' AND m.role = 'owner' ORDER BY m.account_id LIMIT 1)`,
        [customer.id, subscription.id],
      ),
    );

    app = await startApp({ databaseUrl: db.url, stripeApiBase: proxy.url });
    const cookies: Record<string, string> = {
      "admin@example.com": await signIn(app, "admin@example.com"),
      "customer@example.com": await signIn(app, "customer@example.com"),
    };
    const cookieFor = (email: string | null) => (email ? cookies[email]! : null);
    if (options["stripe-down"]) {
      if (!(await stripeDown(app, proxy, db.url, subscription, cookieFor, machine))) process.exitCode = 1;
      return;
    }

    header(`Pages with Stripe ${delayMs} ms away: Stripe calls and page times, cold and warm`, machine);
    // The baseline: one round trip to Stripe through the same proxy (a lookup of one key).
    proxy.setMode({ delayMs });
    proxy.setLookupKeys(lookupKeys(4));
    const roundTrips: number[] = [];
    for (let i = 0; i < repeat + 1; i++) {
      const started = performance.now();
      const answer = await fetch(`${proxy.url}/v1/prices?lookup_keys[0]=pro_monthly`, {
        headers: { Authorization: "Bearer sk_test_bench" },
      });
      await answer.text();
      roundTrips.push(performance.now() - started);
    }
    const roundTrip = median(roundTrips.slice(1));
    console.log(
      `One Stripe round trip through the proxy (baseline): ${ms(roundTrip)} ms. Medians of ${repeat} visits.\n`,
    );

    // Warm-up (JIT, the database pool, templates), not measured.
    proxy.setMode({ delayMs: 0 });
    for (let i = 0; i < 5; i++) {
      for (const page of PAGES) await visit(app, proxy, page.path, cookieFor(page.as));
    }
    proxy.setMode({ delayMs });

    const rows: string[][] = [];
    let allGood = true;
    for (const count of keyCounts) {
      const keys = lookupKeys(count);
      await setTierKeys(db.url, keys);
      proxy.setLookupKeys(keys);
      for (const page of PAGES) {
        const cold: Visit[] = [];
        const warm: Visit[] = [];
        const warmLoader: Visit[] = [];
        for (let i = 0; i < repeat; i++) {
          await dropCaches(app, subscription);
          cold.push(await visit(app, proxy, page.path, cookieFor(page.as)));
          warm.push(await visit(app, proxy, page.path, cookieFor(page.as)));
          warmLoader.push(await visit(app, proxy, page.data, cookieFor(page.as)));
        }
        const coldMs = median(cold.map((v) => v.ms));
        const warmMs = median(warm.map((v) => v.ms));
        const expectedCalls = Math.ceil(count / 10);
        const coldOk = coldMs < 1.3 * roundTrip;
        const warmOk = warmMs < 20 && warm.every((v) => v.calls === 0);
        if (!coldOk || !warmOk) allGood = false;
        rows.push([
          String(count),
          page.path,
          String(cold[0]!.status),
          `${median(cold.map((v) => v.calls))} (${cold[0]!.callNames || "none"})`,
          `${ms(coldMs)} (${(coldMs / roundTrip).toFixed(2)}×) ${coldOk ? "✓" : "✗"}`,
          `${median(warm.map((v) => v.calls))}${warm[0]!.callNames ? ` (${warm[0]!.callNames})` : ""}`,
          `${ms(warmMs)} ${warmOk ? "✓" : "✗"}`,
          ms(median(warmLoader.map((v) => v.ms))),
          page.path === "/pricing" ? String(expectedCalls) : "",
        ]);
      }
    }
    table(
      [
        "keys",
        "page",
        "status",
        "Stripe calls cold",
        "cold ms (× round trip)",
        "calls warm",
        "warm ms",
        "warm, loader only (?_data) ms",
        "ceil(keys/10)",
      ],
      rows,
    );
    console.log("Goal: cold < 1.3× one round trip (calls in parallel); warm: no Stripe call and < 20 ms.");

    console.log("\n## Stripe down (connections reset) and 5 s slow: each page within about 3 s, fallback marked");
    const outageRows: string[][] = [];
    await setTierKeys(db.url, lookupKeys(12));
    proxy.setLookupKeys(lookupKeys(12));
    for (const [label, mode] of [
      ["down", "down"],
      ["5 s slow", { delayMs: 5000 }],
    ] as const) {
      for (const page of PAGES) {
        proxy.setMode({ delayMs: 0 });
        await dropCaches(app, subscription);
        proxy.setMode(mode);
        const result = await visit(app, proxy, page.path, cookieFor(page.as));
        const marked = result.body.includes(page.fallback);
        const ok = result.status === 200 && marked && result.ms < 3500;
        if (!ok) allGood = false;
        outageRows.push([
          label,
          page.path,
          String(result.status),
          ms(result.ms),
          marked ? "yes" : "NO",
          ok ? "✓" : "✗",
        ]);
      }
    }
    proxy.setMode({ delayMs: 0 });
    table(["Stripe", "page", "status", "ms", "fallback marked", "within bound"], outageRows);
    if (!allGood) process.exitCode = 1;
  } finally {
    await app?.stop();
    await proxy.close();
    await emulator.close();
    await db.drop();
  }
}

await main();
