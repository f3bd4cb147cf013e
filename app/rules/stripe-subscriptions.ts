// A Stripe subscription's state: what its status grants, which tier its prices pay for (by lookup
// key, or a legacy price through its product), and what applying it changes for its user.
// Pure functions of plain values: no database, no Stripe, no clock (docs/decisions/004).
import type Stripe from "stripe";

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
// A legacy price as people see it: what they pay, and what the tier charges new subscribers

/** A price's billing terms, as far as comparing two prices of one plan goes. */
export type PriceTerms = {
  productId: string | null;
  currency: string;
  interval: string | null;
  intervalCount: number;
};

/**
 * What new subscribers pay for the plan a legacy price is on: of the tier's prices on sale now, the one
 * on the legacy price's product with its billing interval, in its currency when there is one. Null when
 * the tier sells no such price now (another interval only, another product): nothing is guessed.
 */
export function currentPriceForLegacy<P extends PriceTerms>(legacy: PriceTerms, tierPrices: readonly P[]): P | null {
  const sameTerms = tierPrices.filter(
    (price) =>
      price.productId !== null &&
      price.productId === legacy.productId &&
      price.interval === legacy.interval &&
      price.intervalCount === legacy.intervalCount,
  );
  const currency = legacy.currency.toLowerCase();
  return sameTerms.find((price) => price.currency.toLowerCase() === currency) ?? sameTerms[0] ?? null;
}

/** An amount with its interval, formatted for people: "£25.00/month". */
export type PriceText = { amount: string; interval: string };

/**
 * The price a subscription pays, for people (support, /account, /pricing). `legacy` is set when the
 * price has no lookup key: the tier the rule resolves it to (tierForSubscription), that tier's current
 * price for the same terms, and why either is unknown (the rule refused, Stripe did not answer).
 */
export type PlanPrice = {
  paying: PriceText;
  legacy: {
    tier: TierRef | null;
    current: PriceText | null;
    problem: string | null;
  } | null;
};

/** "£25.00/month", "£250.00/year", "£75.00/3 months". */
export const priceText = (price: PriceText) => `${price.amount}/${price.interval}`;

// ---------------------------------------------------------------------------------------------
// Which user an event belongs to

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
      detail: `account ${user.id} → ${tier.key} (${subscription.status})`,
    };
  }
  if (effect === "no_change") {
    if (fromCheckout && !otherCurrent) {
      return {
        change: { stripeSubscriptionId: subscription.id },
        detail: `account ${user.id}: subscription ${subscription.id} linked, ${subscription.status}`,
      };
    }
    return {
      ignored: `subscription ${subscription.id} is ${subscription.status}: nothing changes until its first payment succeeds`,
    };
  }
  if (otherCurrent) {
    return {
      ignored: `subscription ${subscription.id} is not account ${user.id}'s current subscription (${user.stripeSubscriptionId})`,
    };
  }
  return {
    change: {
      tierId: null,
      subscriptionStatus: deleted ? "canceled" : subscription.status,
      // A deleted subscription is gone; an unpaid or paused one still exists and can be fixed in the portal.
      stripeSubscriptionId: deleted ? null : subscription.id,
    },
    detail: `account ${user.id} → free (${deleted ? "deleted" : subscription.status})`,
  };
}

// ---------------------------------------------------------------------------------------------
// What an event type means
