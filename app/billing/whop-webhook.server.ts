// Whop webhooks: verify (Standard Webhooks), then store and process in one transaction, exactly
// once, in the same event log as Stripe's (provider "whop"), with the same claim: one INSERT … ON
// CONFLICT inside the transaction that processes the event (app/models/stripe-event.server.ts).
//
// Whop delivers at least once and unordered, and retries failures: a duplicate (same `webhook-id`)
// waits on the unique index and then sees the outcome; an older state of a membership is stale; a
// failure rolls back, is stored with its error and answered 500 so Whop retries; a signed event that
// Tierdesk cannot read is stored as failed and answered 400. Returns typed outcomes; the route maps
// them to HTTP.
import { z } from "zod";
import {
  type AttemptSource,
  claimStoredEvent,
  type FinishedStatus,
  finishEvent,
  type NewStripeEvent,
  type StripeEvent,
  storeAndClaimEvent,
  storeFailedEvent,
} from "~/models/stripe-event.server.ts";
import { inTransaction, type Tx } from "~/models/transaction.server.ts";
import { BodyTooLargeError, readRawBody, WEBHOOK_BODY_LIMIT } from "~/utils/http.server.ts";
import { logger } from "~/utils/logger.server.ts";
import { FulfilmentError, type FulfilmentOutcome } from "./fulfilment.server.ts";
import { whopEventAction, type WhopEventAction } from "./rules.ts";
import { notReplayable, recordedReplay, type ReplayOutcome } from "./replay.server.ts";
import type { WebhookOutcome } from "./webhook.server.ts";
import { invalidateWhopCatalog } from "./whop-catalog.server.ts";
import { applyWhopMembership } from "./whop-fulfilment.server.ts";
import {
  hasValidWhopSignature,
  MembershipShape,
  retrieveMembership,
  webhookHeadersOf,
  type WhopMembership,
  whopConnection,
} from "./whop.server.ts";

export const MAX_WHOP_WEBHOOK_BODY_BYTES = WEBHOOK_BODY_LIMIT;

// ---------------------------------------------------------------------------------------------
// Reading a signed event: it must be one we can store (ids VARCHAR(255), no NUL) and read.

const EVENT_ID = /^[A-Za-z0-9_.:-]{1,255}$/;
const WhopId = z.string().regex(/^[A-Za-z0-9_-]{1,255}$/);
const Envelope = z.object({
  type: z.string().regex(/^[a-z0-9_.]{1,255}$/, "is not a Whop event type"),
  timestamp: z.union([z.string(), z.number()]).transform((value, ctx) => {
    const date = typeof value === "number" ? new Date(value * 1000) : new Date(value);
    if (Number.isNaN(date.getTime())) {
      ctx.addIssue({ code: "custom", message: "is not a time" });
      return z.NEVER;
    }
    return date;
  }),
  data: z.unknown(),
});
const PaymentShape = z.object({ id: WhopId, membership: z.object({ id: WhopId }).nullish() });

type Readable =
  | { kind: "membership"; membership: WhopMembership }
  | { kind: "payment"; paymentId: string; membershipId: string | null }
  | { kind: "catalog" }
  | { kind: "ignore" };

type ReadEvent =
  | { readable: true; type: string; happenedAt: Date; what: Readable; stored: NewStripeEvent }
  | { readable: false; stored: NewStripeEvent; reason: string };

function describe(issues: z.core.$ZodIssue[]) {
  return issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join(".") || "event"} ${issue.message}`)
    .join("; ");
}

function idIn(value: unknown): string | null {
  const parsed = WhopId.safeParse(value);
  return parsed.success ? parsed.data : null;
}

/** The event's object id (membership, payment…) and the Whop user it concerns, for the indexed columns. */
function objectKeys(data: unknown): { objectId: string | null; customerId: string | null } {
  if (typeof data !== "object" || data === null) return { objectId: null, customerId: null };
  const fields = data as Record<string, unknown>;
  const user =
    typeof fields.user === "object" && fields.user !== null ? (fields.user as Record<string, unknown>) : null;
  return { objectId: idIn(fields.id), customerId: idIn(user?.id) };
}

function readable(action: WhopEventAction, data: unknown): Readable | { problem: string } {
  switch (action.kind) {
    case "membership": {
      const membership = MembershipShape.safeParse(data);
      return membership.success
        ? { kind: "membership", membership: membership.data }
        : { problem: describe(membership.error.issues) };
    }
    case "payment": {
      const payment = PaymentShape.safeParse(data);
      if (!payment.success) return { problem: describe(payment.error.issues) };
      return { kind: "payment", paymentId: payment.data.id, membershipId: payment.data.membership?.id ?? null };
    }
    case "catalog":
    case "ignore":
      return { kind: action.kind };
  }
}

function readEvent(eventId: string, payload: string): ReadEvent | { malformed: string } {
  if (!EVENT_ID.test(eventId)) return { malformed: "The webhook-id is not a storable event id." };
  let json: unknown;
  try {
    json = JSON.parse(payload);
  } catch {
    return { malformed: "The signed payload is not JSON." };
  }
  const envelope = Envelope.safeParse(json);
  if (!envelope.success)
    return { malformed: `The signed payload is not a Whop event: ${describe(envelope.error.issues)}.` };
  const { type, timestamp, data } = envelope.data;
  const stored: NewStripeEvent = {
    provider: "whop",
    eventId,
    eventType: type,
    createdAt: timestamp,
    ...objectKeys(data),
    payload,
  };
  const what = readable(whopEventAction(type), data);
  if ("problem" in what) return { readable: false, stored, reason: `Unreadable ${type}: data ${what.problem}.` };
  return { readable: true, type, happenedAt: timestamp, what, stored };
}

// ---------------------------------------------------------------------------------------------
// Processing

type ProcessingResult = { status: FinishedStatus; note: string | null };

function fromFulfilment(outcome: FulfilmentOutcome): ProcessingResult {
  if (outcome.result === "applied") return { status: "processed", note: outcome.detail };
  return { status: outcome.result, note: outcome.detail };
}

/** What an event means for Tierdesk, applied in `tx`. Throws to fail it. */
async function dispatch(tx: Tx, type: string, happenedAt: Date, what: Readable): Promise<ProcessingResult> {
  switch (what.kind) {
    case "membership":
      return fromFulfilment(await applyWhopMembership(tx, what.membership, { reportedAt: happenedAt }));
    case "payment": {
      if (!what.membershipId) return { status: "ignored", note: `payment ${what.paymentId} belongs to no membership` };
      // A payment says a membership changed, not how: Whop's current state of it decides.
      const membership = await retrieveMembership(what.membershipId);
      if (!membership) return { status: "ignored", note: `Whop no longer has membership ${what.membershipId}` };
      return fromFulfilment(await applyWhopMembership(tx, membership, { reportedAt: happenedAt }));
    }
    case "catalog":
      invalidateWhopCatalog();
      return { status: "processed", note: "Whop product cache dropped" };
    case "ignore":
      return { status: "ignored", note: `Tierdesk does not act on ${type}` };
  }
}

const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));

function publicError(eventId: string, error: unknown) {
  return error instanceof FulfilmentError
    ? `Processing failed: ${error.message}`
    : `Processing failed; the error is stored with event ${eventId} for support.`;
}

function logFailure(eventId: string, type: string, error: unknown) {
  if (error instanceof FulfilmentError) logger.info({ eventId, type, reason: error.message }, "Whop event refused");
  else logger.error({ eventId, type, err: error }, "Whop event failed");
}

/** Verifies a Whop delivery, then stores and processes its event exactly once. */
export async function receiveWhopWebhook(request: Request): Promise<WebhookOutcome> {
  const secrets = whopConnection().webhookSecrets;
  if (!secrets.length) return { kind: "not-configured" };
  const headers = webhookHeadersOf(request.headers);
  if (!headers) return { kind: "missing-signature" };

  let payload: string;
  try {
    payload = await readRawBody(request, MAX_WHOP_WEBHOOK_BODY_BYTES);
  } catch (error) {
    if (error instanceof BodyTooLargeError) return { kind: "too-large" };
    throw error;
  }
  if (!hasValidWhopSignature(payload, headers, secrets)) return { kind: "invalid-signature" };

  // Standard Webhooks: `webhook-id` is the same on every retry of a message, so it identifies the event.
  const read = readEvent(headers["webhook-id"], payload);
  if ("malformed" in read) return { kind: "malformed", reason: read.malformed };
  const started = performance.now();
  const attempt = (source: AttemptSource) => ({ source, durationMs: Math.round(performance.now() - started) });
  if (!read.readable) {
    await storeFailedEvent(read.stored, read.reason, attempt("webhook"));
    return { kind: "unreadable", eventId: read.stored.eventId, reason: read.reason };
  }
  const { stored } = read;
  try {
    const result = await inTransaction(async (tx) => {
      if (!(await storeAndClaimEvent(tx, stored))) return null;
      const outcome = await dispatch(tx, read.type, read.happenedAt, read.what);
      await finishEvent(tx, stored.eventId, outcome.status, outcome.note, attempt("webhook"));
      return outcome;
    });
    if (!result) return { kind: "duplicate", eventId: stored.eventId };
    return { kind: "processed", eventId: stored.eventId, ...result };
  } catch (error) {
    logFailure(stored.eventId, read.type, error);
    await storeFailedEvent(stored, errorMessage(error), attempt("webhook"));
    return { kind: "failed", eventId: stored.eventId, publicError: publicError(stored.eventId, error) };
  }
}

/**
 * Replays a stored Whop event (support's "replay", or a bulk replay). A payload stored truncated
 * (over 16 KiB) of a membership event is replaced by the membership as Whop has it now (a resync);
 * Whop has no API to fetch a past event again. Every replay is an attempt (app/billing/replay.server.ts).
 */
export async function replayWhopEvent(
  stored: StripeEvent,
  { bulk = false }: { bulk?: boolean } = {},
): Promise<ReplayOutcome> {
  const outcome = await recordedReplay(
    stored.eventId,
    bulk ? "bulk_replay" : "replay",
    async (attempt) => {
      let read: ReadEvent | { malformed: string } = readEvent(stored.eventId, stored.payload);
      if ("malformed" in read && stored.eventType.startsWith("membership.") && stored.objectId) {
        try {
          const membership = await retrieveMembership(stored.objectId);
          if (!membership)
            return {
              ok: false,
              error: `The stored payload is truncated and Whop no longer has membership ${stored.objectId}.`,
            };
          const happenedAt = stored.eventCreatedAt ?? stored.receivedAt;
          read = {
            readable: true,
            type: stored.eventType,
            happenedAt,
            what: { kind: "membership", membership },
            stored: {
              provider: "whop",
              eventId: stored.eventId,
              eventType: stored.eventType,
              createdAt: happenedAt,
              objectId: stored.objectId,
              customerId: stored.customerId,
              payload: stored.payload,
            },
          };
          attempt.source = "resync";
        } catch (error) {
          return {
            ok: false,
            error: `The stored payload is truncated and Whop could not be asked: ${errorMessage(error)}`,
          };
        }
      }
      if ("malformed" in read) return { ok: false, error: read.malformed };
      if (!read.readable) return { ok: false, error: read.reason };
      const { type, happenedAt, what } = read;
      const result = await inTransaction(async (tx) => {
        if (!(await claimStoredEvent(tx, stored.eventId))) return null;
        const outcome = await dispatch(tx, type, happenedAt, what);
        await finishEvent(tx, stored.eventId, outcome.status, outcome.note, {
          source: attempt.source,
          durationMs: attempt.durationMs(),
        });
        return outcome;
      });
      return result ? { ok: true, status: result.status } : "not-claimed";
    },
    (error) => logFailure(stored.eventId, stored.eventType, error),
  );
  return outcome === "not-claimed" ? notReplayable(stored.eventId, "was finished meanwhile") : outcome;
}
