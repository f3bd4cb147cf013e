// The one webhook pipeline, whatever the provider: store → claim → apply → record the attempt, in one
// transaction, exactly once (docs/decisions/002-webhooks-store-then-process.md). Each provider
// verifies and reads its own deliveries (app/services/stripe/webhook.server.ts,
// app/services/whop/webhook.server.ts) and hands the event here with how to claim and apply it.
//
// Deliveries come at least once, sometimes twice at the same moment, out of order, and are retried
// for days: the claim is one INSERT inside the transaction that processes the event (a concurrent
// duplicate waits on the unique index, then sees the outcome); a failure rolls the processing back,
// is stored with its error and answered 500 so the provider retries; a signed event Tierdesk cannot
// read is stored with the reason and answered 400, so it is not retried for days.
import type { z } from "zod";
import {
  type AttemptSource,
  claimStoredEvent,
  finishEvent,
  type NewStripeEvent,
  storeAndClaimEvent,
  storeFailedEvent,
} from "~/models/stripe-event.server.ts";
import { inTransaction, type Tx } from "~/models/transaction.server.ts";
import { logger } from "~/utils/logger.server.ts";
import { FulfilmentError, type FulfilmentOutcome, type ProcessingResult, type WebhookOutcome } from "./outcomes.ts";
import { notReplayable, recordedReplay, type ReplayAttempt, type ReplayOutcome } from "./replay.server.ts";

/** How a provider is named in logs. */
export type ProviderName = "Stripe" | "Whop";

/** A signed payload as its provider reads it: an event to apply, one to store as failed, or nothing storable. */
export type ReadEvent<E> =
  | { readable: true; type: string; event: E; stored: NewStripeEvent }
  | { readable: false; stored: NewStripeEvent; reason: string }
  | { malformed: string };

/** Claims a new event in `tx` (and may lock what it concerns in the same statement); null: a duplicate. */
export type Claim<E, C> = (tx: Tx, stored: NewStripeEvent, event: E) => Promise<C | null>;
/** Applies an event in `tx`, with what its claim locked. Throws to fail it. */
export type Apply<E, C> = (tx: Tx, event: E, claimed: C | undefined) => Promise<ProcessingResult>;

/** The plain claim: store the event and claim it, locking nothing else. */
export async function storeAndClaim(tx: Tx, stored: NewStripeEvent): Promise<true | null> {
  return (await storeAndClaimEvent(tx, stored)) ? true : null;
}

/** The first issues of a failed parse, as a reason support can read. */
export function describeIssues(issues: z.core.$ZodIssue[]) {
  return issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join(".") || "event"} ${issue.message}`)
    .join("; ");
}

/** A signed payload's envelope parsed with the provider's schema (and the whole JSON), or why it is not a storable event. */
export function readEnvelope<T extends z.ZodType>(
  provider: ProviderName,
  payload: string,
  schema: T,
): { envelope: z.output<T>; json: unknown } | { malformed: string } {
  let json: unknown;
  try {
    json = JSON.parse(payload);
  } catch {
    return { malformed: "The signed payload is not JSON." };
  }
  const envelope = schema.safeParse(json);
  if (!envelope.success)
    return { malformed: `The signed payload is not a ${provider} event: ${describeIssues(envelope.error.issues)}.` };
  return { envelope: envelope.data, json };
}

export const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** An applied object's outcome as stored on its event; `appliedDetail` keeps what applying changed as the note. */
export function fromFulfilment(outcome: FulfilmentOutcome, { appliedDetail }: { appliedDetail: boolean }) {
  if (outcome.result === "applied")
    return { status: "processed", note: appliedDetail ? outcome.detail : null } as const;
  return { status: outcome.result, note: outcome.detail } as const;
}

/** What the 500 tells the sender: our own explanations, never internals (those are stored for support). */
function publicError(eventId: string, error: unknown) {
  return error instanceof FulfilmentError
    ? `Processing failed: ${error.message}`
    : `Processing failed; the error is stored with event ${eventId} for support.`;
}

function logFailure(provider: ProviderName, eventId: string, type: string, error: unknown) {
  // A FulfilmentError is an explained, expected refusal (stored for support); anything else is a bug or an outage.
  if (error instanceof FulfilmentError)
    logger.info({ eventId, type, reason: error.message }, `${provider} event refused`);
  else logger.error({ eventId, type, err: error }, `${provider} event failed`);
}

/** Stores and processes one verified delivery's event exactly once, and says what to answer. */
export async function processDelivery<E, C>(
  provider: ProviderName,
  read: ReadEvent<E>,
  claim: Claim<E, C>,
  apply: Apply<E, C>,
): Promise<WebhookOutcome> {
  if ("malformed" in read) return { kind: "malformed", reason: read.malformed };
  const started = performance.now();
  const attempt = (source: AttemptSource) => ({ source, durationMs: Math.round(performance.now() - started) });
  if (!read.readable) {
    await storeFailedEvent(read.stored, read.reason, attempt("webhook"));
    return { kind: "unreadable", eventId: read.stored.eventId, reason: read.reason };
  }
  const { event, stored, type } = read;
  try {
    const result = await inTransaction(async (tx) => {
      const claimed = await claim(tx, stored, event);
      if (claimed === null) return null;
      const outcome = await apply(tx, event, claimed);
      await finishEvent(tx, stored.eventId, outcome.status, outcome.note, attempt("webhook"));
      return outcome;
    });
    if (!result) return { kind: "duplicate", eventId: stored.eventId };
    return { kind: "processed", eventId: stored.eventId, ...result };
  } catch (error) {
    logFailure(provider, stored.eventId, type, error);
    await storeFailedEvent(stored, errorMessage(error), attempt("webhook"));
    return { kind: "failed", eventId: stored.eventId, publicError: publicError(stored.eventId, error) };
  }
}

/**
 * Replays a stored event through the same `apply` (support's "replay", or a bulk replay): `read`
 * gives the event back (from the stored payload, or from the provider when the payload was stored
 * truncated: it then sets `attempt.source` to "resync"), or a failure. The event is claimed again in
 * the transaction that applies it; every replay is an attempt, also one that could not start.
 */
export async function replayEvent<E>(
  provider: ProviderName,
  stored: { eventId: string; eventType: string },
  { bulk }: { bulk: boolean },
  read: (attempt: ReplayAttempt) => Promise<ReadEvent<E> | ReplayOutcome>,
  apply: Apply<E, never>,
): Promise<ReplayOutcome> {
  const { eventId } = stored;
  let eventType = stored.eventType;
  const outcome = await recordedReplay(
    eventId,
    bulk ? "bulk_replay" : "replay",
    async (attempt) => {
      const got = await read(attempt);
      if ("ok" in got) return got;
      if ("malformed" in got) return { ok: false, error: got.malformed };
      if (!got.readable) return { ok: false, error: got.reason };
      eventType = got.type;
      const result = await inTransaction(async (tx) => {
        if (!(await claimStoredEvent(tx, eventId))) return null;
        const outcome = await apply(tx, got.event, undefined);
        await finishEvent(tx, eventId, outcome.status, outcome.note, {
          source: attempt.source,
          durationMs: attempt.durationMs(),
        });
        return outcome;
      });
      return result ? { ok: true, status: result.status } : "not-claimed";
    },
    (error) => logFailure(provider, eventId, eventType, error),
  );
  // Finished meanwhile by a delivery or another replay: refused, as if it had been finished before.
  return outcome === "not-claimed" ? notReplayable(eventId, "was finished meanwhile") : outcome;
}
