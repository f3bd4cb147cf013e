// The event log at scale (ten million events and more): keyset pages on (received_at, id), newest
// first, each filter served by its own index, whatever plan PostgreSQL caches. Its counts are in
// event-counts.server.ts.
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

/** The type filter's prefix ("customer.subscription."), when it is one rather than an exact type. */
function typePrefix(type: string | undefined): string | null {
  if (!type || !(type.endsWith(".") || type.endsWith("*"))) return null;
  return type.replace(/\*$/, "");
}

function conditions(filter: EventLogFilter): Prisma.Sql[] {
  const where: Prisma.Sql[] = [];
  if (filter.provider) where.push(Prisma.sql`provider = ${filter.provider}::payment_provider`);
  if (filter.status) where.push(Prisma.sql`status = ${filter.status}::stripe_event_status`);
  if (filter.type) {
    const prefix = typePrefix(filter.type);
    if (prefix !== null) where.push(Prisma.sql`event_type LIKE ${`${escapeLike(prefix)}%`}`);
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

const COLUMNS = Prisma.sql`id, provider, event_id AS "eventId", event_type AS "eventType", status, attempts, error, note,
    customer_id AS "customerId", object_id AS "objectId", received_at AS "receivedAt", processed_at AS "processedAt"`;

/** `limit` events matching `filter` and `cursor`, in (received_at, id) order: newest first, or oldest first. */
function pageOfEvents(filter: EventLogFilter, cursor: Prisma.Sql[], newestFirst: boolean, limit: number) {
  const direction = Prisma.raw(newestFirst ? "DESC" : "ASC");
  const order = Prisma.sql`ORDER BY received_at ${direction}, id ${direction}`;
  const prefix = typePrefix(filter.type);
  if (prefix === null) {
    return prisma.$queryRaw<EventLogRow[]>`
      SELECT ${COLUMNS} FROM stripe_events ${whereClause([...conditions(filter), ...cursor])} ${order} LIMIT ${limit}`;
  }
  // A prefix matches a handful of event types. A LIKE with a parameter cannot use an index, and under
  // a cached generic plan it became a walk of every event: instead, list the types stored (one index
  // probe per distinct type), then take each matching type's page from its own (event_type,
  // received_at, id) range and merge them. Bounded by types × page, never by the table.
  const rest = conditions({ ...filter, type: undefined });
  return prisma.$queryRaw<EventLogRow[]>`
    WITH RECURSIVE stored_types AS (
      SELECT (SELECT min(event_type) FROM stripe_events) AS type
      UNION ALL
      SELECT (SELECT min(event_type) FROM stripe_events WHERE event_type > stored_types.type)
        FROM stored_types WHERE stored_types.type IS NOT NULL)
    SELECT matching.* FROM stored_types, LATERAL (
      SELECT ${COLUMNS} FROM stripe_events
      ${whereClause([Prisma.sql`event_type = stored_types.type`, ...rest, ...cursor])} ${order} LIMIT ${limit}) AS matching
     WHERE stored_types.type LIKE ${`${escapeLike(prefix)}%`}
    ORDER BY "receivedAt" ${direction}, id ${direction} LIMIT ${limit}`;
}

/**
 * One page of the log, newest first. `after` pages to older events, `before` to newer ones; the
 * returned `rows` are always newest first, with one extra row fetched to tell whether more exist.
 */
export async function listEventLog(
  filter: EventLogFilter,
  page: { after?: EventCursor; before?: EventCursor } = {},
  take = EVENT_LOG_PAGE_SIZE,
): Promise<{ rows: EventLogRow[]; hasOlder: boolean; hasNewer: boolean }> {
  if (page.before) {
    // Newer events: walk the index forwards from the cursor, then show them newest first.
    const cursor = Prisma.sql`(received_at, id) > (${page.before.receivedAt}, ${page.before.id})`;
    const rows = await pageOfEvents(filter, [cursor], false, take + 1);
    const hasNewer = rows.length > take;
    return { rows: rows.slice(0, take).reverse(), hasNewer, hasOlder: true };
  }
  const cursor = page.after ? [Prisma.sql`(received_at, id) < (${page.after.receivedAt}, ${page.after.id})`] : [];
  const rows = await pageOfEvents(filter, cursor, true, take + 1);
  return { rows: rows.slice(0, take), hasOlder: rows.length > take, hasNewer: Boolean(page.after) };
}

/**
 * A filter's conditions on failed events only. The status is written into the statement, not passed:
 * a cached generic plan then still knows failed events are few and reads their index range.
 */
function failedConditions(filter: EventLogFilter): Prisma.Sql[] {
  return [Prisma.sql`status = 'failed'`, ...conditions({ ...filter, status: undefined })];
}

/** How many failed events a filter matches, up to the newest one now (for "replay all failed"). */
export async function countFailedMatching(filter: EventLogFilter, upToId?: bigint, db: Db = prisma) {
  const parts = failedConditions(filter);
  if (upToId !== undefined) parts.push(Prisma.sql`id <= ${upToId}`);
  const rows = await db.$queryRaw<Array<{ count: bigint; maxId: bigint | null }>>`
    SELECT count(*) AS count, max(id) AS "maxId" FROM stripe_events ${whereClause(parts)}`;
  return { count: Number(rows[0]?.count ?? 0), maxId: rows[0]?.maxId ?? null };
}

/**
 * How many failed events a filter matches, counted up to `cap` (a page's preview: an index range of at
 * most `cap` entries; the bulk replay itself counts them all when it starts).
 */
export async function countFailedMatchingUpTo(filter: EventLogFilter, cap: number): Promise<number> {
  const rows = await prisma.$queryRaw<Array<{ count: bigint }>>`
    SELECT count(*) AS count FROM (
      SELECT 1 FROM stripe_events ${whereClause(failedConditions(filter))}
       ORDER BY received_at DESC, id DESC LIMIT ${cap}) AS capped`;
  return Number(rows[0]?.count ?? 0);
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
  const parts = failedConditions(filter);
  parts.push(
    Prisma.sql`id <= ${upToId}`,
    Prisma.sql`id > ${afterId}`,
    Prisma.sql`NOT EXISTS (SELECT 1 FROM stripe_event_attempts a
       WHERE a.event_id = stripe_events.id AND a.source <> 'webhook' AND a.at >= ${startedAt})`,
  );
  return prisma.$queryRaw<Array<{ id: bigint; eventId: string }>>`
    SELECT id, event_id AS "eventId" FROM stripe_events ${whereClause(parts)} ORDER BY id ASC LIMIT ${size}`;
}
