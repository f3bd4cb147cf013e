// Applies what Stripe says about a subscription to the Tierdesk account that pays for it, inside the
// caller's transaction. Shared by the webhook, the checkout success page and replays; idempotent:
// applying the same state twice changes nothing. This file gathers facts (database, Stripe), asks
// the rules (app/rules/), and writes the answer.
import { announceAccountChange } from "~/services/webhooks/outbox.server.ts";
import Stripe from "stripe";
import { wasSubscriptionDeletedAt } from "~/models/stripe-event.server.ts";
import type { Tx } from "~/models/transaction.server.ts";
import {
  type BillingAccount,
  lockBillingAccount,
  StripeCustomerTakenError,
  updateBillingAccount,
} from "~/models/billing-account.server.ts";
import {
  customerConflict,
  describeNamedAccount,
  freshness,
  namedAccount,
  type NamedAccount,
  settleTie,
  stripeIdProblem,
} from "~/rules/stripe-events.ts";
import { planSubscriptionChange, subscriptionStatusEffect } from "~/rules/stripe-subscriptions.ts";
import { resolveSubscriptionTier } from "./subscription-tier.server.ts";
import { BillingDisabledError, getStripe, idOf } from "./client.server.ts";
import { FulfilmentError, type FulfilmentOutcome } from "~/services/billing/outcomes.ts";
import { accountIdNamed } from "~/services/billing/named-account.server.ts";
import { reconcileStripeChange } from "~/services/billing/paid-tier-overlap.server.ts";
import { forgetSubscriptionCounts } from "./tier-prices.server.ts";

function fail(problem: string | null) {
  if (problem) throw new FulfilmentError(problem);
}

/** The account a checkout or metadata names, locked; a legacy user id names its personal account. */
async function lockNamedAccount(tx: Tx, named: NamedAccount): Promise<BillingAccount | null> {
  const accountId = await accountIdNamed(tx, named);
  return accountId ? lockBillingAccount(tx, { id: accountId }) : null;
}

/** The account a subscription belongs to, locked: the one a checkout named, else by Stripe customer, else by metadata. */
async function lockSubscriber(
  tx: Tx,
  customerId: string | null,
  namedByCheckout: NamedAccount,
  namedByMetadata: NamedAccount,
  lockedWithClaim: LockedCustomer | undefined,
): Promise<BillingAccount> {
  if (namedByCheckout) {
    const named = await lockNamedAccount(tx, namedByCheckout);
    if (named) return named;
    throw new FulfilmentError(`Tierdesk ${describeNamedAccount(namedByCheckout)} does not exist.`);
  }
  if (customerId) {
    // Looked up again when the claim found nobody: its statement read the accounts as they were before
    // it waited (on a concurrent delivery of the same event), and the customer may have been linked since.
    const byCustomer =
      (lockedWithClaim?.stripeCustomerId === customerId ? lockedWithClaim.account : null) ??
      (await lockBillingAccount(tx, { stripeCustomerId: customerId }));
    if (byCustomer) return byCustomer;
  }
  const byMetadata = await lockNamedAccount(tx, namedByMetadata);
  if (byMetadata) return byMetadata;
  throw new FulfilmentError(
    `No Tierdesk account has Stripe customer ${customerId ?? "(none)"}` +
      (namedByMetadata ? ` and no ${describeNamedAccount(namedByMetadata)} exists` : "") +
      ": it may belong to another product, or the checkout has not been linked yet.",
  );
}

// Bounded: the stored payload is enough for a lookup key, and a legacy price costs one cached catalog read.
const PRODUCTS_DEADLINE_MS = 5_000;

/** The tier the subscription pays for (resolveSubscriptionTier). Stripe unreachable for a legacy
 * price throws a plain error, so the event fails and is retried. */
async function resolveTier(tx: Tx, subscription: Stripe.Subscription) {
  const items = (subscription.items?.data ?? []).map((item) => ({
    priceId: item.price?.id ?? null,
    lookupKey: item.price?.lookup_key ?? null,
    productId: idOf(item.price?.product),
  }));
  const resolution = await resolveSubscriptionTier(subscription.id, items, {
    db: tx,
    deadlineMs: PRODUCTS_DEADLINE_MS,
  });
  if ("error" in resolution) throw new FulfilmentError(resolution.error);
  return resolution.tier;
}

/** The subscription as Stripe has it now, or null when this Stripe does not know it (or billing is off). */
async function currentSubscription(id: string): Promise<Stripe.Subscription | null> {
  try {
    return await getStripe().subscriptions.retrieve(id);
  } catch (error) {
    if (error instanceof BillingDisabledError) return null;
    if (error instanceof Stripe.errors.StripeInvalidRequestError && error.code === "resource_missing") return null;
    throw error; // Stripe unreachable: fail the event so it is retried.
  }
}

/** A Checkout session with its subscription, or null when Stripe has no such session (`resource_missing`). */
export async function findCheckoutSession(sessionId: string): Promise<Stripe.Checkout.Session | null> {
  try {
    return await getStripe().checkout.sessions.retrieve(sessionId, { expand: ["subscription"] });
  } catch (error) {
    if (error instanceof Stripe.errors.StripeInvalidRequestError && error.code === "resource_missing") return null;
    throw error;
  }
}

type ApplyOptions = {
  /** When Stripe reported this state: the event's `created`. */
  observedAt: Date;
  /** From `customer.subscription.deleted`. */
  deleted?: boolean;
  /** The account a checkout named (`client_reference_id`, metadata). */
  accountHint?: NamedAccount;
  /** Applied for a completed checkout, which links the subscription even before it is paid. */
  fromCheckout?: boolean;
  /** Set once a same-second tie has been settled by asking Stripe. */
  tieSettled?: boolean;
  /** The customer's account, already locked by the webhook's claim (storeClaimAndLockCustomer). */
  lockedWithClaim?: LockedCustomer;
};

/** A Stripe customer's account as the webhook's claim locked it; null when no account has that customer. */
export type LockedCustomer = { stripeCustomerId: string; account: BillingAccount | null };

/**
 * Applies a subscription's state as Stripe reported it at `observedAt`, in `tx`. All of the account's
 * changes are written at once and only if nothing newer was applied: an older event is stale and
 * changes nothing. Throws FulfilmentError (nothing written) when it cannot be applied.
 */
export async function applySubscription(
  tx: Tx,
  subscription: Stripe.Subscription,
  options: ApplyOptions,
): Promise<FulfilmentOutcome> {
  const { observedAt, deleted = false, accountHint = null, fromCheckout = false, tieSettled = false } = options;
  forgetSubscriptionCounts();
  const { lockedWithClaim } = options;
  const customerId = idOf(subscription.customer);
  fail(stripeIdProblem(customerId, "customer"));
  fail(stripeIdProblem(subscription.id, "subscription"));
  const user = await lockSubscriber(tx, customerId, accountHint, namedAccount(subscription.metadata), lockedWithClaim);
  fail(customerConflict(user, customerId, { fromCheckout }));

  const granting = !deleted && subscriptionStatusEffect(subscription.status) === "grant";
  const tier = granting ? await resolveTier(tx, subscription) : null;
  const plan = planSubscriptionChange({ user, subscription, deleted, fromCheckout, tier });
  if ("ignored" in plan) return { result: "ignored", accountId: user.id, detail: plan.ignored };

  // A deletion is final, so it also wins a tie within its second.
  const order = freshness(observedAt, user.subscriptionSyncedAt, { finalInItsSecond: deleted || tieSettled });
  if (order === "stale") {
    return {
      result: "stale",
      accountId: user.id,
      detail: `older (${observedAt.toISOString()}) than the state already applied to account ${user.id}`,
    };
  }
  if (order === "tie") {
    // Another event of the same second was applied first; Stripe's current state decides.
    const current = await currentSubscription(subscription.id);
    const deletedInSameSecond =
      !current && !deleted && (await wasSubscriptionDeletedAt(tx, subscription.id, observedAt));
    const settled = settleTie({ deleted, status: subscription.status }, { current, deletedInSameSecond });
    if ("stale" in settled) {
      return { result: "stale", accountId: user.id, detail: `subscription ${subscription.id}: ${settled.stale}` };
    }
    return applySubscription(tx, settled.apply === "current" && current ? current : subscription, {
      ...options,
      deleted: settled.deleted,
      tieSettled: true,
    });
  }

  // One paid tier at a time: a Whop membership may hold the tier (docs/decisions/006).
  const startedAt = subscription.start_date ? new Date(subscription.start_date * 1000) : null;
  const { change, note } = await reconcileStripeChange(tx, user, plan.change, startedAt);
  try {
    await updateBillingAccount(tx, user.id, {
      ...change,
      ...(customerId ? { stripeCustomerId: customerId } : {}),
      subscriptionSyncedAt: observedAt,
    });
  } catch (error) {
    if (error instanceof StripeCustomerTakenError) throw new FulfilmentError(error.message);
    throw error;
  }
  // The seat mark and the API caches followed in updateBillingAccount's own statement.
  if (change.tierId !== undefined || change.subscriptionStatus !== undefined || change.billingSource !== undefined) {
    await announceAccountChange(tx, [user.id], "account.entitlements.updated");
  }
  return { result: "applied", accountId: user.id, detail: note ? `${plan.detail}; ${note}` : plan.detail };
}

async function subscriptionOf(session: Stripe.Checkout.Session): Promise<Stripe.Subscription | null> {
  if (!session.subscription) return null;
  if (typeof session.subscription === "object") return session.subscription;
  return getStripe().subscriptions.retrieve(session.subscription);
}

/**
 * A completed Checkout Session: link the customer and subscription to the account named by
 * `client_reference_id` (or its metadata), then apply the subscription as Stripe has it now.
 */
export async function fulfilCheckoutSession(
  tx: Tx,
  session: Stripe.Checkout.Session,
  { observedAt }: { observedAt: Date },
): Promise<FulfilmentOutcome> {
  if (session.mode !== "subscription") {
    return {
      result: "ignored",
      accountId: null,
      detail: `checkout session ${session.id} is in ${session.mode} mode, not subscription`,
    };
  }
  const named = namedAccount(session.metadata, session.client_reference_id);
  if (!named)
    throw new FulfilmentError(`Checkout session ${session.id} has no client_reference_id naming a Tierdesk account.`);
  const user = await lockNamedAccount(tx, named);
  if (!user)
    throw new FulfilmentError(
      `Checkout session ${session.id} names ${describeNamedAccount(named)}, which does not exist.`,
    );
  const customerId = idOf(session.customer);
  if (customerId && user.stripeCustomerId && user.stripeCustomerId !== customerId) {
    throw new FulfilmentError(
      `Account ${user.id} is linked to Stripe customer ${user.stripeCustomerId}, but checkout session ${session.id} used ${customerId}.`,
    );
  }

  const subscription = await subscriptionOf(session);
  if (!subscription) {
    return {
      result: "ignored",
      accountId: user.id,
      detail: `checkout session ${session.id} has no subscription yet (${session.status}/${session.payment_status})`,
    };
  }
  return applySubscription(tx, subscription, { observedAt, accountHint: { accountId: user.id }, fromCheckout: true });
}

/**
 * Stripe has no subscription at all for the account's customer (support's sync): the subscription the
 * account had is gone, exactly as if its deletion had arrived.
 */
export async function applyNoSubscription(tx: Tx, accountId: number, observedAt: Date): Promise<FulfilmentOutcome> {
  forgetSubscriptionCounts();
  const user = await lockBillingAccount(tx, { id: accountId });
  if (!user) throw new FulfilmentError(`Tierdesk account ${accountId} does not exist.`);
  if (!user.stripeSubscriptionId)
    return { result: "ignored", accountId, detail: "no subscription in Stripe, none linked here" };
  const plan = planSubscriptionChange({
    user,
    subscription: { id: user.stripeSubscriptionId, status: "canceled" },
    deleted: true,
    fromCheckout: false,
    tier: null,
  });
  if ("ignored" in plan) return { result: "ignored", accountId, detail: plan.ignored };
  if (freshness(observedAt, user.subscriptionSyncedAt, { finalInItsSecond: true }) === "stale") {
    return { result: "stale", accountId, detail: "a newer state was applied meanwhile" };
  }
  const { change, note } = await reconcileStripeChange(tx, user, plan.change, null);
  await updateBillingAccount(tx, user.id, { ...change, subscriptionSyncedAt: observedAt });
  await announceAccountChange(tx, [user.id], "account.entitlements.updated");
  return { result: "applied", accountId, detail: note ? `${plan.detail}; ${note}` : plan.detail };
}
