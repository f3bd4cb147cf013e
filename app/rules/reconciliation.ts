// Whole-account reconciliation: what Stripe says of an account's customer and subscriptions against
// what Tierdesk has, and every difference with the rule that decides it. What applying a difference
// writes is the webhook's own rules (planSubscriptionChange, through applySubscription); this module
// only predicts it, to tell which accounts differ and why.
// Pure functions of plain values: no database, no Stripe, no clock (docs/decisions/004).
import { tierSource } from "./paid-tier.ts";
import {
  isEndedSubscriptionStatus,
  isLiveSubscriptionStatus,
  subscriptionStatusEffect,
} from "./stripe-subscriptions.ts";
import { pickGoverningSubscription } from "./support.ts";

/** An account's billing state as reconciliation reads it (one row of a batch). */
export type AccountFacts = {
  id: number;
  name: string;
  /** The stored tier's key, and whether it is exempt or paid ("none": no stored tier). */
  tierKey: string | null;
  tierKind: "none" | "exempt" | "paid";
  billingSource: "stripe" | "whop" | null;
  stripeCustomerId: string | null;
  stripeSubscriptionId: string | null;
  subscriptionStatus: string | null;
  members: number;
  /** The user limit of the tier in force (null: no limit). */
  seatLimit: number | null;
  overSeatLimit: boolean;
};

/** A Stripe subscription as the list answered it, its tier already resolved when its status grants one. */
export type SubscriptionFacts = {
  id: string;
  status: string;
  created: number;
  customerId: string;
  /** The account its metadata names (`tierdesk_account_id`), or null. */
  namedAccountId: number | null;
  /** The tier it pays for (only for a granting status), or why it cannot be told. */
  tier: { key: string; userLimit: number | null } | { error: string } | null;
};

export type DifferenceKind =
  | "missed_subscription"
  | "missed_plan_change"
  | "missed_status_change"
  | "missed_cancellation"
  | "subscription_missing"
  | "customer_not_linked"
  | "customer_deleted"
  | "customer_linked_elsewhere"
  | "named_account_missing"
  | "tier_unresolved"
  | "seat_mark_stale";

/** How a difference is applied: as Sync from Stripe (a subscription, or none), unlinking a gone customer,
 *  refreshing the seat mark, or not at all (a person decides). */
type DifferenceFix = "sync" | "unlink" | "seat_mark" | "none";

/** One side of a difference, as the page shows it. */
type BillingView = {
  tier: string | null;
  status: string | null;
  customer: string | null;
  subscription: string | null;
  seats: string;
};

export type Difference = {
  accountId: number | null;
  accountName: string;
  kind: DifferenceKind;
  rule: string;
  tierdesk: BillingView;
  stripe: BillingView;
  stripeCustomerId: string | null;
  /** The subscription whose state applying it writes (null: Stripe has none for the customer). */
  stripeSubscriptionId: string | null;
  fix: DifferenceFix;
};

/** What each kind is called on the page. */
export const DIFFERENCE_LABELS: Record<DifferenceKind, string> = {
  missed_subscription: "missed subscription",
  missed_plan_change: "missed upgrade or downgrade",
  missed_status_change: "missed status change",
  missed_cancellation: "missed cancellation",
  subscription_missing: "subscription missing in Stripe",
  customer_not_linked: "customer not linked",
  customer_deleted: "linked customer deleted in Stripe",
  customer_linked_elsewhere: "another customer names this account",
  named_account_missing: "subscription names no account",
  tier_unresolved: "tier cannot be told",
  seat_mark_stale: "seat-limit mark out of date",
};

const seatsOf = (members: number, limit: number | null) =>
  `${members} member${members === 1 ? "" : "s"} of ${limit ?? "unlimited"}`;

function tierdeskView(account: AccountFacts): BillingView {
  return {
    tier: account.tierKey,
    status: account.subscriptionStatus,
    customer: account.stripeCustomerId,
    subscription: account.stripeSubscriptionId,
    seats: `${seatsOf(account.members, account.seatLimit)}${account.overSeatLimit ? " (marked over its limit)" : ""}`,
  };
}

/** Whether Stripe decides the account's stored tier: no tier, or a paid one Stripe granted (not Whop's, not exempt). */
function stripeOwnsTier(account: AccountFacts): boolean {
  return account.tierKind === "none" || (account.tierKind === "paid" && tierSource(account) === "stripe");
}

/** The tier Tierdesk has in force from Stripe: the stored tier while its subscription status grants it. */
function stripeTierInForce(account: AccountFacts): string | null {
  return stripeOwnsTier(account) && isLiveSubscriptionStatus(account.subscriptionStatus) ? account.tierKey : null;
}

/** What applying `subscription` (as Sync from Stripe does: the account's own) writes, as the page shows it. */
type Expected = { tier: string | null; status: string | null; subscription: string | null; seatLimit: number | null };

function expectedAfter(
  account: AccountFacts,
  subscription: SubscriptionFacts | null,
  freeSeatLimit: number | null,
): Expected | { error: string } {
  const keepTier = stripeOwnsTier(account) ? null : account.tierKey;
  const keepLimit = stripeOwnsTier(account) ? freeSeatLimit : account.seatLimit;
  if (!subscription) return { tier: keepTier, status: "canceled", subscription: null, seatLimit: keepLimit };
  if (subscriptionStatusEffect(subscription.status) === "grant") {
    const tier = subscription.tier;
    if (!tier) return { error: `subscription ${subscription.id} grants a tier, but none was resolved` };
    if ("error" in tier) return tier;
    return stripeOwnsTier(account)
      ? { tier: tier.key, status: subscription.status, subscription: subscription.id, seatLimit: tier.userLimit }
      : { tier: keepTier, status: subscription.status, subscription: subscription.id, seatLimit: keepLimit };
  }
  const ended = isEndedSubscriptionStatus(subscription.status);
  return {
    tier: keepTier,
    status: ended ? "canceled" : subscription.status,
    subscription: ended ? null : subscription.id,
    seatLimit: keepLimit,
  };
}

function stripeView(customer: string | null, expected: Expected, account: AccountFacts): BillingView {
  return {
    tier: expected.tier,
    status: expected.status,
    customer,
    subscription: expected.subscription,
    seats: seatsOf(account.members, expected.seatLimit),
  };
}

function classify(
  account: AccountFacts,
  subscription: SubscriptionFacts | null,
  expected: Expected,
): { kind: DifferenceKind; rule: string } {
  const had = stripeTierInForce(account);
  if (!subscription) {
    return {
      kind: "subscription_missing",
      rule: `Stripe has no subscription for customer ${account.stripeCustomerId}: as if ${account.stripeSubscriptionId ?? "its subscription"}'s deletion had arrived, the account goes back to free (Sync from Stripe's rule).`,
    };
  }
  const effect = subscriptionStatusEffect(subscription.status);
  if (effect === "grant" && stripeOwnsTier(account) && expected.tier !== had) {
    return had === null
      ? {
          kind: "missed_subscription",
          rule: `Subscription ${subscription.id} is ${subscription.status}, which grants the tier its price pays for (${expected.tier}); Tierdesk has the account on free.`,
        }
      : {
          kind: "missed_plan_change",
          rule: `Subscription ${subscription.id} now pays for ${expected.tier} (its price's lookup key, or a legacy price's product), not ${had}: the tier follows the price.`,
        };
  }
  if (
    effect !== "grant" &&
    isEndedSubscriptionStatus(subscription.status) &&
    isLiveSubscriptionStatus(account.subscriptionStatus)
  ) {
    return {
      kind: "missed_cancellation",
      rule: `Subscription ${subscription.id} is ${subscription.status} in Stripe: an ended subscription grants nothing, so the account goes back to free${stripeOwnsTier(account) ? "" : " (its tier does not come from Stripe and stays)"}.`,
    };
  }
  return {
    kind: "missed_status_change",
    rule: `Subscription ${subscription.id} is ${subscription.status} in Stripe, ${account.subscriptionStatus ?? "unknown"} in Tierdesk: ${effect === "grant" ? "a live status keeps the tier it pays for" : "a lapsed status grants nothing"} (${subscription.status === "past_due" ? "past_due is grace while Stripe retries" : "status → tier rule"}).`,
  };
}

/**
 * Which of a customer's subscriptions an account is reconciled with (and applying writes): the one that
 * governs (live over ended, newest), as Sync from Stripe picks it, except that when nothing live
 * governs, the account's own subscription if Stripe lists it: its end is what the account missed.
 */
export function reconciliationTarget<S extends { id: string; status: string; created: number }>(
  accountSubscriptionId: string | null,
  subscriptions: readonly S[],
): S | null {
  const governing = pickGoverningSubscription(subscriptions);
  const own = subscriptions.find((subscription) => subscription.id === accountSubscriptionId) ?? null;
  return governing && subscriptionStatusEffect(governing.status) !== "grant" && own ? own : governing;
}

/**
 * The differences of an account linked to a Stripe customer. `customerExists`: the customer is in
 * Stripe's list of customers (a deleted one is not). `subscriptions`: every subscription of that customer.
 */
export function compareLinkedAccount(
  account: AccountFacts,
  customerExists: boolean,
  subscriptions: readonly SubscriptionFacts[],
  freeSeatLimit: number | null,
): Difference[] {
  const customer = account.stripeCustomerId;
  const base = { accountId: account.id, accountName: account.name, tierdesk: tierdeskView(account) };
  if (!customer) return [];
  if (!customerExists) {
    const expected: Expected = {
      tier: stripeOwnsTier(account) ? null : account.tierKey,
      status: null,
      subscription: null,
      seatLimit: stripeOwnsTier(account) ? freeSeatLimit : account.seatLimit,
    };
    return [
      {
        ...base,
        kind: "customer_deleted",
        rule: `Stripe has no customer ${customer} (deleted, or not of this Stripe account): as a customer.deleted webhook does, the link is dropped and a tier Stripe granted ends; the owners can check out again.`,
        stripe: stripeView(null, expected, account),
        stripeCustomerId: customer,
        stripeSubscriptionId: null,
        fix: "unlink",
      },
    ];
  }
  const target = reconciliationTarget(account.stripeSubscriptionId, subscriptions);
  if (target && subscriptionStatusEffect(target.status) === "no_change") return [];
  if (!target && !account.stripeSubscriptionId) return [];
  // An ended subscription the account never took on: nothing in Tierdesk to correct.
  if (
    target &&
    isEndedSubscriptionStatus(target.status) &&
    !account.stripeSubscriptionId &&
    !account.subscriptionStatus
  ) {
    return [];
  }
  const expected = expectedAfter(account, target, freeSeatLimit);
  if ("error" in expected) {
    return [
      {
        ...base,
        kind: "tier_unresolved",
        rule: expected.error,
        stripe: { tier: null, status: target?.status ?? null, customer, subscription: target?.id ?? null, seats: "" },
        stripeCustomerId: customer,
        stripeSubscriptionId: target?.id ?? null,
        fix: "none",
      },
    ];
  }
  const same =
    expected.tier === account.tierKey &&
    expected.status === account.subscriptionStatus &&
    expected.subscription === account.stripeSubscriptionId;
  if (same) return [];
  return [
    {
      ...base,
      ...classify(account, target, expected),
      stripe: stripeView(customer, expected, account),
      stripeCustomerId: customer,
      stripeSubscriptionId: target?.id ?? null,
      fix: "sync",
    },
  ];
}

/**
 * A Stripe customer no account is linked to, whose live subscription (or the customer) names an
 * account in its metadata: link it as a completed checkout would, unless the account has another customer.
 * `account` null: the named account does not exist.
 */
export function compareUnlinkedCustomer(
  customerId: string,
  namedAccountId: number,
  account: AccountFacts | null,
  subscription: SubscriptionFacts,
): Difference | null {
  if (subscriptionStatusEffect(subscription.status) !== "grant") return null;
  const stripeSide = (expected: Expected, members: AccountFacts | null): BillingView => ({
    tier: expected.tier,
    status: expected.status,
    customer: customerId,
    subscription: subscription.id,
    seats: members ? seatsOf(members.members, expected.seatLimit) : "",
  });
  if (!account) {
    const tier = subscription.tier && "key" in subscription.tier ? subscription.tier : null;
    return {
      accountId: null,
      accountName: `account ${namedAccountId}`,
      kind: "named_account_missing",
      rule: `Live subscription ${subscription.id} of customer ${customerId} names Tierdesk account ${namedAccountId} (tierdesk_account_id), which does not exist: a person decides (refund, or link it by hand).`,
      tierdesk: { tier: null, status: null, customer: null, subscription: null, seats: "" },
      stripe: stripeSide(
        { tier: tier?.key ?? null, status: subscription.status, subscription: subscription.id, seatLimit: null },
        null,
      ),
      stripeCustomerId: customerId,
      stripeSubscriptionId: subscription.id,
      fix: "none",
    };
  }
  const base = { accountId: account.id, accountName: account.name, tierdesk: tierdeskView(account) };
  if (account.stripeCustomerId && account.stripeCustomerId !== customerId) {
    return {
      ...base,
      kind: "customer_linked_elsewhere",
      rule: `Customer ${customerId} names this account and has live subscription ${subscription.id}, but the account is linked to customer ${account.stripeCustomerId}: one customer per account, so a person decides which one stays (and refunds the other).`,
      stripe: stripeSide(
        { tier: null, status: subscription.status, subscription: subscription.id, seatLimit: null },
        account,
      ),
      stripeCustomerId: customerId,
      stripeSubscriptionId: subscription.id,
      fix: "none",
    };
  }
  const expected = expectedAfter({ ...account, stripeSubscriptionId: null }, subscription, account.seatLimit);
  if ("error" in expected) {
    return {
      ...base,
      kind: "tier_unresolved",
      rule: expected.error,
      stripe: {
        tier: null,
        status: subscription.status,
        customer: customerId,
        subscription: subscription.id,
        seats: "",
      },
      stripeCustomerId: customerId,
      stripeSubscriptionId: subscription.id,
      fix: "none",
    };
  }
  return {
    ...base,
    kind: "customer_not_linked",
    rule: `Customer ${customerId} names this account (tierdesk_account_id) and has live subscription ${subscription.id}, but the account has no customer: linked as a completed checkout links it, and the subscription applied.`,
    stripe: stripeSide(expected, account),
    stripeCustomerId: customerId,
    stripeSubscriptionId: subscription.id,
    fix: "sync",
  };
}

/** An account whose seat-limit mark disagrees with its members and the limit of its tier in force. */
export function compareSeatMark(account: AccountFacts): Difference | null {
  const over = account.seatLimit !== null && account.members > account.seatLimit;
  if (over === account.overSeatLimit) return null;
  const view = tierdeskView(account);
  return {
    accountId: account.id,
    accountName: account.name,
    kind: "seat_mark_stale",
    rule: `The account has ${seatsOf(account.members, account.seatLimit)}: it is ${over ? "" : "not "}over its limit, but is ${account.overSeatLimit ? "" : "not "}marked so (the mark is refreshed with every change of members, tier or status).`,
    tierdesk: view,
    stripe: { ...view, seats: `${seatsOf(account.members, account.seatLimit)}${over ? " (over its limit)" : ""}` },
    stripeCustomerId: account.stripeCustomerId,
    stripeSubscriptionId: account.stripeSubscriptionId,
    fix: "seat_mark",
  };
}
