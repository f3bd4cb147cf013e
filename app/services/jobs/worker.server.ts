// The worker's task list: which service runs each task of the queue. Started by every app instance
// (server/index.ts, unless WORKER_ENABLED=false) and by `npm run worker` (server/worker.ts).
import { resumeOrphanedBulkReplays, runBulkReplayStep } from "~/services/events/bulk-replay.server.ts";
import { runRetentionStep, scheduleRetention } from "~/services/events/retention.server.ts";
import { deliverQueuedMail } from "~/services/mail/mail.server.ts";
import {
  runApplyAllStep,
  runReconciliationTask,
  scheduleNightlyReconciliation,
} from "~/services/customers/reconciliation.server.ts";
import { resumeOrphanedPriceMoves, runPriceMoveStep } from "~/services/tiers/price-moves.server.ts";
import { deliverDueWebhooks, scheduleWebhookDelivery } from "~/services/webhooks/delivery.server.ts";
import { runWebhookFanoutStep, scheduleWebhookFanouts } from "~/services/webhooks/fanout.server.ts";
import { startWorker, type TaskHandlers } from "./queue.server.ts";

const handlers: TaskHandlers = {
  "bulk-replay": runBulkReplayStep,
  "event-retention": runRetentionStep,
  "send-mail": deliverQueuedMail,
  "deliver-webhooks": async () => void (await deliverDueWebhooks()),
  "webhook-fanout": async () => void (await runWebhookFanoutStep()),
  "stripe-reconcile": runReconciliationTask,
  "reconcile-apply": runApplyAllStep,
  "price-move": runPriceMoveStep,
};

/**
 * Starts this process's worker on the job queue (once). At start and then every JOB_TIMEOUT_SECONDS it
 * also puts back on the queue any running bulk replay that no queued step carries on, and puts the
 * hourly retention purge on the queue (once an hour across every instance), the nightly Stripe
 * reconciliation (once a UTC day across every instance), a webhook delivery step when deliveries are
 * due and a fan-out step when a tier edit's fan-out waits (one whose enqueue was lost after its commit,
 * or whose step died, is not stuck).
 */
export function startJobWorker(): Promise<void> {
  return startWorker(handlers, async () => {
    await resumeOrphanedBulkReplays();
    await resumeOrphanedPriceMoves();
    await scheduleRetention();
    await scheduleNightlyReconciliation();
    await scheduleWebhookDelivery();
    await scheduleWebhookFanouts();
  });
}
