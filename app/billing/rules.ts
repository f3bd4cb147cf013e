// Tierdesk's billing rules, in one place. Pure functions: no database, no Stripe.

export const BILLING_PROVIDERS = ["stripe", "whop", "exempt"] as const;
export type BillingProviderName = (typeof BILLING_PROVIDERS)[number];

export type TierIntegration = {
  billingProvider: string;
  isBillingExempt: boolean;
  whopProductKey: string | null;
  /** The tier's Stripe price lookup keys. */
  lookupKeys: readonly string[];
};

/**
 * Whether a tier can actually be paid for (or needs no payment):
 * exempt tiers and billing-exempt tiers always; `stripe` needs at least one price lookup key;
 * `whop` needs a Whop product key; anything else is invalid.
 */
export function hasValidIntegration(tier: TierIntegration): boolean {
  if (tier.isBillingExempt || tier.billingProvider === "exempt") return true;
  if (tier.billingProvider === "stripe") return tier.lookupKeys.some((key) => key.trim().length > 0);
  if (tier.billingProvider === "whop") return Boolean(tier.whopProductKey?.trim());
  return false;
}

/**
 * What a Stripe subscription status means for the user's tier.
 * - `active`, `trialing`: paid (or on trial) → the subscribed tier.
 * - `past_due`: a renewal failed and Stripe is retrying → keep the tier (grace period).
 * - `incomplete`: the first payment has not gone through yet → change nothing until it does.
 * - `canceled`, `unpaid`, `incomplete_expired`, `paused` → back to free.
 * Unknown future statuses are treated as lapsed: access is never granted by accident.
 */
export type StatusEffect = "grant" | "no_change" | "revoke";

export function subscriptionStatusEffect(status: string): StatusEffect {
  switch (status) {
    case "active":
    case "trialing":
    case "past_due":
      return "grant";
    case "incomplete":
      return "no_change";
    default:
      return "revoke";
  }
}

/** Statuses under which a user has a live subscription (checkout must send them to the portal). */
export function isLiveSubscriptionStatus(status: string | null | undefined): boolean {
  return status !== null && status !== undefined && subscriptionStatusEffect(status) === "grant";
}

export type UserTierState = {
  tier: { billingProvider: string; isBillingExempt: boolean } | null;
  subscriptionStatus: string | null;
};

/**
 * Whether the user's stored tier is in force. Exempt tiers always are; a paid tier only while the
 * subscription status grants it. Otherwise the user is on the free tier.
 */
export function tierIsInForce(user: UserTierState): boolean {
  if (!user.tier) return false;
  if (user.tier.isBillingExempt || user.tier.billingProvider === "exempt") return true;
  return user.subscriptionStatus !== null && subscriptionStatusEffect(user.subscriptionStatus) === "grant";
}

/** The key of the tier users fall back to when they have none in force. */
export const FREE_TIER_KEY = "free";
