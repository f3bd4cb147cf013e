// "Replay all failed events matching this filter": shows the count first, then runs on the job queue
// (app/services/jobs) in bounded batches with its progress stored, so the page can show it. Each step
// of the job runs batches for a while, stores its progress after each, then puts the next step on the
// queue; a step whose instance died is retried by a worker in another instance after its timeout, with
// no page visit. Safe if clicked twice (the running job for the same filter is reused) and on several
// instances at once (each event is claimed as in a single replay, so none is replayed twice, and an
// event this job already attempted is not attempted again).
import { countFailedEvents } from "~/models/event-counts.server.ts";
import {
  countFailedMatching,
  countFailedMatchingUpTo,
  type EventLogFilter,
  nextFailedBatch,
} from "~/models/event-log.server.ts";
import {
  createReplayJob,
  findRunningReplayJob,
  finishReplayJob,
  getReplayJob,
  listOrphanedReplayJobs,
  lockReplayJobs,
  type ReplayJobRow,
  recordReplayProgress,
} from "~/models/replay-job.server.ts";
import { inTransaction } from "~/models/transaction.server.ts";
import { replayStoredEvent } from "~/services/events/replay.server.ts";
import {
  enqueue,
  jobQueueStopping,
  jobTimeoutSeconds,
  type TaskPayloads,
  withJobQueue,
} from "~/services/jobs/queue.server.ts";
import { logger } from "~/utils/logger.server.ts";

const REPLAY_BATCH_SIZE = 25;

type StoredFilter = { provider?: "stripe" | "whop"; type?: string; from?: string; to?: string; q?: string };

function toStored(filter: EventLogFilter): StoredFilter {
  return {
    ...(filter.provider ? { provider: filter.provider } : {}),
    ...(filter.type ? { type: filter.type } : {}),
    ...(filter.from ? { from: filter.from.toISOString() } : {}),
    ...(filter.to ? { to: filter.to.toISOString() } : {}),
    ...(filter.q ? { q: filter.q } : {}),
  };
}

function fromStored(value: unknown): EventLogFilter {
  const stored = (value && typeof value === "object" ? value : {}) as StoredFilter;
  return {
    provider: stored.provider === "stripe" || stored.provider === "whop" ? stored.provider : undefined,
    type: stored.type,
    q: stored.q,
    from: stored.from ? new Date(stored.from) : undefined,
    to: stored.to ? new Date(stored.to) : undefined,
  };
}

// A preview counts at most this many failed events of a narrower filter (one index range, bounded).
const PREVIEW_COUNT_CAP = 10_000;

/** How many failed events "replay all" would replay: exact, or at least `count` past the cap. */
export type BulkReplayPreview = { count: number; atLeast: boolean };

/** What "replay all failed events matching this filter" would replay, for its confirmation. */
export async function previewBulkReplay(filter: EventLogFilter): Promise<BulkReplayPreview> {
  const { provider, status: _status, ...narrower } = filter;
  // Failed events of every type and day: the counters say, at any size.
  if (!Object.values(narrower).some((value) => value !== undefined)) {
    return { count: await countFailedEvents(provider), atLeast: false };
  }
  const count = await countFailedMatchingUpTo(filter, PREVIEW_COUNT_CAP + 1);
  return count > PREVIEW_COUNT_CAP ? { count: PREVIEW_COUNT_CAP, atLeast: true } : { count, atLeast: false };
}

/** Starts a bulk replay (or returns the one already running for this filter); a worker runs it. */
export async function startBulkReplay(actorEmail: string, filter: EventLogFilter): Promise<ReplayJobRow | null> {
  const stored = toStored(filter);
  return withJobQueue(() =>
    inTransaction(async (tx) => {
      await lockReplayJobs(tx);
      const running = await findRunningReplayJob(tx, stored);
      if (running) return running;
      const { count, maxId } = await countFailedMatching(filter, undefined, tx);
      if (!count || maxId === null) return null;
      const job = await createReplayJob(tx, {
        createdByEmail: actorEmail,
        filter: stored,
        upToId: maxId,
        total: count,
      });
      // In the same transaction: a job row never exists without its first step on the queue.
      await enqueue("bulk-replay", { replayJobId: job.id }, { tx });
      return job;
    }),
  );
}

type RunnableJob = Pick<ReplayJobRow, "id" | "filter" | "upToId" | "createdAt">;

/**
 * Replays failed events of the job, batch after batch, oldest first, each replayed (and claimed) on
 * its own, the job's progress stored after each event; until none is left (the job is then finished)
 * or `until` says to stop. Returns where it stopped, or null when the job is done.
 */
async function replayBatches(job: RunnableJob, afterId: bigint, until: () => boolean): Promise<bigint | null> {
  const filter = fromStored(job.filter);
  for (;;) {
    const current = await getReplayJob(job.id);
    if (!current || current.status !== "running") return null;
    const batch = await nextFailedBatch(
      filter,
      { upToId: job.upToId, afterId, startedAt: job.createdAt },
      REPLAY_BATCH_SIZE,
    );
    if (!batch.length) break;
    for (const event of batch) {
      // Checked before each replay: a step that must stop (its time is up, or the queue stops)
      // returns at once, and the rest is put back on the queue.
      if (until()) return afterId;
      afterId = event.id;
      const outcome = await replayStoredEvent(event.eventId, { bulk: true });
      // Counted as soon as it is replayed, so an instance killed mid-batch loses at most this one
      // count. "Not failed any more" means another runner or delivery took it: not ours to count.
      if (outcome.ok) await recordReplayProgress(job.id, 1, 0);
      else if (!outcome.refused) await recordReplayProgress(job.id, 0, 1);
    }
  }
  await finishReplayJob(job.id);
  return null;
}

/** Runs the job to the end here (a step without a time limit). */
export async function runBulkReplay(job: RunnableJob) {
  await replayBatches(job, 0n, () => false);
}

/**
 * The queue's "bulk-replay" task: replays for a third of the job timeout (so a step ends long before
 * another worker would take it over), then puts the rest on the queue as the next step.
 */
export async function runBulkReplayStep({ replayJobId, afterId }: TaskPayloads["bulk-replay"]) {
  const job = await getReplayJob(replayJobId);
  if (!job || job.status !== "running") return;
  const stopAt = Date.now() + (jobTimeoutSeconds() * 1000) / 3;
  const stoppedAt = await replayBatches(job, BigInt(afterId ?? "0"), () => Date.now() >= stopAt || jobQueueStopping());
  if (stoppedAt !== null) await enqueue("bulk-replay", { replayJobId, afterId: stoppedAt.toString() });
}

/** The job's state for its page. */
export async function bulkReplayProgress(id: number) {
  return getReplayJob(id);
}

/**
 * Puts a step back on the queue for every running bulk replay that nothing on the queue carries on
 * (its steps ran out of retries, or it was started before the queue existed). A resumed job starts
 * from its first event again: events it already replayed are no longer failed, and those that failed
 * again since it started are not retried by it.
 */
export async function resumeOrphanedBulkReplays(): Promise<void> {
  await inTransaction(async (tx) => {
    await lockReplayJobs(tx);
    for (const { id } of await listOrphanedReplayJobs(tx)) {
      logger.warn({ replayJobId: id }, "bulk replay had no step on the queue: resumed");
      await enqueue("bulk-replay", { replayJobId: id }, { tx });
    }
  });
}
