// A Stripe customer that no longer exists (deleted in Stripe's dashboard, or a Stripe double that
// forgot it) is unlinked from its Tierdesk user: customer, subscription and status cleared, the
// tier back to free unless something else grants it (an exempt tier, a Whop membership). Support
// finds why in the audit log ("stripe customer unlinked"), and the user can check out again.
// Triggers: a `customer.deleted` webhook, or `resource_missing` on the customer when opening the
// portal or starting a checkout.
import Stripe from "stripe";
import { recordAudit } from "~/models/audit.server.ts";
import { inTransaction, type Tx } from "~/models/transaction.server.ts";
import { lockUserByStripeCustomer, updateBillingUser } from "~/models/user.server.ts";
import { logger } from "~/utils/logger.server.ts";
import type { FulfilmentOutcome } from "~/services/billing/outcomes.ts";
import { tierIsInForce } from "~/rules/paid-tier.ts";
import { getStripe } from "./client.server.ts";

/** The audit log's actor for changes Stripe caused (no Tierdesk person made them). */
const STRIPE_ACTOR = { id: null, email: "stripe" } as const;

/** Whether a Stripe error says the customer (named by `param`, or the URL's id) does not exist. */
export function isMissingCustomerError(error: unknown): boolean {
  return (
    error instanceof Stripe.errors.StripeInvalidRequestError &&
    error.code === "resource_missing" &&
    (error.param === "customer" || /^No such customer\b/.test(error.message))
  );
}

/**
 * Unlinks `customerId` from whichever user has it, in `tx`, with an audit entry naming `reason`.
 * Ignored when no user has that customer (already unlinked, or it belongs to another product).
 */
async function unlinkStripeCustomer(
  tx: Tx,
  customerId: string,
  { reason, observedAt }: { reason: string; observedAt: Date },
): Promise<FulfilmentOutcome> {
  const user = await lockUserByStripeCustomer(tx, customerId);
  if (!user) return { result: "ignored", userId: null, detail: `no Tierdesk user has Stripe customer ${customerId}` };
  // Without Stripe's subscription, is the stored tier still granted by something else?
  const keepsTier = tierIsInForce({ ...user, subscriptionStatus: null });
  // A deletion is final: it never moves the user's last applied state back in time.
  const syncedAt =
    user.subscriptionSyncedAt && user.subscriptionSyncedAt > observedAt ? user.subscriptionSyncedAt : observedAt;
  await updateBillingUser(tx, user.id, {
    stripeCustomerId: null,
    stripeSubscriptionId: null,
    subscriptionStatus: null,
    tierId: keepsTier ? user.tierId : null,
    subscriptionSyncedAt: syncedAt,
  });
  await recordAudit(tx, {
    actor: STRIPE_ACTOR,
    action: "stripe customer unlinked",
    entity: "user",
    entityId: user.id,
    entityLabel: user.email,
    before: {
      stripeCustomerId: user.stripeCustomerId,
      stripeSubscriptionId: user.stripeSubscriptionId,
      subscriptionStatus: user.subscriptionStatus,
      tier: user.tier?.key ?? null,
    },
    after: {
      stripeCustomerId: null,
      stripeSubscriptionId: null,
      subscriptionStatus: null,
      tier: keepsTier ? (user.tier?.key ?? null) : null,
      reason,
    },
  });
  logger.info({ userId: user.id, customerId, reason }, "Stripe customer unlinked");
  return {
    result: "applied",
    userId: user.id,
    detail: `user ${user.id}: Stripe customer ${customerId} unlinked (${reason})`,
  };
}

/** A `customer.deleted` webhook. */
export function applyCustomerDeleted(tx: Tx, customer: { id: string }, { observedAt }: { observedAt: Date }) {
  return unlinkStripeCustomer(tx, customer.id, { reason: "customer.deleted webhook", observedAt });
}

/** Stripe answered `resource_missing` for the customer the user is linked to: unlink it now. */
export function unlinkMissingCustomer(customerId: string, action: string) {
  // Stripe's event times have whole seconds: an event of this very second (the checkout the user
  // starts next) must tie with the unlink and be settled by asking Stripe, not be taken as older.
  const observedAt = new Date(Math.floor(Date.now() / 1000) * 1000);
  return inTransaction((tx) =>
    unlinkStripeCustomer(tx, customerId, { reason: `Stripe answered "No such customer" when ${action}`, observedAt }),
  );
}

/**
 * Whether the customer is gone from Stripe (deleted, or unknown to it). Any other failure (Stripe
 * unreachable) answers false: only Stripe saying so unlinks anyone.
 */
export async function isCustomerGone(customerId: string): Promise<boolean> {
  try {
    const customer = await getStripe().customers.retrieve(customerId);
    return "deleted" in customer && customer.deleted === true;
  } catch (error) {
    return isMissingCustomerError(error);
  }
}
