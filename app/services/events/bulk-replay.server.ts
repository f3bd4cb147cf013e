// "Replay all failed events matching this filter": shows the count first, then runs in the
// background in bounded batches with its progress stored, so the page can show it. Safe if clicked
// twice (the running job for the same filter is reused) and on several instances at once (each
// event is claimed as in a single replay, so none is replayed twice).
import { logger } from "~/utils/logger.server.ts";
import { singleton } from "~/utils/singleton.server.ts";
import { countFailedMatching, type EventLogFilter, nextFailedBatch } from "~/models/event-log.server.ts";
import {
  createReplayJob,
  findRunningReplayJob,
  finishReplayJob,
  getReplayJob,
  lockReplayJobs,
  type ReplayJobRow,
  recordReplayProgress,
} from "~/models/replay-job.server.ts";
import { inTransaction } from "~/models/transaction.server.ts";
import { replayStoredEvent } from "~/services/events/replay.server.ts";

const REPLAY_BATCH_SIZE = 25;
/** A running job whose runner has not reported for this long is picked up again by the next visitor. */
const STALLED_AFTER_MS = 30_000;

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

export async function previewBulkReplay(filter: EventLogFilter) {
  return (await countFailedMatching(filter)).count;
}

/** Starts a bulk replay (or returns the one already running for this filter) and runs it in the background. */
export async function startBulkReplay(actorEmail: string, filter: EventLogFilter): Promise<ReplayJobRow | null> {
  const stored = toStored(filter);
  const job = await inTransaction(async (tx) => {
    await lockReplayJobs(tx);
    const running = await findRunningReplayJob(tx, stored);
    if (running) return running;
    const { count, maxId } = await countFailedMatching(filter, undefined, tx);
    if (!count || maxId === null) return null;
    return createReplayJob(tx, { createdByEmail: actorEmail, filter: stored, upToId: maxId, total: count });
  });
  if (job) runInBackground(job);
  return job;
}

const runners = singleton("bulk-replay-runners", () => new Set<number>());

function runInBackground(job: ReplayJobRow) {
  if (runners.has(job.id)) return;
  runners.add(job.id);
  void runBulkReplay(job)
    .catch((error) => logger.error({ err: error, jobId: job.id }, "bulk replay stopped"))
    .finally(() => runners.delete(job.id));
}

/** Runs the job to the end: batches of failed events, oldest first, each replayed (and claimed) on its own. */
export async function runBulkReplay(job: Pick<ReplayJobRow, "id" | "filter" | "upToId">) {
  const filter = fromStored(job.filter);
  let afterId = 0n;
  for (;;) {
    const current = await getReplayJob(job.id);
    if (!current || current.status !== "running") return;
    const batch = await nextFailedBatch(filter, job.upToId, afterId, REPLAY_BATCH_SIZE);
    if (!batch.length) break;
    let processed = 0;
    let failed = 0;
    for (const event of batch) {
      afterId = event.id;
      const outcome = await replayStoredEvent(event.eventId, { bulk: true });
      if (outcome.ok) processed++;
      // "not failed any more" means another runner or delivery took it: not ours to count.
      else if (!outcome.refused) failed++;
    }
    await recordReplayProgress(job.id, processed, failed);
  }
  await finishReplayJob(job.id);
}

/** The job's state for its page; a job whose runner died is picked up again here. */
export async function bulkReplayProgress(id: number) {
  const job = await getReplayJob(id);
  if (!job) return null;
  if (job.status === "running" && Date.now() - job.heartbeatAt.getTime() > STALLED_AFTER_MS) runInBackground(job);
  return job;
}
