// Support's answers: which of a customer's subscriptions governs their tier, and why a user is on
// their plan.
// Pure functions of plain values: no database, no Stripe, no clock (docs/decisions/004).
import type { BillingProvider, PaymentProvider } from "~/generated/prisma/enums.ts";
import { tierSource } from "./paid-tier.ts";
import { type PlanPrice, priceText, subscriptionStatusEffect } from "./stripe-subscriptions.ts";
import { explainWhopTier } from "./whop.ts";

/**
 * Of a customer's subscriptions (as Stripe lists them), the one that decides the user's tier: a
 * live one (its status grants a tier) over any other, then an incomplete one, then the newest ended.
 */
export function pickGoverningSubscription<S extends { status: string; created: number }>(
  subscriptions: readonly S[],
): S | null {
  const rank = (status: string) => {
    const effect = subscriptionStatusEffect(status);
    return effect === "grant" ? 0 : effect === "no_change" ? 1 : 2;
  };
  const sorted = [...subscriptions].sort((a, b) => rank(a.status) - rank(b.status) || b.created - a.created);
  return sorted[0] ?? null;
}

/** In words, why the user is on the tier in force: what support answers all day. */
export function explainTierInForce(user: {
  storedTier: { key: string; name: string; billingProvider: BillingProvider; isBillingExempt: boolean } | null;
  subscriptionStatus: string | null;
  freeTierName: string;
  /** Pass both for users who may pay through Whop (see explainWhopTier). */
  billingSource?: PaymentProvider | null;
  whopMembershipStatus?: string | null;
  /** The subscription's price as Stripe has it (planPriceOf); said only when it is a legacy one. */
  price?: PlanPrice | null;
}): { tierName: string; reason: string } {
  const { storedTier, subscriptionStatus } = user;
  if (storedTier && (storedTier.isBillingExempt || storedTier.billingProvider === "exempt")) {
    return { tierName: storedTier.name, reason: `${storedTier.name} is an exempt tier: it needs no payment.` };
  }
  if (storedTier && tierSource(user) === "whop") return explainWhopTier({ ...user, storedTier });
  if (storedTier && subscriptionStatus && subscriptionStatusEffect(subscriptionStatus) === "grant") {
    const grace = subscriptionStatus === "past_due" ? " (a renewal failed; the tier is kept while Stripe retries)" : "";
    return {
      tierName: storedTier.name,
      reason: `The subscription is ${subscriptionStatus}, which grants ${storedTier.name}${grace}.${legacyPriceNote(storedTier, user.price)}`,
    };
  }
  if (storedTier) {
    return {
      tierName: user.freeTierName,
      reason: `The stored tier ${storedTier.name} is not in force: the subscription is ${subscriptionStatus ?? "missing"}.`,
    };
  }
  if (subscriptionStatus) {
    return {
      tierName: user.freeTierName,
      reason: `The last subscription is ${subscriptionStatus}: ${subscriptionStatusEffect(subscriptionStatus) === "no_change" ? "waiting for its first payment" : "lapsed"}, so the user is on ${user.freeTierName}.`,
    };
  }
  return { tierName: user.freeTierName, reason: `No subscription: everyone starts on ${user.freeTierName}.` };
}

/**
 * What support needs to know of a legacy price (one whose lookup key moved to a new price): the tier
 * it pays for by the webhook's rule, what it costs and what that tier costs now. Empty otherwise.
 */
function legacyPriceNote(storedTier: { key: string; name: string }, price: PlanPrice | null | undefined): string {
  const legacy = price?.legacy;
  if (!price || !legacy) return "";
  const paying = priceText(price.paying);
  if (!legacy.tier) {
    const problem = legacy.problem ?? "its tier is not known.";
    return ` Its price (${paying}) has no lookup key: ${/[.!?]$/.test(problem) ? problem : `${problem}.`}`;
  }
  if (legacy.tier.key !== storedTier.key) {
    return ` Its price (${paying}) has no lookup key and is tier ${legacy.tier.key}'s by its product: sync from Stripe.`;
  }
  const current = legacy.current ? `current price ${priceText(legacy.current)}` : "no current price for the same terms";
  return ` On ${storedTier.name} at a legacy price, ${paying}; ${current}.`;
}
