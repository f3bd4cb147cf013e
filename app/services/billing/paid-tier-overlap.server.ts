// One paid tier at a time, whichever provider charges for it (docs/decisions/006). Stripe's
// fulfilment asks this module before it writes a change to the stored tier: a Stripe subscription
// takes the tier unless a newer live Whop membership holds it, and a lapsed Stripe subscription only
// takes away a tier Stripe granted, falling back to a live Whop membership's tier. It works on the
// account.s row as the caller locked it, and returns the whole write: the caller makes it in one UPDATE.
import type { PaymentProvider } from "~/models/whop.server.ts";
import { findWhopTier } from "~/models/whop.server.ts";
import type { Tx } from "~/models/transaction.server.ts";
import type { BillingAccount } from "~/models/billing-account.server.ts";
import { grantDecision, revokeDecision } from "~/rules/paid-tier.ts";
import { type UserBillingChange } from "~/rules/stripe-subscriptions.ts";

/** A Stripe change, and which provider then granted the stored tier (when that changes). */
export type ReconciledChange = {
  change: UserBillingChange & { billingSource?: PaymentProvider | null; billingSince?: Date | null };
  note: string | null;
};

function withoutTier(change: UserBillingChange): UserBillingChange {
  const { tierId: _unchanged, ...rest } = change;
  return rest;
}

/**
 * The Stripe change to write, given the user's Whop side (`user`, as locked). `startedAt` is when
 * the subscription started (its `start_date`). Also says which provider now granted the stored tier.
 */
export async function reconcileStripeChange(
  tx: Tx,
  user: BillingAccount,
  change: UserBillingChange,
  startedAt: Date | null,
): Promise<ReconciledChange> {
  if (change.tierId === undefined) return { change, note: null };

  if (change.tierId !== null) {
    const decision = grantDecision(user, "stripe", startedAt);
    if (decision.take) return { change: { ...change, billingSource: "stripe", billingSince: startedAt }, note: null };
    return { change: withoutTier(change), note: `the tier stays: ${decision.reason}` };
  }

  const decision = revokeDecision(user, "stripe");
  if (decision === "keep") {
    const note =
      user.tier === "paid"
        ? "the tier in force comes from Whop and stays"
        : user.tier === "exempt"
          ? "the exempt tier stays"
          : null;
    return { change: withoutTier(change), note };
  }
  if (decision !== "clear" && user.whopProductId) {
    const tier = await findWhopTier(tx, user.whopProductId);
    if (tier) {
      return {
        change: { ...change, tierId: tier.id, billingSource: "whop", billingSince: null },
        note: `back to ${tier.key}, paid by the live Whop membership ${user.whopMembershipId ?? ""}`.trim(),
      };
    }
  }
  return { change: { ...change, billingSource: null, billingSince: null }, note: null };
}

/**
 * Puts a user whose paid tier from one provider lapsed back on their live subscription with the other
 * (today: a lapsed Whop membership falls back to the user's Stripe subscription), in `tx`. Returns
 * what happened, in words, for the event's note. Passed in by whoever wires the providers together
 * (routes, the replay of stored events), so that neither provider imports the other.
 */
export type ProviderFallback = (tx: Tx, user: { id: number; stripeSubscriptionId: string | null }) => Promise<string>;
