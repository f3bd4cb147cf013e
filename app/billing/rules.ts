// Tierdesk's billing rules, in one place. Pure functions of plain values: no database, no Stripe,
// no clock. The I/O code (fulfilment.server.ts, webhook.server.ts) gathers the facts, asks these
// rules, and writes the answer. Each rule is unit tested in tests/unit/billing-rules.test.ts.
import type Stripe from "stripe";
import type { BillingProvider } from "~/generated/prisma/enums.ts";

/** The key of the tier users fall back to when they have none in force. */
export const FREE_TIER_KEY = "free";

/** The metadata key checkout puts on subscriptions, so a subscription event can find its user
 *  even when it arrives before `checkout.session.completed` linked the customer. */
export const USER_ID_METADATA_KEY = "tierdesk_user_id";

// ---------------------------------------------------------------------------------------------
// Tiers

export type TierIntegration = {
  billingProvider: BillingProvider;
  isBillingExempt: boolean;
  whopProductKey: string | null;
  /** The tier's Stripe price lookup keys. */
  lookupKeys: readonly string[];
};

/**
 * Whether a tier can actually be paid for (or needs no payment): exempt tiers and billing-exempt
 * tiers always; `stripe` needs at least one price lookup key; `whop` needs a Whop product key.
 */
export function hasValidIntegration(tier: TierIntegration): boolean {
  if (tier.isBillingExempt || tier.billingProvider === "exempt") return true;
  if (tier.billingProvider === "stripe") return tier.lookupKeys.some((key) => key.trim().length > 0);
  if (tier.billingProvider === "whop") return Boolean(tier.whopProductKey?.trim());
  return false;
}

// ---------------------------------------------------------------------------------------------
// Subscription status

/**
 * What a Stripe subscription status means for the user's tier.
 * - `active`, `trialing`: paid (or on trial) → the subscribed tier.
 * - `past_due`: a renewal failed and Stripe is retrying → keep the tier (grace period).
 * - `incomplete`: the first payment has not gone through yet → change nothing until it does.
 * - `canceled`, `unpaid`, `incomplete_expired`, `paused` → back to free.
 * Unknown future statuses are treated as lapsed: access is never granted by accident.
 */
export type StatusEffect = "grant" | "no_change" | "revoke";

export function subscriptionStatusEffect(status: Stripe.Subscription.Status | (string & {})): StatusEffect {
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

/** Statuses after which a subscription can never come back. */
export function isEndedSubscriptionStatus(status: string): boolean {
  return status === "canceled" || status === "incomplete_expired";
}

export type UserTierState = {
  tier: { billingProvider: BillingProvider; isBillingExempt: boolean } | null;
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

// ---------------------------------------------------------------------------------------------
// Which tier a subscription pays for

export type SubscriptionItemPrice = { priceId: string | null; lookupKey: string | null };
export type LookupKeyOwner = { lookupKey: string; tier: { id: number; key: string } };
export type TierResolution = { tier: { id: number; key: string } } | { error: string };

/**
 * The tier a subscription pays for, from its items' price lookup keys. Items whose keys no tier
 * owns are add-ons and do not count, but at least one item must name a tier, and only one tier.
 */
export function tierForSubscription(
  subscriptionId: string,
  items: readonly SubscriptionItemPrice[],
  owners: readonly LookupKeyOwner[],
): TierResolution {
  const keys = items.map((item) => item.lookupKey).filter((key): key is string => Boolean(key));
  if (!keys.length) {
    const priceIds = items.map((item) => item.priceId).filter(Boolean).join(", ") || "none";
    return {
      error: `Subscription ${subscriptionId} has no price with a lookup_key (prices: ${priceIds}); give the price a lookup key that a tier owns.`,
    };
  }
  const relevant = owners.filter((owner) => keys.includes(owner.lookupKey));
  const tiers = new Map(relevant.map((owner) => [owner.tier.id, owner.tier]));
  const [only, ...others] = [...tiers.values()];
  if (only && !others.length) return { tier: only };
  if (only) {
    const named = relevant.map((owner) => `"${owner.lookupKey}" → ${owner.tier.key}`).join(", ");
    return {
      error: `Subscription ${subscriptionId} has prices of several tiers (${named}); a subscription must pay for one tier.`,
    };
  }
  return {
    error: `Price lookup key ${keys.map((key) => `"${key}"`).join(", ")} of subscription ${subscriptionId} belongs to no tier; add it to a tier in the admin.`,
  };
}

// ---------------------------------------------------------------------------------------------
// Which user an event belongs to

/** A Tierdesk user id from Stripe metadata or `client_reference_id`, or null when it is not one. */
export function parseUserId(value: unknown): number | null {
  if (typeof value !== "string" && typeof value !== "number") return null;
  if (typeof value === "string" && !/^\d{1,15}$/.test(value.trim())) return null;
  const id = Number(value);
  return Number.isSafeInteger(id) && id > 0 ? id : null;
}

/**
 * Why a subscription of `customerId` cannot be applied to a user linked to another Stripe customer,
 * or null when it can. A completed checkout may link a new customer; any other event may not.
 */
export function customerConflict(
  user: { id: number; stripeCustomerId: string | null },
  customerId: string | null,
  { fromCheckout }: { fromCheckout: boolean },
): string | null {
  if (!customerId || !user.stripeCustomerId || user.stripeCustomerId === customerId || fromCheckout) return null;
  return `User ${user.id} is linked to Stripe customer ${user.stripeCustomerId}, not ${customerId}.`;
}

// The users table keeps Stripe ids in VARCHAR(64); real ids are far shorter.
export const STRIPE_ID_MAX = 64;

/** Why a Stripe id cannot be stored, or null. */
export function stripeIdProblem(id: string | null, what: string): string | null {
  if (!id || id.length <= STRIPE_ID_MAX) return null;
  return `Stripe ${what} id ${id.slice(0, 24)}… is longer than ${STRIPE_ID_MAX} characters.`;
}

// ---------------------------------------------------------------------------------------------
// Order: newer, stale, or a same-second tie

export type Freshness = "newer" | "tie" | "stale";

/**
 * Whether a state Stripe reported at `observedAt` may replace the one applied at `appliedAt`.
 * Stripe's `created` has one-second resolution and deliveries are unordered, so an event of the
 * very same second is a tie, unless it is final in its second: a deletion (an ended subscription
 * never comes back) or a state already confirmed with Stripe.
 */
export function freshness(observedAt: Date, appliedAt: Date | null, { finalInItsSecond }: { finalInItsSecond: boolean }): Freshness {
  if (!appliedAt || observedAt.getTime() > appliedAt.getTime()) return "newer";
  if (observedAt.getTime() < appliedAt.getTime()) return "stale";
  return finalInItsSecond ? "newer" : "tie";
}

/**
 * How a same-second tie is settled. Stripe's current state of the subscription decides; when
 * Stripe cannot be asked, a subscription deleted in that very second stays deleted, and otherwise
 * the event is applied in arrival order.
 */
export function settleTie(
  event: { deleted: boolean; status: string },
  facts: { current: { status: string } | null; deletedInSameSecond: boolean },
): { apply: "current" | "event"; deleted: boolean } | { stale: string } {
  if (facts.current) {
    return { apply: "current", deleted: event.deleted || isEndedSubscriptionStatus(facts.current.status) };
  }
  if (!event.deleted && facts.deletedInSameSecond) return { stale: "the subscription was deleted in the same second" };
  return { apply: "event", deleted: event.deleted || isEndedSubscriptionStatus(event.status) };
}

// ---------------------------------------------------------------------------------------------
// What applying a subscription changes for its user

export type SubscriberState = {
  id: number;
  stripeSubscriptionId: string | null;
};

export type UserBillingChange = {
  tierId?: number | null;
  stripeSubscriptionId?: string | null;
  subscriptionStatus?: string | null;
};

export type PlannedChange = { change: UserBillingChange; detail: string } | { ignored: string };

/**
 * What applying `subscription` to `user` changes. `tier` is the tier the subscription pays for
 * (needed only when its status grants one). An old subscription ending must not take away the one
 * the user has now; an incomplete one changes nothing until it is paid, except that a completed
 * checkout links it so its state can be looked up.
 */
export function planSubscriptionChange(input: {
  user: SubscriberState;
  subscription: { id: string; status: string };
  deleted: boolean;
  fromCheckout: boolean;
  tier: { id: number; key: string } | null;
}): PlannedChange {
  const { user, subscription, deleted, fromCheckout, tier } = input;
  const effect: StatusEffect = deleted ? "revoke" : subscriptionStatusEffect(subscription.status);
  const otherCurrent = user.stripeSubscriptionId !== null && user.stripeSubscriptionId !== subscription.id;
  if (effect === "grant") {
    if (!tier) throw new Error("planSubscriptionChange: a granting status needs the subscription's tier");
    return {
      change: { tierId: tier.id, stripeSubscriptionId: subscription.id, subscriptionStatus: subscription.status },
      detail: `user ${user.id} → ${tier.key} (${subscription.status})`,
    };
  }
  if (effect === "no_change") {
    if (fromCheckout && !otherCurrent) {
      return {
        change: { stripeSubscriptionId: subscription.id },
        detail: `user ${user.id}: subscription ${subscription.id} linked, ${subscription.status}`,
      };
    }
    return { ignored: `subscription ${subscription.id} is ${subscription.status}: nothing changes until its first payment succeeds` };
  }
  if (otherCurrent) {
    return {
      ignored: `subscription ${subscription.id} is not user ${user.id}'s current subscription (${user.stripeSubscriptionId})`,
    };
  }
  return {
    change: {
      tierId: null,
      subscriptionStatus: deleted ? "canceled" : subscription.status,
      // A deleted subscription is gone; an unpaid or paused one still exists and can be fixed in the portal.
      stripeSubscriptionId: deleted ? null : subscription.id,
    },
    detail: `user ${user.id} → free (${deleted ? "deleted" : subscription.status})`,
  };
}

// ---------------------------------------------------------------------------------------------
// What an event type means

export type EventAction =
  | { kind: "checkout" }
  | { kind: "subscription"; deleted: boolean }
  | { kind: "catalog" }
  | { kind: "audit" }
  | { kind: "ignore" };

const AUDIT_ONLY_EVENTS: ReadonlySet<string> = new Set([
  "invoice.paid",
  "invoice.payment_failed",
  "invoice.payment_succeeded",
  "charge.refunded",
  "customer.subscription.trial_will_end",
]);

/** What Tierdesk does with an event of this type. */
export function eventAction(type: string): EventAction {
  switch (type) {
    case "checkout.session.completed":
    case "checkout.session.async_payment_succeeded":
      return { kind: "checkout" };
    case "customer.subscription.created":
    case "customer.subscription.updated":
    case "customer.subscription.paused":
    case "customer.subscription.resumed":
      return { kind: "subscription", deleted: false };
    case "customer.subscription.deleted":
      return { kind: "subscription", deleted: true };
  }
  if (type.startsWith("price.") || type.startsWith("product.")) return { kind: "catalog" };
  if (AUDIT_ONLY_EVENTS.has(type)) return { kind: "audit" };
  return { kind: "ignore" };
}

// ---------------------------------------------------------------------------------------------
// A tier's prices as Stripe has them: is its configuration valid?

/** What Stripe says about one lookup key (null: Stripe knows no price with that key). */
export type StripePriceFact = {
  active: boolean;
  productActive: boolean;
  productId: string | null;
  currency: string;
} | null;

export type LookupKeyState = "found" | "missing" | "inactive-price" | "archived-product";

export function lookupKeyState(price: StripePriceFact): LookupKeyState {
  if (!price) return "missing";
  if (!price.active) return "inactive-price";
  if (!price.productActive) return "archived-product";
  return "found";
}

export type TierHealth =
  | { state: "valid" }
  | { state: "invalid"; problems: string[] }
  | { state: "unverified"; reason: string }
  | { state: "not-applicable"; reason: string };

const KEY_PROBLEM: Record<Exclude<LookupKeyState, "found">, string> = {
  missing: "missing in Stripe",
  "inactive-price": "its price is inactive",
  "archived-product": "its product is archived",
};

/**
 * Whether a tier's billing configuration is valid as Stripe has it now. A `stripe` tier is valid
 * only when every lookup key is found and active, its prices share one currency and one product.
 * When Stripe could not be asked, the tier is "unverified", never "valid".
 */
export function tierHealth(
  tier: TierIntegration,
  prices: ReadonlyMap<string, StripePriceFact>,
  stripe: { unavailable: boolean; reason?: string },
): TierHealth {
  if (tier.isBillingExempt || tier.billingProvider === "exempt") {
    return { state: "not-applicable", reason: "exempt: no payment needed" };
  }
  if (tier.billingProvider === "whop") {
    return tier.whopProductKey?.trim()
      ? { state: "unverified", reason: "Whop products are not checked yet" }
      : { state: "invalid", problems: ["a Whop tier needs a Whop product key"] };
  }
  if (!tier.lookupKeys.length) return { state: "invalid", problems: ["a Stripe tier needs at least one lookup key"] };
  if (stripe.unavailable) return { state: "unverified", reason: `could not verify: ${stripe.reason ?? "Stripe did not answer"}` };

  const problems: string[] = [];
  const found: Array<NonNullable<StripePriceFact>> = [];
  for (const key of tier.lookupKeys) {
    const price = prices.get(key) ?? null;
    const state = lookupKeyState(price);
    if (state !== "found") problems.push(`"${key}": ${KEY_PROBLEM[state]}`);
    if (price) found.push(price);
  }
  const currencies = [...new Set(found.map((price) => price.currency.toUpperCase()))];
  if (currencies.length > 1) problems.push(`prices disagree in currency (${currencies.join(", ")})`);
  const products = [...new Set(found.map((price) => price.productId).filter(Boolean))];
  if (products.length > 1) problems.push(`lookup keys point at different products (${products.join(", ")})`);
  return problems.length ? { state: "invalid", problems } : { state: "valid" };
}

// ---------------------------------------------------------------------------------------------
// Support: which subscription governs a customer, and why a user is on their plan

/**
 * Of a customer's subscriptions (as Stripe lists them), the one that decides the user's tier: a
 * live one (its status grants a tier) over any other, then an incomplete one, then the newest ended.
 */
export function pickGoverningSubscription<S extends { status: string; created: number }>(subscriptions: readonly S[]): S | null {
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
}): { tierName: string; reason: string } {
  const { storedTier, subscriptionStatus } = user;
  if (storedTier && (storedTier.isBillingExempt || storedTier.billingProvider === "exempt")) {
    return { tierName: storedTier.name, reason: `${storedTier.name} is an exempt tier: it needs no payment.` };
  }
  if (storedTier && subscriptionStatus && subscriptionStatusEffect(subscriptionStatus) === "grant") {
    const grace = subscriptionStatus === "past_due" ? " (a renewal failed; the tier is kept while Stripe retries)" : "";
    return { tierName: storedTier.name, reason: `The subscription is ${subscriptionStatus}, which grants ${storedTier.name}${grace}.` };
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
 * Whether an admin may change this user's role: nobody removes their own admin role, and the last
 * admin stays an admin. Returns the reason when not.
 */
export function roleChangeProblem(input: {
  actorId: number;
  target: { id: number; role: "admin" | "support" | "customer" };
  newRole: "admin" | "support" | "customer";
  adminCount: number;
}): string | null {
  const { actorId, target, newRole, adminCount } = input;
  if (target.role !== "admin" || newRole === "admin") return null;
  if (target.id === actorId) return "You cannot remove your own admin role: ask another admin.";
  if (adminCount <= 1) return "This is the last admin: make someone else an admin first.";
  return null;
}
