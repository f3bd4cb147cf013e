// Retention: processed, stale and ignored events older than EVENT_RETENTION_DAYS are removed by a job
// on the queue, in small batches (each its own short transaction, so webhooks never wait behind a
// purge), until none is left or the step's time is up; then the next step carries on. Failed and
// pending events are never removed: they wait for support. The counters the overview reads are kept
// right by the same triggers that count arrivals (app/models/event-counts.server.ts).
import { setTimeout } from "node:timers/promises";
import { foldPastDayCounts } from "~/models/event-counts.server.ts";
import { deleteFinishedEventsBefore, RETAINED_FOR_A_TIME } from "~/models/stripe-event.server.ts";
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

/**
 * Removes expired events in batches until none is left or `budgetMs` has passed (or the queue stops).
 * `finished` says whether nothing expired is left.
 */
export async function purgeExpiredEvents({
  now = new Date(),
  retentionDays = config().events.retentionDays,
  budgetMs = (jobTimeoutSeconds() * 1000) / 2,
  batchSize = BATCH_SIZE,
  restPerBatchTime = REST_PER_BATCH_TIME,
}: {
  now?: Date;
  retentionDays?: number;
  budgetMs?: number;
  batchSize?: number;
  restPerBatchTime?: number;
} = {}): Promise<PurgeResult> {
  const cutoff = new Date(now.getTime() - retentionDays * DAY_MS);
  const deadline = performance.now() + budgetMs;
  let removed = 0;
  for (const status of RETAINED_FOR_A_TIME) {
    for (;;) {
      if (performance.now() > deadline || jobQueueStopping()) return { removed, finished: false };
      const batchStarted = performance.now();
      const batch = await deleteFinishedEventsBefore(status, cutoff, batchSize);
      removed += batch;
      if (batch < batchSize) break;
      await setTimeout((performance.now() - batchStarted) * restPerBatchTime);
    }
  }
  await foldPastDayCounts(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate())));
  return { removed, finished: true };
}

/** The queue's retention task: one step of a purge, and the next step when more is left. */
export async function runRetentionStep(): Promise<void> {
  const result = await purgeExpiredEvents();
  if (result.removed) logger.info(result, "event retention: removed expired events");
  if (!result.finished) await enqueue("event-retention", {});
}

/** Puts a purge on the queue unless one was put there in this hour (by this instance or another). */
export async function scheduleRetention(): Promise<void> {
  await enqueueOncePer("event-retention", {}, RETENTION_EVERY_SECONDS);
}
