// Applies what Stripe says about a subscription to the Tierdesk user who owns it. Shared by the
// webhook and the checkout success page, and idempotent: applying the same state twice changes nothing.
import type Stripe from "stripe";
import type { Prisma, User } from "~/generated/prisma/client.ts";
import { isUniqueViolation } from "~/models/user.server.ts";
import { prisma } from "~/utils/db.server.ts";
import { subscriptionStatusEffect } from "./rules.ts";
import { BillingDisabledError, getStripe, idOf } from "./stripe.server.ts";

/** A Stripe object that cannot be applied as it is; the message says why, for support. */
export class FulfilmentError extends Error {
  name = "FulfilmentError";
}

/** The metadata key checkout puts on subscriptions, so a subscription event can find its user
 *  even when it arrives before `checkout.session.completed` linked the customer. */
export const USER_ID_METADATA_KEY = "tierdesk_user_id";

export type FulfilmentOutcome =
  | { result: "applied"; userId: number; detail: string }
  | { result: "stale" | "ignored"; userId: number | null; detail: string };

function parseUserId(value: unknown): number | null {
  if (typeof value !== "string" && typeof value !== "number") return null;
  const id = Number(value);
  return Number.isSafeInteger(id) && id > 0 ? id : null;
}

/** The user a subscription belongs to: the one a checkout named, else by Stripe customer, else by metadata. */
async function findSubscriber(customerId: string | null, namedUserId: number | null, metadataUserId: number | null): Promise<User> {
  if (namedUserId) {
    const named = await prisma.user.findUnique({ where: { id: namedUserId } });
    if (named) return named;
    throw new FulfilmentError(`Tierdesk user ${namedUserId} does not exist.`);
  }
  if (customerId) {
    const byCustomer = await prisma.user.findUnique({ where: { stripeCustomerId: customerId } });
    if (byCustomer) return byCustomer;
  }
  if (metadataUserId) {
    const byMetadata = await prisma.user.findUnique({ where: { id: metadataUserId } });
    if (byMetadata) return byMetadata;
  }
  throw new FulfilmentError(
    `No Tierdesk user has Stripe customer ${customerId ?? "(none)"}` +
      (metadataUserId ? ` and no user ${metadataUserId} exists` : "") +
      ": it may belong to another product, or the checkout has not been linked yet.",
  );
}

/**
 * The tier the subscription pays for, from its items' price lookup keys. Items whose keys no tier
 * owns are add-ons and do not count, but at least one item must name a tier, and only one tier.
 */
async function tierForSubscription(subscription: Stripe.Subscription) {
  const items = subscription.items?.data ?? [];
  const keys = items.map((item) => item.price?.lookup_key).filter((key): key is string => Boolean(key));
  if (!keys.length) {
    const priceIds = items.map((item) => item.price?.id).filter(Boolean).join(", ") || "none";
    throw new FulfilmentError(
      `Subscription ${subscription.id} has no price with a lookup_key (prices: ${priceIds}); give the price a lookup key that a tier owns.`,
    );
  }
  const owned = await prisma.subscriptionTierPrice.findMany({ where: { lookupKey: { in: keys } }, include: { tier: true } });
  const tiers = new Map(owned.map((price) => [price.tier.id, price.tier]));
  if (tiers.size === 1) return [...tiers.values()][0]!;
  if (tiers.size > 1) {
    throw new FulfilmentError(
      `Subscription ${subscription.id} has prices of several tiers (${owned.map((p) => `"${p.lookupKey}" → ${p.tier.key}`).join(", ")}); a subscription must pay for one tier.`,
    );
  }
  throw new FulfilmentError(
    `Price lookup key ${keys.map((key) => `"${key}"`).join(", ")} of subscription ${subscription.id} belongs to no tier; add it to a tier in the admin.`,
  );
}

// The users table keeps Stripe ids in VARCHAR(64); real ids are far shorter.
const STRIPE_ID_MAX = 64;
function checkStripeId(id: string | null, what: string) {
  if (id && id.length > STRIPE_ID_MAX) {
    throw new FulfilmentError(`Stripe ${what} id ${id.slice(0, 24)}… is longer than ${STRIPE_ID_MAX} characters.`);
  }
}

type UserChange = Partial<Pick<User, "tierId" | "stripeSubscriptionId" | "subscriptionStatus">>;

/** What applying the subscription would change, decided before anything is written. */
async function planChange(
  user: User,
  subscription: Stripe.Subscription,
  { deleted, fromCheckout }: { deleted: boolean; fromCheckout: boolean },
): Promise<{ data: UserChange; detail: string } | { ignored: string }> {
  const effect = deleted ? "revoke" : subscriptionStatusEffect(subscription.status);
  if (effect === "grant") {
    const tier = await tierForSubscription(subscription);
    return {
      data: { tierId: tier.id, stripeSubscriptionId: subscription.id, subscriptionStatus: subscription.status },
      detail: `user ${user.id} → ${tier.key} (${subscription.status})`,
    };
  }
  const otherCurrent = user.stripeSubscriptionId !== null && user.stripeSubscriptionId !== subscription.id;
  if (effect === "no_change") {
    // A completed checkout still links the new subscription, so its state can be looked up.
    if (fromCheckout && !otherCurrent) {
      return { data: { stripeSubscriptionId: subscription.id }, detail: `user ${user.id}: subscription ${subscription.id} linked, ${subscription.status}` };
    }
    return { ignored: `subscription ${subscription.id} is ${subscription.status}: nothing changes until its first payment succeeds` };
  }
  if (otherCurrent) {
    // An old subscription ending must not take away the one the user has now.
    return { ignored: `subscription ${subscription.id} is not user ${user.id}'s current subscription (${user.stripeSubscriptionId})` };
  }
  return {
    data: {
      tierId: null,
      subscriptionStatus: deleted ? "canceled" : subscription.status,
      // A deleted subscription is gone; an unpaid or paused one still exists and can be fixed in the portal.
      stripeSubscriptionId: deleted ? null : subscription.id,
    },
    detail: `user ${user.id} → free (${deleted ? "deleted" : subscription.status})`,
  };
}

/** Writes the change only if no newer state was applied (or, with `orEqual`, none newer than this second). */
async function updateIfNotOlder(userId: number, data: Prisma.UserUpdateManyMutationInput, observedAt: Date, orEqual: boolean) {
  try {
    const { count } = await prisma.user.updateMany({
      where: {
        id: userId,
        OR: [{ subscriptionSyncedAt: null }, { subscriptionSyncedAt: orEqual ? { lte: observedAt } : { lt: observedAt } }],
      },
      data: { ...data, subscriptionSyncedAt: observedAt },
    });
    return count === 1;
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new FulfilmentError(`Stripe customer ${String(data.stripeCustomerId)} is already linked to another Tierdesk user.`);
    }
    throw error;
  }
}

/** The subscription as Stripe has it now, or null when this Stripe does not know it (or billing is off). */
async function currentSubscription(id: string): Promise<Stripe.Subscription | null> {
  try {
    return await getStripe().subscriptions.retrieve(id);
  } catch (error) {
    if (error instanceof BillingDisabledError) return null;
    if ((error as { code?: string }).code === "resource_missing") return null;
    throw error; // Stripe unreachable: fail the event so it is retried.
  }
}

/** Whether a deletion of this subscription, stamped with this very second, was applied. */
async function wasDeletedAt(subscriptionId: string, observedAt: Date) {
  const deletions = await prisma.stripeEvent.findMany({
    where: { eventType: "customer.subscription.deleted", eventCreatedAt: observedAt, status: "processed" },
    select: { payload: true },
  });
  return deletions.some(({ payload }) => {
    try {
      return (JSON.parse(payload) as { data?: { object?: { id?: unknown } } }).data?.object?.id === subscriptionId;
    } catch {
      return payload.includes(`"id": "${subscriptionId}"`); // stored truncated: the object id comes early
    }
  });
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
  /** Set once a same-second tie has been resolved by asking Stripe. */
  tieResolved?: boolean;
};

/**
 * Applies a subscription's state as Stripe reported it at `observedAt`. All of the user's changes
 * are written at once and only if nothing newer was applied: an older event is stale and changes
 * nothing. Nothing is written when the event fails (e.g. a lookup key no tier owns).
 */
export async function applySubscription(subscription: Stripe.Subscription, options: ApplyOptions): Promise<FulfilmentOutcome> {
  const { observedAt, deleted = false, userIdHint = null, fromCheckout = false, tieResolved = false } = options;
  const customerId = idOf(subscription.customer);
  checkStripeId(customerId, "customer");
  checkStripeId(subscription.id, "subscription");
  const user = await findSubscriber(customerId, userIdHint, parseUserId(subscription.metadata?.[USER_ID_METADATA_KEY]));
  if (customerId && user.stripeCustomerId && user.stripeCustomerId !== customerId && !fromCheckout) {
    throw new FulfilmentError(`User ${user.id} is linked to Stripe customer ${user.stripeCustomerId}, not ${customerId}.`);
  }

  const plan = await planChange(user, subscription, { deleted, fromCheckout });
  if ("ignored" in plan) return { result: "ignored", userId: user.id, detail: plan.ignored };
  const data = { ...plan.data, ...(customerId ? { stripeCustomerId: customerId } : {}) };

  // A deletion is final, so it also wins a tie within its second.
  if (await updateIfNotOlder(user.id, data, observedAt, deleted || tieResolved)) {
    return { result: "applied", userId: user.id, detail: plan.detail };
  }
  const syncedAt = (await prisma.user.findUnique({ where: { id: user.id }, select: { subscriptionSyncedAt: true } }))?.subscriptionSyncedAt;
  if (tieResolved || syncedAt?.getTime() !== observedAt.getTime()) {
    return { result: "stale", userId: user.id, detail: `older (${observedAt.toISOString()}) than the state already applied to user ${user.id}` };
  }
  // Another event of the same second was applied first. `created` has one-second resolution and
  // deliveries are unordered, so Stripe's current state of the subscription decides.
  const current = await currentSubscription(subscription.id);
  if (!current && !deleted && (await wasDeletedAt(subscription.id, observedAt))) {
    // Stripe cannot be asked, but this subscription ended in this very second: ended stays ended.
    return { result: "stale", userId: user.id, detail: `subscription ${subscription.id} was deleted in the same second` };
  }
  const latest = current ?? subscription;
  return applySubscription(latest, {
    ...options,
    deleted: deleted || latest.status === "canceled" || latest.status === "incomplete_expired",
    tieResolved: true,
  });
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
  session: Stripe.Checkout.Session,
  { observedAt }: { observedAt: Date },
): Promise<FulfilmentOutcome> {
  if (session.mode !== "subscription") {
    return { result: "ignored", userId: null, detail: `checkout session ${session.id} is in ${session.mode} mode, not subscription` };
  }
  const userId = parseUserId(session.client_reference_id) ?? parseUserId(session.metadata?.[USER_ID_METADATA_KEY]);
  if (!userId) throw new FulfilmentError(`Checkout session ${session.id} has no client_reference_id naming a Tierdesk user.`);
  const user = await prisma.user.findUnique({ where: { id: userId } });
  if (!user) throw new FulfilmentError(`Checkout session ${session.id} names user ${userId}, who does not exist.`);
  const customerId = idOf(session.customer);
  if (customerId && user.stripeCustomerId && user.stripeCustomerId !== customerId) {
    throw new FulfilmentError(`User ${user.id} is linked to Stripe customer ${user.stripeCustomerId}, but checkout session ${session.id} used ${customerId}.`);
  }

  const subscription = await subscriptionOf(session);
  if (!subscription) {
    return { result: "ignored", userId, detail: `checkout session ${session.id} has no subscription yet (${session.status}/${session.payment_status})` };
  }
  return applySubscription(subscription, { observedAt, userIdHint: userId, fromCheckout: true });
}
