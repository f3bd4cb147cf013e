// Stripe webhooks: verify the signature and read the event, then hand it to the one webhook pipeline
// (app/services/billing/webhook-pipeline.server.ts), which stores, claims and applies it exactly
// once. A subscription event's claim also locks its customer's user, in the same statement. Returns
// typed outcomes; the route maps them to HTTP.
import Stripe from "stripe";
import { z } from "zod";
import {
  type NewStripeEvent,
  type StripeEvent,
  storeAndClaimEvent,
  storeClaimAndLockCustomer,
} from "~/models/stripe-event.server.ts";
import { notifyStripeCatalogChanged } from "~/models/catalog-changes.server.ts";
import type { Tx } from "~/models/transaction.server.ts";
import { eventAction, type EventAction } from "~/rules/stripe-events.ts";
import type { WebhookOutcome } from "~/services/billing/outcomes.ts";
import type { ReplayOutcome } from "~/services/billing/replay.server.ts";
import {
  describeIssues,
  errorMessage,
  fromFulfilment,
  processDelivery,
  type ReadEvent,
  readEnvelope,
  replayEvent,
} from "~/services/billing/webhook-pipeline.server.ts";
import { BodyTooLargeError, readRawBody, WEBHOOK_BODY_LIMIT } from "~/utils/http.server.ts";
import { getStripe, webhookSecrets } from "./client.server.ts";
import { applyCustomerDeleted } from "./customer-link.server.ts";
import { applySubscription, fulfilCheckoutSession, type LockedCustomer } from "./fulfilment.server.ts";
import { invalidatePriceCache } from "./prices.server.ts";
import { clearSubscriptionDetailsCache } from "./subscription-details.server.ts";

const MAX_WEBHOOK_BODY_BYTES = WEBHOOK_BODY_LIMIT;
const SIGNATURE_TOLERANCE_SECONDS = 300;

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

/** A readable Stripe event and what it means for Tierdesk. */
type StripeEventToApply = { event: Stripe.Event; action: EventAction };

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

function readEvent(payload: string): ReadEvent<StripeEventToApply> {
  const read = readEnvelope("Stripe", payload, Envelope);
  if ("malformed" in read) return read;
  const { id, type, created, data } = read.envelope;
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
      return {
        readable: false,
        stored,
        reason: `Unreadable ${type}: data.object ${describeIssues(object.error.issues)}.`,
      };
    }
  }
  // The envelope and the object Tierdesk acts on have the shapes checked above.
  return { readable: true, type, event: { event: read.json as Stripe.Event, action }, stored };
}

// ---------------------------------------------------------------------------------------------
// Processing

/** What an event means for Tierdesk, applied in `tx`. Throws to fail it. */
async function apply(tx: Tx, { event, action }: StripeEventToApply, lockedWithClaim: LockedCustomer | undefined) {
  const observedAt = new Date(event.created * 1000);
  const applied = { appliedDetail: false };
  switch (action.kind) {
    case "checkout":
      return fromFulfilment(
        await fulfilCheckoutSession(tx, event.data.object as Stripe.Checkout.Session, { observedAt }),
        applied,
      );
    case "subscription":
      return fromFulfilment(
        await applySubscription(tx, event.data.object as Stripe.Subscription, {
          observedAt,
          deleted: action.deleted,
          lockedWithClaim,
        }),
        applied,
      );
    case "customer-deleted":
      return fromFulfilment(
        await applyCustomerDeleted(tx, event.data.object as Stripe.Customer, { observedAt }),
        applied,
      );
    case "catalog":
      invalidatePriceCache();
      // A lookup key moved to a new price leaves the subscriptions on the old one without it.
      clearSubscriptionDetailsCache();
      // Every other instance drops its cache when this transaction commits.
      await notifyStripeCatalogChanged(tx);
      return { status: "processed", note: "price cache dropped" } as const;
    case "audit":
      return { status: "processed", note: null } as const;
    case "ignore":
      return { status: "ignored", note: `Tierdesk does not act on ${event.type}` } as const;
  }
}

/** A subscription event's user is locked by the claim itself: one round trip less. */
async function claim(
  tx: Tx,
  stored: NewStripeEvent,
  { action }: StripeEventToApply,
): Promise<LockedCustomer | undefined | null> {
  const customerId = action.kind === "subscription" ? stored.customerId : null;
  if (!customerId) return (await storeAndClaimEvent(tx, stored)) ? undefined : null;
  const claimed = await storeClaimAndLockCustomer(tx, stored, customerId);
  return claimed.claimed ? { stripeCustomerId: customerId, account: claimed.account } : null;
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

  return processDelivery<StripeEventToApply, LockedCustomer | undefined>("Stripe", readEvent(payload), claim, apply);
}

/**
 * Replays a stored Stripe event (support's "replay", or a bulk replay). Uses the stored payload when
 * it is whole, else fetches the event from Stripe (payloads over 16 KiB are stored truncated): that
 * attempt is recorded as a resync.
 */
export function replayStripeEvent(stored: StripeEvent, { bulk }: { bulk: boolean }): Promise<ReplayOutcome> {
  return replayEvent(
    "Stripe",
    stored,
    { bulk },
    async (attempt) => {
      const read = readEvent(stored.payload);
      if (!("malformed" in read)) return read;
      try {
        const fetched = readEvent(JSON.stringify(await getStripe().events.retrieve(stored.eventId)));
        attempt.source = "resync";
        return fetched;
      } catch (error) {
        return {
          ok: false,
          error: `The stored payload is truncated and Stripe could not be asked: ${errorMessage(error)}`,
        };
      }
    },
    apply,
  );
}
