// Retention: processed, stale and ignored events older than EVENT_RETENTION_DAYS are removed by a job
// on the queue, in small batches (each its own short transaction, so webhooks never wait behind a
// purge), until none is left or the step's time is up; then the next step carries on. Failed and
// pending events are never removed: they wait for support. The counters the overview reads are kept
// right by the same triggers that count arrivals (app/models/event-counts.server.ts).
// The outgoing webhooks' log goes the same way in the same step: deliveries that succeeded or failed
// for good before the window, their attempts, and the messages left without a delivery; a delivery
// still pending (retrying, or waiting for its endpoint) keeps its message.
import { setTimeout } from "node:timers/promises";
import { foldPastDayCounts } from "~/models/event-counts.server.ts";
import { deleteFinishedEventsBefore, RETAINED_FOR_A_TIME } from "~/models/stripe-event.server.ts";
import { deleteFinishedDeliveriesBefore, FINISHED_DELIVERY_STATUSES } from "~/models/webhook-delivery.server.ts";
import { enqueue, enqueueOncePer, jobQueueStopping, jobTimeoutSeconds } from "~/services/jobs/queue.server.ts";
import { config } from "~/utils/config.server.ts";
import { logger } from "~/utils/logger.server.ts";

const DAY_MS = 86_400_000;
// Small enough that one batch's transaction (events, their attempts, index entries) takes milliseconds.
const BATCH_SIZE = 1_000;
// After each batch the purge rests this many times as long as the batch took: a backlog (a million
// events when retention is first enabled) drains at a third of one core's pace, and webhooks keep the rest.
const REST_PER_BATCH_TIME = 2;
// How often a purge is put on the queue (once per this many seconds across every instance).
const RETENTION_EVERY_SECONDS = 3_600;

export type PurgeResult = { removed: number; finished: boolean };

type PurgeOptions = {
  now?: Date;
  retentionDays?: number;
  budgetMs?: number;
  batchSize?: number;
  restPerBatchTime?: number;
};

/**
 * Runs `removeBatch` (which removes up to `batchSize` rows of one kind and says how many) for each
 * kind until it removes fewer, resting between batches, or until `deadline` (or the queue stops).
 */
async function inBatches<Kind>(
  kinds: readonly Kind[],
  removeBatch: (kind: Kind) => Promise<number>,
  { batchSize, deadline, restPerBatchTime }: { batchSize: number; deadline: number; restPerBatchTime: number },
): Promise<PurgeResult> {
  let removed = 0;
  for (const kind of kinds) {
    for (;;) {
      if (performance.now() > deadline || jobQueueStopping()) return { removed, finished: false };
      const batchStarted = performance.now();
      const batch = await removeBatch(kind);
      removed += batch;
      if (batch < batchSize) break;
      await setTimeout((performance.now() - batchStarted) * restPerBatchTime);
    }
  }
  return { removed, finished: true };
}

/** How many days a finished event or webhook delivery is kept (EVENT_RETENTION_DAYS). */
export const retentionDays = () => config().events.retentionDays;

const cutoffOf = (now: Date, days: number) => new Date(now.getTime() - days * DAY_MS);

/**
 * Removes expired events in batches until none is left or `budgetMs` has passed (or the queue stops).
 * `finished` says whether nothing expired is left.
 */
export async function purgeExpiredEvents({
  now = new Date(),
  retentionDays: days = retentionDays(),
  budgetMs = (jobTimeoutSeconds() * 1000) / 2,
  batchSize = BATCH_SIZE,
  restPerBatchTime = REST_PER_BATCH_TIME,
}: PurgeOptions = {}): Promise<PurgeResult> {
  const cutoff = cutoffOf(now, days);
  const result = await inBatches(
    RETAINED_FOR_A_TIME,
    (status) => deleteFinishedEventsBefore(status, cutoff, batchSize),
    {
      batchSize,
      deadline: performance.now() + budgetMs,
      restPerBatchTime,
    },
  );
  if (!result.finished) return result;
  await foldPastDayCounts(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate())));
  return result;
}

/**
 * Removes the outgoing webhooks' deliveries that finished (succeeded, or failed for good) before the
 * retention window, with their attempts and the messages they leave without a delivery, in batches
 * until none is left or `budgetMs` has passed. `removed` counts deliveries; `messages` the messages.
 */
export async function purgeExpiredWebhookDeliveries({
  now = new Date(),
  retentionDays: days = retentionDays(),
  budgetMs = (jobTimeoutSeconds() * 1000) / 2,
  batchSize = BATCH_SIZE,
  restPerBatchTime = REST_PER_BATCH_TIME,
}: PurgeOptions = {}): Promise<PurgeResult & { messages: number }> {
  const cutoff = cutoffOf(now, days);
  let messages = 0;
  const result = await inBatches(
    FINISHED_DELIVERY_STATUSES,
    async (status) => {
      const batch = await deleteFinishedDeliveriesBefore(status, cutoff, batchSize);
      messages += batch.messages;
      return batch.deliveries;
    },
    { batchSize, deadline: performance.now() + budgetMs, restPerBatchTime },
  );
  return { ...result, messages };
}

/**
 * The queue's retention task: one step of a purge (the event log's, then the webhooks' log, within
 * half the job timeout in all), and the next step when more is left.
 */
export async function runRetentionStep(): Promise<void> {
  const deadline = performance.now() + (jobTimeoutSeconds() * 1000) / 2;
  const events = await purgeExpiredEvents({ budgetMs: deadline - performance.now() });
  if (events.removed) logger.info(events, "event retention: removed expired events");
  const webhooks = events.finished
    ? await purgeExpiredWebhookDeliveries({ budgetMs: deadline - performance.now() })
    : { removed: 0, messages: 0, finished: false };
  if (webhooks.removed) logger.info(webhooks, "webhook retention: removed finished deliveries");
  if (!events.finished || !webhooks.finished) await enqueue("event-retention", {});
}

/** Puts a purge on the queue unless one was put there in this hour (by this instance or another). */
export async function scheduleRetention(): Promise<void> {
  await enqueueOncePer("event-retention", {}, RETENTION_EVERY_SECONDS);
}
