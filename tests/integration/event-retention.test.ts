// Retention and the counts the operator pages read: expired processed, stale and ignored events are
// removed by a job on the queue, failed and pending ones never, and /admin and /admin/events show
// exactly what is stored before and after a purge (counters kept by triggers, not counted per load).
// Also: the migration that added the counters counts a database that already holds events.
import { PGlite } from "@electric-sql/pglite";
import { beforeAll, describe, expect, it } from "vitest";
import { applyMigrations, readMigrations } from "../../app/db/migrations.server.ts";
import * as overviewRoute from "../../app/routes/admin._index.tsx";
import * as eventsRoute from "../../app/routes/admin.events._index/route.tsx";
import { purgeExpiredEvents, scheduleRetention } from "../../app/services/events/retention.server.ts";
import { startJobWorker } from "../../app/services/jobs/worker.server.ts";
import { testDb } from "../setup/database.ts";
import { waitFor } from "../bulk-replay-fixtures.ts";
import { useStripeEmulator } from "../stripe-harness.ts";
import { getRequest, routeArgs, seedDemoData, sessionCookieFor, settle } from "../utils.ts";

useStripeEmulator();
const prisma = () => testDb().prisma;
const loaderJson = async (run: () => Promise<unknown>) => (await settle(run)).json();

let support: string;
beforeAll(async () => {
  await seedDemoData();
  support = await sessionCookieFor("support@example.com");
});

/** Stores `count` events of a status, received `daysAgo` days ago, each with one attempt. */
async function storeEvents(tag: string, status: string, daysAgo: number, count: number, provider = "stripe") {
  await prisma().$executeRawUnsafe(
    `WITH stored AS (
       INSERT INTO stripe_events (provider, event_id, event_type, status, received_at, attempts, payload)
       SELECT $1::payment_provider, 'evt_' || $2 || '_' || n, 'invoice.paid', $3::stripe_event_status,
              now() - make_interval(days => $4) - make_interval(secs => n), 1, '{}'
         FROM generate_series(1, $5) AS n
       RETURNING id, status)
     INSERT INTO stripe_event_attempts (event_id, source, outcome, duration_ms)
     SELECT id, 'webhook', status, 3 FROM stored`,
    provider,
    tag,
    status,
    daysAgo,
    count,
  );
}

async function storedByStatus() {
  const groups = await prisma().stripeEvent.groupBy({ by: ["status"], _count: { _all: true } });
  return Object.fromEntries(groups.map((group) => [group.status, group._count._all])) as Record<string, number>;
}

/** What /admin/events and /admin say, beside what is stored. */
async function pagesAgreeWithStore() {
  const stored = await storedByStatus();
  const events = await loaderJson(() => eventsRoute.loader(routeArgs(getRequest("/admin/events", support))));
  for (const status of ["failed", "pending", "processed", "stale", "ignored"]) {
    expect(events.counts[status], status).toBe(stored[status] ?? 0);
  }
  expect(events.counts.total).toBe(Object.values(stored).reduce((sum, n) => sum + n, 0));
  const overview = await loaderJson(() => overviewRoute.loader(routeArgs(getRequest("/admin", support))));
  expect(overview.failedEvents).toBe(stored.failed ?? 0);
  const recent = await prisma().$queryRaw<Array<{ status: string; count: bigint }>>`
    SELECT status::text AS status, count(*) AS count FROM stripe_events
     WHERE received_at >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' - interval '13 days'
     GROUP BY 1`;
  const chart = (overview.daily as Array<{ processed: number; failed: number; stale: number }>).reduce(
    (sum, day) => ({
      processed: sum.processed + day.processed,
      failed: sum.failed + day.failed,
      stale: sum.stale + day.stale,
    }),
    { processed: 0, failed: 0, stale: 0 },
  );
  const recentOf = (status: string) => Number(recent.find((row) => row.status === status)?.count ?? 0);
  expect(chart).toEqual({ processed: recentOf("processed"), failed: recentOf("failed"), stale: recentOf("stale") });
  return stored;
}

describe("retention", () => {
  it("removes expired processed, stale and ignored events in batches, never failed or pending ones, and the pages' counts stay exact", async () => {
    await storeEvents("old_processed", "processed", 120, 25);
    await storeEvents("old_stale", "stale", 95, 7);
    await storeEvents("old_ignored", "ignored", 91, 5, "whop");
    await storeEvents("old_failed", "failed", 200, 4);
    await storeEvents("old_pending", "pending", 150, 2);
    await storeEvents("recent_processed", "processed", 3, 9);
    await storeEvents("recent_failed", "failed", 1, 3);
    await storeEvents("edge_processed", "processed", 89, 2);
    const before = await pagesAgreeWithStore();
    expect(before).toMatchObject({ processed: 36, stale: 7, ignored: 5, failed: 7, pending: 2 });

    const result = await purgeExpiredEvents({ batchSize: 4 });
    expect(result).toEqual({ removed: 37, finished: true });
    const after = await pagesAgreeWithStore();
    expect(after).toEqual({ processed: 11, failed: 7, pending: 2 });
    expect(await prisma().stripeEvent.count({ where: { eventId: { startsWith: "evt_old_failed_" } } })).toBe(4);
    expect(await prisma().stripeEvent.count({ where: { eventId: { startsWith: "evt_old_pending_" } } })).toBe(2);
    // The removed events' attempts went with them; the kept ones' stayed.
    const orphans = await prisma().$queryRaw<Array<{ count: bigint }>>`
      SELECT count(*) AS count FROM stripe_event_attempts a
       WHERE NOT EXISTS (SELECT 1 FROM stripe_events e WHERE e.id = a.event_id)`;
    expect(Number(orphans[0]!.count)).toBe(0);
    expect(await prisma().stripeEventAttempt.count()).toBe(11 + 7 + 2);
    // Past days' counters are folded to one row per day, provider and status, and zeros dropped.
    const rows = await prisma().$queryRaw<Array<{ shards: bigint; zeros: bigint }>>`
      SELECT count(*) FILTER (WHERE shard <> 0) AS shards, count(*) FILTER (WHERE count = 0) AS zeros
        FROM event_daily_counts WHERE day < (now() AT TIME ZONE 'UTC')::date`;
    expect(rows[0]).toEqual({ shards: 0n, zeros: 0n });
    await pagesAgreeWithStore();
  });

  it("stops when its time is up and says more is left; the next step finishes", async () => {
    await storeEvents("later_processed", "processed", 100, 30);
    const first = await purgeExpiredEvents({ batchSize: 5, budgetMs: 0 });
    expect(first).toEqual({ removed: 0, finished: false });
    const next = await purgeExpiredEvents({ batchSize: 5 });
    expect(next).toEqual({ removed: 30, finished: true });
    await pagesAgreeWithStore();
  });

  it("a shorter EVENT_RETENTION_DAYS keeps fewer days", async () => {
    await storeEvents("week_old", "processed", 8, 3);
    await storeEvents("day_old", "stale", 1, 2);
    // These 3, and the 2 processed 89 days ago that a 90-day retention kept.
    expect(await purgeExpiredEvents({ retentionDays: 7 })).toMatchObject({ removed: 5, finished: true });
    expect(await prisma().stripeEvent.count({ where: { eventId: { startsWith: "evt_day_old_" } } })).toBe(2);
    await pagesAgreeWithStore();
  });

  it("runs as a job on the queue, put there by the worker once an hour", async () => {
    await storeEvents("queued_processed", "processed", 100, 12);
    await startJobWorker();
    // The worker put this hour's purge on the queue at start; asking again in the same hour adds none.
    await scheduleRetention();
    await waitFor(
      "the queued purge to remove expired events",
      () => prisma().stripeEvent.count({ where: { eventId: { startsWith: "evt_queued_processed_" } } }),
      (left) => left === 0,
      15_000,
    );
    const jobs = await prisma().$queryRaw<Array<{ count: bigint }>>`
      SELECT count(*) AS count FROM pgboss.job WHERE name = 'event-retention'`;
    expect(Number(jobs[0]!.count)).toBe(1);
    await pagesAgreeWithStore();
  });
});

describe("the counters' migration", () => {
  it("counts the events a database already holds, then keeps counting", async () => {
    const pglite = await PGlite.create();
    try {
      const all = readMigrations();
      const index = all.findIndex((migration) => migration.name.endsWith("_event_count_rollups"));
      const runner = {
        exec: (sql: string) => pglite.exec(sql),
        query: <T>(sql: string, params?: unknown[]) => pglite.query<T>(sql, params),
      };
      await applyMigrations(runner, all.slice(0, index));
      await pglite.exec(`
        INSERT INTO stripe_events (provider, event_id, event_type, status, received_at, payload)
        SELECT (CASE WHEN n % 5 = 0 THEN 'whop' ELSE 'stripe' END)::payment_provider, 'evt_' || n, 'invoice.paid',
               (ARRAY['processed','failed','stale','ignored','pending'])[1 + n % 4 + (n % 7 = 0)::int]::stripe_event_status,
               now() - make_interval(days => n % 20), '{}'
          FROM generate_series(1, 500) AS n`);
      const expected = await pglite.query<{ day: string; provider: string; status: string; count: number }>(`
        SELECT ((received_at AT TIME ZONE 'UTC')::date)::text AS day, provider::text, status::text, count(*)::int AS count
          FROM stripe_events GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`);
      expect(await applyMigrations(runner, all)).toContain(all[index]!.name);
      const counted = () =>
        pglite.query<{ day: string; provider: string; status: string; count: number }>(`
          SELECT day::text AS day, provider::text, status::text, sum(count)::int AS count
            FROM event_daily_counts GROUP BY 1, 2, 3 HAVING sum(count) <> 0 ORDER BY 1, 2, 3`);
      expect((await counted()).rows).toEqual(expected.rows);
      const totals = await pglite.query<{ count: number }>(`SELECT sum(count)::int AS count FROM event_status_counts`);
      expect(totals.rows[0]!.count).toBe(500);
      // And from now on, every change of status, insert and delete moves the counters.
      await pglite.exec(`UPDATE stripe_events SET status = 'processed' WHERE status = 'failed'`);
      await pglite.exec(`DELETE FROM stripe_events WHERE event_id IN ('evt_1', 'evt_2', 'evt_3')`);
      await pglite.exec(`INSERT INTO stripe_events (event_id, event_type, payload) VALUES ('evt_new', 'x', '{}')`);
      const now = await pglite.query<{ day: string; provider: string; status: string; count: number }>(`
        SELECT ((received_at AT TIME ZONE 'UTC')::date)::text AS day, provider::text, status::text, count(*)::int AS count
          FROM stripe_events GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`);
      expect((await counted()).rows).toEqual(now.rows);
    } finally {
      await pglite.close();
    }
  });
});
