// Whole-account reconciliation (issue 21): pages through every Stripe customer and subscription (100
// a page, paced under Stripe's rate limit), compares them with every account in batches, and keeps
// each difference with the rule that decides it. A difference is applied through the same code as
// Sync from Stripe (the webhook's rules), or an unlink as a customer.deleted webhook does, audited;
// or left. Runs on the job queue: nightly, or when support presses the button; `npm run stripe:reconcile`.
import { type AuditActor, recordAudit } from "~/models/audit.server.ts";
import {
  accountFactsAfter,
  accountFactsByIds,
  countDifferencesByStatus,
  createRun,
  failRun,
  finishRun,
  getDifference,
  insertDifferences,
  latestFinishedRun,
  listApplicableDifferenceIds,
  listDifferences,
  listRuns,
  lookupKeyOwnersNow,
  recordRunProgress,
  resolveDifference,
  type RunCounts,
  type RunTrigger,
  startRun,
  tierSeatLimits,
} from "~/models/reconciliation.server.ts";
import { refreshSeatLimitMark } from "~/models/seats.server.ts";
import { inTransaction } from "~/models/transaction.server.ts";
import {
  type AccountFacts,
  compareLinkedAccount,
  compareSeatMark,
  compareUnlinkedCustomer,
  type Difference,
  reconciliationTarget,
  type SubscriptionFacts,
} from "~/rules/reconciliation.ts";
import { namedAccount } from "~/rules/stripe-events.ts";
import { subscriptionStatusEffect, tierForSubscription, tiersByProduct } from "~/rules/stripe-subscriptions.ts";
import { pickGoverningSubscription } from "~/rules/support.ts";
import { FREE_TIER_KEY } from "~/rules/tiers.ts";
import { unlinkGoneCustomer } from "~/services/stripe/customer-link.server.ts";
import {
  type ListedSubscription,
  listEveryCustomer,
  listEverySubscription,
  RequestPacer,
} from "~/services/stripe/full-lists.server.ts";
import { productsOfLookupKeys } from "~/services/stripe/prices.server.ts";
import { billingMode } from "~/services/stripe/client.server.ts";
import { enqueue, enqueueOncePer, jobQueueStopping, jobTimeoutSeconds } from "~/services/jobs/queue.server.ts";
import { logger } from "~/utils/logger.server.ts";
import { syncAccountFromStripe } from "./account-admin.server.ts";

const ACCOUNT_BATCH = 1_000;
const PRODUCTS_DEADLINE_MS = 10_000;

/** What a run found, in numbers. */
export type RunSummary = RunCounts & { runId: number; differenceCount: number; durationMs: number };

/** The account a Stripe object's metadata names (a legacy user id cannot be resolved without a query: not counted). */
function namedAccountId(metadata: Record<string, string>): number | null {
  const named = namedAccount(metadata);
  return named && "accountId" in named ? named.accountId : null;
}

/** Resolves each granting subscription's tier with the webhook's rule (lookup keys, legacy prices by product). */
async function resolveTiers(
  subscriptions: readonly ListedSubscription[],
): Promise<Map<string, SubscriptionFacts["tier"]>> {
  const owners = await lookupKeyOwnersNow();
  const limits = await tierSeatLimits();
  const granting = subscriptions.filter((subscription) => subscriptionStatusEffect(subscription.status) === "grant");
  let products: ReturnType<typeof tiersByProduct> | null = null;
  const tiers = new Map<string, SubscriptionFacts["tier"]>();
  for (const subscription of granting) {
    let resolution = tierForSubscription(subscription.id, subscription.items, owners, products);
    if ("needsProducts" in resolution) {
      // Only legacy prices need Stripe's catalog: asked once per run (cached like every page's).
      products = tiersByProduct(
        owners,
        await productsOfLookupKeys(
          owners.map((owner) => owner.lookupKey),
          { deadlineMs: PRODUCTS_DEADLINE_MS },
        ),
      );
      resolution = tierForSubscription(subscription.id, subscription.items, owners, products);
    }
    if ("tier" in resolution) {
      tiers.set(subscription.id, { key: resolution.tier.key, userLimit: limits.get(resolution.tier.key) ?? null });
    } else if ("error" in resolution) tiers.set(subscription.id, { error: resolution.error });
  }
  return tiers;
}

/**
 * Compares what Stripe listed with every account, a batch of accounts at a time: linked accounts with
 * their customer's subscriptions, unlinked customers with the account their metadata names, and every
 * account's seat mark.
 */
async function compareWithAccounts(
  customers: ReadonlyMap<string, { namedAccountId: number | null }>,
  subscriptions: readonly ListedSubscription[],
  onProgress: (accountsChecked: number) => Promise<void>,
): Promise<{ differences: Difference[]; accountsChecked: number }> {
  const tiers = await resolveTiers(subscriptions);
  const freeSeatLimit = (await tierSeatLimits()).get(FREE_TIER_KEY) ?? null;
  const byCustomer = new Map<string, SubscriptionFacts[]>();
  for (const subscription of subscriptions) {
    if (!subscription.customerId) continue;
    const facts: SubscriptionFacts = {
      id: subscription.id,
      status: subscription.status,
      created: subscription.created,
      customerId: subscription.customerId,
      namedAccountId: namedAccountId(subscription.metadata),
      tier: tiers.get(subscription.id) ?? null,
    };
    byCustomer.set(subscription.customerId, [...(byCustomer.get(subscription.customerId) ?? []), facts]);
  }

  const differences: Difference[] = [];
  const linkedCustomers = new Set<string>();
  let accountsChecked = 0;
  for (let afterId = 0; ;) {
    const batch = await accountFactsAfter(afterId, ACCOUNT_BATCH);
    if (!batch.length) break;
    for (const account of batch) {
      const found = account.stripeCustomerId
        ? compareLinkedAccount(
            account,
            customers.has(account.stripeCustomerId),
            byCustomer.get(account.stripeCustomerId) ?? [],
            freeSeatLimit,
          )
        : [];
      if (account.stripeCustomerId) linkedCustomers.add(account.stripeCustomerId);
      // Applying a billing difference refreshes the seat mark with it.
      const seatMark = found.length ? null : compareSeatMark(account);
      differences.push(...found, ...(seatMark ? [seatMark] : []));
    }
    accountsChecked += batch.length;
    afterId = batch.at(-1)?.id ?? afterId;
    await onProgress(accountsChecked);
  }

  // Customers no account is linked to, with a live subscription that (or whose customer) names an account.
  const unlinked: Array<{ customerId: string; accountId: number; subscription: SubscriptionFacts }> = [];
  for (const [customerId, list] of byCustomer) {
    if (linkedCustomers.has(customerId)) continue;
    const governing = pickGoverningSubscription(list);
    if (!governing || subscriptionStatusEffect(governing.status) !== "grant") continue;
    const accountId = governing.namedAccountId ?? customers.get(customerId)?.namedAccountId ?? null;
    if (accountId) unlinked.push({ customerId, accountId, subscription: governing });
  }
  for (let start = 0; start < unlinked.length; start += ACCOUNT_BATCH) {
    const slice = unlinked.slice(start, start + ACCOUNT_BATCH);
    const accounts = new Map<number, AccountFacts>(
      (await accountFactsByIds(slice.map((entry) => entry.accountId))).map((account) => [account.id, account]),
    );
    for (const entry of slice) {
      const difference = compareUnlinkedCustomer(
        entry.customerId,
        entry.accountId,
        accounts.get(entry.accountId) ?? null,
        entry.subscription,
      );
      if (difference) differences.push(difference);
    }
  }
  return { differences, accountsChecked };
}

/**
 * Runs reconciliation `runId` from the start: lists Stripe, compares, stores the differences, and
 * finishes the run (or marks it failed, and throws, so the queue retries it).
 */
async function runReconciliation(
  runId: number,
  { pacer = new RequestPacer() }: { pacer?: RequestPacer } = {},
): Promise<RunSummary | null> {
  if (!(await startRun(runId))) return null;
  const started = performance.now();
  const counts: RunCounts = { subscriptions: 0, customers: 0, accountsChecked: 0, stripeRequests: 0 };
  const progress = async (phase: string) => {
    counts.stripeRequests = pacer.requests;
    if (jobQueueStopping()) throw new Error("The job queue is stopping: the run starts again on another worker.");
    await recordRunProgress(runId, phase, counts);
  };
  try {
    const customers = new Map<string, { namedAccountId: number | null }>();
    await listEveryCustomer(pacer, async (page) => {
      for (const customer of page) customers.set(customer.id, { namedAccountId: namedAccountId(customer.metadata) });
      counts.customers = customers.size;
      await progress(`listing Stripe customers: ${customers.size}`);
    });
    const subscriptions: ListedSubscription[] = [];
    await listEverySubscription(pacer, async (page) => {
      subscriptions.push(...page);
      counts.subscriptions = subscriptions.length;
      await progress(`listing Stripe subscriptions: ${subscriptions.length}`);
    });
    const { differences } = await compareWithAccounts(customers, subscriptions, async (checked) => {
      counts.accountsChecked = checked;
      await progress(`comparing accounts: ${checked}`);
    });
    counts.stripeRequests = pacer.requests;
    await insertDifferences(runId, differences);
    await finishRun(runId, { ...counts, differenceCount: differences.length });
    const summary = {
      runId,
      ...counts,
      differenceCount: differences.length,
      durationMs: Math.round(performance.now() - started),
    };
    logger.info(summary, "stripe reconciliation finished");
    return summary;
  } catch (error) {
    counts.stripeRequests = pacer.requests;
    const message = error instanceof Error ? error.message : String(error);
    await failRun(runId, message, counts);
    throw error;
  }
}

/** A run now, in this process (the CLI, the bench): not on the queue. Null when one is already under way. */
export async function reconcileNow(
  trigger: RunTrigger,
  requestedByEmail: string | null,
  options: { pacer?: RequestPacer } = {},
): Promise<RunSummary | null> {
  const { run, created } = await createRun(trigger, requestedByEmail);
  if (!created) return null;
  return runReconciliation(run.id, options);
}

/** Support's button: a run on the queue (or the one already queued or running). */
export async function requestReconciliation(actor: AuditActor) {
  const { run, created } = await createRun("button", actor.email);
  if (created) await enqueue("stripe-reconcile", { runId: run.id });
  return { runId: run.id, created };
}

/** The queue's task: a run support asked for, or tonight's (created here unless one is under way). */
export async function runReconciliationTask({ runId }: { runId?: number }): Promise<void> {
  if (runId) {
    await runReconciliation(runId);
    return;
  }
  const { run, created } = await createRun("nightly", null);
  if (created) await runReconciliation(run.id);
}

// Once per UTC day (pg-boss's throttle slots start at midnight), in the quiet hour after 03:00 UTC:
// the first worker's sweep in that hour puts it on the queue.
const NIGHTLY_SECONDS = 86_400;
const NIGHTLY_HOUR_UTC = 3;

/** Puts tonight's run on the queue, in its hour, unless one was put there today (by any instance). */
export async function scheduleNightlyReconciliation(now = new Date()): Promise<void> {
  if (now.getUTCHours() !== NIGHTLY_HOUR_UTC || billingMode() === "disabled") return;
  await enqueueOncePer("stripe-reconcile", {}, NIGHTLY_SECONDS);
}

// ---------------------------------------------------------------------------------------------
// Applying or leaving a difference

export type ApplyOutcome = { ok: true; changed: boolean; detail: string } | { ok: false; message: string };

async function applyFix(actor: AuditActor, difference: NonNullable<Awaited<ReturnType<typeof getDifference>>>) {
  const reason = { action: "reconciled", kind: difference.kind, rule: difference.rule };
  if (!difference.accountId) return { ok: false as const, message: "No account to apply it to: a person decides." };
  switch (difference.fix) {
    case "sync": {
      const outcome = await syncAccountFromStripe(actor, difference.accountId, {
        // An unlinked customer is linked as a checkout links it; a linked one must still be the account's.
        customerId: difference.stripeCustomerId ?? undefined,
        pick: (subscriptions, accountSubscriptionId) => reconciliationTarget(accountSubscriptionId, subscriptions),
        reason,
      });
      return outcome.ok
        ? { ok: true as const, changed: outcome.changed, detail: outcome.detail }
        : { ok: false as const, message: outcome.message };
    }
    case "unlink": {
      const customerId = difference.stripeCustomerId;
      if (!customerId) return { ok: false as const, message: "The difference names no customer." };
      const outcome = await unlinkGoneCustomer(customerId, {
        actor,
        reason: `reconciliation: ${difference.rule}`,
      });
      if (!outcome)
        return { ok: false as const, message: `Stripe has customer ${customerId} again: nothing was changed.` };
      return { ok: true as const, changed: outcome.result === "applied", detail: outcome.detail };
    }
    case "seat_mark": {
      const accountId = difference.accountId;
      await inTransaction(async (tx) => {
        await refreshSeatLimitMark(tx, [accountId]);
        await recordAudit(tx, {
          actor,
          action: "reconciled",
          entity: "account",
          entityId: accountId,
          entityLabel: difference.accountName,
          before: difference.tierdesk as Record<string, string>,
          after: { seats: "seat-limit mark refreshed", difference: difference.kind, rule: difference.rule },
        });
      });
      return { ok: true as const, changed: true, detail: "seat-limit mark refreshed" };
    }
    default:
      return { ok: false as const, message: "Only a person can settle this one: see the rule." };
  }
}

/** Applies one difference through the webhook's rules (audited) and records what happened. */
export async function applyDifference(actor: AuditActor, differenceId: number): Promise<ApplyOutcome> {
  const difference = await getDifference(differenceId);
  if (!difference) return { ok: false, message: `There is no difference ${differenceId}.` };
  if (difference.status === "applied" || difference.status === "left") {
    return { ok: false, message: `This difference was ${difference.status} already.` };
  }
  let outcome: ApplyOutcome;
  try {
    outcome = await applyFix(actor, difference);
  } catch (error) {
    outcome = { ok: false, message: error instanceof Error ? error.message : String(error) };
  }
  if (outcome.ok || difference.fix !== "none") {
    await resolveDifference(differenceId, {
      status: outcome.ok ? "applied" : "failed",
      byEmail: actor.email,
      outcome: outcome.ok ? outcome.detail : outcome.message,
    });
  }
  return outcome;
}

/** Leaves a difference as it is (support decided Tierdesk is right, or will settle it by hand). */
export async function leaveDifference(actor: AuditActor, differenceId: number): Promise<ApplyOutcome> {
  const difference = await getDifference(differenceId);
  if (!difference) return { ok: false, message: `There is no difference ${differenceId}.` };
  if (difference.status === "applied") return { ok: false, message: "This difference was applied already." };
  await resolveDifference(differenceId, { status: "left", byEmail: actor.email, outcome: "left as it is" });
  return { ok: true, changed: false, detail: "left as it is" };
}

/**
 * Applies every open difference of a run, one after another, until none is left or half the job's
 * time is spent (then the next step carries on). Returns how many were applied and how many failed.
 */
export async function applyAllDifferences(
  actor: AuditActor,
  runId: number,
  { budgetMs = (jobTimeoutSeconds() * 1000) / 2 }: { budgetMs?: number } = {},
): Promise<{ applied: number; failed: number; finished: boolean }> {
  const deadline = performance.now() + budgetMs;
  let applied = 0;
  let failed = 0;
  for (const id of await listApplicableDifferenceIds(runId)) {
    if (performance.now() > deadline || jobQueueStopping()) return { applied, failed, finished: false };
    const outcome = await applyDifference(actor, id);
    if (outcome.ok) applied++;
    else failed++;
  }
  return { applied, failed, finished: true };
}

/** "Apply all": on the queue, so no request waits for hundreds of Stripe calls. */
export async function requestApplyAll(actor: AuditActor, runId: number) {
  await enqueue("reconcile-apply", { runId, actor });
}

/** The queue's task: a step of "apply all", and the next step when more is left. */
export async function runApplyAllStep({ runId, actor }: { runId: number; actor: AuditActor }): Promise<void> {
  const result = await applyAllDifferences(actor, runId);
  // Failures stay "failed" for support to look at: only an unfinished step goes on.
  if (!result.finished) await enqueue("reconcile-apply", { runId, actor });
}

// ---------------------------------------------------------------------------------------------
// The page

const HISTORY_LENGTH = 20;

/** What /admin/reconcile shows: the newest run (progress while it runs), the latest finished run's differences, the history. */
export async function reconciliationOverview({ afterId, pageSize }: { afterId: number; pageSize: number }) {
  const [history, latest] = await Promise.all([listRuns(HISTORY_LENGTH), latestFinishedRun()]);
  const [rows, statuses] = latest
    ? await Promise.all([
        listDifferences(latest.id, { afterId, limit: pageSize + 1 }),
        countDifferencesByStatus(latest.id),
      ])
    : [[], {}];
  return {
    history,
    latest,
    differences: rows.slice(0, pageSize),
    nextAfterId: rows.length > pageSize ? (rows[pageSize - 1]?.id ?? null) : null,
    statuses,
  };
}

/** The first `limit` differences of a run (the CLI prints them). */
export function latestRunDifferences(runId: number, limit: number) {
  return listDifferences(runId, { limit });
}
