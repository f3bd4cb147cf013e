// Stripe webhooks: verify, store, then process exactly once.
//
// Stripe delivers at least once, sometimes twice at the same moment, out of order, and retries
// failures for days. So: every verified event is stored first (unique event_id); one delivery
// claims it atomically and processes it; concurrent duplicates wait for that outcome and answer the
// same; a failure stores its error and answers 500 so Stripe retries; the next delivery (or a
// replay from the admin) processes it again and clears the error.
import Stripe from "stripe";
import {
  claimEvent,
  failEvent,
  finishEvent,
  getStoredEvent,
  recordEvent,
  waitWhileProcessing,
} from "~/models/stripe-event.server.ts";
import { jsonResponse } from "~/utils/http.server.ts";
import { applySubscription, FulfilmentError, fulfilCheckoutSession, type FulfilmentOutcome } from "./fulfilment.server.ts";
import { invalidatePriceCache } from "./prices.server.ts";
import { getStripe, webhookSecrets } from "./stripe.server.ts";

export const MAX_WEBHOOK_BODY_BYTES = 1024 * 1024;
export const SIGNATURE_TOLERANCE_SECONDS = 300;

type Outcome = { status: "processed" | "stale" | "ignored"; note: string | null };

const AUDIT_ONLY_EVENTS = new Set([
  "invoice.paid",
  "invoice.payment_failed",
  "invoice.payment_succeeded",
  "charge.refunded",
  "customer.subscription.trial_will_end",
]);

function fromFulfilment(outcome: FulfilmentOutcome): Outcome {
  if (outcome.result === "applied") return { status: "processed", note: null };
  return { status: outcome.result, note: outcome.detail };
}

/** What an event means for Tierdesk. Throws to fail it (stored error, 500, Stripe retries). */
export async function dispatchEvent(event: Stripe.Event): Promise<Outcome> {
  const observedAt = new Date(event.created * 1000);
  switch (event.type) {
    case "checkout.session.completed":
    case "checkout.session.async_payment_succeeded":
      return fromFulfilment(await fulfilCheckoutSession(event.data.object, { observedAt }));
    case "customer.subscription.created":
    case "customer.subscription.updated":
    case "customer.subscription.paused":
    case "customer.subscription.resumed":
      return fromFulfilment(await applySubscription(event.data.object, { observedAt }));
    case "customer.subscription.deleted":
      return fromFulfilment(await applySubscription(event.data.object, { observedAt, deleted: true }));
  }
  if (event.type.startsWith("price.") || event.type.startsWith("product.")) {
    invalidatePriceCache();
    return { status: "processed", note: "price cache dropped" };
  }
  if (AUDIT_ONLY_EVENTS.has(event.type)) return { status: "processed", note: null };
  return { status: "ignored", note: `Tierdesk does not act on ${event.type}` };
}

/** Processes an event this caller has claimed, recording the outcome or the error. */
export async function processClaimedEvent(event: Stripe.Event): Promise<{ ok: boolean; error?: string; explained?: boolean }> {
  try {
    const outcome = await dispatchEvent(event);
    await finishEvent(event.id, outcome.status, outcome.note);
    return { ok: true };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (!(error instanceof FulfilmentError)) console.error(`Stripe event ${event.id} (${event.type}) failed:`, error);
    await failEvent(event.id, message);
    return { ok: false, error: message, explained: error instanceof FulfilmentError };
  }
}

const json = (body: unknown, status: number, headers: Record<string, string> = {}) => jsonResponse(body, status, headers);

class BodyTooLargeError extends Error {}

/** Reads the raw body (signatures are over the exact bytes), refusing more than `limit` bytes. */
async function readRawBody(request: Request, limit: number): Promise<string> {
  const declared = Number(request.headers.get("Content-Length") ?? "0");
  if (declared > limit) throw new BodyTooLargeError();
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      reader.releaseLock();
      throw new BodyTooLargeError();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

type Verification = { event: Stripe.Event } | { problem: "signature" | "malformed" };

function verify(payload: string, signature: string, secrets: string[]): Verification {
  const signatures = Stripe.webhooks.signature;
  if (!signatures) throw new Error("stripe: webhook signature helper unavailable");
  for (const secret of secrets) {
    try {
      signatures.verifyHeader(payload, signature, secret, SIGNATURE_TOLERANCE_SECONDS);
    } catch {
      continue; // During rotation either the old or the new secret signs: try the next one.
    }
    // Authentic, so Stripe (or whoever holds the secret) sent it; it must still be an event.
    try {
      const event = JSON.parse(payload) as Stripe.Event | null;
      return isEvent(event) ? { event } : { problem: "malformed" };
    } catch {
      return { problem: "malformed" };
    }
  }
  return { problem: "signature" };
}

const MAX_ID_LENGTH = 255; // stripe_events.event_id and event_type are VARCHAR(255)

function isEvent(value: unknown): value is Stripe.Event {
  const event = value as Partial<Stripe.Event> | null;
  return (
    typeof event === "object" && event !== null &&
    typeof event.id === "string" && event.id.length > 0 && event.id.length <= MAX_ID_LENGTH &&
    typeof event.type === "string" && event.type.length > 0 && event.type.length <= MAX_ID_LENGTH &&
    typeof event.created === "number" && Number.isFinite(event.created) &&
    typeof event.data === "object" && event.data !== null && typeof event.data.object === "object"
  );
}

/** What the 500 tells the sender: our own explanations, never internals (those are stored for support). */
function publicError(eventId: string, error: string | undefined, explained: boolean) {
  return explained && error ? `Processing failed: ${error}` : `Processing failed; the error is stored with event ${eventId} for support.`;
}

export async function handleStripeWebhook(request: Request): Promise<Response> {
  if (request.method !== "POST") return json({ error: "Use POST." }, 405, { Allow: "POST" });
  const secrets = webhookSecrets();
  if (!secrets.length) {
    return json({ error: "Webhooks are not configured: STRIPE_WEBHOOK_SECRET is not set." }, 503);
  }
  const signature = request.headers.get("Stripe-Signature");
  if (!signature) return json({ error: "Missing Stripe-Signature header." }, 400);

  let payload: string;
  try {
    payload = await readRawBody(request, MAX_WEBHOOK_BODY_BYTES);
  } catch (error) {
    // The rest of the body is left unread: close the connection rather than drain it.
    if (error instanceof BodyTooLargeError) return json({ error: "Payload larger than 1 MiB." }, 413, { Connection: "close" });
    throw error;
  }
  const verification = verify(payload, signature, secrets);
  if ("problem" in verification) {
    return verification.problem === "signature"
      ? json({ error: "Invalid Stripe signature." }, 401)
      : json({ error: "The signed payload is not a Stripe event." }, 400);
  }
  const { event } = verification;

  await recordEvent(event, payload);
  if (await claimEvent(event.id)) {
    const result = await processClaimedEvent(event);
    return result.ok
      ? json({ received: true }, 200)
      : json({ received: true, error: publicError(event.id, result.error, result.explained === true) }, 500);
  }

  // Already handled, or another delivery is handling it right now: answer with its outcome.
  const settled = await waitWhileProcessing(event.id);
  if (settled?.status === "processing") return json({ received: true, error: "Still processing; retry later." }, 503);
  if (settled?.status === "failed") return json({ received: true, error: publicError(event.id, undefined, false) }, 500);
  return json({ received: true, duplicate: true }, 200);
}

/**
 * Replays a stored event (support's "replay" button). Uses the stored payload when it is whole,
 * else fetches the event from Stripe (payloads over 16 KiB are stored truncated).
 */
export async function replayStoredEvent(eventId: string): Promise<{ ok: boolean; error?: string }> {
  const stored = await getStoredEvent(eventId);
  if (!stored) return { ok: false, error: `No stored event ${eventId}.` };
  let event: Stripe.Event;
  try {
    event = JSON.parse(stored.payload) as Stripe.Event;
  } catch {
    event = await getStripe().events.retrieve(eventId);
  }
  if (!(await claimEvent(eventId))) {
    return { ok: false, error: `Event ${eventId} is ${stored.status}: only failed or pending events can be replayed.` };
  }
  return processClaimedEvent(event);
}
