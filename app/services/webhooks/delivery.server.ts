// Sends outgoing webhooks (docs/decisions/018): a `deliver-webhooks` step claims due deliveries in
// batches, POSTs each signed per Standard Webhooks, and writes the outcomes back; a non-2xx answer or
// no answer within 10 s is retried with exponential backoff for 3 days, then the delivery fails. An
// endpoint whose every attempt has failed for 3 days is disabled.
import { Webhook } from "standardwebhooks";
import {
  type AttemptOutcome,
  type ClaimedDelivery,
  claimDueDeliveries,
  disableFailingEndpoints,
  hasDueDeliveries,
  recordAttempts,
} from "~/models/webhook-delivery.server.ts";
import { enqueueDebounced, jobQueueStopping, jobTimeoutSeconds } from "~/services/jobs/queue.server.ts";
import { givesUp, retryDelayMs } from "~/rules/webhook-deliveries.ts";
import { config } from "~/utils/config.server.ts";
import { logger } from "~/utils/logger.server.ts";
import { postWebhook } from "./destination.server.ts";
import { kickWebhookDelivery } from "./outbox.server.ts";

const DELIVERY_TIMEOUT_MS = 10_000;
/** How long a delivery is retried, and an endpoint may fail every attempt before it is disabled (3 days). */
export const retryWindowMs = () => config().webhooks.retryWindowSeconds * 1000;
const FIRST_RETRY_MS = 5_000;
const BATCH_SIZE = 64;

type Clock = () => Date;

async function attempt(delivery: ClaimedDelivery, now: Clock): Promise<AttemptOutcome> {
  const startedAt = now();
  const timestamp = new Date();
  const headers = {
    "webhook-id": delivery.webhookId,
    "webhook-timestamp": String(Math.floor(timestamp.getTime() / 1000)),
    "webhook-signature": new Webhook(delivery.secret).sign(delivery.webhookId, timestamp, delivery.payload),
  };
  const began = performance.now();
  const result = await postWebhook(delivery.url, headers, delivery.payload, DELIVERY_TIMEOUT_MS);
  const durationMs = Math.round(performance.now() - began);
  const at = now();
  const ok = "statusCode" in result && result.statusCode >= 200 && result.statusCode < 300;
  const retryAt = new Date(at.getTime() + retryDelayMs(delivery.attempt));
  const giveUp = !ok && givesUp(delivery.createdAt, retryAt, retryWindowMs());
  return {
    delivery,
    at: startedAt,
    statusCode: "statusCode" in result ? result.statusCode : null,
    durationMs,
    responseExcerpt: "body" in result ? result.body.slice(0, 1024) : null,
    error: "error" in result ? result.error : ok ? null : `HTTP ${result.statusCode}`,
    next: ok ? "succeeded" : giveUp ? "failed" : retryAt,
  };
}

/**
 * One delivery step: batches of due deliveries until none is due, the queue stops, or a third of the
 * job timeout has passed (then the rest goes to a next step). `now` is injectable for tests.
 */
export async function deliverDueWebhooks({ now = () => new Date() }: { now?: Clock } = {}): Promise<number> {
  const started = Date.now();
  const budgetMs = (jobTimeoutSeconds() * 1000) / 3;
  // A claim is leased well past the POST's timeout: another worker takes it over only if this one died.
  const leaseMs = Math.max(DELIVERY_TIMEOUT_MS * 3, jobTimeoutSeconds() * 1000);
  let sent = 0;
  for (;;) {
    const at = now();
    const batch = await claimDueDeliveries(at, BATCH_SIZE, new Date(at.getTime() + leaseMs));
    if (!batch.length) break;
    const outcomes = await Promise.all(batch.map((delivery) => attempt(delivery, now)));
    await recordAttempts(outcomes);
    sent += batch.length;
    if (jobQueueStopping() || Date.now() - started > budgetMs) {
      kickWebhookDelivery();
      break;
    }
  }
  const disabled = await disableFailingEndpoints(new Date(now().getTime() - retryWindowMs()));
  if (disabled.length) logger.warn({ endpoints: disabled }, "webhooks: endpoints failing every delivery disabled");
  await followUpSoonRetries(now());
  return sent;
}

/** A retry due before the next periodic sweep gets its own step at its time. */
async function followUpSoonRetries(at: Date) {
  const soon = new Date(at.getTime() + jobTimeoutSeconds() * 1000);
  if (!(await hasDueDeliveries(soon))) return;
  // At most one such step per 5 s slot, however many steps ran.
  await enqueueDebounced("deliver-webhooks", {}, FIRST_RETRY_MS / 1000, "deliver-webhooks-retries");
}

/** The worker's periodic sweep: a delivery step when anything is due (an enqueue lost after a commit). */
export async function scheduleWebhookDelivery(now = new Date()): Promise<void> {
  if (await hasDueDeliveries(now)) kickWebhookDelivery();
}
