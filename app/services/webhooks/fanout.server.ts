// Announcing a tier's edit to the accounts it moves (docs/decisions/018): the edit's transaction records
// that a fan-out is due (one row per tier, at its COMMIT: a rolled-back edit owes nothing), and the
// `webhook-fanout` job expands it in batches of accounts, each its own short transaction that reuses the
// outbox statement (an account whose announced state did not change gets nothing) and moves the cursor
// at the same commit: the admin's request does no per-account work, and a crash resumes at the cursor.
import { inTransaction, type Tx } from "~/models/transaction.server.ts";
import {
  advanceFanoutAtCommit,
  claimFanout,
  type FanoutTier,
  hasFanouts,
  lockFanoutBatch,
  recordTierFanoutsAtCommit,
} from "~/models/webhook-fanout.server.ts";
import { enqueue, enqueueDebounced, jobQueueStopping, jobTimeoutSeconds } from "~/services/jobs/queue.server.ts";
import { logger } from "~/utils/logger.server.ts";
import { announceAccountChange } from "./outbox.server.ts";

// Accounts read per batch: one short transaction, its locks held for milliseconds.
const BATCH_SIZE = 1_000;

/** Starts a fan-out step soon (debounced: a burst of edits makes one job per second). */
function kickWebhookFanout(): void {
  enqueueDebounced("webhook-fanout", {}, 1).catch((error: unknown) =>
    // The worker's periodic sweep finds the fan-out anyway.
    logger.warn({ err: error }, "webhooks: could not enqueue a fan-out step"),
  );
}

/**
 * In an admin's edit of what these tiers grant: their accounts get account.entitlements.updated once
 * the edit commits (those whose entitlements it changed). `includeLapsed`: the tier's provider or
 * exemption changed, which may put it in force (or out of it) for accounts stored on it.
 */
export function announceTierChange(tx: Tx, tiers: readonly FanoutTier[], { includeLapsed = false } = {}) {
  return recordTierFanoutsAtCommit(tx, tiers, includeLapsed, kickWebhookFanout);
}

/** Expands one batch of the oldest fan-out; false when none is left to this step. */
async function expandFanoutBatch(batchSize: number): Promise<boolean> {
  return inTransaction(async (tx) => {
    const fanout = await claimFanout(tx);
    if (!fanout) return false;
    if (!fanout.subscribed) {
      // Nobody listens any more: as for any change made while no endpoint is enabled.
      await advanceFanoutAtCommit(tx, fanout.id, null);
      return true;
    }
    const batch = await lockFanoutBatch(tx, fanout, batchSize);
    await announceAccountChange(tx, batch.targets, "account.entitlements.updated");
    await advanceFanoutAtCommit(tx, fanout.id, batch.read < batchSize ? null : batch.lastId);
    return true;
  });
}

/**
 * One step of the queue's fan-out task: batches until no fan-out is left, the queue stops, or
 * `budgetMs` has passed (at least one batch runs); then the next step goes on the queue.
 */
export async function runWebhookFanoutStep({
  batchSize = BATCH_SIZE,
  budgetMs = (jobTimeoutSeconds() * 1000) / 3,
}: { batchSize?: number; budgetMs?: number } = {}): Promise<{ batches: number; finished: boolean }> {
  const deadline = performance.now() + budgetMs;
  let batches = 0;
  for (;;) {
    if (!(await expandFanoutBatch(batchSize))) return { batches, finished: true };
    batches++;
    if (performance.now() > deadline || jobQueueStopping()) {
      await enqueue("webhook-fanout", {});
      return { batches, finished: false };
    }
  }
}

/** The worker's periodic sweep: a step when a fan-out waits (its enqueue was lost, or its step died). */
export async function scheduleWebhookFanouts(): Promise<void> {
  if (await hasFanouts()) kickWebhookFanout();
}
