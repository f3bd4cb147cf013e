// One paid tier at a time, whichever provider charges for it (docs/decisions/006). Stripe's
// fulfilment asks this module before it writes a change to the stored tier: a Stripe subscription
// takes the tier unless a newer live Whop membership holds it, and a lapsed Stripe subscription only
// takes away a tier Stripe granted, falling back to a live Whop membership's tier. Runs in the
// caller's transaction, on the user it already locked.
import { findWhopTier, readWhopBillingUser, updateWhopBillingUser } from "~/models/whop.server.ts";
import type { Tx } from "~/models/transaction.server.ts";
import { grantDecision, revokeDecision, type UserBillingChange } from "./rules.ts";

export type ReconciledChange = { change: UserBillingChange; note: string | null };

function withoutTier(change: UserBillingChange): UserBillingChange {
  const { tierId: _unchanged, ...rest } = change;
  return rest;
}

/**
 * The Stripe change to write, given the user's Whop side. `startedAt` is when the subscription
 * started (its `start_date`). Also records which provider now granted the stored tier.
 */
export async function reconcileStripeChange(
  tx: Tx,
  userId: number,
  change: UserBillingChange,
  startedAt: Date | null,
): Promise<ReconciledChange> {
  if (change.tierId === undefined) return { change, note: null };
  const user = await readWhopBillingUser(tx, userId);
  if (!user) return { change, note: null };

  if (change.tierId !== null) {
    const decision = grantDecision(user, "stripe", startedAt);
    if (decision.take) {
      await updateWhopBillingUser(tx, userId, { billingSource: "stripe", billingSince: startedAt });
      return { change, note: null };
    }
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
      await updateWhopBillingUser(tx, userId, { billingSource: "whop", billingSince: null });
      return {
        change: { ...change, tierId: tier.id },
        note: `back to ${tier.key}, paid by the live Whop membership ${user.whopMembershipId ?? ""}`.trim(),
      };
    }
  }
  await updateWhopBillingUser(tx, userId, { billingSource: null, billingSince: null });
  return { change, note: null };
}
