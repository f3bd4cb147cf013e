// Applies what Stripe says about a subscription to the Tierdesk user who owns it, inside the
// caller's transaction. Shared by the webhook, the checkout success page and replays; idempotent:
// applying the same state twice changes nothing. This file gathers facts (database, Stripe), asks
// the rules (app/rules/), and writes the answer.
import Stripe from "stripe";
import { wasSubscriptionDeletedAt } from "~/models/stripe-event.server.ts";
import { findLookupKeyOwners, listLookupKeyOwners } from "~/models/tier.server.ts";
import type { Tx } from "~/models/transaction.server.ts";
import {
  type BillingUser,
  lockBillingUser,
  StripeCustomerTakenError,
  updateBillingUser,
} from "~/models/user.server.ts";
import {
  customerConflict,
  freshness,
  parseUserId,
  settleTie,
  stripeIdProblem,
  USER_ID_METADATA_KEY,
} from "~/rules/stripe-events.ts";
import {
  planSubscriptionChange,
  subscriptionStatusEffect,
  tierForSubscription,
  tiersByProduct,
} from "~/rules/stripe-subscriptions.ts";
import { productsOfLookupKeys } from "./prices.server.ts";
import { BillingDisabledError, getStripe, idOf } from "./client.server.ts";
import { FulfilmentError, type FulfilmentOutcome } from "~/services/billing/outcomes.ts";
import { reconcileStripeChange } from "~/services/billing/paid-tier-overlap.server.ts";

function fail(problem: string | null) {
  if (problem) throw new FulfilmentError(problem);
}

/** The user a subscription belongs to, locked: the one a checkout named, else by Stripe customer, else by metadata. */
async function lockSubscriber(
  tx: Tx,
  customerId: string | null,
  namedUserId: number | null,
  metadataUserId: number | null,
  lockedWithClaim: LockedCustomer | undefined,
): Promise<BillingUser> {
  if (namedUserId) {
    const named = await lockBillingUser(tx, { id: namedUserId });
    if (named) return named;
    throw new FulfilmentError(`Tierdesk user ${namedUserId} does not exist.`);
  }
  if (customerId) {
    // Looked up again when the claim found nobody: its statement read the users as they were before
    // it waited (on a concurrent delivery of the same event), and the customer may have been linked since.
    const byCustomer =
      (lockedWithClaim?.stripeCustomerId === customerId ? lockedWithClaim.user : null) ??
      (await lockBillingUser(tx, { stripeCustomerId: customerId }));
    if (byCustomer) return byCustomer;
  }
  if (metadataUserId) {
    const byMetadata = await lockBillingUser(tx, { id: metadataUserId });
    if (byMetadata) return byMetadata;
  }
  throw new FulfilmentError(
    `No Tierdesk user has Stripe customer ${customerId ?? "(none)"}` +
      (metadataUserId ? ` and no user ${metadataUserId} exists` : "") +
      ": it may belong to another product, or the checkout has not been linked yet.",
  );
}

// Bounded: the stored payload is enough for a lookup key, and a legacy price costs one cached catalog read.
const PRODUCTS_DEADLINE_MS = 5_000;

async function resolveTier(tx: Tx, subscription: Stripe.Subscription) {
  const items = (subscription.items?.data ?? []).map((item) => ({
    priceId: item.price?.id ?? null,
    lookupKey: item.price?.lookup_key ?? null,
    productId: idOf(item.price?.product),
  }));
  const keys = items.map((item) => item.lookupKey).filter((key): key is string => Boolean(key));
  let resolution = tierForSubscription(subscription.id, items, await findLookupKeyOwners(tx, keys));
  if ("needsProducts" in resolution) {
    // A legacy price (its lookup key moved to a new price): the tier selling its product. Stripe
    // unreachable throws a plain error, so the event fails and is retried.
    const owners = await listLookupKeyOwners(tx);
    const products = await productsOfLookupKeys(
      owners.map((owner) => owner.lookupKey),
      { deadlineMs: PRODUCTS_DEADLINE_MS },
    );
    resolution = tierForSubscription(subscription.id, items, owners, tiersByProduct(owners, products));
  }
  if ("error" in resolution) throw new FulfilmentError(resolution.error);
  if ("needsProducts" in resolution) throw new Error("tierForSubscription asked for products twice");
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
  /** The user a checkout named (`client_reference_id`). */
  userIdHint?: number | null;
  /** Applied for a completed checkout, which links the subscription even before it is paid. */
  fromCheckout?: boolean;
  /** Set once a same-second tie has been settled by asking Stripe. */
  tieSettled?: boolean;
  /** The customer's user, already locked by the webhook's claim (storeClaimAndLockCustomer). */
  lockedWithClaim?: LockedCustomer;
};

/** A Stripe customer's user as the webhook's claim locked them; null when no user has that customer. */
export type LockedCustomer = { stripeCustomerId: string; user: BillingUser | null };

/**
 * Applies a subscription's state as Stripe reported it at `observedAt`, in `tx`. All of the user's
 * changes are written at once and only if nothing newer was applied: an older event is stale and
 * changes nothing. Throws FulfilmentError (nothing written) when it cannot be applied.
 */
export async function applySubscription(
  tx: Tx,
  subscription: Stripe.Subscription,
  options: ApplyOptions,
): Promise<FulfilmentOutcome> {
  const { observedAt, deleted = false, userIdHint = null, fromCheckout = false, tieSettled = false } = options;
  const { lockedWithClaim } = options;
  const customerId = idOf(subscription.customer);
  fail(stripeIdProblem(customerId, "customer"));
  fail(stripeIdProblem(subscription.id, "subscription"));
  const user = await lockSubscriber(
    tx,
    customerId,
    userIdHint,
    parseUserId(subscription.metadata?.[USER_ID_METADATA_KEY]),
    lockedWithClaim,
  );
  fail(customerConflict(user, customerId, { fromCheckout }));

  const granting = !deleted && subscriptionStatusEffect(subscription.status) === "grant";
  const tier = granting ? await resolveTier(tx, subscription) : null;
  const plan = planSubscriptionChange({ user, subscription, deleted, fromCheckout, tier });
  if ("ignored" in plan) return { result: "ignored", userId: user.id, detail: plan.ignored };

  // A deletion is final, so it also wins a tie within its second.
  const order = freshness(observedAt, user.subscriptionSyncedAt, { finalInItsSecond: deleted || tieSettled });
  if (order === "stale") {
    return {
      result: "stale",
      userId: user.id,
      detail: `older (${observedAt.toISOString()}) than the state already applied to user ${user.id}`,
    };
  }
  if (order === "tie") {
    // Another event of the same second was applied first; Stripe's current state decides.
    const current = await currentSubscription(subscription.id);
    const deletedInSameSecond =
      !current && !deleted && (await wasSubscriptionDeletedAt(tx, subscription.id, observedAt));
    const settled = settleTie({ deleted, status: subscription.status }, { current, deletedInSameSecond });
    if ("stale" in settled) {
      return { result: "stale", userId: user.id, detail: `subscription ${subscription.id}: ${settled.stale}` };
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
    await updateBillingUser(tx, user.id, {
      ...change,
      ...(customerId ? { stripeCustomerId: customerId } : {}),
      subscriptionSyncedAt: observedAt,
    });
  } catch (error) {
    if (error instanceof StripeCustomerTakenError) throw new FulfilmentError(error.message);
    throw error;
  }
  return { result: "applied", userId: user.id, detail: note ? `${plan.detail}; ${note}` : plan.detail };
}

async function subscriptionOf(session: Stripe.Checkout.Session): Promise<Stripe.Subscription | null> {
  if (!session.subscription) return null;
  if (typeof session.subscription === "object") return session.subscription;
  return getStripe().subscriptions.retrieve(session.subscription);
}

/**
 * A completed Checkout Session: link the customer and subscription to the user named by
 * `client_reference_id`, then apply the subscription as Stripe has it now.
 */
export async function fulfilCheckoutSession(
  tx: Tx,
  session: Stripe.Checkout.Session,
  { observedAt }: { observedAt: Date },
): Promise<FulfilmentOutcome> {
  if (session.mode !== "subscription") {
    return {
      result: "ignored",
      userId: null,
      detail: `checkout session ${session.id} is in ${session.mode} mode, not subscription`,
    };
  }
  const userId = parseUserId(session.client_reference_id) ?? parseUserId(session.metadata?.[USER_ID_METADATA_KEY]);
  if (!userId)
    throw new FulfilmentError(`Checkout session ${session.id} has no client_reference_id naming a Tierdesk user.`);
  const user = await lockBillingUser(tx, { id: userId });
  if (!user) throw new FulfilmentError(`Checkout session ${session.id} names user ${userId}, who does not exist.`);
  const customerId = idOf(session.customer);
  if (customerId && user.stripeCustomerId && user.stripeCustomerId !== customerId) {
    throw new FulfilmentError(
      `User ${user.id} is linked to Stripe customer ${user.stripeCustomerId}, but checkout session ${session.id} used ${customerId}.`,
    );
  }

  const subscription = await subscriptionOf(session);
  if (!subscription) {
    return {
      result: "ignored",
      userId,
      detail: `checkout session ${session.id} has no subscription yet (${session.status}/${session.payment_status})`,
    };
  }
  return applySubscription(tx, subscription, { observedAt, userIdHint: userId, fromCheckout: true });
}

/**
 * Stripe has no subscription at all for the user's customer (support's sync): the subscription the
 * user had is gone, exactly as if its deletion had arrived.
 */
export async function applyNoSubscription(tx: Tx, userId: number, observedAt: Date): Promise<FulfilmentOutcome> {
  const user = await lockBillingUser(tx, { id: userId });
  if (!user) throw new FulfilmentError(`Tierdesk user ${userId} does not exist.`);
  if (!user.stripeSubscriptionId)
    return { result: "ignored", userId, detail: "no subscription in Stripe, none linked here" };
  const plan = planSubscriptionChange({
    user,
    subscription: { id: user.stripeSubscriptionId, status: "canceled" },
    deleted: true,
    fromCheckout: false,
    tier: null,
  });
  if ("ignored" in plan) return { result: "ignored", userId, detail: plan.ignored };
  if (freshness(observedAt, user.subscriptionSyncedAt, { finalInItsSecond: true }) === "stale") {
    return { result: "stale", userId, detail: "a newer state was applied meanwhile" };
  }
  const { change, note } = await reconcileStripeChange(tx, user, plan.change, null);
  await updateBillingUser(tx, user.id, { ...change, subscriptionSyncedAt: observedAt });
  return { result: "applied", userId, detail: note ? `${plan.detail}; ${note}` : plan.detail };
}
