// The support console at ten million stored events, on PostgreSQL: every list page, a user's page and
// /admin itself (the whole HTML page, signed in as support, through the production build) against the
// bare indexed SQL of its list, timed in the same run. Each is loaded 10 times per pooled connection
// first (so PostgreSQL has switched its named statements to whatever plan it caches), then 30+ times:
// median and p95. Measured twice: with failed and pending events stored, and with none pending.
// Goal: every page under 50 ms (median and p95).
//
// Run: npm run bench:event-log [-- --events 10000000 --rounds 30]
// Uses BENCH_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/postgres) to create and drop
// its own database (10M events take about 8 GB and several minutes to load).
import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";
import type { ServerBuild } from "@remix-run/node";
import pg from "pg";
import { createApp } from "../server/app.ts";
import { hashPassword } from "../app/models/user.server.ts";
import { parseConfig, useConfig } from "../app/utils/config.server.ts";
import { closeDatabase, postgresDatabase, useDatabase } from "../app/db/db.server.ts";
import { setLogLevel } from "../app/utils/logger.server.ts";
import { applyMigrations, pgRunner } from "../app/db/migrations.server.ts";
import { commitNewSession } from "../app/web/session.server.ts";
import { seed } from "../prisma/seed.ts";

// React and Remix pick their production builds from process.env (the app itself reads its config):
// set before the build, and with it React, is imported below.
process.env.NODE_ENV = "production";

const { values } = parseArgs({
  options: { events: { type: "string", default: "10000000" }, rounds: { type: "string", default: "30" } },
});
const EVENTS = Number(values.events);
const ROUNDS = Number(values.rounds);
// The bench reads its own settings here, like any script; the app reads only its config.
const SERVER_URL = process.env.BENCH_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";

function withDatabase(url: string, database: string) {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
const quantile = (values: number[], q: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * q))] ?? NaN;
// The app's pool: each connection gets the warm-up loads, so each has its statements' cached plans.
const POOL_SIZE = 4;
const WARM_UP_PER_CONNECTION = 10;
const CHUNK = 1_000_000;

const name = `tierdesk_bench_events_${randomBytes(4).toString("hex")}`;
const admin = new pg.Client({ connectionString: SERVER_URL });
await admin.connect();
await admin.query(`CREATE DATABASE "${name}"`);
const url = withDatabase(SERVER_URL, name);
const sql = new pg.Client({ connectionString: url });
await sql.connect();

try {
  const config = parseConfig({
    NODE_ENV: "production",
    SESSION_SECRET: "bench-secret",
    DATABASE_URL: url,
    DATABASE_POOL_SIZE: String(POOL_SIZE),
    LOG_LEVEL: "warn",
  });
  useConfig(config);
  setLogLevel("warn");
  await applyMigrations(pgRunner(sql));
  const database = postgresDatabase(url, 10);
  await seed(database.prisma, { hashPassword });
  useDatabase(database);

  console.log(`Loading ${EVENTS.toLocaleString("en-GB")} events…`);
  const started = performance.now();
  // Server-side generation, a million per statement: 8 types, 89.9% processed, 3% failed, 5% stale,
  // 2% ignored, 0.1% pending, 20,000 customers, one event every 3 seconds back in time (about 347
  // days at 10M), a realistic small payload. The counters are kept by the table's triggers as usual.
  for (let from = 1; from <= EVENTS; from += CHUNK) {
    await sql.query(
      `
    INSERT INTO stripe_events (event_id, event_type, event_created_at, received_at, processed_at, status, attempts,
                               object_id, customer_id, payload, error)
    SELECT 'evt_bench_' || i,
           (ARRAY['customer.subscription.updated','customer.subscription.created','customer.subscription.deleted',
                  'invoice.paid','invoice.payment_failed','checkout.session.completed','price.updated','charge.refunded'])[1 + i % 8],
           now() - (i * interval '3 seconds'), now() - (i * interval '3 seconds'), now() - (i * interval '3 seconds'),
           (CASE WHEN i % 1000 = 999 THEN 'pending' WHEN i % 100 < 90 THEN 'processed' WHEN i % 100 < 93 THEN 'failed'
                 WHEN i % 100 < 98 THEN 'stale' ELSE 'ignored' END)::stripe_event_status,
           1, 'sub_bench_' || (i % 20000), 'cus_bench_' || (i % 20000),
           '{"id":"evt_bench_' || i || '","object":"event","livemode":false,"type":"customer.subscription.updated","data":{"object":{"id":"sub_bench_' || (i % 20000) || '","customer":"cus_bench_' || (i % 20000) || '"}}}',
           CASE WHEN i % 100 BETWEEN 90 AND 92 THEN 'Price lookup key "legacy_monthly" belongs to no tier' END
      FROM generate_series($1::int, $2::int) AS i`,
      [from, Math.min(EVENTS, from + CHUNK - 1)],
    );
    process.stdout.write(".");
  }
  await sql.query("VACUUM ANALYZE stripe_events");
  console.log(`\nLoaded in ${((performance.now() - started) / 1000).toFixed(1)} s.`);
  // A customer with events, for the user's page.
  const customer = await database.prisma.user.create({
    data: {
      email: "bench-customer@example.com",
      passwordHash: "x",
      // Billing lives on accounts: the customer's personal account has the Stripe customer.
      memberships: {
        create: {
          role: "owner",
          account: { create: { name: "bench-customer", slug: "bench-customer", stripeCustomerId: "cus_bench_1234" } },
        },
      },
    },
  });

  const build = (await import(pathToFileURL(path.resolve("build/index.js")).href)) as ServerBuild;
  const server = createApp({ build, config }).listen(0);
  await new Promise((resolve) => server.once("listening", resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const support = await database.prisma.user.findUniqueOrThrow({ where: { email: "support@example.com" } });
  const cookie = (await commitNewSession(support.id)).split(";")[0] ?? "";

  // A page two (keyset cursor) and a day in the middle of the range.
  const middle = await sql.query<{ received_at: Date; id: string }>(
    "SELECT received_at, id FROM stripe_events ORDER BY received_at DESC, id DESC OFFSET 50 LIMIT 1",
  );
  const cursorRow = middle.rows[0];
  const cursor = cursorRow ? `${cursorRow.received_at.toISOString()}~${cursorRow.id}` : "";
  const day = new Date(Date.now() - 10 * 86_400_000).toISOString().slice(0, 10);
  const columns =
    "id, event_id, event_type, status, attempts, error, note, customer_id, object_id, received_at, processed_at";

  const cases: Array<{ name: string; page: string; sql: string; params: unknown[] }> = [
    {
      name: "/admin (overview)",
      page: "/admin",
      sql: "SELECT day, status, sum(count) FROM event_daily_counts WHERE day >= current_date - 13 GROUP BY 1, 2",
      params: [],
    },
    {
      name: "newest first",
      page: "/admin/events",
      sql: `SELECT ${columns} FROM stripe_events ORDER BY received_at DESC, id DESC LIMIT 51`,
      params: [],
    },
    {
      name: "page 2 (keyset)",
      page: `/admin/events?after=${encodeURIComponent(cursor)}`,
      sql: `SELECT ${columns} FROM stripe_events WHERE (received_at, id) < ($1, $2) ORDER BY received_at DESC, id DESC LIMIT 51`,
      params: [cursorRow?.received_at, cursorRow?.id],
    },
    {
      name: "status=failed",
      page: "/admin/events?status=failed",
      sql: `SELECT ${columns} FROM stripe_events WHERE status = 'failed' ORDER BY received_at DESC, id DESC LIMIT 51`,
      params: [],
    },
    {
      name: "status=pending",
      page: "/admin/events?status=pending",
      sql: `SELECT ${columns} FROM stripe_events WHERE status = 'pending' ORDER BY received_at DESC, id DESC LIMIT 51`,
      params: [],
    },
    {
      name: "provider=whop (none)",
      page: "/admin/events?provider=whop",
      sql: `SELECT ${columns} FROM stripe_events WHERE provider = 'whop' ORDER BY received_at DESC, id DESC LIMIT 51`,
      params: [],
    },
    {
      name: "type exact",
      page: "/admin/events?type=invoice.paid",
      sql: `SELECT ${columns} FROM stripe_events WHERE event_type = 'invoice.paid' ORDER BY received_at DESC, id DESC LIMIT 51`,
      params: [],
    },
    {
      name: "type prefix",
      page: "/admin/events?type=customer.subscription.",
      sql: `SELECT ${columns} FROM stripe_events WHERE event_type LIKE 'customer.subscription.%' ORDER BY received_at DESC, id DESC LIMIT 51`,
      params: [],
    },
    {
      name: "date range (one day)",
      page: `/admin/events?from=${day}&to=${day}`,
      sql: `SELECT ${columns} FROM stripe_events WHERE received_at >= $1 AND received_at < $2 ORDER BY received_at DESC, id DESC LIMIT 51`,
      params: [new Date(`${day}T00:00:00Z`), new Date(new Date(`${day}T00:00:00Z`).getTime() + 86_400_000)],
    },
    {
      name: "customer id",
      page: "/admin/events?q=cus_bench_1234",
      sql: `SELECT ${columns} FROM stripe_events WHERE customer_id = 'cus_bench_1234' ORDER BY received_at DESC, id DESC LIMIT 51`,
      params: [],
    },
    {
      name: "event id",
      page: "/admin/events?q=evt_bench_777777",
      sql: `SELECT ${columns} FROM stripe_events WHERE event_id = 'evt_bench_777777' ORDER BY received_at DESC, id DESC LIMIT 51`,
      params: [],
    },
    {
      name: "failed + type prefix + day",
      page: `/admin/events?status=failed&type=customer.subscription.&from=${day}&to=${day}`,
      sql: `SELECT ${columns} FROM stripe_events WHERE status = 'failed' AND event_type LIKE 'customer.subscription.%' AND received_at >= $1 AND received_at < $2 ORDER BY received_at DESC, id DESC LIMIT 51`,
      params: [new Date(`${day}T00:00:00Z`), new Date(new Date(`${day}T00:00:00Z`).getTime() + 86_400_000)],
    },
    {
      name: "replay-all preview (failed)",
      page: "/admin/events?status=failed&replayAll=1",
      sql: "SELECT sum(count) FROM event_status_counts WHERE status = 'failed'",
      params: [],
    },
    {
      name: "/admin/users",
      page: "/admin/users",
      sql: "SELECT id, email FROM users ORDER BY id DESC LIMIT 51",
      params: [],
    },
    {
      name: "a user's page",
      page: `/admin/users/${customer.id}`,
      sql: `SELECT ${columns} FROM stripe_events WHERE customer_id = 'cus_bench_1234' ORDER BY received_at DESC, id DESC LIMIT 11`,
      params: [],
    },
    {
      name: "one event's page",
      page: `/admin/events/evt_bench_${Math.ceil(EVENTS / 2)}`,
      sql: `SELECT * FROM stripe_events WHERE event_id = 'evt_bench_${Math.ceil(EVENTS / 2)}'`,
      params: [],
    },
  ];

  async function load(page: string) {
    const t0 = performance.now();
    const response = await fetch(`${base}${page}`, { headers: { Cookie: cookie } });
    const html = await response.text();
    if (response.status !== 200 || !html.includes("</html>")) throw new Error(`${page}: HTTP ${response.status}`);
    return performance.now() - t0;
  }
  async function timePage(page: string) {
    // Warm-up: concurrent loads so every pooled connection runs the page's statements 10 times or more.
    for (let i = 0; i < WARM_UP_PER_CONNECTION; i++)
      await Promise.all(Array.from({ length: POOL_SIZE }, () => load(page)));
    const times: number[] = [];
    for (let i = 0; i < ROUNDS; i++) times.push(await load(page));
    return { median: quantile(times, 0.5), p95: quantile(times, 0.95) };
  }
  const statementNames = new Map<string, string>();
  async function timeSql(query: string, params: unknown[]) {
    // A named statement, like the app's, warmed up the same number of times.
    const statement = {
      name: statementNames.get(query) ?? `bench_${statementNames.size}`,
      text: query,
      values: params,
    };
    statementNames.set(query, statement.name);
    for (let i = 0; i < WARM_UP_PER_CONNECTION; i++) await sql.query(statement);
    const times: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const t0 = performance.now();
      await sql.query(statement);
      times.push(performance.now() - t0);
    }
    return quantile(times, 0.5);
  }

  let allFast = true;
  async function measure(title: string) {
    console.log(
      `\n${EVENTS.toLocaleString("en-GB")} events, ${title}; PostgreSQL, production build, pool of ${POOL_SIZE}, ${WARM_UP_PER_CONNECTION} warm-up loads per connection, then ${ROUNDS} loads:`,
    );
    console.log("page                            median      p95   bare SQL  page/SQL  < 50 ms");
    for (const { name: label, page, sql: query, params } of cases) {
      const pageMs = await timePage(page);
      const sqlMs = await timeSql(query, params);
      const fast = pageMs.median < 50 && pageMs.p95 < 50;
      allFast &&= fast;
      console.log(
        `${label.padEnd(30)}${pageMs.median.toFixed(1).padStart(7)} ms${pageMs.p95.toFixed(1).padStart(7)} ms${sqlMs.toFixed(2).padStart(8)} ms${(pageMs.median / sqlMs).toFixed(0).padStart(8)}x   ${fast ? "yes" : "NO"}`,
      );
    }
  }
  await measure("failed and pending stored");
  await sql.query("UPDATE stripe_events SET status = 'processed', processed_at = now() WHERE status = 'pending'");
  await sql.query("ANALYZE stripe_events");
  await measure("none pending");
  console.log(allFast ? "\nEvery page is under 50 ms (median and p95)." : "\nSome pages are over 50 ms.");
  server.close();
  server.closeAllConnections();
  if (!allFast) process.exitCode = 1;
} finally {
  await closeDatabase().catch(() => {});
  await sql.end().catch(() => {});
  await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch(() => {});
  await admin.end().catch(() => {});
}
