// The event log at scale (a million events and more): keyset pages on (received_at, id), newest
// first, each filter served by its own index; counts whose cost is bounded at any size.
import { type PaymentProvider, Prisma, type StripeEventStatus } from "~/generated/prisma/client.ts";
import { prisma } from "~/db/db.server.ts";
import { escapeLike } from "./sql.server.ts";
import type { Db } from "./transaction.server.ts";

const EVENT_LOG_PAGE_SIZE = 50;

export type EventLogFilter = {
  /** Stripe's or Whop's webhooks (one log holds both). */
  provider?: PaymentProvider;
  status?: StripeEventStatus;
  /** An exact type, or a prefix when it ends with "." or "*" (`customer.subscription.`). */
  type?: string;
  from?: Date;
  /** Exclusive upper bound. */
  to?: Date;
  /** An event id, a Stripe customer id, or an object id (subscription, session…). */
  q?: string;
};

export type EventCursor = { receivedAt: Date; id: bigint };

export type EventLogRow = {
  id: bigint;
  provider: PaymentProvider;
  eventId: string;
  eventType: string;
  status: StripeEventStatus;
  attempts: number;
  error: string | null;
  note: string | null;
  customerId: string | null;
  objectId: string | null;
  receivedAt: Date;
  processedAt: Date | null;
};

function conditions(filter: EventLogFilter): Prisma.Sql[] {
  const where: Prisma.Sql[] = [];
  if (filter.provider) where.push(Prisma.sql`provider = ${filter.provider}::payment_provider`);
  if (filter.status) where.push(Prisma.sql`status = ${filter.status}::stripe_event_status`);
  if (filter.type) {
    const prefix = filter.type.endsWith(".") || filter.type.endsWith("*");
    if (prefix) where.push(Prisma.sql`event_type LIKE ${`${escapeLike(filter.type.replace(/\*$/, ""))}%`}`);
    else where.push(Prisma.sql`event_type = ${filter.type}`);
  }
  if (filter.from) where.push(Prisma.sql`received_at >= ${filter.from}`);
  if (filter.to) where.push(Prisma.sql`received_at < ${filter.to}`);
  if (filter.q) {
    const q = filter.q;
    if (q.startsWith("evt_")) where.push(Prisma.sql`event_id = ${q}`);
    else if (q.startsWith("cus_")) where.push(Prisma.sql`customer_id = ${q}`);
    else where.push(Prisma.sql`(event_id = ${q} OR customer_id = ${q} OR object_id = ${q})`);
  }
  return where;
}

const whereClause = (parts: Prisma.Sql[]) =>
  parts.length ? Prisma.sql`WHERE ${Prisma.join(parts, " AND ")}` : Prisma.empty;

/**
 * One page of the log, newest first. `after` pages to older events, `before` to newer ones; the
 * returned `rows` are always newest first, with one extra row fetched to tell whether more exist.
 */
export async function listEventLog(
  filter: EventLogFilter,
  page: { after?: EventCursor; before?: EventCursor } = {},
  take = EVENT_LOG_PAGE_SIZE,
): Promise<{ rows: EventLogRow[]; hasOlder: boolean; hasNewer: boolean }> {
  const parts = conditions(filter);
  const columns = Prisma.sql`id, provider, event_id AS "eventId", event_type AS "eventType", status, attempts, error, note,
    customer_id AS "customerId", object_id AS "objectId", received_at AS "receivedAt", processed_at AS "processedAt"`;
  if (page.before) {
    // Newer events: walk the index forwards from the cursor, then show them newest first.
    const rows = await prisma.$queryRaw<EventLogRow[]>`
      SELECT ${columns} FROM stripe_events
      ${whereClause([...parts, Prisma.sql`(received_at, id) > (${page.before.receivedAt}, ${page.before.id})`])}
      ORDER BY received_at ASC, id ASC LIMIT ${take + 1}`;
    const hasNewer = rows.length > take;
    return { rows: rows.slice(0, take).reverse(), hasNewer, hasOlder: true };
  }
  const cursor = page.after ? [Prisma.sql`(received_at, id) < (${page.after.receivedAt}, ${page.after.id})`] : [];
  const rows = await prisma.$queryRaw<EventLogRow[]>`
    SELECT ${columns} FROM stripe_events
    ${whereClause([...parts, ...cursor])}
    ORDER BY received_at DESC, id DESC LIMIT ${take + 1}`;
  return { rows: rows.slice(0, take), hasOlder: rows.length > take, hasNewer: Boolean(page.after) };
}

/** The planner's row estimate for a status (or all events): instant at any size, never a scan. */
async function estimate(status: StripeEventStatus | null): Promise<number> {
  const sql = status
    ? Prisma.sql`EXPLAIN (FORMAT JSON) SELECT 1 FROM stripe_events WHERE status = ${Prisma.raw(`'${status}'`)}::stripe_event_status`
    : Prisma.sql`EXPLAIN (FORMAT JSON) SELECT 1 FROM stripe_events`;
  const rows = await prisma.$queryRaw<Array<{ "QUERY PLAN": unknown }>>(sql);
  const plan = rows[0]?.["QUERY PLAN"];
  const parsed = (typeof plan === "string" ? JSON.parse(plan) : plan) as Array<{ Plan?: { "Plan Rows"?: number } }>;
  return Math.round(parsed[0]?.Plan?.["Plan Rows"] ?? 0);
}

/** Counts are exact up to here; beyond it the planner's estimate is close enough (and costs nothing). */
const EXACT_COUNT_CAP = 10_000;

/**
 * A count as the page shows it: exact ("14"), at least the cap ("10,000+") or, past the cap, the
 * planner's estimate ("~52,000"). A planner estimate alone is wrong on small or fresh tables (it said
 * "~30" beside 14 events), so it is only used once the exact count would be too costly.
 */
export type LogCount = { value: number; kind: "exact" | "at-least" | "estimate" };

const COUNTED_STATUSES = ["failed", "pending", "processed", "stale", "ignored"] as const;
export type StatusCounts = Record<(typeof COUNTED_STATUSES)[number] | "total", LogCount>;

/**
 * Every status's count, and all events'. One query of capped counts, each an index-only range of at
 * most EXACT_COUNT_CAP + 1 entries ((status, received_at, id), or (received_at, id) for all), so its
 * cost is bounded at any size; only a count that reaches the cap asks the planner too.
 */
export async function countEventLog(): Promise<StatusCounts> {
  const limit = EXACT_COUNT_CAP + 1;
  // The ORDER BY is the index's: without it PostgreSQL may pick a filtered sequential scan for a common
  // status, whose cost depends on where in the table its rows happen to lie.
  const capped = (status: StripeEventStatus | null) => Prisma.sql`(SELECT count(*) FROM (
      SELECT 1 FROM stripe_events ${status ? Prisma.sql`WHERE status = ${status}::stripe_event_status` : Prisma.empty}
       ORDER BY received_at DESC, id DESC LIMIT ${limit}) AS capped)`;
  const rows = await prisma.$queryRaw<Array<Record<string, bigint>>>`
    SELECT ${Prisma.join(
      [
        ...COUNTED_STATUSES.map((status) => Prisma.sql`${capped(status)} AS ${Prisma.raw(status)}`),
        Prisma.sql`${capped(null)} AS total`,
      ],
      ", ",
    )}`;
  const exact = rows[0] ?? {};
  const entries = await Promise.all(
    [...COUNTED_STATUSES, "total" as const].map(async (name): Promise<[string, LogCount]> => {
      const value = Number(exact[name] ?? 0);
      if (value <= EXACT_COUNT_CAP) return [name, { value, kind: "exact" }];
      const estimated = await estimate(name === "total" ? null : name);
      // Never below what was just counted.
      return [
        name,
        estimated > EXACT_COUNT_CAP
          ? { value: estimated, kind: "estimate" }
          : { value: EXACT_COUNT_CAP, kind: "at-least" },
      ];
    }),
  );
  return Object.fromEntries(entries) as StatusCounts;
}

/** How many failed events a filter matches, up to the newest one now (for "replay all failed"). */
export async function countFailedMatching(filter: EventLogFilter, upToId?: bigint, db: Db = prisma) {
  const parts = conditions({ ...filter, status: "failed" });
  if (upToId !== undefined) parts.push(Prisma.sql`id <= ${upToId}`);
  const rows = await db.$queryRaw<Array<{ count: bigint; maxId: bigint | null }>>`
    SELECT count(*) AS count, max(id) AS "maxId" FROM stripe_events ${whereClause(parts)}`;
  return { count: Number(rows[0]?.count ?? 0), maxId: rows[0]?.maxId ?? null };
}

/**
 * The next failed events of a bulk replay, oldest first, skipping those another instance holds and
 * those replayed since `startedAt` (by this bulk replay before a crash, or by support): a bulk replay
 * attempts each event once, also one that fails again.
 */
export async function nextFailedBatch(
  filter: EventLogFilter,
  { upToId, afterId, startedAt }: { upToId: bigint; afterId: bigint; startedAt: Date },
  size: number,
) {
  const parts = conditions({ ...filter, status: "failed" });
  parts.push(
    Prisma.sql`id <= ${upToId}`,
    Prisma.sql`id > ${afterId}`,
    Prisma.sql`NOT EXISTS (SELECT 1 FROM stripe_event_attempts a
       WHERE a.event_id = stripe_events.id AND a.source <> 'webhook' AND a.at >= ${startedAt})`,
  );
  return prisma.$queryRaw<Array<{ id: bigint; eventId: string }>>`
    SELECT id, event_id AS "eventId" FROM stripe_events ${whereClause(parts)} ORDER BY id ASC LIMIT ${size}`;
}
