// Whole-account reconciliation's runs and their differences (the history support reads), and the
// accounts' billing facts read in batches for a run: one statement per batch, never one per account.
import { Prisma } from "~/generated/prisma/client.ts";
import { prisma } from "~/db/db.server.ts";
import { TIER_KIND } from "./billing-account.server.ts";
import { MEMBERS, SEAT_LIMIT } from "./seats.server.ts";
import { type LookupKeyOwner, listLookupKeyOwners } from "./tier.server.ts";
import { inTransaction } from "./transaction.server.ts";

/** An account's billing facts as a run compares them (app/rules/reconciliation.ts reads them). */
export type AccountFacts = {
  id: number;
  name: string;
  tierKey: string | null;
  tierKind: "none" | "exempt" | "paid";
  billingSource: "stripe" | "whop" | null;
  stripeCustomerId: string | null;
  stripeSubscriptionId: string | null;
  subscriptionStatus: string | null;
  members: number;
  seatLimit: number | null;
  overSeatLimit: boolean;
};

/** A difference a run found, as stored. */
export type NewDifference = {
  accountId: number | null;
  accountName: string;
  kind: string;
  rule: string;
  tierdesk: Record<string, string | null>;
  stripe: Record<string, string | null>;
  stripeCustomerId: string | null;
  stripeSubscriptionId: string | null;
  fix: string;
};

export type RunTrigger = "nightly" | "button" | "cli";
export type RunCounts = { subscriptions: number; customers: number; accountsChecked: number; stripeRequests: number };

// A run queued or running for longer than this was lost with its worker (its retries ran out).
const LOST_AFTER_MS = 60 * 60_000;

/**
 * A new queued run, unless one is queued or running already (a double click, the nightly run while
 * support's runs): then that one, `created: false`. Serialised across instances by an advisory lock.
 */
export async function createRun(trigger: RunTrigger, requestedByEmail: string | null) {
  return inTransaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('tierdesk.reconciliation_runs'))`;
    await tx.reconciliationRun.updateMany({
      where: { status: { in: ["queued", "running"] }, createdAt: { lt: new Date(Date.now() - LOST_AFTER_MS) } },
      data: { status: "failed", error: "No worker finished it (lost with its instance).", finishedAt: new Date() },
    });
    const active = await tx.reconciliationRun.findFirst({
      where: { status: { in: ["queued", "running"] } },
      orderBy: { id: "desc" },
    });
    if (active) return { run: active, created: false };
    return { run: await tx.reconciliationRun.create({ data: { trigger, requestedByEmail } }), created: true };
  });
}

/** Starts (or, after a crash, restarts from nothing) a run: counters zero, differences of an earlier try gone. */
export async function startRun(id: number) {
  return inTransaction(async (tx) => {
    await tx.reconciliationDifference.deleteMany({ where: { runId: id } });
    const started = await tx.reconciliationRun.updateMany({
      where: { id, status: { in: ["queued", "running"] } },
      data: {
        status: "running",
        startedAt: new Date(),
        progress: "starting",
        subscriptions: 0,
        customers: 0,
        accountsChecked: 0,
        stripeRequests: 0,
        differenceCount: 0,
        error: null,
      },
    });
    return started.count === 1;
  });
}

export async function recordRunProgress(id: number, progress: string, counts: Partial<RunCounts>) {
  await prisma.reconciliationRun.update({ where: { id }, data: { progress: progress.slice(0, 200), ...counts } });
}

const MAX_JSON_TEXT = 2_000;

/** Stores a run's differences, in batches of one statement each. */
export async function insertDifferences(runId: number, differences: readonly NewDifference[]) {
  const BATCH = 500;
  for (let start = 0; start < differences.length; start += BATCH) {
    await prisma.reconciliationDifference.createMany({
      data: differences.slice(start, start + BATCH).map((difference) => ({
        runId,
        accountId: difference.accountId,
        accountName: difference.accountName.slice(0, 120),
        kind: difference.kind,
        rule: difference.rule.slice(0, MAX_JSON_TEXT),
        tierdesk: difference.tierdesk,
        stripe: difference.stripe,
        stripeCustomerId: difference.stripeCustomerId,
        stripeSubscriptionId: difference.stripeSubscriptionId,
        fix: difference.fix,
      })),
    });
  }
}

export async function finishRun(id: number, counts: RunCounts & { differenceCount: number }) {
  await prisma.reconciliationRun.update({
    where: { id },
    data: { status: "finished", finishedAt: new Date(), progress: null, ...counts },
  });
}

export async function failRun(id: number, error: string, counts: Partial<RunCounts>) {
  await prisma.reconciliationRun.update({
    where: { id },
    data: { status: "failed", finishedAt: new Date(), error: error.slice(0, 2_000), ...counts },
  });
}

/** The newest runs, newest first (the page's history). */
export function listRuns(limit: number) {
  return prisma.reconciliationRun.findMany({ orderBy: { id: "desc" }, take: limit });
}

/** The newest run that finished: the page shows its differences. */
export function latestFinishedRun() {
  return prisma.reconciliationRun.findFirst({ where: { status: "finished" }, orderBy: { id: "desc" } });
}

/** A page of a run's differences in id order, after `afterId` (keyset). */
export function listDifferences(runId: number, { afterId = 0, limit }: { afterId?: number; limit: number }) {
  return prisma.reconciliationDifference.findMany({
    where: { runId, id: { gt: afterId } },
    orderBy: { id: "asc" },
    take: limit,
  });
}

/** How many of a run's differences are open, applied, left or failed. */
export async function countDifferencesByStatus(runId: number): Promise<Record<string, number>> {
  const rows = await prisma.reconciliationDifference.groupBy({ by: ["status"], where: { runId }, _count: true });
  return Object.fromEntries(rows.map((row) => [row.status, row._count]));
}

export function getDifference(id: number) {
  return prisma.reconciliationDifference.findUnique({ where: { id } });
}

/** The ids of a run's differences still to apply (open, or failed before), in order. */
export async function listApplicableDifferenceIds(runId: number): Promise<number[]> {
  const rows = await prisma.reconciliationDifference.findMany({
    where: { runId, status: { in: ["open", "failed"] }, fix: { not: "none" } },
    orderBy: { id: "asc" },
    select: { id: true },
  });
  return rows.map((row) => row.id);
}

export async function resolveDifference(
  id: number,
  data: { status: "applied" | "left" | "failed"; byEmail: string; outcome: string },
) {
  await prisma.reconciliationDifference.update({
    where: { id },
    data: { status: data.status, resolvedAt: new Date(), resolvedByEmail: data.byEmail, outcome: data.outcome },
  });
}

// ---------------------------------------------------------------------------------------------
// Accounts' billing facts, a batch at a time

const FACTS = Prisma.sql`
  SELECT a.id, a.name, t.key AS "tierKey", ${TIER_KIND} AS "tierKind", a.billing_source::text AS "billingSource",
         a.stripe_customer_id AS "stripeCustomerId", a.stripe_subscription_id AS "stripeSubscriptionId",
         a.subscription_status AS "subscriptionStatus", ${MEMBERS} AS "members", ${SEAT_LIMIT} AS "seatLimit",
         a.over_seat_limit_since IS NOT NULL AS "overSeatLimit"
    FROM accounts a LEFT JOIN subscription_tier t ON t.id = a.tier_id`;

/** The next `limit` accounts after `afterId`, in id order (one statement). */
export async function accountFactsAfter(afterId: number, limit: number): Promise<AccountFacts[]> {
  return prisma.$queryRaw<AccountFacts[]>`${FACTS} WHERE a.id > ${afterId} ORDER BY a.id LIMIT ${limit}`;
}

/** The accounts with these ids (one statement). */
export async function accountFactsByIds(ids: readonly number[]): Promise<AccountFacts[]> {
  if (!ids.length) return [];
  return prisma.$queryRaw<AccountFacts[]>`${FACTS} WHERE a.id = ANY(${[...ids]}::int[])`;
}

/** Every tier's user limit by key, and the free tier's. */
export async function tierSeatLimits(): Promise<Map<string, number>> {
  const tiers = await prisma.subscriptionTier.findMany({ select: { key: true, userLimit: true } });
  return new Map(tiers.map((tier) => [tier.key, tier.userLimit]));
}

/** Every lookup key a tier owns, now (a run resolves each subscription's tier with them). */
export function lookupKeyOwnersNow(): Promise<LookupKeyOwner[]> {
  return listLookupKeyOwners(prisma);
}
