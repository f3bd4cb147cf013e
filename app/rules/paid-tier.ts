// One paid tier at a time across Stripe and Whop: which provider is in force, whether a grant is
// taken and what a revocation leaves (docs/decisions/006-whop-second-billing-provider.md).
// Pure functions of plain values: no database, no Stripe, no clock (docs/decisions/004).
import type { BillingProvider, PaymentProvider } from "~/generated/prisma/enums.ts";
import { isLiveSubscriptionStatus } from "./stripe-subscriptions.ts";
import { isLiveWhopStatus } from "./whop-status.ts";

export type UserTierState = {
  tier: { billingProvider: BillingProvider; isBillingExempt: boolean } | null;
  /** Stripe's subscription status. */
  subscriptionStatus: string | null;
  /** Which provider granted the stored tier (null on rows from before Whop: Stripe's, or none). */
  billingSource?: PaymentProvider | null;
  whopMembershipStatus?: string | null;
};

/**
 * Whether the user's stored tier is in force. Exempt tiers always are; a paid tier only while the
 * status of the provider that granted it (Stripe's subscription or Whop's membership) grants it.
 * Otherwise the user is on the free tier.
 */
export function tierIsInForce(user: UserTierState): boolean {
  if (!user.tier) return false;
  if (user.tier.isBillingExempt || user.tier.billingProvider === "exempt") return true;
  return isGrantingStatus(tierSource(user), tierSourceStatus(user));
}

// ---------------------------------------------------------------------------------------------
// Which tier a subscription pays for

/** Which provider granted the stored tier; rows from before Whop (no billing_source) are Stripe's. */
export function tierSource(user: { billingSource?: PaymentProvider | null }): PaymentProvider {
  return user.billingSource ?? "stripe";
}

function tierSourceStatus(user: UserTierState): string | null {
  return tierSource(user) === "whop" ? (user.whopMembershipStatus ?? null) : user.subscriptionStatus;
}

/** Whether a provider's status grants the paid tier it pays for. */
export function isGrantingStatus(provider: PaymentProvider, status: string | null | undefined): boolean {
  if (status === null || status === undefined) return false;
  return provider === "whop" ? isLiveWhopStatus(status) : isLiveSubscriptionStatus(status);
}

/** A user's paid state across both providers, as the overlap rules need it. */
export type PaidState = {
  /** The stored tier: none, an exempt one (given by an admin), or a paid one. */
  tier: "none" | "exempt" | "paid";
  billingSource: PaymentProvider | null;
  /** When the subscription or membership that granted the stored tier started. */
  billingSince: Date | null;
  subscriptionStatus: string | null;
  whopMembershipStatus: string | null;
};

/** The provider whose paid tier the user is on now, or null (no tier, or an exempt one). */
function providerInForce(state: PaidState): PaymentProvider | null {
  return state.tier === "paid" ? tierSource(state) : null;
}

function isProviderLive(state: PaidState, provider: PaymentProvider): boolean {
  return isGrantingStatus(provider, provider === "whop" ? state.whopMembershipStatus : state.subscriptionStatus);
}

export const PROVIDER_THING: Record<PaymentProvider, string> = {
  stripe: "Stripe subscription",
  whop: "Whop membership",
};

export type GrantDecision = { take: true } | { take: false; reason: string };

/**
 * Whether a granting state from `provider` (a subscription or membership that started at
 * `startedAt`) puts the user on its tier. A user holds one paid tier at a time: when the other
 * provider's tier is in force and still live, the one that started later wins (an unknown start
 * counts as the older).
 */
export function grantDecision(state: PaidState, provider: PaymentProvider, startedAt: Date | null): GrantDecision {
  const current = providerInForce(state);
  if (!current || current === provider || !isProviderLive(state, current)) return { take: true };
  if (state.billingSince && (!startedAt || startedAt.getTime() < state.billingSince.getTime())) {
    const status = current === "whop" ? state.whopMembershipStatus : state.subscriptionStatus;
    return {
      take: false,
      reason: `the ${PROVIDER_THING[current]} in force started later (${state.billingSince.toISOString()}) and is ${status}: the newer one keeps the tier`,
    };
  }
  return { take: true };
}

export type RevokeDecision = "keep" | "clear" | { fallbackTo: PaymentProvider };

/**
 * What a lapsed state from `provider` does to the stored tier: nothing unless that provider granted
 * it ("keep": the other provider's tier, an exempt tier or none stays); back to free ("clear"); or,
 * when the other provider still has a live subscription or membership, that one's tier.
 */
export function revokeDecision(state: PaidState, provider: PaymentProvider): RevokeDecision {
  if (providerInForce(state) !== provider) return "keep";
  const other: PaymentProvider = provider === "stripe" ? "whop" : "stripe";
  return isProviderLive(state, other) ? { fallbackTo: other } : "clear";
}
