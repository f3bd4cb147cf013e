// Support and admin actions on an account's billing: sync from Stripe (the same rules as a webhook) and
// putting an account on an exempt tier (admins). Each change is audited with it, on the account.
import { announceAccountChange } from "~/services/webhooks/outbox.server.ts";
import type Stripe from "stripe";
import { type AuditActor, recordAudit } from "~/models/audit.server.ts";
import {
  type AccountWithTier,
  getBillingAccount,
  lockAccountForAdmin,
  setAccountTier,
} from "~/models/billing-account.server.ts";
import { refreshSeatLimitMark } from "~/models/seats.server.ts";
import { getTierWithPermissionsByKey } from "~/models/tier.server.ts";
import { inTransaction } from "~/models/transaction.server.ts";
import { withDeadline } from "~/utils/deadline.ts";
import { applyNoSubscription, applySubscription } from "~/services/stripe/fulfilment.server.ts";
import { FulfilmentError } from "~/services/billing/outcomes.ts";
import { stripeReadAt } from "~/rules/stripe-events.ts";
import { isEndedSubscriptionStatus } from "~/rules/stripe-subscriptions.ts";
import { pickGoverningSubscription } from "~/rules/support.ts";
import { getStripe } from "~/services/stripe/client.server.ts";
import type { AdminChangeOutcome } from "./user-admin.server.ts";

/** What support sees change: the account's billing state before and after. */
function billingSnapshot(user: AccountWithTier) {
  return {
    tier: user.tier?.key ?? null,
    subscriptionStatus: user.subscriptionStatus,
    stripeCustomerId: user.stripeCustomerId,
    stripeSubscriptionId: user.stripeSubscriptionId,
  };
}

type BillingSnapshot = ReturnType<typeof billingSnapshot>;

export type SyncOutcome =
  | { ok: true; changed: boolean; before: BillingSnapshot; after: BillingSnapshot; detail: string }
  | { ok: false; reason: "not-found" | "no-customer" | "stripe-unavailable" | "cannot-apply"; message: string };

const SYNC_DEADLINE_MS = 8_000;

/** Why a sync was asked for, when not by support's button: written to the audit entry. */
type SyncReason = { action: string; kind: string; rule: string };

export type SyncOptions = {
  /** A customer to link, for an account that has none yet (reconciliation's "customer not linked"). */
  customerId?: string;
  /** Which of the customer's subscriptions to apply; by default the one that governs. */
  pick?: (subscriptions: Stripe.Subscription[], accountSubscriptionId: string | null) => Stripe.Subscription | null;
  /** Audited as this action, with the difference it settles (default "synced"). */
  reason?: SyncReason;
};

/**
 * Pulls the truth from Stripe for one account: lists the customer's subscriptions, picks the one that
 * governs (live over ended, newest), and applies it as a webhook would. Idempotent; when Stripe
 * cannot be asked, nothing changes.
 */
export async function syncAccountFromStripe(
  actor: AuditActor,
  accountId: number,
  { customerId: customerToLink, pick = pickGoverningSubscription, reason }: SyncOptions = {},
): Promise<SyncOutcome> {
  const user = await getBillingAccount(accountId);
  if (!user) return { ok: false, reason: "not-found", message: `No account ${accountId}.` };
  if (customerToLink && user.stripeCustomerId && user.stripeCustomerId !== customerToLink) {
    return {
      ok: false,
      reason: "cannot-apply",
      message: `Account ${accountId} is linked to Stripe customer ${user.stripeCustomerId} now, not ${customerToLink}.`,
    };
  }
  const customerId = user.stripeCustomerId ?? customerToLink;
  if (!customerId) {
    return {
      ok: false,
      reason: "no-customer",
      message: "This account has no Stripe customer yet: there is nothing to sync.",
    };
  }
  let subscriptions: Stripe.Subscription[];
  let observedAt: Date;
  try {
    const list = await withDeadline(
      getStripe().subscriptions.list({ customer: customerId, status: "all", limit: 100 }),
      SYNC_DEADLINE_MS,
    );
    subscriptions = list.data;
    // Stripe's own time for what it answered, comparable with its events' `created` (see stripeReadAt).
    observedAt = stripeReadAt(list.lastResponse?.headers?.date, new Date());
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return {
      ok: false,
      reason: "stripe-unavailable",
      message: `Stripe could not be asked (${message}); nothing was changed.`,
    };
  }
  const governing = pick(subscriptions, user.stripeSubscriptionId);
  if (!governing && !user.stripeCustomerId) {
    return { ok: false, reason: "cannot-apply", message: `Stripe customer ${customerId} has no subscription to link.` };
  }
  const before = billingSnapshot(user);
  try {
    return await inTransaction(async (tx) => {
      const outcome = governing
        ? await applySubscription(tx, governing, {
            observedAt,
            accountHint: { accountId: user.id },
            fromCheckout: true,
            deleted: isEndedSubscriptionStatus(governing.status),
            // This is Stripe's current state: it wins over an event of its second applied before it,
            // and an event of that second arriving after it is a tie, which asks Stripe again.
            tieSettled: true,
          })
        : await applyNoSubscription(tx, user.id, observedAt);
      const fresh = await getBillingAccount(user.id, tx);
      if (!fresh) throw new FulfilmentError(`Account ${user.id} was deleted during the sync.`);
      const after = billingSnapshot(fresh);
      const changed = JSON.stringify(before) !== JSON.stringify(after);
      if (changed) {
        await recordAudit(tx, {
          actor,
          action: reason?.action ?? "synced",
          entity: "account",
          entityId: user.id,
          entityLabel: user.name,
          before,
          after: reason ? { ...after, difference: reason.kind, rule: reason.rule } : after,
        });
      }
      const detail = governing
        ? `Stripe subscription ${governing.id} is ${governing.status}: ${outcome.detail}`
        : `Stripe has no subscription for ${customerId}: ${outcome.detail}`;
      return { ok: true, changed, before, after, detail };
    });
  } catch (error) {
    if (error instanceof FulfilmentError) return { ok: false, reason: "cannot-apply", message: error.message };
    throw error;
  }
}

/** Puts an account on an exempt tier (a partner), or takes it off one (`tierKey` null). */
export async function setExemptTier(
  actor: AuditActor,
  accountId: number,
  tierKey: string | null,
): Promise<AdminChangeOutcome> {
  const tier = tierKey ? await getTierWithPermissionsByKey(tierKey) : null;
  if (tierKey && !tier) return { ok: false, status: 400, message: `There is no tier "${tierKey}".` };
  if (tier && !(tier.isBillingExempt || tier.billingProvider === "exempt")) {
    return {
      ok: false,
      status: 400,
      message: `${tier.name} is paid through ${tier.billingProvider}: only exempt tiers can be given.`,
    };
  }
  return inTransaction(async (tx) => {
    const user = await lockAccountForAdmin(tx, accountId);
    if (!user) return { ok: false, status: 404, message: `No account ${accountId}.` };
    if (!tier && user.tier && !(user.tier.isBillingExempt || user.tier.billingProvider === "exempt")) {
      return {
        ok: false,
        status: 409,
        message: `${user.name} is on ${user.tier.name} through a subscription, not an exempt tier.`,
      };
    }
    if ((user.tierId ?? null) === (tier?.id ?? null)) return { ok: true, changed: false };
    await setAccountTier(tx, user.id, tier?.id ?? null);
    await refreshSeatLimitMark(tx, [user.id]);
    await announceAccountChange(tx, [user.id], "account.entitlements.updated");
    await recordAudit(tx, {
      actor,
      action: "tier changed",
      entity: "account",
      entityId: user.id,
      entityLabel: user.name,
      before: { tier: user.tier?.key ?? null },
      after: { tier: tier?.key ?? null },
    });
    return { ok: true, changed: true };
  });
}
