// A Stripe event: which account it belongs to, whether it is newer, stale or a same-second tie with the
// state already applied, and what its type means.
// Pure functions of plain values: no database, no Stripe, no clock (docs/decisions/004).
import { isEndedSubscriptionStatus } from "./stripe-subscriptions.ts";

/** The metadata key checkout puts on the customer, the session and the subscription, so an event finds
 *  its account even when it arrives before `checkout.session.completed` linked the customer. */
export const ACCOUNT_ID_METADATA_KEY = "tierdesk_account_id";

/** What checkouts started before accounts (issue 19) put there instead: the buyer's user id, whose
 *  personal account took over their billing. */
const LEGACY_USER_ID_METADATA_KEY = "tierdesk_user_id";

// ---------------------------------------------------------------------------------------------
// Tiers

/** A Tierdesk id (account, or a legacy user) from Stripe metadata or `client_reference_id`, or null. */
export function parseTierdeskId(value: unknown): number | null {
  if (typeof value !== "string" && typeof value !== "number") return null;
  if (typeof value === "string" && !/^\d{1,15}$/.test(value.trim())) return null;
  const id = Number(value);
  return Number.isSafeInteger(id) && id > 0 ? id : null;
}

/** Which account a checkout session or subscription names: by account id, or (before accounts) by user. */
export type NamedAccount = { accountId: number } | { legacyUserId: number } | null;

/**
 * The account named by a Stripe object's metadata, else by a checkout's `client_reference_id` (which
 * names the account since accounts exist; a legacy checkout also carried the user id in its metadata).
 */
export function namedAccount(
  metadata: Record<string, unknown> | null | undefined,
  clientReferenceId?: string | null,
): NamedAccount {
  const accountId = parseTierdeskId(metadata?.[ACCOUNT_ID_METADATA_KEY]);
  if (accountId) return { accountId };
  const legacyUserId = parseTierdeskId(metadata?.[LEGACY_USER_ID_METADATA_KEY]);
  if (legacyUserId) return { legacyUserId };
  const referenced = parseTierdeskId(clientReferenceId);
  return referenced ? { accountId: referenced } : null;
}

/** The account `named` names, in words: "account 7", or "user 3's account". */
export function describeNamedAccount(named: NonNullable<NamedAccount>): string {
  return "accountId" in named ? `account ${named.accountId}` : `user ${named.legacyUserId}'s account`;
}

/**
 * Why a subscription of `customerId` cannot be applied to an account linked to another Stripe customer,
 * or null when it can. A completed checkout may link a new customer; any other event may not.
 */
export function customerConflict(
  account: { id: number; stripeCustomerId: string | null },
  customerId: string | null,
  { fromCheckout }: { fromCheckout: boolean },
): string | null {
  if (!customerId || !account.stripeCustomerId || account.stripeCustomerId === customerId || fromCheckout) return null;
  return `Account ${account.id} is linked to Stripe customer ${account.stripeCustomerId}, not ${customerId}.`;
}

// The accounts table keeps Stripe ids in VARCHAR(64); real ids are far shorter.
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
