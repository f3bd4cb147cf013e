// Whop: what a membership status means, which membership state is newer, what a membership
// changes for its user, what an event type means, and whether a Whop product can be sold.
// Pure functions of plain values: no database, no Stripe, no clock (docs/decisions/004).
import { isLiveWhopStatus, whopFreshness, whopMembershipStatusEffect } from "./whop-status.ts";
import { grantDecision, type PaidState, PROVIDER_THING, revokeDecision, type RevokeDecision } from "./paid-tier.ts";

export type WhopSubscriber = PaidState & {
  id: number;
  whopMembershipId: string | null;
  whopSyncedAt: Date | null;
};

export type WhopMembershipFacts = { id: string; status: string; createdAt: Date | null };

type WhopTierChange = { grant: { id: number; key: string } } | RevokeDecision;

export type WhopPlannedChange =
  { ignored: string } | { stale: string } | { record: true; tier: WhopTierChange; detail: string };

/**
 * What applying a Whop membership's state (reported at `observedAt`) changes for `user`. The
 * membership itself is always recorded on the user (support sees it) unless the state is stale or
 * changes nothing; `tier` says what happens to the stored tier. `tier` is the tier the membership's
 * product belongs to, needed when its status grants one.
 */
export function planWhopMembershipChange(input: {
  user: WhopSubscriber;
  membership: WhopMembershipFacts;
  tier: { id: number; key: string } | null;
  observedAt: Date;
}): WhopPlannedChange {
  const { user, membership, tier, observedAt } = input;
  if (whopFreshness(observedAt, user.whopSyncedAt) === "stale") {
    return { stale: `older (${observedAt.toISOString()}) than the Whop state already applied to account ${user.id}` };
  }
  const effect = whopMembershipStatusEffect(membership.status);
  if (effect === "no_change") {
    return { ignored: `membership ${membership.id} is ${membership.status}: nothing changes until it is paid` };
  }
  if (effect === "grant") {
    if (!tier) throw new Error("planWhopMembershipChange: a granting status needs the membership's tier");
    const decision = grantDecision(user, "whop", membership.createdAt);
    if (decision.take) {
      return {
        record: true,
        tier: { grant: tier },
        detail: `account ${user.id} → ${tier.key} (Whop ${membership.status})`,
      };
    }
    return {
      record: true,
      tier: "keep",
      detail: `account ${user.id}: Whop membership ${membership.id} is ${membership.status}, but ${decision.reason}`,
    };
  }
  const otherCurrent = user.whopMembershipId !== null && user.whopMembershipId !== membership.id;
  if (otherCurrent && isLiveWhopStatus(user.whopMembershipStatus)) {
    return {
      ignored: `membership ${membership.id} is not account ${user.id}'s current Whop membership (${user.whopMembershipId}, ${user.whopMembershipStatus})`,
    };
  }
  const decision = revokeDecision(user, "whop");
  const detail =
    decision === "clear"
      ? `account ${user.id} → free (Whop ${membership.status})`
      : decision === "keep"
        ? `account ${user.id}: Whop membership ${membership.id} is ${membership.status}; the tier in force does not come from it`
        : `account ${user.id}: Whop membership ${membership.id} is ${membership.status}; back to the live ${PROVIDER_THING[decision.fallbackTo]}`;
  return { record: true, tier: decision, detail };
}

export type WhopEventAction = { kind: "membership" } | { kind: "payment" } | { kind: "catalog" } | { kind: "ignore" };

/** What Tierdesk does with a Whop webhook of this type. */
export function whopEventAction(type: string): WhopEventAction {
  switch (type) {
    case "membership.activated":
    case "membership.deactivated":
    case "membership.cancel_at_period_end_changed":
    case "membership.went_valid":
    case "membership.went_invalid":
      return { kind: "membership" };
    // A payment carries its membership's id, not its state: the membership is asked of Whop.
    case "payment.succeeded":
    case "payment.failed":
      return { kind: "payment" };
  }
  if (type.startsWith("product.") || type.startsWith("plan.")) return { kind: "catalog" };
  return { kind: "ignore" };
}

/** In words, why a user whose stored tier came from Whop is (or is not) on it. */
export function explainWhopTier(user: {
  storedTier: { name: string };
  whopMembershipStatus?: string | null;
  freeTierName: string;
}): { tierName: string; reason: string } {
  const { storedTier } = user;
  const status = user.whopMembershipStatus ?? null;
  if (isLiveWhopStatus(status)) {
    const note =
      status === "past_due"
        ? " (a renewal failed; the tier is kept while Whop retries)"
        : status === "canceling"
          ? " (it ends at the end of the paid period)"
          : "";
    return {
      tierName: storedTier.name,
      reason: `The Whop membership is ${status}, which grants ${storedTier.name}${note}.`,
    };
  }
  return {
    tierName: user.freeTierName,
    reason: `The stored tier ${storedTier.name} is not in force: the Whop membership is ${status ?? "missing"}.`,
  };
}

// A Whop product as the dashboard and /pricing need it (null: Whop knows no such product).
export type WhopPlanFact = {
  id: string;
  title: string | null;
  visibility: string;
  releaseMethod: string;
  planType: string;
  currency: string;
  initialPrice: number;
  renewalPrice: number;
  /** Days between renewals; null for one-time plans. */
  billingPeriod: number | null;
  trialPeriodDays: number | null;
  purchaseUrl: string | null;
};

export type WhopProductFact = {
  id: string;
  title: string;
  visibility: string;
  companyId: string | null;
  plans: WhopPlanFact[];
} | null;

export type WhopCheck = {
  /** By product id; a product missing from the map was not asked. */
  products: ReadonlyMap<string, WhopProductFact>;
  unavailable: boolean;
  reason?: string;
};

export type WhopProductState = "found" | "missing" | "archived-product" | "no-plan";

/** A plan customers can buy through Tierdesk: shown on Whop's store and sold now (not a waitlist). */
export function isSellableWhopPlan(plan: WhopPlanFact): boolean {
  return plan.visibility === "visible" && plan.releaseMethod === "buy_now";
}

export function whopProductState(product: WhopProductFact): WhopProductState {
  if (!product) return "missing";
  if (product.visibility === "archived") return "archived-product";
  if (!product.plans.some(isSellableWhopPlan)) return "no-plan";
  return "found";
}
