// Deliveries of outgoing webhooks (docs/decisions/018): claimed in batches under a lease, so two
// workers never send the same delivery at once, and their outcomes written back in one transaction
// per batch: the attempts, the deliveries' next step, and the endpoints' failing/success marks.
import { Prisma } from "~/generated/prisma/client.ts";
import { prisma } from "~/db/db.server.ts";
import { type Db, inTransaction } from "./transaction.server.ts";

export type ClaimedDelivery = {
  id: bigint;
  /** The attempt number this claim makes (1 for the first): the fence for writing its outcome back. */
  attempt: number;
  createdAt: Date;
  endpointId: number;
  url: string;
  secret: string;
  webhookId: string;
  payload: string;
};

/**
 * Takes up to `limit` due deliveries of enabled endpoints: each is leased until `leaseUntil` (another
 * worker skips it until then) and its attempt counted, committed at once so the lease holds while
 * the POST runs outside any transaction. SKIP LOCKED: concurrent claims take different rows.
 */
export function claimDueDeliveries(now: Date, limit: number, leaseUntil: Date): Promise<ClaimedDelivery[]> {
  return prisma.$queryRaw<ClaimedDelivery[]>`
    WITH due AS (
      SELECT d.id FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
       WHERE d.status = 'pending' AND d.next_attempt_at <= ${now} AND e.enabled
       ORDER BY d.next_attempt_at, d.id
       LIMIT ${limit}
       FOR UPDATE OF d SKIP LOCKED
    ), claimed AS (
      UPDATE webhook_deliveries d SET next_attempt_at = ${leaseUntil}, attempts = d.attempts + 1
        FROM due WHERE d.id = due.id
      RETURNING d.id, d.attempts, d.created_at, d.endpoint_id, d.message_id
    )
    SELECT c.id, c.attempts AS attempt, c.created_at AS "createdAt", c.endpoint_id AS "endpointId",
           e.url, e.secret, m.webhook_id AS "webhookId", m.payload::text AS payload
      FROM claimed c JOIN webhook_endpoints e ON e.id = c.endpoint_id JOIN webhook_messages m ON m.id = c.message_id`;
}

/** Whether any delivery of an enabled endpoint is due (the periodic sweep's question; one index range). */
export async function hasDueDeliveries(now: Date): Promise<boolean> {
  const rows = await prisma.$queryRaw<unknown[]>`
    SELECT 1 FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
     WHERE d.status = 'pending' AND d.next_attempt_at <= ${now} AND e.enabled LIMIT 1`;
  return rows.length > 0;
}

export type AttemptOutcome = {
  delivery: ClaimedDelivery;
  at: Date;
  statusCode: number | null;
  durationMs: number;
  responseExcerpt: string | null;
  error: string | null;
  /** "succeeded", "failed" (given up), or the time of the next attempt. */
  next: "succeeded" | "failed" | Date;
};

/**
 * Writes a batch's outcomes: every attempt, each delivery's new state (only while this worker's claim
 * is still the latest: a lease taken over by another worker is not overwritten), and per endpoint its
 * last success or the start of its failing streak (disableFailingEndpoints reads it).
 */
export async function recordAttempts(outcomes: readonly AttemptOutcome[]): Promise<void> {
  if (!outcomes.length) return;
  const ids = outcomes.map((o) => o.delivery.id);
  const attempts = outcomes.map((o) => o.delivery.attempt);
  const statuses = outcomes.map((o) => (o.next instanceof Date ? "pending" : o.next));
  const nextAt = outcomes.map((o) => (o.next instanceof Date ? o.next : o.at));
  return inTransaction(async (tx) => {
    await tx.$executeRaw`
      INSERT INTO webhook_delivery_attempts (delivery_id, at, status_code, duration_ms, response_excerpt, error)
      SELECT * FROM unnest(${ids}::bigint[], ${outcomes.map((o) => o.at)}::timestamptz[],
        ${outcomes.map((o) => o.statusCode)}::int[], ${outcomes.map((o) => o.durationMs)}::int[],
        ${outcomes.map((o) => o.responseExcerpt)}::varchar[], ${outcomes.map((o) => o.error)}::text[])`;
    await tx.$executeRaw`
      UPDATE webhook_deliveries d
         SET status = o.status::webhook_delivery_status, next_attempt_at = o.next_at, last_status = o.code,
             last_error = o.error, finished_at = CASE WHEN o.status = 'pending' THEN NULL ELSE o.at END
        FROM unnest(${ids}::bigint[], ${attempts}::int[], ${statuses}::text[], ${nextAt}::timestamptz[],
                    ${outcomes.map((o) => o.statusCode)}::int[], ${outcomes.map((o) => o.error)}::text[],
                    ${outcomes.map((o) => o.at)}::timestamptz[]) AS o(id, attempt, status, next_at, code, error, at)
       WHERE d.id = o.id AND d.attempts = o.attempt AND d.status = 'pending'`;
    await markEndpoints(tx, outcomes);
  });
}

async function markEndpoints(tx: Db, outcomes: readonly AttemptOutcome[]): Promise<void> {
  const byEndpoint = new Map<number, { success: Date | null; failure: Date | null }>();
  for (const outcome of outcomes) {
    const mark = byEndpoint.get(outcome.delivery.endpointId) ?? { success: null, failure: null };
    if (outcome.next === "succeeded") mark.success = max(mark.success, outcome.at);
    else mark.failure = min(mark.failure, outcome.at);
    byEndpoint.set(outcome.delivery.endpointId, mark);
  }
  const endpointIds = [...byEndpoint.keys()];
  const successes = endpointIds.map((id) => byEndpoint.get(id)?.success ?? null);
  const failures = endpointIds.map((id) => byEndpoint.get(id)?.failure ?? null);
  await tx.$executeRaw`
    UPDATE webhook_endpoints e
       SET last_success_at = COALESCE(GREATEST(e.last_success_at, o.success), e.last_success_at),
           failing_since = CASE WHEN o.success IS NOT NULL THEN NULL ELSE COALESCE(e.failing_since, o.failure) END
      FROM unnest(${endpointIds}::int[], ${successes}::timestamptz[], ${failures}::timestamptz[]) AS o(id, success, failure)
     WHERE e.id = o.id`;
}

/**
 * Disables ("failing") every enabled endpoint whose attempts have all failed since before
 * `failingBefore` (no success since): as Stripe does. The ids disabled. A handful of rows: no index.
 */
export async function disableFailingEndpoints(failingBefore: Date): Promise<number[]> {
  const rows = await prisma.$queryRaw<Array<{ id: number }>>`
    UPDATE webhook_endpoints SET enabled = false, disabled_reason = 'failing', disabled_at = now()
     WHERE enabled AND failing_since < ${failingBefore}
    RETURNING id`;
  return rows.map((row) => row.id);
}

const max = (a: Date | null, b: Date) => (a && a > b ? a : b);
const min = (a: Date | null, b: Date) => (a && a < b ? a : b);

/**
 * Puts failed deliveries of an endpoint (one, or all) back to pending, due now; the count put back. The
 * delivery's 3 days of retries count again from the replay (created_at: when it was last queued).
 */
export function requeueFailedDeliveries(db: Db, endpointId: number, deliveryId?: bigint): Promise<number> {
  const one = deliveryId === undefined ? Prisma.empty : Prisma.sql`AND id = ${deliveryId}`;
  return db.$executeRaw`
    UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = now(), finished_at = NULL,
           created_at = now()
     WHERE endpoint_id = ${endpointId} AND status = 'failed' ${one}`;
}

/** The statuses retention removes: finished deliveries (a pending one is still being sent, or waits for its endpoint). */
export const FINISHED_DELIVERY_STATUSES = ["succeeded", "failed"] as const;

/**
 * Removes up to about `limit` deliveries of one finished status that finished before `cutoff`, oldest
 * first, with their attempts, and the messages left with no delivery; returns how many of each. The
 * candidates are a range of the (status, finished_at, id) index (the status written into the
 * statement), never walked past pending ones; their messages are read by primary key (an array, not a
 * join, which a generic plan guessing a large LIMIT would make a hash join over the whole table) and
 * locked first, so two purges never each leave a message's last delivery to the other. A message keeps
 * every delivery not finished before `cutoff` (pending, or replayed since), and so stays.
 */
export async function deleteFinishedDeliveriesBefore(
  status: (typeof FINISHED_DELIVERY_STATUSES)[number],
  cutoff: Date,
  limit: number,
): Promise<{ deliveries: number; messages: number }> {
  if (!FINISHED_DELIVERY_STATUSES.includes(status)) throw new Error(`Retention never removes ${status} deliveries.`);
  return inTransaction(async (tx) => {
    const locked = await tx.$queryRaw<Array<{ id: bigint }>>`
      SELECT m.id FROM webhook_messages m
       WHERE m.id = ANY(ARRAY(SELECT d.message_id FROM webhook_deliveries d
                       WHERE d.status = ${Prisma.raw(`'${status}'`)}::webhook_delivery_status AND d.finished_at < ${cutoff}
                       ORDER BY d.finished_at, d.id LIMIT ${limit}))
       ORDER BY m.id FOR UPDATE OF m`;
    if (!locked.length) return { deliveries: 0, messages: 0 };
    const ids = locked.map((row) => row.id);
    // One statement sees the deliveries it deletes as still there: the message check leaves them out.
    const rows = await tx.$queryRaw<Array<{ deliveries: number; messages: number }>>`
      WITH gone AS (
        DELETE FROM webhook_deliveries d
         WHERE d.message_id = ANY(${ids}::bigint[]) AND d.status <> 'pending' AND d.finished_at < ${cutoff}
        RETURNING d.id
      ), emptied AS (
        DELETE FROM webhook_messages m
         WHERE m.id = ANY(${ids}::bigint[])
           AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d
                            WHERE d.message_id = m.id AND d.id NOT IN (SELECT id FROM gone))
        RETURNING m.id
      )
      SELECT (SELECT count(*) FROM gone)::int AS deliveries, (SELECT count(*) FROM emptied)::int AS messages`;
    return rows[0] ?? { deliveries: 0, messages: 0 };
  });
}
