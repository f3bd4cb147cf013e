// Tierdesk's billing rules, in one place. Pure functions of plain values: no database, no Stripe,
// no clock. The I/O code (fulfilment.server.ts, webhook.server.ts) gathers the facts, asks these
// rules, and writes the answer. Each rule is unit tested in tests/unit/billing-rules.test.ts.
import type Stripe from "stripe";
import type { BillingProvider, PaymentProvider } from "~/generated/prisma/enums.ts";

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

export type SubscriptionItemPrice = {
  priceId: string | null;
  lookupKey: string | null;
  /** The price's product: what a price without a lookup key (a legacy price) is known by. */
  productId?: string | null;
};
export type TierRef = { id: number; key: string };
export type LookupKeyOwner = { lookupKey: string; tier: TierRef };
/** The tiers whose lookup-key prices belong to each Stripe product (see tiersByProduct). */
export type ProductTiers = ReadonlyMap<string, readonly TierRef[]>;
export type TierResolution =
  | { tier: TierRef }
  | { error: string }
  /** Only a price without a lookup key can name the tier: ask again with the products' tiers. */
  | { needsProducts: true };

/**
 * Which tiers sell each product: the product of every owned lookup key's price as Stripe has it now
 * (`productOfKey`; a key Stripe does not know is left out). Built from what Stripe says, never stored.
 */
export function tiersByProduct(
  owners: readonly LookupKeyOwner[],
  productOfKey: ReadonlyMap<string, string | null>,
): Map<string, TierRef[]> {
  const byProduct = new Map<string, TierRef[]>();
  for (const owner of owners) {
    const productId = productOfKey.get(owner.lookupKey);
    if (!productId) continue;
    const tiers = byProduct.get(productId) ?? [];
    if (!tiers.some((tier) => tier.id === owner.tier.id)) tiers.push(owner.tier);
    byProduct.set(productId, tiers);
  }
  return byProduct;
}

const uniqueTiers = (tiers: readonly TierRef[]) => [...new Map(tiers.map((tier) => [tier.id, tier])).values()];

/**
 * The tier a subscription pays for. A lookup key a tier owns wins: items whose keys no tier owns are
 * add-ons and do not count, but only one tier may be named. Without one, a price without a lookup
 * key (a legacy price, left on its subscriptions when the key was moved to a new price with
 * `transfer_lookup_key`) names the tier whose lookup-key prices share its product; `products` is
 * asked for only then. A product several tiers share, or one no tier uses, is an error: never a guess.
 */
export function tierForSubscription(
  subscriptionId: string,
  items: readonly SubscriptionItemPrice[],
  owners: readonly LookupKeyOwner[],
  products: ProductTiers | null = null,
): TierResolution {
  const keys = items.map((item) => item.lookupKey).filter((key): key is string => Boolean(key));
  const relevant = owners.filter((owner) => keys.includes(owner.lookupKey));
  const [only, ...others] = uniqueTiers(relevant.map((owner) => owner.tier));
  if (only && !others.length) return { tier: only };
  if (only) {
    const named = relevant.map((owner) => `"${owner.lookupKey}" → ${owner.tier.key}`).join(", ");
    return {
      error: `Subscription ${subscriptionId} has prices of several tiers (${named}); a subscription must pay for one tier.`,
    };
  }
  const keyless = items.filter((item) => !item.lookupKey);
  if (!keyless.length) {
    if (!keys.length) {
      return {
        error: `Subscription ${subscriptionId} has no prices; give it a price with a lookup key that a tier owns.`,
      };
    }
    return {
      error: `Price lookup key ${keys.map((key) => `"${key}"`).join(", ")} of subscription ${subscriptionId} belongs to no tier; add it to a tier in the admin.`,
    };
  }
  if (!products) return { needsProducts: true };

  const describePrice = (item: SubscriptionItemPrice) =>
    `${item.priceId ?? "(no id)"} of product ${item.productId ?? "(none)"}`;
  const matches = keyless.map((item) => ({ item, tiers: (item.productId && products.get(item.productId)) || [] }));
  const shared = matches.find((match) => match.tiers.length > 1);
  if (shared) {
    return {
      error: `Price ${describePrice(shared.item)} of subscription ${subscriptionId} has no lookup key, and tiers ${shared.tiers.map((tier) => tier.key).join(" and ")} both sell that product, so which one it pays for cannot be told; give each tier its own Stripe product (the dashboard shows this as a tier problem).`,
    };
  }
  const [tier, ...more] = uniqueTiers(matches.flatMap((match) => match.tiers));
  if (tier && !more.length) return { tier };
  if (tier) {
    return {
      error: `Subscription ${subscriptionId} has legacy prices of several tiers (${[tier, ...more].map((t) => t.key).join(", ")}); a subscription must pay for one tier.`,
    };
  }
  const prices = keyless.map(describePrice).join(", ");
  return {
    error: `Subscription ${subscriptionId} has no price with a lookup_key a tier owns, and no tier sells the product of its price without one (${prices}); give the price a lookup key that a tier owns, or add a lookup key of that product to a tier.`,
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
export function freshness(
  observedAt: Date,
  appliedAt: Date | null,
  { finalInItsSecond }: { finalInItsSecond: boolean },
): Freshness {
  if (!appliedAt || observedAt.getTime() > appliedAt.getTime()) return "newer";
  if (observedAt.getTime() < appliedAt.getTime()) return "stale";
  return finalInItsSecond ? "newer" : "tie";
}

/**
 * When Stripe itself saw a state Tierdesk read from its API (support's sync, a fallback to Stripe),
 * at the resolution of Stripe's event `created` (whole seconds): the `Date` header of Stripe's
 * answer. Comparing a millisecond clock with whole-second `created` made a change in the very same
 * second look older than the read, and it was lost; in Stripe's second it is a tie, settled by asking
 * Stripe. Without a readable header, the local clock, truncated to its second.
 */
export function stripeReadAt(dateHeader: string | undefined, now: Date): Date {
  const reported = dateHeader ? Date.parse(dateHeader) : Number.NaN;
  const at = Number.isNaN(reported) ? now.getTime() : reported;
  return new Date(Math.floor(at / 1000) * 1000);
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
    return {
      ignored: `subscription ${subscription.id} is ${subscription.status}: nothing changes until its first payment succeeds`,
    };
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
  /** The Stripe customer was deleted: unlink it from its user. */
  | { kind: "customer-deleted" }
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
    case "customer.deleted":
      return { kind: "customer-deleted" };
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
  whop: WhopCheck = { products: new Map(), unavailable: true, reason: "Whop was not asked" },
): TierHealth {
  if (tier.isBillingExempt || tier.billingProvider === "exempt") {
    return { state: "not-applicable", reason: "exempt: no payment needed" };
  }
  if (tier.billingProvider === "whop") return whopTierHealth(tier.whopProductKey, whop);
  if (!tier.lookupKeys.length) return { state: "invalid", problems: ["a Stripe tier needs at least one lookup key"] };
  if (stripe.unavailable)
    return { state: "unverified", reason: `could not verify: ${stripe.reason ?? "Stripe did not answer"}` };

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

/**
 * Products that more than one Stripe tier's lookup keys point at, by tier: a price without a lookup
 * key (a legacy price) is known only by its product, so its subscribers could not be told apart.
 */
export function sharedProductProblems(
  tiers: readonly (TierIntegration & { key: string })[],
  prices: ReadonlyMap<string, StripePriceFact>,
): Map<string, string[]> {
  const tiersOfProduct = new Map<string, Set<string>>();
  for (const tier of tiers) {
    if (tier.billingProvider !== "stripe" || tier.isBillingExempt) continue;
    for (const key of tier.lookupKeys) {
      const productId = prices.get(key)?.productId;
      if (!productId) continue;
      tiersOfProduct.set(productId, (tiersOfProduct.get(productId) ?? new Set()).add(tier.key));
    }
  }
  const problems = new Map<string, string[]>();
  for (const [productId, keys] of tiersOfProduct) {
    if (keys.size < 2) continue;
    for (const key of keys) {
      const others = [...keys].filter((other) => other !== key).join(", ");
      problems.set(key, [
        ...(problems.get(key) ?? []),
        `product ${productId} is also sold by tier ${others}: subscribers on a price without a lookup key could not be told apart; give each tier its own product`,
      ]);
    }
  }
  return problems;
}

/** Every tier's health (tierHealth), with the problems only seen across tiers (sharedProductProblems). */
export function tiersHealth(
  tiers: readonly (TierIntegration & { key: string })[],
  prices: ReadonlyMap<string, StripePriceFact>,
  stripe: { unavailable: boolean; reason?: string },
  whop?: WhopCheck,
): Map<string, TierHealth> {
  const shared = stripe.unavailable ? new Map<string, string[]>() : sharedProductProblems(tiers, prices);
  return new Map(
    tiers.map((tier) => {
      const health = tierHealth(tier, prices, stripe, whop);
      const extra = shared.get(tier.key) ?? [];
      if (!extra.length || (health.state !== "valid" && health.state !== "invalid")) return [tier.key, health];
      const problems = health.state === "invalid" ? [...health.problems, ...extra] : extra;
      return [tier.key, { state: "invalid", problems }];
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Support: which subscription governs a customer, and why a user is on their plan

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
      reason: `The subscription is ${subscriptionStatus}, which grants ${storedTier.name}${grace}.`,
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

// ---------------------------------------------------------------------------------------------
// Whop: what a membership status means, which membership state is newer, and one paid tier at a
// time across Stripe and Whop (docs/decisions/006-whop-second-billing-provider.md).

/** Whop's membership statuses (REST API v1). */
export const WHOP_MEMBERSHIP_STATUSES = [
  "trialing",
  "active",
  "past_due",
  "canceling",
  "completed",
  "canceled",
  "expired",
  "unresolved",
  "drafted",
] as const;

/**
 * What a Whop membership status means for the user's tier.
 * - `active`, `trialing`: paid (or on trial) → the tier whose Whop product key is the membership's product.
 * - `past_due`: a renewal failed and Whop is retrying → keep the tier (grace period).
 * - `canceling`: set to end at the end of the period, still paid until then → keep the tier.
 * - `drafted`: a checkout that has not been paid → change nothing until it is.
 * - `completed`, `canceled`, `expired`, `unresolved` → back to free.
 * Unknown future statuses are treated as lapsed: access is never granted by accident.
 */
export function whopMembershipStatusEffect(
  status: (typeof WHOP_MEMBERSHIP_STATUSES)[number] | (string & {}),
): StatusEffect {
  switch (status) {
    case "active":
    case "trialing":
    case "past_due":
    case "canceling":
      return "grant";
    case "drafted":
      return "no_change";
    default:
      return "revoke";
  }
}

export function isLiveWhopStatus(status: string | null | undefined): boolean {
  return status !== null && status !== undefined && whopMembershipStatusEffect(status) === "grant";
}

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

/**
 * Whether a membership state Whop reported at `observedAt` (the membership's `updated_at`) may replace
 * the one applied at `appliedAt`. Deliveries are unordered: an older state is stale. The same
 * `updated_at` is the same state of the membership, so applying it again changes nothing.
 */
export function whopFreshness(observedAt: Date, appliedAt: Date | null): "newer" | "stale" {
  return appliedAt && observedAt.getTime() < appliedAt.getTime() ? "stale" : "newer";
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
export function providerInForce(state: PaidState): PaymentProvider | null {
  return state.tier === "paid" ? tierSource(state) : null;
}

export function isProviderLive(state: PaidState, provider: PaymentProvider): boolean {
  return isGrantingStatus(provider, provider === "whop" ? state.whopMembershipStatus : state.subscriptionStatus);
}

const PROVIDER_THING: Record<PaymentProvider, string> = { stripe: "Stripe subscription", whop: "Whop membership" };

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

export type WhopSubscriber = PaidState & {
  id: number;
  whopMembershipId: string | null;
  whopSyncedAt: Date | null;
};

export type WhopMembershipFacts = { id: string; status: string; createdAt: Date | null };

export type WhopTierChange = { grant: { id: number; key: string } } | RevokeDecision;

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
    return { stale: `older (${observedAt.toISOString()}) than the Whop state already applied to user ${user.id}` };
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
        detail: `user ${user.id} → ${tier.key} (Whop ${membership.status})`,
      };
    }
    return {
      record: true,
      tier: "keep",
      detail: `user ${user.id}: Whop membership ${membership.id} is ${membership.status}, but ${decision.reason}`,
    };
  }
  const otherCurrent = user.whopMembershipId !== null && user.whopMembershipId !== membership.id;
  if (otherCurrent && isLiveWhopStatus(user.whopMembershipStatus)) {
    return {
      ignored: `membership ${membership.id} is not user ${user.id}'s current Whop membership (${user.whopMembershipId}, ${user.whopMembershipStatus})`,
    };
  }
  const decision = revokeDecision(user, "whop");
  const detail =
    decision === "clear"
      ? `user ${user.id} → free (Whop ${membership.status})`
      : decision === "keep"
        ? `user ${user.id}: Whop membership ${membership.id} is ${membership.status}; the tier in force does not come from it`
        : `user ${user.id}: Whop membership ${membership.id} is ${membership.status}; back to the live ${PROVIDER_THING[decision.fallbackTo]}`;
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

const WHOP_PRODUCT_PROBLEM: Record<Exclude<WhopProductState, "found">, string> = {
  missing: "missing in Whop",
  "archived-product": "the product is archived in Whop",
  "no-plan": "the product has no plan for sale (none is visible and buy-now)",
};

/** A `whop` tier is valid when its product exists, is not archived and has a plan for sale. */
function whopTierHealth(productKey: string | null, whop: WhopCheck): TierHealth {
  const key = productKey?.trim();
  if (!key) return { state: "invalid", problems: ["a Whop tier needs a Whop product key"] };
  if (whop.unavailable)
    return { state: "unverified", reason: `could not verify: ${whop.reason ?? "Whop did not answer"}` };
  const state = whopProductState(whop.products.get(key) ?? null);
  return state === "found"
    ? { state: "valid" }
    : { state: "invalid", problems: [`"${key}": ${WHOP_PRODUCT_PROBLEM[state]}`] };
}
