// Support and admin actions on a user: sync from Stripe (the same rules as a webhook), change a role
// (ends the user's sessions), put a user on an exempt tier. Each change is audited with it.
import type Stripe from "stripe";
import { type AuditActor, recordAudit } from "~/models/audit.server.ts";
import { deleteUserSessions } from "~/models/session.server.ts";
import { getTierWithPermissionsByKey } from "~/models/tier.server.ts";
import { inTransaction } from "~/models/transaction.server.ts";
import {
  getUserWithTier,
  lockUserForRoleChange,
  type Role,
  setUserRole,
  setUserTier,
  type UserWithTier,
} from "~/models/user.server.ts";
import { withDeadline } from "~/utils/deadline.ts";
import { applyNoSubscription, applySubscription } from "~/services/stripe/fulfilment.server.ts";
import { FulfilmentError } from "~/services/billing/outcomes.ts";
import { roleChangeProblem } from "~/rules/roles.ts";
import { stripeReadAt } from "~/rules/stripe-events.ts";
import { isEndedSubscriptionStatus } from "~/rules/stripe-subscriptions.ts";
import { pickGoverningSubscription } from "~/rules/support.ts";
import { getStripe } from "~/services/stripe/client.server.ts";

/** What support sees change: the user's billing state before and after. */
function billingSnapshot(user: UserWithTier) {
  return {
    role: user.role,
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

/**
 * Pulls the truth from Stripe for one user: lists the customer's subscriptions, picks the one that
 * governs (live over ended, newest), and applies it as a webhook would. Idempotent; when Stripe
 * cannot be asked, nothing changes.
 */
export async function syncUserFromStripe(actor: AuditActor, userId: number): Promise<SyncOutcome> {
  const user = await getUserWithTier(userId);
  if (!user) return { ok: false, reason: "not-found", message: `No user ${userId}.` };
  if (!user.stripeCustomerId) {
    return {
      ok: false,
      reason: "no-customer",
      message: "This user has no Stripe customer yet: there is nothing to sync.",
    };
  }
  let subscriptions: Stripe.Subscription[];
  let observedAt: Date;
  try {
    const list = await withDeadline(
      getStripe().subscriptions.list({ customer: user.stripeCustomerId, status: "all", limit: 100 }),
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
  const governing = pickGoverningSubscription(subscriptions);
  const before = billingSnapshot(user);
  try {
    return await inTransaction(async (tx) => {
      const outcome = governing
        ? await applySubscription(tx, governing, {
            observedAt,
            userIdHint: user.id,
            fromCheckout: true,
            deleted: isEndedSubscriptionStatus(governing.status),
            // This is Stripe's current state: it wins over an event of its second applied before it,
            // and an event of that second arriving after it is a tie, which asks Stripe again.
            tieSettled: true,
          })
        : await applyNoSubscription(tx, user.id, observedAt);
      const fresh = await getUserWithTier(user.id, tx);
      if (!fresh) throw new FulfilmentError(`User ${user.id} was deleted during the sync.`);
      const after = billingSnapshot(fresh);
      const changed = JSON.stringify(before) !== JSON.stringify(after);
      if (changed) {
        await recordAudit(tx, {
          actor,
          action: "synced",
          entity: "user",
          entityId: user.id,
          entityLabel: user.email,
          before,
          after,
        });
      }
      const detail = governing
        ? `Stripe subscription ${governing.id} is ${governing.status}: ${outcome.detail}`
        : `Stripe has no subscription for ${user.stripeCustomerId}: ${outcome.detail}`;
      return { ok: true, changed, before, after, detail };
    });
  } catch (error) {
    if (error instanceof FulfilmentError) return { ok: false, reason: "cannot-apply", message: error.message };
    throw error;
  }
}

export type AdminChangeOutcome =
  { ok: true; changed: boolean } | { ok: false; status: 400 | 404 | 409; message: string };

export async function changeUserRole(
  actor: AuditActor & { id: number },
  userId: number,
  role: Role,
): Promise<AdminChangeOutcome> {
  return inTransaction(async (tx) => {
    const locked = await lockUserForRoleChange(tx, userId);
    if (!locked) return { ok: false, status: 404, message: `No user ${userId}.` };
    const { user, adminCount } = locked;
    const problem = roleChangeProblem({ actorId: actor.id, target: user, newRole: role, adminCount });
    if (problem) return { ok: false, status: 409, message: problem };
    if (user.role === role) return { ok: true, changed: false };
    await setUserRole(tx, user.id, role);
    await recordAudit(tx, {
      actor,
      action: "role changed",
      entity: "user",
      entityId: user.id,
      entityLabel: user.email,
      before: { role: user.role },
      after: { role },
    });
    // Sessions carry the old role's reach: end them, the user signs in again.
    await deleteUserSessions(user.id, tx);
    return { ok: true, changed: true };
  });
}

/** Puts a user on an exempt tier (a partner), or takes them off one (`tierKey` null). */
export async function setExemptTier(
  actor: AuditActor,
  userId: number,
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
    const locked = await lockUserForRoleChange(tx, userId);
    if (!locked) return { ok: false, status: 404, message: `No user ${userId}.` };
    const { user } = locked;
    if (!tier && user.tier && !(user.tier.isBillingExempt || user.tier.billingProvider === "exempt")) {
      return {
        ok: false,
        status: 409,
        message: `${user.email} is on ${user.tier.name} through a subscription, not an exempt tier.`,
      };
    }
    if ((user.tierId ?? null) === (tier?.id ?? null)) return { ok: true, changed: false };
    await setUserTier(tx, user.id, tier?.id ?? null);
    await recordAudit(tx, {
      actor,
      action: "tier changed",
      entity: "user",
      entityId: user.id,
      entityLabel: user.email,
      before: { tier: user.tier?.key ?? null },
      after: { tier: tier?.key ?? null },
    });
    return { ok: true, changed: true };
  });
}
