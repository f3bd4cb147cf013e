// How many events the log holds, read from counters kept up to date as events arrive (triggers on
// stripe_events, migration 20261206174000_event_count_rollups) instead of counted: the cost of every
// count here is the number of counter rows (days × providers × statuses × writer shards), never the
// number of events, whatever plan PostgreSQL caches.
import { type PaymentProvider, Prisma, type StripeEventStatus } from "~/generated/prisma/client.ts";
import { prisma } from "~/db/db.server.ts";

const COUNTED_STATUSES = ["failed", "pending", "processed", "stale", "ignored"] as const;
export type StatusCounts = Record<(typeof COUNTED_STATUSES)[number] | "total", number>;

/** Every status's count and all events' (exact, at any size), for the event log's summary line. */
export async function countEventsByStatus(): Promise<StatusCounts> {
  const rows = await prisma.$queryRaw<Array<{ status: StripeEventStatus; count: bigint }>>`
    SELECT status, sum(count)::bigint AS count FROM event_status_counts GROUP BY status`;
  const counts: StatusCounts = { failed: 0, pending: 0, processed: 0, stale: 0, ignored: 0, total: 0 };
  for (const row of rows) {
    const count = Number(row.count);
    counts.total += count;
    if ((COUNTED_STATUSES as readonly string[]).includes(row.status)) counts[row.status as keyof StatusCounts] = count;
  }
  return counts;
}

/** How many events failed and wait for support (one provider's, or all). */
export async function countFailedEvents(provider?: PaymentProvider): Promise<number> {
  const rows = await prisma.$queryRaw<Array<{ count: bigint | null }>>`
    SELECT sum(count)::bigint AS count FROM event_status_counts
     WHERE status = 'failed' ${provider ? Prisma.sql`AND provider = ${provider}::payment_provider` : Prisma.empty}`;
  return Number(rows[0]?.count ?? 0);
}

export type DailyEventCounts = { day: string; processed: number; failed: number; stale: number };

/** Processed, failed and stale events per UTC day of arrival for the last `days` days (oldest first, gaps filled). */
export async function countEventsPerDay(days: number, now = new Date()): Promise<DailyEventCounts[]> {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const since = new Date(today - (days - 1) * 86_400_000);
  const rows = await prisma.$queryRaw<Array<{ day: Date; status: string; count: bigint }>>`
    SELECT day, status::text AS status, sum(count)::bigint AS count
      FROM event_daily_counts
     WHERE day >= ${since}::date AND status IN ('processed', 'failed', 'stale')
     GROUP BY 1, 2`;
  const byDay = new Map<string, DailyEventCounts>();
  for (let i = 0; i < days; i++) {
    const day = new Date(since.getTime() + i * 86_400_000).toISOString().slice(0, 10);
    byDay.set(day, { day, processed: 0, failed: 0, stale: 0 });
  }
  for (const row of rows) {
    const entry = byDay.get(new Date(row.day).toISOString().slice(0, 10));
    if (entry && (row.status === "processed" || row.status === "failed" || row.status === "stale")) {
      entry[row.status] = Number(row.count);
    }
  }
  return [...byDay.values()];
}

/**
 * Folds every writer's shard of the days before `today` into one row per (day, provider, status), and
 * drops counters that reached zero, so reading a day costs one row per status once the day is over.
 * Today's shards stay apart: webhooks write them now.
 */
export async function foldPastDayCounts(today: Date): Promise<void> {
  await prisma.$executeRaw`
    WITH moved AS (
      DELETE FROM event_daily_counts WHERE day < ${today}::date AND shard <> 0
      RETURNING day, provider, status, count)
    INSERT INTO event_daily_counts (day, provider, status, shard, count)
    SELECT day, provider, status, 0, sum(count) FROM moved GROUP BY 1, 2, 3 HAVING sum(count) <> 0 ORDER BY 1, 2, 3
    ON CONFLICT (day, provider, status, shard) DO UPDATE SET count = event_daily_counts.count + EXCLUDED.count`;
  // Apart: one statement must not both delete and upsert the same row.
  await prisma.$executeRaw`DELETE FROM event_daily_counts WHERE day < ${today}::date AND count = 0`;
}
