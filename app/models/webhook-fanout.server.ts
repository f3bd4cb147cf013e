// Tier edits' fan-outs (docs/decisions/018): an admin's edit of what a tier grants records, in its own
// transaction, one small row per tier saying its accounts are owed account.entitlements.updated; the
// `webhook-fanout` job expands it in batches of accounts by id, each batch one short transaction that
// writes the outbox statement (with its per-account dedupe) and moves the row's cursor at the same commit.
import { Prisma } from "~/generated/prisma/client.ts";
import { prisma } from "~/db/db.server.ts";
import { FREE_TIER_KEY } from "~/utils/granting-statuses.ts";
import { type Db, executeAtCommit } from "./transaction.server.ts";
import { TIER_IN_FORCE_ID } from "./webhook-outbox.server.ts";

/** Some enabled endpoint listens to account.entitlements.updated: else a fan-out owes nobody anything. */
const ANY_SUBSCRIBER = Prisma.sql`EXISTS (SELECT 1 FROM webhook_endpoints
  WHERE enabled AND 'account.entitlements.updated'::varchar = ANY(event_types))`;

export type FanoutTier = { id: number; key: string };

/**
 * Records with the transaction's COMMIT (no round trip of its own) that the accounts of these tiers are
 * owed an announcement: the free tier's are every account that falls back to it; with `includeLapsed`
 * also the accounts stored on the tier whose tier is not in force (its provider or exemption changed).
 * Nothing when no enabled endpoint listens. `onWritten` runs after the commit when a row was written.
 */
export async function recordTierFanoutsAtCommit(
  tx: Db,
  tiers: readonly FanoutTier[],
  includeLapsed: boolean,
  onWritten?: () => void,
): Promise<void> {
  if (!tiers.length) return;
  const ids = tiers.map((tier) => tier.id);
  const keys = tiers.map((tier) => tier.key);
  await executeAtCommit(
    tx,
    Prisma.sql`
      INSERT INTO webhook_fanouts (tier_id, all_accounts, include_lapsed)
      SELECT t.id, t.key = ${FREE_TIER_KEY}, ${includeLapsed}
        FROM unnest(${ids}::int[], ${keys}::text[]) AS t(id, key)
       WHERE ${ANY_SUBSCRIBER}`,
    (rows) => {
      if (rows > 0) onWritten?.();
    },
  );
}

export type Fanout = {
  id: number;
  tierId: number;
  allAccounts: boolean;
  includeLapsed: boolean;
  afterAccountId: number;
  /** Whether any enabled endpoint still listens (when none does, the fan-out is dropped). */
  subscribed: boolean;
};

/** The oldest fan-out that no other step is expanding, locked until `tx` ends; null when none is left. */
export async function claimFanout(tx: Db): Promise<Fanout | null> {
  const rows = await tx.$queryRaw<Fanout[]>`
    SELECT id, tier_id AS "tierId", all_accounts AS "allAccounts", include_lapsed AS "includeLapsed",
           after_account_id AS "afterAccountId", ${ANY_SUBSCRIBER} AS subscribed
      FROM webhook_fanouts ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED`;
  return rows[0] ?? null;
}

export type FanoutBatch = {
  /** How many accounts of the range after the cursor were read (fewer than asked: the range is done). */
  read: number;
  /** The last of them: the cursor's next value. */
  lastId: number;
  /** Those the edit moved (the tier is their tier in force, or stored and lapsed when included). */
  targets: number[];
};

/**
 * The next `limit` accounts after the fan-out's cursor, by id (the tier's own through the (tier_id, id)
 * index; for the free tier, every account through the primary key), and which of them it targets,
 * those locked until `tx` ends: a concurrent change of one of them (which announces it too) commits
 * wholly before this batch's statement reads it, or after it, never with a state read in between.
 */
export async function lockFanoutBatch(tx: Db, fanout: Fanout, limit: number): Promise<FanoutBatch> {
  // The tier's range as a row comparison: with `tier_id = $1` a generic plan may walk the primary key in
  // id order, filtering out every other tier's accounts (a whole-table scan for a small tier).
  const range = fanout.allAccounts
    ? Prisma.sql`WHERE a.id > ${fanout.afterAccountId} ORDER BY a.id`
    : Prisma.sql`WHERE (a.tier_id, a.id) > (${fanout.tierId}, ${fanout.afterAccountId}) AND a.tier_id <= ${fanout.tierId}
       ORDER BY a.tier_id, a.id`;
  const rows = await tx.$queryRaw<Array<{ id: number; target: boolean }>>`
    SELECT a.id, (${TIER_IN_FORCE_ID} = ${fanout.tierId}
                  OR (${fanout.includeLapsed}::boolean AND a.tier_id = ${fanout.tierId})) IS TRUE AS target
      FROM accounts a LEFT JOIN subscription_tier t ON t.id = a.tier_id
     ${range} LIMIT ${limit}`;
  const targets = rows.filter((row) => row.target).map((row) => row.id);
  // In id order, as every batch takes them: two batches never wait on each other in a cycle.
  if (targets.length)
    await tx.$queryRaw`SELECT 1 FROM accounts WHERE id = ANY(${targets}::int[]) ORDER BY id FOR UPDATE`;
  return { read: rows.length, lastId: rows.at(-1)?.id ?? fanout.afterAccountId, targets };
}

/** Moves the fan-out's cursor to `afterAccountId`, or (null) deletes it: done. Sent with the COMMIT. */
export async function advanceFanoutAtCommit(tx: Db, id: number, afterAccountId: number | null): Promise<void> {
  await executeAtCommit(
    tx,
    afterAccountId === null
      ? Prisma.sql`DELETE FROM webhook_fanouts WHERE id = ${id}`
      : Prisma.sql`UPDATE webhook_fanouts SET after_account_id = ${afterAccountId} WHERE id = ${id}`,
  );
}

/** Whether any fan-out is waiting (the worker's periodic question: a tiny table). */
export async function hasFanouts(): Promise<boolean> {
  const rows = await prisma.$queryRaw<unknown[]>`SELECT 1 FROM webhook_fanouts LIMIT 1`;
  return rows.length > 0;
}
