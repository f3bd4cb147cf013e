// Stripe webhooks: verify, then store and process in one transaction, exactly once.
//
// Stripe delivers at least once, sometimes twice at the same moment, out of order, and retries
// failures for days. So each verified event is stored and claimed by one INSERT inside the
// transaction that processes it (concurrent duplicates wait on the unique index, then see the
// outcome); a failure rolls the processing back, stores the error and is answered 500 so Stripe
// retries; a signed event Tierdesk cannot read is stored with the reason and answered 400, so it is
// not retried for days. This module returns typed outcomes; the route maps them to HTTP.
import Stripe from "stripe";
import { z } from "zod";
import {
  type AttemptSource,
  claimStoredEvent,
  type FinishedStatus,
  finishEvent,
  getStoredEvent,
  type NewStripeEvent,
  storeAndClaimEvent,
  storeClaimAndLockCustomer,
  storeFailedEvent,
} from "~/models/stripe-event.server.ts";
import { inTransaction, type Tx } from "~/models/transaction.server.ts";
import {
  applySubscription,
  FulfilmentError,
  fulfilCheckoutSession,
  type FulfilmentOutcome,
  type LockedCustomer,
} from "./fulfilment.server.ts";
import { applyCustomerDeleted } from "./customer-link.server.ts";
import { invalidatePriceCache } from "./prices.server.ts";
import { eventAction, type EventAction } from "./rules.ts";
import { BodyTooLargeError, readRawBody, WEBHOOK_BODY_LIMIT } from "~/utils/http.server.ts";
import { logger } from "~/utils/logger.server.ts";
import { notReplayable, recordedReplay, REPLAYABLE_STATUSES, type ReplayOutcome } from "./replay.server.ts";
import { getStripe, webhookSecrets } from "./stripe.server.ts";
import { replayWhopEvent } from "./whop-webhook.server.ts";

export const MAX_WEBHOOK_BODY_BYTES = WEBHOOK_BODY_LIMIT;
export const SIGNATURE_TOLERANCE_SECONDS = 300;

export type WebhookOutcome =
  | { kind: "not-configured" }
  | { kind: "missing-signature" }
  | { kind: "too-large" }
  | { kind: "invalid-signature" }
  /** Signed, but not an event that can even be stored (no usable id, type or time): nothing stored. */
  | { kind: "malformed"; reason: string }
  /** Signed and stored, but Tierdesk cannot read it: stored as failed with the reason. */
  | { kind: "unreadable"; eventId: string; reason: string }
  | { kind: "processed"; eventId: string; status: FinishedStatus; note: string | null }
  | { kind: "duplicate"; eventId: string }
  | { kind: "failed"; eventId: string; publicError: string };

/** The `t=` of a Stripe-Signature header (Unix seconds), or null when it has none. */
function signedAtSeconds(signature: string): number | null {
  const timestamp = signature
    .split(",")
    .map((part) => part.trim())
    .find((part) => part.startsWith("t="))
    ?.slice(2);
  return timestamp && /^\d{1,12}$/.test(timestamp) ? Number(timestamp) : null;
}

function hasValidSignature(payload: string, signature: string, secrets: readonly string[]): boolean {
  const verifier = Stripe.webhooks.signature;
  if (!verifier) throw new Error("stripe: webhook signature helper unavailable");
  // The SDK refuses only signatures too old; one dated beyond the same tolerance ahead would stay
  // replayable for as long as it is ahead, so it is refused too.
  const signedAt = signedAtSeconds(signature);
  if (signedAt !== null && signedAt > Date.now() / 1000 + SIGNATURE_TOLERANCE_SECONDS) return false;
  // During rotation either the old or the new secret signs: any one verifies.
  return secrets.some((secret) => {
    try {
      verifier.verifyHeader(payload, signature, secret, SIGNATURE_TOLERANCE_SECONDS);
      return true;
    } catch {
      return false;
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Reading a signed event. Whoever holds the secret sent it, but it must still be one we can store
// (PostgreSQL refuses NUL characters; ids and types are VARCHAR(255)) and read.

const StripeId = z.string().regex(/^[A-Za-z0-9_-]{1,255}$/, "is not a Stripe id");
const Envelope = z.object({
  id: StripeId,
  type: z.string().regex(/^[a-z0-9_.]{1,255}$/, "is not a Stripe event type"),
  created: z.number().int().nonnegative(),
  data: z.object({ object: z.unknown() }),
});
const Expandable = z.union([StripeId, z.object({ id: StripeId }), z.null()]);
const SubscriptionShape = z.object({
  object: z.literal("subscription"),
  id: StripeId,
  status: z.string().regex(/^[a-z_]{1,64}$/),
  customer: Expandable,
  items: z.object({
    data: z.array(z.object({ price: z.object({ id: StripeId, lookup_key: z.string().max(200).nullable() }) })),
  }),
});
const CheckoutShape = z.object({
  object: z.literal("checkout.session"),
  id: StripeId,
  mode: z.string(),
  customer: Expandable.optional(),
  subscription: z.union([StripeId, SubscriptionShape, z.null()]).optional(),
});

type ReadEvent =
  | { readable: true; event: Stripe.Event; action: EventAction; stored: NewStripeEvent }
  | { readable: false; stored: NewStripeEvent; reason: string };

function describe(issues: z.core.$ZodIssue[]) {
  return issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join(".") || "event"} ${issue.message}`)
    .join("; ");
}

function idIn(value: unknown): string | null {
  const parsed = Expandable.safeParse(value);
  if (!parsed.success || parsed.data === null) return null;
  return typeof parsed.data === "string" ? parsed.data : parsed.data.id;
}

/** The event's object id and the Stripe customer it concerns, for the indexed columns. */
function objectKeys(object: unknown): { objectId: string | null; customerId: string | null } {
  if (typeof object !== "object" || object === null) return { objectId: null, customerId: null };
  const fields = object as Record<string, unknown>;
  const objectId = idIn(fields.id);
  const customerId = fields.object === "customer" ? objectId : idIn(fields.customer);
  return { objectId, customerId };
}

function readEvent(payload: string): ReadEvent | { malformed: string } {
  let json: unknown;
  try {
    json = JSON.parse(payload);
  } catch {
    return { malformed: "The signed payload is not JSON." };
  }
  const envelope = Envelope.safeParse(json);
  if (!envelope.success)
    return { malformed: `The signed payload is not a Stripe event: ${describe(envelope.error.issues)}.` };
  const { id, type, created, data } = envelope.data;
  const stored: NewStripeEvent = {
    eventId: id,
    eventType: type,
    createdAt: new Date(created * 1000),
    ...objectKeys(data.object),
    payload,
  };
  const action = eventAction(type);
  const shape = action.kind === "subscription" ? SubscriptionShape : action.kind === "checkout" ? CheckoutShape : null;
  if (shape) {
    const object = shape.safeParse(data.object);
    if (!object.success) {
      return { readable: false, stored, reason: `Unreadable ${type}: data.object ${describe(object.error.issues)}.` };
    }
  }
  // The envelope and the object Tierdesk acts on have the shapes checked above.
  return { readable: true, event: json as Stripe.Event, action, stored };
}

// ---------------------------------------------------------------------------------------------
// Processing

type ProcessingResult = { status: FinishedStatus; note: string | null };

function fromFulfilment(outcome: FulfilmentOutcome): ProcessingResult {
  if (outcome.result === "applied") return { status: "processed", note: null };
  return { status: outcome.result, note: outcome.detail };
}

/** What an event means for Tierdesk, applied in `tx`. Throws to fail it. */
async function dispatch(
  tx: Tx,
  event: Stripe.Event,
  action: EventAction,
  lockedWithClaim?: LockedCustomer,
): Promise<ProcessingResult> {
  const observedAt = new Date(event.created * 1000);
  switch (action.kind) {
    case "checkout":
      return fromFulfilment(
        await fulfilCheckoutSession(tx, event.data.object as Stripe.Checkout.Session, { observedAt }),
      );
    case "subscription":
      return fromFulfilment(
        await applySubscription(tx, event.data.object as Stripe.Subscription, {
          observedAt,
          deleted: action.deleted,
          lockedWithClaim,
        }),
      );
    case "customer-deleted":
      return fromFulfilment(await applyCustomerDeleted(tx, event.data.object as Stripe.Customer, { observedAt }));
    case "catalog":
      invalidatePriceCache();
      return { status: "processed", note: "price cache dropped" };
    case "audit":
      return { status: "processed", note: null };
    case "ignore":
      return { status: "ignored", note: `Tierdesk does not act on ${event.type}` };
  }
}

function errorMessage(error: unknown) {
  return error instanceof Error ? error.message : String(error);
}

/** What the 500 tells the sender: our own explanations, never internals (those are stored for support). */
function publicError(eventId: string, error: unknown) {
  return error instanceof FulfilmentError
    ? `Processing failed: ${error.message}`
    : `Processing failed; the error is stored with event ${eventId} for support.`;
}

function logUnexpected(eventId: string, type: string, error: unknown) {
  // A FulfilmentError is an explained, expected refusal (stored for support); anything else is a bug or an outage.
  if (error instanceof FulfilmentError) logger.info({ eventId, type, reason: error.message }, "Stripe event refused");
  else logger.error({ eventId, type, err: error }, "Stripe event failed");
}

/** Verifies a delivery, then stores and processes its event exactly once. */
export async function receiveStripeWebhook(request: Request): Promise<WebhookOutcome> {
  // Nothing is read before the cheap refusals.
  if (!webhookSecrets().length) return { kind: "not-configured" };
  const signature = request.headers.get("Stripe-Signature");
  if (!signature) return { kind: "missing-signature" };
  try {
    return await receiveStripeDelivery({ signature, body: await readRawBody(request, MAX_WEBHOOK_BODY_BYTES) });
  } catch (error) {
    if (error instanceof BodyTooLargeError) return { kind: "too-large" };
    throw error;
  }
}

/**
 * One delivery as read off the socket: its Stripe-Signature header and raw body, or that the body
 * went over MAX_WEBHOOK_BODY_BYTES (the server's fast path reads it without Fetch objects).
 */
export type StripeDelivery =
  { signature: string | null; body: string | Buffer } | { signature: string | null; tooLarge: true };

/** Verifies, stores and processes one delivery: everything receiveStripeWebhook does after reading. */
export async function receiveStripeDelivery(delivery: StripeDelivery): Promise<WebhookOutcome> {
  const secrets = webhookSecrets();
  if (!secrets.length) return { kind: "not-configured" };
  const { signature } = delivery;
  if (!signature) return { kind: "missing-signature" };
  if ("tooLarge" in delivery) return { kind: "too-large" };
  const { body } = delivery;
  if ((typeof body === "string" ? Buffer.byteLength(body) : body.length) > MAX_WEBHOOK_BODY_BYTES) {
    return { kind: "too-large" };
  }
  const payload = typeof body === "string" ? body : body.toString("utf8");
  if (!hasValidSignature(payload, signature, secrets)) return { kind: "invalid-signature" };

  const read = readEvent(payload);
  if ("malformed" in read) return { kind: "malformed", reason: read.malformed };
  const started = performance.now();
  const attempt = (source: AttemptSource) => ({ source, durationMs: Math.round(performance.now() - started) });
  if (!read.readable) {
    await storeFailedEvent(read.stored, read.reason, attempt("webhook"));
    return { kind: "unreadable", eventId: read.stored.eventId, reason: read.reason };
  }
  const { event, action, stored } = read;
  try {
    const result = await inTransaction(async (tx) => {
      // A subscription event's user is locked by the claim itself: one round trip less.
      const customerId = action.kind === "subscription" ? stored.customerId : null;
      let lockedWithClaim: LockedCustomer | undefined;
      if (customerId) {
        const claim = await storeClaimAndLockCustomer(tx, stored, customerId);
        if (!claim.claimed) return null;
        lockedWithClaim = { stripeCustomerId: customerId, user: claim.user };
      } else if (!(await storeAndClaimEvent(tx, stored))) return null;
      const outcome = await dispatch(tx, event, action, lockedWithClaim);
      await finishEvent(tx, event.id, outcome.status, outcome.note, attempt("webhook"));
      return outcome;
    });
    if (!result) return { kind: "duplicate", eventId: event.id };
    return { kind: "processed", eventId: event.id, ...result };
  } catch (error) {
    logUnexpected(event.id, event.type, error);
    await storeFailedEvent(stored, errorMessage(error), attempt("webhook"));
    return { kind: "failed", eventId: event.id, publicError: publicError(event.id, error) };
  }
}

/**
 * Replays a stored event (support's "replay" button, or a bulk replay). Uses the stored payload when
 * it is whole, else fetches the event from Stripe (payloads over 16 KiB are stored truncated): that
 * attempt is recorded as a resync. Every replay of a failed or pending event is an attempt, also one
 * that could not start (unreadable, Stripe not reachable).
 */
export async function replayStoredEvent(
  eventId: string,
  { bulk = false }: { bulk?: boolean } = {},
): Promise<ReplayOutcome> {
  const stored = await getStoredEvent(eventId);
  if (!stored) return { ok: false, error: `No stored event ${eventId}.`, refused: "not-found" };
  if (!REPLAYABLE_STATUSES.includes(stored.status)) return notReplayable(eventId, `is ${stored.status}`);
  if (stored.provider === "whop") return replayWhopEvent(stored, { bulk });
  let eventType = stored.eventType;
  const outcome = await recordedReplay(
    eventId,
    bulk ? "bulk_replay" : "replay",
    async (attempt) => {
      let read = readEvent(stored.payload);
      if ("malformed" in read) {
        try {
          read = readEvent(JSON.stringify(await getStripe().events.retrieve(eventId)));
          attempt.source = "resync";
        } catch (error) {
          return {
            ok: false,
            error: `The stored payload is truncated and Stripe could not be asked: ${errorMessage(error)}`,
          };
        }
      }
      if ("malformed" in read) return { ok: false, error: read.malformed };
      if (!read.readable) return { ok: false, error: read.reason };
      const { event, action } = read;
      eventType = event.type;
      const result = await inTransaction(async (tx) => {
        if (!(await claimStoredEvent(tx, eventId))) return null;
        const outcome = await dispatch(tx, event, action);
        await finishEvent(tx, eventId, outcome.status, outcome.note, {
          source: attempt.source,
          durationMs: attempt.durationMs(),
        });
        return outcome;
      });
      return result ? { ok: true, status: result.status } : "not-claimed";
    },
    (error) => logUnexpected(eventId, eventType, error),
  );
  // Finished meanwhile by a delivery or another replay: refused, as if it had been finished before.
  return outcome === "not-claimed" ? notReplayable(eventId, "was finished meanwhile") : outcome;
}
