// Runs of "move legacy subscribers to the current price" (app/services/tiers/price-moves.server.ts):
// the run, the subscriptions it moves and their outcomes, and the lease that lets one worker at a
// time work a run whichever instance it is in.
import { prisma } from "~/db/db.server.ts";
import type { Db } from "./transaction.server.ts";

export type PriceMoveRow = NonNullable<Awaited<ReturnType<typeof getPriceMove>>>;
export type PriceMoveItemOutcome = "moved" | "already" | "skipped" | "failed";

export function getPriceMove(id: number) {
  return prisma.priceMove.findUnique({ where: { id } });
}

/** Serialises starting runs across instances (a transaction-scoped advisory lock). */
export async function lockPriceMoves(tx: Db) {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('tierdesk.price_moves'))`;
}

/** The run still collecting or moving for this lookup key, if any. */
export function findActivePriceMove(tx: Db, lookupKey: string) {
  return tx.priceMove.findFirst({
    where: { lookupKey, status: { in: ["collecting", "running"] } },
    orderBy: { id: "desc" },
  });
}

export function createPriceMove(tx: Db, data: { createdByEmail: string; tierKey: string; lookupKey: string }) {
  return tx.priceMove.create({ data });
}

/** The tier's latest runs, newest first (the tier page links to them). */
export function listRecentPriceMoves(tierKey: string, take = 5) {
  return prisma.priceMove.findMany({ where: { tierKey }, orderBy: { createdAt: "desc" }, take });
}

/**
 * Takes the run for `token` until `seconds` from now, unless another worker holds it (its lease not
 * yet run out) or the run is over. Returns the run when taken.
 */
export async function claimPriceMove(id: number, token: string, seconds: number): Promise<PriceMoveRow | null> {
  const taken = await prisma.$executeRaw`
    UPDATE price_moves SET lease_token = ${token}, lease_until = now() + make_interval(secs => ${seconds}),
           heartbeat_at = now()
     WHERE id = ${id} AND status IN ('collecting', 'running')
       AND (lease_until IS NULL OR lease_until < now() OR lease_token = ${token})`;
  return taken === 1 ? getPriceMove(id) : null;
}

/** Gives the run back (its next step may run anywhere at once). */
export async function releasePriceMove(id: number, token: string) {
  await prisma.$executeRaw`
    UPDATE price_moves SET lease_token = NULL, lease_until = NULL WHERE id = ${id} AND lease_token = ${token}`;
}

/** Adds subscriptions read from Stripe (once each) and moves the collecting cursor, in one transaction. */
export async function addPriceMoveItems(
  id: number,
  token: string,
  subscriptionIds: readonly string[],
  cursor: { collectIndex: number; collectAfter: string | null },
  seconds: number,
) {
  await prisma.$transaction(async (tx) => {
    const added = subscriptionIds.length
      ? await tx.$executeRaw`
          INSERT INTO price_move_items (move_id, subscription_id)
          SELECT ${id}, s FROM unnest(${[...subscriptionIds]}::text[]) AS s
          ON CONFLICT (move_id, subscription_id) DO NOTHING`
      : 0;
    await tx.$executeRaw`
      UPDATE price_moves SET total = total + ${added}, collect_index = ${cursor.collectIndex},
             collect_after = ${cursor.collectAfter}, lease_until = now() + make_interval(secs => ${seconds}),
             heartbeat_at = now()
       WHERE id = ${id} AND lease_token = ${token}`;
  });
}

export async function startMovingPriceMove(id: number) {
  await prisma.priceMove.updateMany({ where: { id, status: "collecting" }, data: { status: "running" } });
}

/** The next subscriptions to try, oldest listed first, after `afterId`. */
export function nextPendingPriceMoveItems(moveId: number, take: number) {
  return prisma.priceMoveItem.findMany({
    where: { moveId, status: "pending" },
    orderBy: { id: "asc" },
    take,
  });
}

/** Counts an attempt before Stripe is asked, so a crash mid-item is known when it is tried again. */
export async function notePriceMoveAttempt(itemId: bigint) {
  await prisma.priceMoveItem.update({ where: { id: itemId }, data: { attempts: { increment: 1 } } });
}

/** Records a subscription's outcome and the run's counters, and renews the lease, in one transaction. */
export async function recordPriceMoveItem(
  moveId: number,
  token: string,
  item: { id: bigint; outcome: PriceMoveItemOutcome; customerId: string | null; error: string | null },
  rateLimited: number,
  seconds: number,
) {
  const moved = item.outcome === "moved" || item.outcome === "already" ? 1 : 0;
  const skipped = item.outcome === "skipped" ? 1 : 0;
  const failed = item.outcome === "failed" ? 1 : 0;
  await prisma.$transaction([
    prisma.priceMoveItem.update({
      where: { id: item.id },
      data: { status: item.outcome, customerId: item.customerId, error: item.error },
    }),
    prisma.$executeRaw`
      UPDATE price_moves SET moved = moved + ${moved}, skipped = skipped + ${skipped}, failed = failed + ${failed},
             rate_limited = rate_limited + ${rateLimited}, last_error = COALESCE(${item.error}, last_error),
             lease_until = now() + make_interval(secs => ${seconds}), heartbeat_at = now()
       WHERE id = ${moveId} AND lease_token = ${token}`,
  ]);
}

export async function finishPriceMove(tx: Db, id: number, status: "finished" | "failed", error: string | null) {
  const rows = await tx.priceMove.updateMany({
    where: { id, status: { in: ["collecting", "running"] } },
    data: { status, finishedAt: new Date(), lastError: error ?? undefined, leaseToken: null, leaseUntil: null },
  });
  return rows.count === 1;
}

/** The first items of a run with their outcome, for its page. */
export function listPriceMoveItems(moveId: number, take = 50) {
  return prisma.priceMoveItem.findMany({ where: { moveId }, orderBy: { id: "asc" }, take });
}

/** Runs collecting or moving that nothing on the job queue carries on. Read under `lockPriceMoves`. */
export async function listOrphanedPriceMoves(tx: Db): Promise<{ id: number }[]> {
  return tx.$queryRaw<{ id: number }[]>`
    SELECT m.id FROM price_moves m
     WHERE m.status IN ('collecting', 'running')
       AND NOT EXISTS (
         SELECT 1 FROM pgboss.job j
          WHERE j.name = 'price-move' AND j.state IN ('created', 'retry', 'active')
            AND (j.data->>'moveId')::int = m.id)`;
}
