// The worker's task list: which service runs each task of the queue. Started by every app instance
// (server/index.ts, unless WORKER_ENABLED=false) and by `npm run worker` (server/worker.ts).
import { resumeOrphanedBulkReplays, runBulkReplayStep } from "~/services/events/bulk-replay.server.ts";
import { startWorker, type TaskHandlers } from "./queue.server.ts";

const handlers: TaskHandlers = {
  "bulk-replay": runBulkReplayStep,
};

/**
 * Starts this process's worker on the job queue (once). It also puts back on the queue, at start and
 * then every JOB_TIMEOUT_SECONDS, any running bulk replay that no queued step carries on.
 */
export function startJobWorker(): Promise<void> {
  return startWorker(handlers, resumeOrphanedBulkReplays);
}
