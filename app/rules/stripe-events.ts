// A Stripe event: which user it belongs to, whether it is newer, stale or a same-second tie with the
// state already applied, and what its type means.
// Pure functions of plain values: no database, no Stripe, no clock (docs/decisions/004).
import { isEndedSubscriptionStatus } from "./stripe-subscriptions.ts";

/** The metadata key checkout puts on subscriptions, so a subscription event can find its user
 *  even when it arrives before `checkout.session.completed` linked the customer. */
export const USER_ID_METADATA_KEY = "tierdesk_user_id";

// ---------------------------------------------------------------------------------------------
// Tiers

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
const STRIPE_ID_MAX = 64;

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
