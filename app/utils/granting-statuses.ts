// The provider statuses under which a paid tier is in force. The rules decide with them
// (app/rules/stripe-subscriptions.ts, app/rules/whop-status.ts); the seat-limit SQL
// (app/models/seats.server.ts) restates the same decision, so both read the lists from here.

/** Stripe's subscription statuses that grant the tier. */
export const LIVE_STRIPE_STATUSES = ["active", "trialing", "past_due"] as const;

/** Whop's membership statuses that grant the tier. */
export const LIVE_WHOP_STATUSES = ["active", "trialing", "past_due", "canceling"] as const;

/** The tier every account without a paid or exempt tier in force is on. */
export const FREE_TIER_KEY = "free";
