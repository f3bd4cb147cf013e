// Whop webhooks: verify (Standard Webhooks) and read the event, then hand it to the one webhook
// pipeline (app/services/billing/webhook-pipeline.server.ts), which stores, claims and applies it
// exactly once, in the same event log as Stripe's (provider "whop"). An older state of a membership
// is stale. Returns typed outcomes; the route maps them to HTTP.
import { z } from "zod";
import type { NewStripeEvent, StripeEvent } from "~/models/stripe-event.server.ts";
import type { Tx } from "~/models/transaction.server.ts";
import { whopEventAction, type WhopEventAction } from "~/rules/whop.ts";
import type { WebhookOutcome } from "~/services/billing/outcomes.ts";
import type { ProviderFallback } from "~/services/billing/paid-tier-overlap.server.ts";
import type { ReplayOutcome } from "~/services/billing/replay.server.ts";
import {
  describeIssues,
  errorMessage,
  fromFulfilment,
  processDelivery,
  type ReadEvent,
  readEnvelope,
  replayEvent,
  storeAndClaim,
} from "~/services/billing/webhook-pipeline.server.ts";
import { BodyTooLargeError, readRawBody, WEBHOOK_BODY_LIMIT } from "~/utils/http.server.ts";
import { invalidateWhopCatalog } from "./catalog.server.ts";
import { MembershipShape, retrieveMembership, type WhopMembership, whopConnection, WhopTime } from "./client.server.ts";
import { hasValidWhopSignature, webhookHeadersOf } from "./signatures.server.ts";
import { applyWhopMembership } from "./fulfilment.server.ts";

const MAX_WHOP_WEBHOOK_BODY_BYTES = WEBHOOK_BODY_LIMIT;

// ---------------------------------------------------------------------------------------------
// Reading a signed event: it must be one we can store (ids VARCHAR(255), no NUL) and read.

const EVENT_ID = /^[A-Za-z0-9_.:-]{1,255}$/;
const WhopId = z.string().regex(/^[A-Za-z0-9_-]{1,255}$/);
const Envelope = z.object({
  type: z.string().regex(/^[a-z0-9_.]{1,255}$/, "is not a Whop event type"),
  timestamp: WhopTime,
  data: z.unknown(),
});
const PaymentShape = z.object({ id: WhopId, membership: z.object({ id: WhopId }).nullish() });

type Readable =
  | { kind: "membership"; membership: WhopMembership }
  | { kind: "payment"; paymentId: string; membershipId: string | null }
  | { kind: "catalog" }
  | { kind: "ignore" };

/** A readable Whop event: when it happened and what it says. */
type WhopEventToApply = { type: string; happenedAt: Date; what: Readable };

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
        : { problem: describeIssues(membership.error.issues) };
    }
    case "payment": {
      const payment = PaymentShape.safeParse(data);
      if (!payment.success) return { problem: describeIssues(payment.error.issues) };
      return { kind: "payment", paymentId: payment.data.id, membershipId: payment.data.membership?.id ?? null };
    }
    case "catalog":
    case "ignore":
      return { kind: action.kind };
  }
}

function readEvent(eventId: string, payload: string): ReadEvent<WhopEventToApply> {
  if (!EVENT_ID.test(eventId)) return { malformed: "The webhook-id is not a storable event id." };
  const read = readEnvelope("Whop", payload, Envelope);
  if ("malformed" in read) return read;
  const { type, timestamp, data } = read.envelope;
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
  return { readable: true, type, event: { type, happenedAt: timestamp, what }, stored };
}

// ---------------------------------------------------------------------------------------------
// Processing

/**
 * What an event means for Tierdesk, applied in `tx`. Throws to fail it. `fallBack` puts a user whose
 * membership lapsed back on their live subscription with the other provider.
 */
function applyWith(fallBack: ProviderFallback) {
  const applied = { appliedDetail: true };
  return async (tx: Tx, { type, happenedAt, what }: WhopEventToApply) => {
    switch (what.kind) {
      case "membership":
        return fromFulfilment(
          await applyWhopMembership(tx, what.membership, { reportedAt: happenedAt, fallBack }),
          applied,
        );
      case "payment": {
        if (!what.membershipId)
          return { status: "ignored", note: `payment ${what.paymentId} belongs to no membership` } as const;
        // A payment says a membership changed, not how: Whop's current state of it decides.
        const membership = await retrieveMembership(what.membershipId);
        if (!membership)
          return { status: "ignored", note: `Whop no longer has membership ${what.membershipId}` } as const;
        return fromFulfilment(await applyWhopMembership(tx, membership, { reportedAt: happenedAt, fallBack }), applied);
      }
      case "catalog":
        invalidateWhopCatalog();
        return { status: "processed", note: "Whop product cache dropped" } as const;
      case "ignore":
        return { status: "ignored", note: `Tierdesk does not act on ${type}` } as const;
    }
  };
}

/** Verifies a Whop delivery, then stores and processes its event exactly once. */
export async function receiveWhopWebhook(request: Request, fallBack: ProviderFallback): Promise<WebhookOutcome> {
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
  return processDelivery("Whop", readEvent(headers["webhook-id"], payload), storeAndClaim, applyWith(fallBack));
}

/**
 * Replays a stored Whop event (support's "replay", or a bulk replay). A payload stored truncated
 * (over 16 KiB) of a membership event is replaced by the membership as Whop has it now (a resync);
 * Whop has no API to fetch a past event again. Every replay is an attempt (app/services/billing/replay.server.ts).
 */
export function replayWhopEvent(
  stored: StripeEvent,
  { bulk, fallBack }: { bulk: boolean; fallBack: ProviderFallback },
): Promise<ReplayOutcome> {
  return replayEvent(
    "Whop",
    stored,
    { bulk },
    async (attempt) => {
      const read = readEvent(stored.eventId, stored.payload);
      if (!("malformed" in read) || !stored.eventType.startsWith("membership.") || !stored.objectId) return read;
      try {
        const membership = await retrieveMembership(stored.objectId);
        if (!membership)
          return {
            ok: false,
            error: `The stored payload is truncated and Whop no longer has membership ${stored.objectId}.`,
          };
        attempt.source = "resync";
        const happenedAt = stored.eventCreatedAt ?? stored.receivedAt;
        const resynced: NewStripeEvent = {
          provider: "whop",
          eventId: stored.eventId,
          eventType: stored.eventType,
          createdAt: happenedAt,
          objectId: stored.objectId,
          customerId: stored.customerId,
          payload: stored.payload,
        };
        const what: Readable = { kind: "membership", membership };
        return {
          readable: true,
          type: stored.eventType,
          event: { type: stored.eventType, happenedAt, what },
          stored: resynced,
        };
      } catch (error) {
        return {
          ok: false,
          error: `The stored payload is truncated and Whop could not be asked: ${errorMessage(error)}`,
        };
      }
    },
    applyWith(fallBack),
  );
}
