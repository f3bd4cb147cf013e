// The job queue: pg-boss on the app's own database (docs/decisions/011-job-queue-on-postgresql.md).
// One queue per process, started once; a worker in every app instance (server/index.ts) unless
// WORKER_ENABLED=false, and `npm run worker` for a process that only works. A job whose worker died
// is failed by timeout after JOB_TIMEOUT_SECONDS and retried by a worker in any instance.
import PgBoss from "pg-boss";
import { jobQueueDatabase, jobQueueTransaction } from "~/models/job-queue.server.ts";
import type { Tx } from "~/models/transaction.server.ts";
import { config } from "~/utils/config.server.ts";
import { logger } from "~/utils/logger.server.ts";
import { singleton } from "~/utils/singleton.server.ts";

/** Every task the queue runs, and its payload. */
export type TaskPayloads = {
  /** One step of a bulk replay (app/services/events/bulk-replay.server.ts): some batches, then the next step. */
  /** `afterId`: where the previous step stopped (the stored events' id, as a string: JSON has no bigint). */
  "bulk-replay": { replayJobId: number; afterId?: string };
  /** One step of removing expired events (app/services/events/retention.server.ts). */
  "event-retention": Record<string, never>;
  /** One message to send through SMTP (app/services/mail/mail.server.ts), sealed: it may hold a reset link. */
  "send-mail": { sealed: string };
  /** Sends the outgoing webhooks that are due (app/services/webhooks/delivery.server.ts), in batches. */
  "deliver-webhooks": Record<string, never>;
  /** Expands tier edits into their accounts' webhook messages (app/services/webhooks/fanout.server.ts), in batches. */
  "webhook-fanout": Record<string, never>;
  /** A whole-account reconciliation run (app/services/customers/reconciliation.server.ts); without `runId`, tonight's. */
  "stripe-reconcile": { runId?: number };
  /** A step of applying every open difference of a reconciliation run, audited as `actor`. */
  "reconcile-apply": { runId: number; actor: { id: number | null; email: string } };
  /** One step of moving a lookup key's legacy subscribers to its current price (app/services/tiers/price-moves.server.ts). */
  "price-move": { moveId: number };
};
export type TaskName = keyof TaskPayloads;
export type TaskHandlers = { [Name in TaskName]: (payload: TaskPayloads[Name]) => Promise<void> };

const TASK_NAMES: readonly TaskName[] = [
  "bulk-replay",
  "event-retention",
  "send-mail",
  "deliver-webhooks",
  "webhook-fanout",
  "stripe-reconcile",
  "reconcile-apply",
  "price-move",
];

// A worker asks for new jobs this often (pg-boss polls; it has no LISTEN/NOTIFY).
const POLLING_INTERVAL_SECONDS = 1;
// A step that keeps failing (the database away) is retried this often before it is given up.
const RETRY_LIMIT = 20;
// Mail waits out an SMTP server's outage: 10 tries, 5 s apart and doubling (about 85 minutes in all).
const RETRIES: Partial<Record<TaskName, { retryLimit: number; retryDelay: number; retryBackoff: boolean }>> = {
  "send-mail": { retryLimit: 10, retryDelay: 5, retryBackoff: true },
  // A run restarts from nothing: a few tries, a minute apart.
  "stripe-reconcile": { retryLimit: 3, retryDelay: 60, retryBackoff: false },
};
// A reconciliation run pages through all of Stripe in one step (100 subscriptions a request, paced
// under the rate limit: 10,000 take about 10 s, a million about 17 minutes).
const EXPIRY_SECONDS: Partial<Record<TaskName, number>> = { "stripe-reconcile": 60 * 60 };

type QueueState = {
  boss?: PgBoss;
  starting?: Promise<PgBoss>;
  working: boolean;
  stopping: boolean;
  /** The process-wide guard against pg-boss's unawaited bookkeeping is installed. */
  guarded?: boolean;
};
// On globalThis: the server entry starts the worker, and the Remix build's routes enqueue on it.
const state = singleton("job-queue", (): QueueState => ({ working: false, stopping: false }));

/** True while the queue stops: a running step should put the rest of its work back on the queue and return. */
export function jobQueueStopping() {
  return state.stopping;
}

/** How long a worker may hold one step before another takes it over; steps stop well before it. */
export function jobTimeoutSeconds() {
  return config().jobs.timeoutSeconds;
}

/**
 * True for a rejection from pg-boss's own bookkeeping after a step ran: pg-boss 10.4 records a job's
 * completion or failure without awaiting it (manager.js, `watch` → `onFetch`), so with the database
 * away at that moment the promise rejects unhandled and Node would end the whole instance.
 */
export function isJobBookkeepingFailure(reason: unknown): boolean {
  const stack = reason instanceof Error ? (reason.stack ?? "") : "";
  return /Manager\.(complete|fail) \([^)]*pg-boss[\\/]src[\\/]manager\.js/.test(stack);
}

/**
 * Keeps the instance up when pg-boss's bookkeeping fails (the database is down): logged, and the job,
 * still active in the queue, expires after JOB_TIMEOUT_SECONDS and is retried. Any other unhandled
 * rejection still ends the process, as Node's default does.
 */
function surviveJobBookkeepingFailures() {
  if (state.guarded) return;
  state.guarded = true;
  process.on("unhandledRejection", (reason) => {
    if (!isJobBookkeepingFailure(reason)) throw reason;
    logger.warn(
      { err: reason },
      "job queue: could not record a step's outcome (database unreachable); it will be retried",
    );
  });
}

async function startQueue(): Promise<PgBoss> {
  surviveJobBookkeepingFailures();
  const timeout = jobTimeoutSeconds();
  const boss = new PgBoss({
    ...(await jobQueueDatabase(stopJobQueue)),
    // Expired steps are failed (and so retried) by this maintenance, in whichever instance runs it first.
    maintenanceIntervalSeconds: Math.max(1, Math.floor(timeout / 2)),
    // No cron schedules yet: the clock-skew and cron monitors stay off until a task needs them.
    schedule: false,
  });
  boss.on("error", (error) => logger.error({ err: error }, "job queue error"));
  await boss.start();
  for (const name of TASK_NAMES) {
    const options = {
      name,
      expireInSeconds: EXPIRY_SECONDS[name] ?? timeout,
      ...(RETRIES[name] ?? { retryLimit: RETRY_LIMIT, retryDelay: 1, retryBackoff: false }),
    };
    // Idempotent (ON CONFLICT DO NOTHING) when another instance made it; then the options are ours.
    await boss.createQueue(name, options);
    await boss.updateQueue(name, options);
  }
  return boss;
}

/** The started queue (started on first use, once per process). */
async function jobQueue(): Promise<PgBoss> {
  if (state.boss) return state.boss;
  state.starting ??= startQueue().then(
    (boss) => (state.boss = boss),
    (error) => {
      state.starting = undefined;
      throw error;
    },
  );
  return state.starting;
}

/**
 * Puts a task on the queue; any instance's worker runs it. Given `tx` (from `withJobQueue`), the task is
 * stored in that transaction: it exists if and only if what the transaction wrote commits.
 */
export async function enqueue<Name extends TaskName>(
  name: Name,
  payload: TaskPayloads[Name],
  { tx }: { tx?: Tx } = {},
): Promise<void> {
  const boss = state.boss ?? (await jobQueue());
  await boss.send(name, payload, tx ? { db: jobQueueTransaction(tx) } : {});
}

/**
 * Puts a task on the queue at most once per `seconds` across every instance (pg-boss's throttling: one
 * job per time slot and key), for work that recurs, such as retention.
 */
export async function enqueueOncePer<Name extends TaskName>(name: Name, payload: TaskPayloads[Name], seconds: number) {
  const boss = state.boss ?? (await jobQueue());
  await boss.sendThrottled(name, payload, {}, seconds, name);
}

/**
 * Puts a task on the queue unless one is already waiting for the current `seconds` slot; then it goes
 * in the next slot (pg-boss's debouncing): a burst of changes makes a few jobs, and a change made
 * while a job runs still gets one after it.
 */
export async function enqueueDebounced<Name extends TaskName>(
  name: Name,
  payload: TaskPayloads[Name],
  seconds: number,
  key: string = name,
) {
  const boss = state.boss ?? (await jobQueue());
  await boss.sendDebounced(name, payload, {}, seconds, key);
}

/**
 * Runs `work` once the queue has started, so that it may enqueue inside a transaction (starting the
 * queue inside one would wait on it forever on the embedded database's single connection).
 */
export async function withJobQueue<T>(work: () => Promise<T>): Promise<T> {
  await jobQueue();
  return work();
}

/** Starts this process's worker for every task (once); `periodic` then runs now and every JOB_TIMEOUT_SECONDS. */
export async function startWorker(handlers: TaskHandlers, periodic?: () => Promise<void>): Promise<void> {
  const boss = await jobQueue();
  if (state.working) return;
  state.working = true;
  for (const name of TASK_NAMES) {
    const handler = handlers[name] as (payload: TaskPayloads[TaskName]) => Promise<void>;
    await boss.work<TaskPayloads[TaskName]>(
      name,
      { pollingIntervalSeconds: POLLING_INTERVAL_SECONDS, batchSize: 1 },
      async ([job]) => {
        if (job) await handler(job.data);
      },
    );
  }
  logger.info({ tasks: TASK_NAMES }, "job queue worker started");
  if (!periodic) return;
  const sweep = () => void periodic().catch((error) => logger.error({ err: error }, "job queue: periodic work failed"));
  sweep();
  const timer = setInterval(() => {
    if (state.working && !state.stopping) sweep();
    else clearInterval(timer);
  }, jobTimeoutSeconds() * 1000);
  timer.unref();
}

/**
 * Stops the queue: the worker takes no new job and waits (up to JOB_TIMEOUT_SECONDS) for the one it
 * runs; what it could not finish is taken over by another instance after its timeout.
 */
export async function stopJobQueue(): Promise<void> {
  const boss = state.boss ?? (await state.starting?.catch(() => undefined));
  if (!boss) return;
  // The running step sees this, enqueues the rest on the still-open queue, and returns.
  state.stopping = true;
  try {
    await boss.stop({ graceful: true, wait: true, timeout: jobTimeoutSeconds() * 1000 });
  } finally {
    state.boss = undefined;
    state.starting = undefined;
    state.working = false;
    state.stopping = false;
  }
}
