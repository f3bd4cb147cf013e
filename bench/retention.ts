// Retention under load: a million expired events (with their attempts) removed by the retention purge
// while webhooks arrive at concurrency 32. The purge is the app's own (purgeExpiredEvents, in batches
// as the queued job runs it), started from this process against the same database; the webhooks go
// to the production app (its worker off, so only this purge runs). Same run, same deliveries:
// Tierdesk's p99 with the purge running against its p99 without, and the minimal handler's p99 as the
// baseline of both. Goal: the purge does not hold webhooks up (p99 within 1.5× of the baseline's).
//
//   npm run bench:retention [-- --skip-build --events 1000000 --concurrency 32]
import { parseArgs } from "node:util";
import { closeDatabase, postgresDatabase, useDatabase } from "../app/db/db.server.ts";
import { purgeExpiredEvents } from "../app/services/events/retention.server.ts";
import { parseConfig, useConfig } from "../app/utils/config.server.ts";
import { setLogLevel } from "../app/utils/logger.server.ts";
import { checkFinalState, createCustomers, planDeliveries, resetCustomers } from "./lib/deliveries.ts";
import { type LoadResult, runLoad } from "./lib/load.ts";
import { createBenchDatabase, SERVER_URL, withClient } from "./lib/postgres.ts";
import {
  buildApp,
  type RunningProcess,
  SESSION_SECRET,
  spawnServer,
  startApp,
  WEBHOOK_SECRET,
} from "./lib/processes.ts";
import { describeMachine, header, median, ms, table } from "./lib/report.ts";

const { values: options } = parseArgs({
  options: {
    events: { type: "string", default: "1000000" },
    customers: { type: "string", default: "300" },
    "events-per-customer": { type: "string", default: "10" },
    concurrency: { type: "string", default: "32" },
    "pool-size": { type: "string", default: "20" },
    "skip-build": { type: "boolean", default: false },
  },
});
const expired = Number(options.events);
const customers = Number(options.customers);
const eventsPerCustomer = Number(options["events-per-customer"]);
const concurrency = Number(options.concurrency);
const poolSize = options["pool-size"];

async function main() {
  buildApp(options["skip-build"]);
  const machine = await describeMachine(SERVER_URL);
  const db = await createBenchDatabase("retention");
  const started: RunningProcess[] = [];
  try {
    await withClient(db.url, (client) => createCustomers(client, customers));
    process.stdout.write(`Storing ${expired.toLocaleString("en-GB")} expired events with their attempts… `);
    const loadStarted = performance.now();
    await withClient(db.url, async (client) => {
      // Processed 100–200 days ago, each with one attempt (removed with it by cascade).
      await client.query(
        `WITH stored AS (
           INSERT INTO stripe_events (event_id, event_type, event_created_at, received_at, processed_at, status, attempts,
                                      object_id, customer_id, payload)
           SELECT 'evt_expired_' || i, 'invoice.paid', now() - interval '100 days' - i * interval '8 seconds',
                  now() - interval '100 days' - i * interval '8 seconds', now() - interval '100 days' - i * interval '8 seconds',
                  'processed', 1, 'in_expired_' || i, 'cus_expired_' || (i % 20000),
                  '{"id":"evt_expired_' || i || '","object":"event","type":"invoice.paid","data":{"object":{"id":"in_expired_' || i || '"}}}'
             FROM generate_series(1, $1::int) AS i
           RETURNING id)
         INSERT INTO stripe_event_attempts (event_id, at, source, outcome, duration_ms)
         SELECT id, now() - interval '100 days', 'webhook', 'processed', 4 FROM stored`,
        [expired],
      );
      await client.query("VACUUM ANALYZE stripe_events");
      await client.query("VACUUM ANALYZE stripe_event_attempts");
    });
    console.log(`${((performance.now() - loadStarted) / 1000).toFixed(1)} s`);

    const baseline = await spawnServer({
      name: "minimal-handler",
      script: "bench/lib/minimal-webhook-server.ts",
      env: { DATABASE_URL: db.url, WEBHOOK_SECRET, POOL_SIZE: poolSize },
      portPattern: /"port":(\d+)/,
    });
    started.push(baseline);
    // The worker off: this run's purge is the one started below, at a known moment.
    const app = await startApp({ databaseUrl: db.url, env: { DATABASE_POOL_SIZE: poolSize, WORKER_ENABLED: "false" } });
    started.push(app);
    const handlers = [
      { label: "minimal handler", target: baseline, tierdesk: false },
      { label: "Tierdesk", target: app, tierdesk: true },
    ];
    let round = 0;
    const problems: string[] = [];
    async function deliverTo(handler: (typeof handlers)[number]): Promise<LoadResult> {
      const plan = planDeliveries({ customers, eventsPerCustomer, seed: 900 + round, tag: `ret${round++}` });
      // Only this run's events are forgotten and checked: the expired ones stay for the purge.
      const recentSince = new Date(Date.now() - 86_400_000);
      await withClient(db.url, (client) => resetCustomers(client, { recentSince }));
      const result = await runLoad([handler.target.origin], plan.requests, { concurrency });
      const check = await withClient(db.url, (client) =>
        checkFinalState(client, plan, { attempts: handler.tierdesk, recentSince }),
      );
      if (!check.exact) problems.push(`${handler.label}: ${check.problems.join("; ")}`);
      return result;
    }
    for (const handler of handlers) await deliverTo(handler); // warm-up: JIT, pools, prepared statements

    const without = handlers.map(() => [] as LoadResult[]);
    for (let i = 0; i < 3; i++)
      for (const [h, handler] of handlers.entries()) without[h]!.push(await deliverTo(handler));

    // The purge, as the job runs it (1,000 events per statement), from this process.
    useConfig(parseConfig({ NODE_ENV: "production", SESSION_SECRET, DATABASE_URL: db.url, LOG_LEVEL: "warn" }));
    setLogLevel("warn");
    useDatabase(postgresDatabase(db.url, 2));
    const purgeStarted = performance.now();
    let purgeMs = 0;
    const purge = purgeExpiredEvents({ retentionDays: 90, budgetMs: Number.POSITIVE_INFINITY }).then((result) => {
      purgeMs = performance.now() - purgeStarted;
      return result;
    });
    let purging = true;
    void purge.finally(() => (purging = false));
    const during = handlers.map(() => [] as LoadResult[]);
    while (purging) for (const [h, handler] of handlers.entries()) during[h]!.push(await deliverTo(handler));
    const purged = await purge;
    if (!purged.removed) throw new Error("The purge removed nothing: the bench's expired events were not there.");

    header("Retention: a purge of expired events while webhooks arrive", machine);
    console.log(
      `${expired.toLocaleString("en-GB")} expired events (each with an attempt) purged by purgeExpiredEvents: ` +
        `${purged.removed.toLocaleString("en-GB")} removed in ${(purgeMs / 1000).toFixed(1)} s ` +
        `(${Math.round(purged.removed / (purgeMs / 1000)).toLocaleString("en-GB")}/s); meanwhile ${during[0]!.length} ` +
        `run(s) per handler of ${customers * eventsPerCustomer} events (+20% re-delivered) at concurrency ${concurrency}, medians.`,
    );
    const p99 = (list: LoadResult[]) => median(list.map((r) => r.p99));
    const rate = (list: LoadResult[]) => median(list.map((r) => r.perSecond));
    const rows: string[][] = [];
    for (const [phase, lists] of [
      ["no purge", without],
      ["purge running", during],
    ] as const) {
      for (const [h, handler] of handlers.entries()) {
        rows.push([
          phase,
          handler.label,
          rate(lists[h]!).toFixed(0),
          ms(median(lists[h]!.map((r) => r.p50))),
          ms(p99(lists[h]!)),
          `${(p99(lists[h]!) / p99(lists[0]!)).toFixed(2)}×`,
          `${(p99(lists[h]!) / p99(without[h]!)).toFixed(2)}×`,
        ]);
      }
    }
    table(
      ["phase", "handler", "events/s", "p50 ms", "p99 ms", "p99 / baseline's (same phase)", "p99 / own without purge"],
      rows,
    );
    const left = await withClient(db.url, (client) =>
      client.query<{ count: string }>(
        "SELECT count(*) AS count FROM stripe_events WHERE event_id LIKE 'evt_expired_%'",
      ),
    );
    console.log(
      `expired events left: ${left.rows[0]!.count}; final states: ${problems.length ? problems.join(" | ") : "exact"}`,
    );
    if (problems.length || Number(left.rows[0]!.count) !== 0) process.exitCode = 1;
  } finally {
    await closeDatabase().catch(() => {});
    for (const process of started) await process.stop();
    await db.drop();
  }
}

await main();
