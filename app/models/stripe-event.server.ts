// Every Stripe webhook is stored with its outcome and error (dj-stripe style), so support can
// inspect failures and replay them. `event_id` is unique: duplicates share a row.
//
// A delivery stores and claims its event with one INSERT … ON CONFLICT inside the transaction that
// processes it. A concurrent duplicate's INSERT waits on the unique index until that transaction
// ends, then sees the outcome: no polling, and a claim never outlives its transaction or connection.
import type { PaymentProvider, StripeEvent, StripeEventStatus } from "~/generated/prisma/client.ts";
import { prisma } from "~/db/db.server.ts";
import { Prisma } from "~/generated/prisma/client.ts";
import { type Db, executeAtCommit } from "./transaction.server.ts";
import {
  BILLING_ACCOUNT_COLUMNS,
  type BillingAccount,
  type LockedBillingAccountRow,
  lockedBillingAccount,
} from "./billing-account.server.ts";

export type { StripeEvent, StripeEventStatus } from "~/generated/prisma/client.ts";

export const MAX_STORED_PAYLOAD_BYTES = 16 * 1024;
const MAX_STORED_ERROR_CHARS = 4000;

/** The payload cut to 16 KiB of UTF-8 without splitting a character. */
function truncatePayload(payload: string): string {
  const bytes = Buffer.from(payload, "utf8");
  if (bytes.length <= MAX_STORED_PAYLOAD_BYTES) return payload;
  let end = MAX_STORED_PAYLOAD_BYTES;
  // Step back over UTF-8 continuation bytes (10xxxxxx) to a character boundary.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString("utf8");
}

export type NewStripeEvent = {
  /** Who sent it; Stripe unless said (the log holds Whop's webhooks too). */
  provider?: PaymentProvider;
  eventId: string;
  eventType: string;
  /** Stripe's `created`: when it happened, not when it arrived. */
  createdAt: Date;
  /** `data.object.id`, and that object's Stripe customer, when they have one. */
  objectId: string | null;
  customerId: string | null;
  /** The raw body; stored truncated to 16 KiB. */
  payload: string;
};

const insertAndClaim = (event: NewStripeEvent) => Prisma.sql`
    INSERT INTO stripe_events (provider, event_id, event_type, event_created_at, object_id, customer_id, payload, status, attempts)
    VALUES (${event.provider ?? "stripe"}::payment_provider, ${event.eventId}, ${event.eventType}, ${event.createdAt},
            ${event.objectId}, ${event.customerId}, ${truncatePayload(event.payload)}, 'pending', 1)
    ON CONFLICT (event_id) DO UPDATE SET attempts = stripe_events.attempts + 1
      WHERE stripe_events.status IN ('pending', 'failed', 'processing')
    RETURNING attempts`;

/**
 * Stores the event if new and claims it for processing in the caller's transaction. False when it
 * is already finished (processed, stale or ignored): a duplicate. A failed or pending event is
 * claimed again (Stripe's retry, or a redelivery after a crash).
 */
export async function storeAndClaimEvent(tx: Db, event: NewStripeEvent): Promise<boolean> {
  const rows = await tx.$queryRaw<Array<{ attempts: number }>>`${insertAndClaim(event)}`;
  return rows.length === 1;
}

/**
 * storeAndClaimEvent and, in the same statement (one round trip less per event), when the event was
 * claimed, the account with that Stripe customer locked as lockBillingAccount locks it (null: no such account).
 * The claim comes first: a duplicate waits on the event's unique index holding nothing.
 */
export async function storeClaimAndLockCustomer(
  tx: Db,
  event: NewStripeEvent,
  stripeCustomerId: string,
): Promise<{ claimed: false } | { claimed: true; account: BillingAccount | null }> {
  const rows = await tx.$queryRaw<Array<{ claimed: boolean } & Partial<LockedBillingAccountRow>>>`
    WITH claim AS (${insertAndClaim(event)}),
    locked AS (
      SELECT ${BILLING_ACCOUNT_COLUMNS} FROM accounts a
       WHERE a.stripe_customer_id = ${stripeCustomerId} AND EXISTS (SELECT 1 FROM claim)
         FOR UPDATE)
    SELECT EXISTS (SELECT 1 FROM claim) AS claimed, locked.* FROM (SELECT 1) AS one LEFT JOIN locked ON true`;
  const { claimed, ...row } = rows[0] ?? { claimed: false };
  if (!claimed) return { claimed: false };
  return { claimed: true, account: row.id == null ? null : lockedBillingAccount(tx, row as LockedBillingAccountRow) };
}

/** Claims a stored event for a replay, in the caller's transaction; false when it is finished. */
export async function claimStoredEvent(tx: Db, eventId: string): Promise<boolean> {
  const claimed = await tx.$executeRaw`
    UPDATE stripe_events SET attempts = attempts + 1
     WHERE event_id = ${eventId} AND status IN ('pending', 'failed', 'processing')`;
  return claimed === 1;
}

export type FinishedStatus = Extract<StripeEventStatus, "processed" | "stale" | "ignored">;

export type AttemptSource = "webhook" | "replay" | "bulk_replay" | "resync";
/** How a processing attempt went, for the event's history. */
export type Attempt = { source: AttemptSource; durationMs: number };

/**
 * Records the outcome of a claimed event and the attempt, in the transaction that processed it: one
 * statement, the transaction's last (sent with COMMIT where the connection allows).
 */
export async function finishEvent(
  tx: Db,
  eventId: string,
  status: FinishedStatus,
  note: string | null,
  attempt: Attempt,
) {
  // A success clears the error a failed earlier attempt left.
  await executeAtCommit(
    tx,
    Prisma.sql`
    WITH finished AS (
      UPDATE stripe_events
         SET status = ${status}::stripe_event_status, processed_at = now(), error = NULL, note = ${note}
       WHERE event_id = ${eventId}
       RETURNING id)
    INSERT INTO stripe_event_attempts (event_id, source, outcome, duration_ms)
    SELECT id, ${attempt.source}::event_attempt_source, ${status}::stripe_event_status, ${attempt.durationMs} FROM finished`,
  );
}

/**
 * Stores an event as failed with its error (and the attempt), after its processing transaction rolled
 * back. Never overwrites an outcome a concurrent delivery recorded meanwhile.
 */
export async function storeFailedEvent(event: NewStripeEvent, error: string, attempt: Attempt) {
  const message = error.slice(0, MAX_STORED_ERROR_CHARS);
  await prisma.$executeRaw`
    WITH failed AS (
      INSERT INTO stripe_events (provider, event_id, event_type, event_created_at, object_id, customer_id, payload, status, attempts, error)
      VALUES (${event.provider ?? "stripe"}::payment_provider, ${event.eventId}, ${event.eventType}, ${event.createdAt},
              ${event.objectId}, ${event.customerId}, ${truncatePayload(event.payload)}, 'failed', 1, ${message})
      ON CONFLICT (event_id) DO UPDATE SET status = 'failed', error = ${message}, attempts = stripe_events.attempts + 1
        WHERE stripe_events.status IN ('pending', 'failed', 'processing')
      RETURNING id)
    INSERT INTO stripe_event_attempts (event_id, source, outcome, error, duration_ms)
    SELECT id, ${attempt.source}::event_attempt_source, 'failed', ${message}, ${attempt.durationMs} FROM failed`;
}

/** Records a replay's failure on a stored event (the replay's transaction rolled back). */
export async function failStoredEvent(eventId: string, error: string, attempt: Attempt) {
  const message = error.slice(0, MAX_STORED_ERROR_CHARS);
  await prisma.$executeRaw`
    WITH failed AS (
      UPDATE stripe_events SET status = 'failed', error = ${message}, attempts = attempts + 1
       WHERE event_id = ${eventId} AND status IN ('pending', 'failed', 'processing')
       RETURNING id)
    INSERT INTO stripe_event_attempts (event_id, source, outcome, error, duration_ms)
    SELECT id, ${attempt.source}::event_attempt_source, 'failed', ${message}, ${attempt.durationMs} FROM failed`;
}

/** Every processing attempt of an event, oldest first. */
export function listEventAttempts(eventRowId: bigint) {
  return prisma.stripeEventAttempt.findMany({
    where: { eventId: eventRowId },
    orderBy: [{ at: "asc" }, { id: "asc" }],
  });
}

export function getStoredEvent(eventId: string): Promise<StripeEvent | null> {
  return prisma.stripeEvent.findUnique({ where: { eventId } });
}

/** Whether a deletion of this subscription, stamped with this very second, was applied. */
export async function wasSubscriptionDeletedAt(tx: Db, subscriptionId: string, at: Date): Promise<boolean> {
  const found = await tx.stripeEvent.findFirst({
    where: {
      objectId: subscriptionId,
      eventType: "customer.subscription.deleted",
      eventCreatedAt: at,
      status: "processed",
    },
    select: { id: true },
  });
  return found !== null;
}

/** Whether this customer's events come from Stripe's live or test mode (the newest event says). */
export async function livemodeOfCustomer(customerId: string): Promise<boolean | null> {
  const rows = await prisma.$queryRaw<Array<{ payload: string }>>`
    SELECT payload FROM stripe_events WHERE customer_id = ${customerId} ORDER BY received_at DESC, id DESC LIMIT 1`;
  const match = rows[0]?.payload.match(/"livemode"\s*:\s*(true|false)/);
  return match ? match[1] === "true" : null;
}

/** The statuses retention removes: what no longer needs anyone (failed and pending events wait for support). */
export const RETAINED_FOR_A_TIME = ["processed", "stale", "ignored"] as const;

/**
 * Removes up to `limit` events of one finished status received before `cutoff`, oldest first, with
 * their attempts; returns how many. A range of the (status, received_at, id) index whatever the plan:
 * the status is written into the statement, never walked past failed or pending ones.
 */
export async function deleteFinishedEventsBefore(
  status: (typeof RETAINED_FOR_A_TIME)[number],
  cutoff: Date,
  limit: number,
): Promise<number> {
  if (!RETAINED_FOR_A_TIME.includes(status)) throw new Error(`Retention never removes ${status} events.`);
  return prisma.$executeRaw`
    DELETE FROM stripe_events WHERE id IN (
      SELECT id FROM stripe_events
       WHERE status = ${Prisma.raw(`'${status}'`)}::stripe_event_status AND received_at < ${cutoff}
       ORDER BY received_at, id LIMIT ${limit})`;
}
