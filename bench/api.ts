// The product API's hot path (issue 20): `POST /api/v1/check` and `GET /api/v1/accounts/{id}/entitlements`
// on the production app versus a minimal node:http + pg handler (bench/lib/minimal-api-server.ts: the key
// by hash, the account's permissions by primary key, no cache), on the same fresh PostgreSQL database, in
// the same run, at concurrency 32 after a warm-up. Then invalidation: two app instances, a subscription
// change (a signed webhook) applied on A, and the time until B answers with the new tier.
//
//   npm run bench:api [-- --skip-build --requests 20000 --rounds 3 --concurrency 32 --changes 20]
import { createHash, randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import Stripe from "stripe";
import { event, subscription } from "../tests/stripe-fixtures.ts";
import { type LoadResult, percentile, type PreparedRequest, runLoad } from "./lib/load.ts";
import { createBenchDatabase, SERVER_URL, withClient } from "./lib/postgres.ts";
import { buildApp, type RunningProcess, spawnServer, startApp, WEBHOOK_SECRET } from "./lib/processes.ts";
import { describeMachine, header, median, ms, table } from "./lib/report.ts";

const { values: options } = parseArgs({
  options: {
    requests: { type: "string", default: "20000" },
    warmup: { type: "string", default: "3000" },
    rounds: { type: "string", default: "3" },
    concurrency: { type: "string", default: "32" },
    changes: { type: "string", default: "20" },
    "pool-size": { type: "string", default: "20" },
    "skip-build": { type: "boolean", default: false },
  },
});
const requests = Number(options.requests);
const warmup = Number(options.warmup);
const rounds = Number(options.rounds);
const concurrency = Number(options.concurrency);
const changes = Number(options.changes);
const poolSize = options["pool-size"];
const ACCOUNTS = 100;

buildApp(options["skip-build"]);
const machine = await describeMachine(SERVER_URL);
const database = await createBenchDatabase("api");
const running: RunningProcess[] = [];
try {
  // 100 accounts on Pro (active), each with a Stripe customer and subscription; one read key.
  const secret = `tdk_${randomBytes(32).toString("base64url")}`;
  const accountIds = await withClient(database.url, async (client) => {
    await client.query(`INSERT INTO api_keys (name, scope, prefix, secret_hash) VALUES ('bench', 'read', $1, $2)`, [
      secret.slice(0, 12),
      createHash("sha256").update(secret).digest("hex"),
    ]);
    const { rows } = await client.query<{ id: number }>(
      `INSERT INTO accounts (name, slug, tier_id, stripe_customer_id, stripe_subscription_id, subscription_status, billing_source)
       SELECT 'api-bench-' || n, 'api-bench-' || n, (SELECT id FROM subscription_tier WHERE key = 'pro'),
              'cus_apibench' || n, 'sub_apibench' || n, 'active', 'stripe'
         FROM generate_series(0, $1::int - 1) AS n
       RETURNING id`,
      [ACCOUNTS],
    );
    return rows.map((row) => row.id);
  });
  const auth = { Authorization: `Bearer ${secret}` };
  const checkRequests = (count: number): PreparedRequest[] =>
    Array.from({ length: count }, (_, i) => ({
      method: "POST",
      path: "/api/v1/check",
      headers: { ...auth, "Content-Type": "application/json" },
      body: Buffer.from(JSON.stringify({ account: String(accountIds[i % ACCOUNTS]), permission: "api.access" })),
    }));
  const entitlementRequests = (count: number): PreparedRequest[] =>
    Array.from({ length: count }, (_, i) => ({
      method: "GET",
      path: `/api/v1/accounts/${accountIds[i % ACCOUNTS]}/entitlements`,
      headers: auth,
    }));

  const app = await startApp({
    databaseUrl: database.url,
    env: {
      API_RATE_LIMIT_PER_MINUTE: "10000000",
      WORKER_ENABLED: "false",
      DATABASE_POOL_SIZE: poolSize,
    },
  });
  running.push(app);
  const baseline = await spawnServer({
    name: "minimal-api",
    script: "bench/lib/minimal-api-server.ts",
    env: { DATABASE_URL: database.url, POOL_SIZE: poolSize },
    portPattern: /"port":(\d+)/,
  });
  running.push(baseline);

  header(`bench:api — /api/v1 at concurrency ${concurrency}, ${requests} requests × ${rounds} rounds`, machine);
  const results: Record<string, { app: LoadResult[]; baseline: LoadResult[] }> = {};
  for (const [name, make] of [
    ["POST /api/v1/check", checkRequests],
    ["GET /api/v1/accounts/{id}/entitlements", entitlementRequests],
  ] as const) {
    results[name] = { app: [], baseline: [] };
    for (const server of [app, baseline]) await runLoad([server.origin], make(warmup), { concurrency });
    for (let round = 0; round < rounds; round++) {
      // Alternate who goes first: neither always gets the quieter machine.
      const order = round % 2 === 0 ? ([app, baseline] as const) : ([baseline, app] as const);
      for (const server of order) {
        const result = await runLoad([server.origin], make(requests), { concurrency });
        const ok = result.statuses[200] ?? 0;
        if (ok !== requests) throw new Error(`${server.name} ${name}: ${JSON.stringify(result.statuses)}`);
        results[name]![server === app ? "app" : "baseline"].push(result);
      }
    }
  }
  const rows = Object.entries(results).map(([name, { app: a, baseline: b }]) => {
    const appRate = median(a.map((r) => r.perSecond));
    const baseRate = median(b.map((r) => r.perSecond));
    const appP99 = median(a.map((r) => r.p99));
    const baseP99 = median(b.map((r) => r.p99));
    return [
      name,
      `${baseRate.toFixed(0)}/s, p99 ${ms(baseP99)} ms`,
      `${appRate.toFixed(0)}/s, p99 ${ms(appP99)} ms`,
      `${(appRate / baseRate).toFixed(2)}x`,
      `${(appP99 / baseP99).toFixed(2)}x`,
    ];
  });
  console.log("\nMedians over the rounds (goal: throughput ≥ 1.0x, p99 ≤ 1.0x):\n");
  table(["endpoint", "baseline (node:http + pg)", "Tierdesk", "throughput", "p99"], rows);
  await baseline.stop();

  // Invalidation: B caches the account's Pro; a webhook on A downgrades it to Hobbyist; B's answer changes.
  const other = await startApp({
    name: "tierdesk-b",
    databaseUrl: database.url,
    env: { API_RATE_LIMIT_PER_MINUTE: "10000000", WORKER_ENABLED: "false", DATABASE_POOL_SIZE: "5" },
  });
  running.push(other);
  const latencies: number[] = [];
  for (let n = 0; n < changes; n++) {
    const accountId = accountIds[n % ACCOUNTS]!;
    const url = `${other.origin}/api/v1/accounts/${accountId}/entitlements`;
    const tierOnB = async () =>
      ((await (await fetch(url, { headers: auth })).json()) as { tier: { key: string } }).tier.key;
    const lookupKey = n % 2 === 0 ? "hobbyist_monthly" : "pro_monthly";
    const want = lookupKey.split("_")[0]!;
    await tierOnB();
    await tierOnB(); // cached on B now
    const sub = subscription({
      id: `sub_apibench${n % ACCOUNTS}`,
      customer: `cus_apibench${n % ACCOUNTS}`,
      status: "active",
      lookupKey,
    });
    const payload = JSON.stringify(
      event("customer.subscription.updated", sub, {
        id: `evt_apibench_${n}`,
        created: Math.floor(Date.now() / 1000) + n,
      }),
    );
    const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET });
    const answered = await fetch(`${app.origin}/api/stripe/webhook`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Stripe-Signature": signature },
      body: payload,
    });
    if (answered.status !== 200) throw new Error(`webhook on A: ${answered.status} ${await answered.text()}`);
    // From A's answer (the change committed) until B answers the new tier.
    const started = performance.now();
    for (;;) {
      if ((await tierOnB()) === want) break;
      if (performance.now() - started > 5_000) throw new Error(`B never saw account ${accountId} on ${want}`);
    }
    latencies.push(performance.now() - started);
  }
  latencies.sort((a, b) => a - b);
  console.log(
    `\nInvalidation, ${changes} subscription changes applied on A (webhook answered) until B answers the new tier ` +
      `(goal ≤ 100 ms): median ${ms(median(latencies))} ms, p99 ${ms(percentile(latencies, 99))} ms, max ${ms(latencies.at(-1)!)} ms`,
  );
} finally {
  await Promise.all(running.map((server) => server.stop()));
  await database.drop();
}
