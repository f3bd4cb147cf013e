// Applies what Stripe says about a subscription to the Tierdesk user who owns it. Shared by the
// webhook and the checkout success page, and idempotent: applying the same state twice changes nothing.
import type Stripe from "stripe";
import type { User } from "~/generated/prisma/client.ts";
import { isUniqueViolation } from "~/models/user.server.ts";
import { prisma } from "~/utils/db.server.ts";
import { subscriptionStatusEffect } from "./rules.ts";
import { getStripe, idOf } from "./stripe.server.ts";

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

async function findSubscriber(customerId: string | null, metadataUserId: number | null): Promise<User> {
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

/** The tier the subscription pays for, from its items' price lookup keys. */
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
  // The first item whose key a tier owns decides (subscriptions normally have one item).
  for (const key of keys) {
    const match = owned.find((price) => price.lookupKey === key);
    if (match) return match.tier;
  }
  throw new FulfilmentError(
    `Price lookup key ${keys.map((key) => `"${key}"`).join(", ")} of subscription ${subscription.id} belongs to no tier; add it to a tier in the admin.`,
  );
}

/** Links a Stripe customer to the user (a fact, applied whatever the event's age). */
async function linkCustomer(user: User, customerId: string | null) {
  if (!customerId || user.stripeCustomerId === customerId) return user;
  try {
    return await prisma.user.update({ where: { id: user.id }, data: { stripeCustomerId: customerId } });
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new FulfilmentError(`Stripe customer ${customerId} is already linked to another Tierdesk user.`);
    }
    throw error;
  }
}

/**
 * Applies a subscription's state as Stripe reported it at `observedAt` (the event's `created`).
 * Anything older than the state already applied is stale and changes nothing.
 */
export async function applySubscription(
  subscription: Stripe.Subscription,
  { observedAt, deleted = false, userIdHint = null }: { observedAt: Date; deleted?: boolean; userIdHint?: number | null },
): Promise<FulfilmentOutcome> {
  const customerId = idOf(subscription.customer);
  const metadataUserId = userIdHint ?? parseUserId(subscription.metadata?.[USER_ID_METADATA_KEY]);
  const user = await linkCustomer(await findSubscriber(customerId, metadataUserId), customerId);

  const effect = deleted ? "revoke" : subscriptionStatusEffect(subscription.status);
  const otherCurrent = user.stripeSubscriptionId !== null && user.stripeSubscriptionId !== subscription.id;
  let data: Partial<Pick<User, "tierId" | "stripeSubscriptionId" | "subscriptionStatus">>;
  let detail: string;
  if (effect === "grant") {
    const tier = await tierForSubscription(subscription);
    data = { tierId: tier.id, stripeSubscriptionId: subscription.id, subscriptionStatus: subscription.status };
    detail = `user ${user.id} → ${tier.key} (${subscription.status})`;
  } else if (effect === "no_change") {
    return { result: "ignored", userId: user.id, detail: `subscription ${subscription.id} is ${subscription.status}: nothing changes until its first payment succeeds` };
  } else {
    if (otherCurrent) {
      // An old subscription ending must not take away the one the user has now.
      return { result: "ignored", userId: user.id, detail: `subscription ${subscription.id} is not user ${user.id}'s current subscription (${user.stripeSubscriptionId})` };
    }
    data = {
      tierId: null,
      subscriptionStatus: deleted ? "canceled" : subscription.status,
      // A deleted subscription is gone; an unpaid or paused one still exists and can be fixed in the portal.
      stripeSubscriptionId: deleted ? null : subscription.id,
    };
    detail = `user ${user.id} → free (${deleted ? "deleted" : subscription.status})`;
  }

  // Newer-or-equal state wins. Within the same second, nothing but another deletion overrides a
  // deletion: Stripe's `created` has one-second resolution and an ended subscription stays ended.
  const sameSecond = deleted
    ? { subscriptionSyncedAt: observedAt }
    : { subscriptionSyncedAt: observedAt, NOT: { subscriptionStatus: "canceled", stripeSubscriptionId: null } };
  const { count } = await prisma.user.updateMany({
    where: { id: user.id, OR: [{ subscriptionSyncedAt: null }, { subscriptionSyncedAt: { lt: observedAt } }, sameSecond] },
    data: { ...data, subscriptionSyncedAt: observedAt },
  });
  if (count === 0) {
    return { result: "stale", userId: user.id, detail: `older (${observedAt.toISOString()}) than the state already applied to user ${user.id}` };
  }
  return { result: "applied", userId: user.id, detail };
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
  await linkCustomer(user, idOf(session.customer));

  const subscription = await subscriptionOf(session);
  if (!subscription) {
    return { result: "ignored", userId, detail: `checkout session ${session.id} has no subscription yet (${session.status}/${session.payment_status})` };
  }
  return applySubscription(subscription, { observedAt, userIdHint: userId });
}
