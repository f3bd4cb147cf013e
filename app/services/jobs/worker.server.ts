// The worker's task list: which service runs each task of the queue. Started by every app instance
// (server/index.ts, unless WORKER_ENABLED=false) and by `npm run worker` (server/worker.ts).
import { runBulkReplayStep } from "~/services/events/bulk-replay.server.ts";
import { startWorker, type TaskHandlers } from "./queue.server.ts";

const handlers: TaskHandlers = {
  "bulk-replay": runBulkReplayStep,
};

/** Starts this process's worker on the job queue (once). */
export function startJobWorker(): Promise<void> {
  return startWorker(handlers);
}
