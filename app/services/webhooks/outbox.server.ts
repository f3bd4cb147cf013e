// Announcing account changes to the outgoing webhooks' outbox (docs/decisions/018): called by every
// change that moves an account's entitlements or seats, in the change's own transaction.
import type { Tx } from "~/models/transaction.server.ts";
import { type WebhookEventType, writeWebhookMessagesAtCommit } from "~/models/webhook-outbox.server.ts";
import { enqueueDebounced } from "~/services/jobs/queue.server.ts";
import { logger } from "~/utils/logger.server.ts";

/** Starts a delivery step soon (debounced: a burst of changes makes one job per second). */
export function kickWebhookDelivery(): void {
  enqueueDebounced("deliver-webhooks", {}, 1).catch((error: unknown) =>
    // The worker's periodic sweep finds the due deliveries anyway.
    logger.warn({ err: error }, "webhooks: could not enqueue a delivery step"),
  );
}

/**
 * Writes `type`'s message for each account with the transaction's commit (for an update, only when
 * what it announces changed), and starts a delivery once it has committed.
 */
export function announceAccountChange(tx: Tx, accountIds: readonly number[], type: WebhookEventType) {
  return writeWebhookMessagesAtCommit(tx, accountIds, type, kickWebhookDelivery);
}
