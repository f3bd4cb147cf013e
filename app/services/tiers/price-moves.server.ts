// "Move legacy subscribers": after a price change, the subscriptions on a lookup key's legacy prices
// move to its current price from their next renewal (`proration_behavior: none`). The run is a job on
// the queue (app/services/jobs): it first lists the subscriptions from Stripe (kept in the database,
// with its cursor), then moves them one by one, its progress stored after each. Steps run for a third
// of the job timeout and put the rest back on the queue. One worker works a run at a time (a lease
// renewed after each subscription); a worker that dies leaves a lease that runs out, and the step is
// retried elsewhere after JOB_TIMEOUT_SECONDS. Each subscription is read before it is moved (already
// on the target, ended or switched meanwhile: left alone) and updated with an idempotency key of the
// subscription and target price, so nothing is moved twice. Calls are paced under Stripe's limit and
// a 429 is waited out (../stripe/price-changes.server.ts).
import { randomUUID } from "node:crypto";
import Stripe from "stripe";
import { type AuditActor, recordAudit } from "~/models/audit.server.ts";
import { notifyStripeCatalogChanged } from "~/models/catalog-changes.server.ts";
import {
  addPriceMoveItems,
  claimPriceMove,
  createPriceMove,
  findActivePriceMove,
  finishPriceMove,
  getPriceMove,
  listOrphanedPriceMoves,
  listPriceMoveItems,
  listRecentPriceMoves,
  lockPriceMoves,
  nextPendingPriceMoveItems,
  notePriceMoveAttempt,
  type PriceMoveRow,
  recordPriceMoveItem,
  releasePriceMove,
  startMovingPriceMove,
} from "~/models/price-move.server.ts";
import { listTiersForAdmin } from "~/models/tier.server.ts";
import { inTransaction } from "~/models/transaction.server.ts";
import {
  enqueue,
  jobQueueStopping,
  jobTimeoutSeconds,
  type TaskPayloads,
  withJobQueue,
} from "~/services/jobs/queue.server.ts";
import {
  moveSubscriptionToPrice,
  moveTargetAndSources,
  StripePacer,
  subscriptionsOnPrice,
} from "~/services/stripe/price-changes.server.ts";
import { invalidatePriceCache } from "~/services/stripe/prices.server.ts";
import { logger } from "~/utils/logger.server.ts";

const ITEM_BATCH = 25;
const SYSTEM: AuditActor = { id: null, email: "system (price move)" };

export type StartPriceMove = { ok: true; move: PriceMoveRow; reused: boolean } | { ok: false; message: string };

/** Starts moving the lookup key's legacy subscribers (or returns the run already doing it). */
export async function startPriceMove(actor: AuditActor, tierKey: string, lookupKey: string): Promise<StartPriceMove> {
  const [tier] = await listTiersForAdmin(tierKey);
  if (!tier || !tier.prices.some((p) => p.lookupKey === lookupKey)) {
    return { ok: false, message: `The tier ${tierKey} has no lookup key "${lookupKey}".` };
  }
  const found = await moveTargetAndSources(new StripePacer(), lookupKey);
  if (!found) return { ok: false, message: `Stripe has no price with the lookup key "${lookupKey}".` };
  if (!found.sources.length)
    return { ok: false, message: `The lookup key "${lookupKey}" has no legacy prices to move from.` };
  return withJobQueue(() =>
    inTransaction(async (tx) => {
      await lockPriceMoves(tx);
      const running = await findActivePriceMove(tx, lookupKey);
      if (running) return { ok: true, move: running, reused: true } as const;
      const move = await createPriceMove(tx, {
        createdByEmail: actor.email,
        tierKey: tier.key,
        lookupKey,
      });
      await recordAudit(tx, {
        actor,
        action: "price_move_started",
        entity: "tier",
        entityId: tier.id,
        entityLabel: tier.key,
        before: { lookupKey, prices: found.sources.map((price) => price.id) },
        after: { lookupKey, price: found.target.id, run: move.id },
      });
      // In the same transaction: a run never exists without its first step on the queue.
      await enqueue("price-move", { moveId: move.id }, { tx });
      return { ok: true, move, reused: false } as const;
    }),
  );
}

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** The key's current price and its legacy prices, as Stripe has them at this step. */
type Plan = { targetId: string; sourceIds: string[] };

async function finish(move: PriceMoveRow, plan: Plan | null, status: "finished" | "failed", error: string | null) {
  const [tier] = await listTiersForAdmin(move.tierKey);
  await inTransaction(async (tx) => {
    if (!(await finishPriceMove(tx, move.id, status, error))) return;
    const after = await tx.priceMove.findUnique({ where: { id: move.id } });
    if (tier) {
      await recordAudit(tx, {
        actor: SYSTEM,
        action: status === "finished" ? "price_move_finished" : "price_move_failed",
        entity: "tier",
        entityId: tier.id,
        entityLabel: tier.key,
        before: null,
        after: {
          run: move.id,
          lookupKey: move.lookupKey,
          price: plan?.targetId ?? null,
          moved: after?.moved ?? 0,
          skipped: after?.skipped ?? 0,
          failed: after?.failed ?? 0,
          ...(error ? { error } : {}),
        },
      });
    }
    // Subscriber counts changed: every instance drops its cached prices and counts at commit.
    await notifyStripeCatalogChanged(tx);
  });
  invalidatePriceCache();
}

/** Lists the legacy prices' subscriptions into the run, page by page, until done or `until()`. */
async function collect(move: PriceMoveRow, plan: Plan, token: string, pacer: StripePacer, until: () => boolean) {
  let index = move.collectIndex;
  let after = move.collectAfter;
  while (index < plan.sourceIds.length) {
    if (until()) return false;
    const page = await subscriptionsOnPrice(pacer, plan.sourceIds[index]!, after);
    const next =
      page.hasMore && page.last
        ? { collectIndex: index, collectAfter: page.last }
        : { collectIndex: index + 1, collectAfter: null };
    await addPriceMoveItems(move.id, token, page.ids, next, jobTimeoutSeconds());
    index = next.collectIndex;
    after = next.collectAfter;
  }
  await startMovingPriceMove(move.id);
  return true;
}

/** Moves the pending subscriptions, one by one, until none is left (true) or `until()` (false). */
async function moveItems(move: PriceMoveRow, plan: Plan, token: string, pacer: StripePacer, until: () => boolean) {
  for (;;) {
    const batch = await nextPendingPriceMoveItems(move.id, ITEM_BATCH);
    if (!batch.length) return true;
    for (const item of batch) {
      if (until()) return false;
      await notePriceMoveAttempt(item.id);
      const limitedBefore = pacer.rateLimited;
      let outcome: {
        outcome: "moved" | "already" | "skipped" | "failed";
        customerId: string | null;
        error: string | null;
      };
      try {
        const result = await moveSubscriptionToPrice(pacer, item.subscriptionId, plan.sourceIds, plan.targetId);
        outcome = {
          outcome: result.kind,
          customerId: result.customerId,
          error: result.kind === "skipped" ? `${item.subscriptionId}: ${result.reason}` : null,
        };
      } catch (error) {
        // Stripe refused this subscription (a 4xx): recorded, and the run goes on. Anything else
        // (Stripe or the network away, 429s past patience) fails the step, which the queue retries.
        if (!(error instanceof Stripe.errors.StripeInvalidRequestError)) throw error;
        outcome = { outcome: "failed", customerId: null, error: `${item.subscriptionId}: ${errorText(error)}` };
      }
      await recordPriceMoveItem(
        move.id,
        token,
        { id: item.id, ...outcome },
        pacer.rateLimited - limitedBefore,
        jobTimeoutSeconds(),
      );
    }
  }
}

/**
 * Works the run until it is done or `until()` says stop (the step's time, the queue stopping).
 * Returns "done", "stopped" (more to do), or "busy" (another worker holds it).
 */
async function workPriceMove(moveId: number, until: () => boolean, pacer = new StripePacer()) {
  const token = randomUUID();
  const move = await claimPriceMove(moveId, token, jobTimeoutSeconds());
  if (!move) return "busy" as const;
  try {
    // Asked at each step, never stored: if the key moved on meanwhile, the rest go to its newest price.
    const now = await moveTargetAndSources(pacer, move.lookupKey);
    if (!now) {
      await finish(move, null, "failed", `Stripe has no price with the lookup key ${move.lookupKey} any more.`);
      return "done" as const;
    }
    const plan = { targetId: now.target.id, sourceIds: now.sources.map((price) => price.id) };
    if (move.status === "collecting" && !(await collect(move, plan, token, pacer, until))) return "stopped" as const;
    if (!(await moveItems(move, plan, token, pacer, until))) return "stopped" as const;
    await finish(move, plan, "finished", null);
    return "done" as const;
  } finally {
    await releasePriceMove(moveId, token);
  }
}

/** The queue's "price-move" task: works for a third of the job timeout, then puts the rest back. */
export async function runPriceMoveStep({ moveId }: TaskPayloads["price-move"]) {
  const stopAt = Date.now() + (jobTimeoutSeconds() * 1000) / 3;
  const outcome = await workPriceMove(moveId, () => Date.now() >= stopAt || jobQueueStopping());
  if (outcome === "stopped") await enqueue("price-move", { moveId });
}

/** A run's state and first subscriptions, for its page. */
export async function priceMoveProgress(id: number) {
  const move = await getPriceMove(id);
  if (!move) return null;
  return { move, items: await listPriceMoveItems(id) };
}

export function recentPriceMoves(tierKey: string) {
  return listRecentPriceMoves(tierKey);
}

/** Puts a step back on the queue for every run nothing on the queue carries on (periodic, every instance). */
export async function resumeOrphanedPriceMoves(): Promise<void> {
  await inTransaction(async (tx) => {
    await lockPriceMoves(tx);
    for (const { id } of await listOrphanedPriceMoves(tx)) {
      logger.warn({ moveId: id }, "price move had no step on the queue: resumed");
      await enqueue("price-move", { moveId: id }, { tx });
    }
  });
}
