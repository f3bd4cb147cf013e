// A Stripe customer that no longer exists (deleted in Stripe's dashboard, or a Stripe double that
// forgot it) is unlinked from its Tierdesk account: customer, subscription and status cleared, the
// tier back to free unless something else grants it (an exempt tier, a Whop membership). Support
// finds why in the audit log ("stripe customer unlinked"), and the account's owners can check out again.
// Triggers: a `customer.deleted` webhook, or `resource_missing` on the customer when opening the
// portal or starting a checkout.
import { announceAccountChange } from "~/services/webhooks/outbox.server.ts";
import Stripe from "stripe";
import { type AuditActor, recordAudit } from "~/models/audit.server.ts";
import { inTransaction, type Tx } from "~/models/transaction.server.ts";
import { lockAccountByStripeCustomer, updateBillingAccount } from "~/models/billing-account.server.ts";
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
 * Unlinks `customerId` from whichever account has it, in `tx`, with an audit entry naming `reason`.
 * Ignored when no account has that customer (already unlinked, or it belongs to another product).
 */
async function unlinkStripeCustomer(
  tx: Tx,
  customerId: string,
  { reason, observedAt, actor = STRIPE_ACTOR }: { reason: string; observedAt: Date; actor?: AuditActor },
): Promise<FulfilmentOutcome> {
  const account = await lockAccountByStripeCustomer(tx, customerId);
  if (!account)
    return { result: "ignored", accountId: null, detail: `no Tierdesk account has Stripe customer ${customerId}` };
  // Without Stripe's subscription, is the stored tier still granted by something else?
  const keepsTier = tierIsInForce({ ...account, subscriptionStatus: null });
  // A deletion is final: it never moves the account's last applied state back in time.
  const syncedAt =
    account.subscriptionSyncedAt && account.subscriptionSyncedAt > observedAt
      ? account.subscriptionSyncedAt
      : observedAt;
  await updateBillingAccount(tx, account.id, {
    stripeCustomerId: null,
    stripeSubscriptionId: null,
    subscriptionStatus: null,
    tierId: keepsTier ? account.tierId : null,
    subscriptionSyncedAt: syncedAt,
  });
  await recordAudit(tx, {
    actor,
    action: "stripe customer unlinked",
    entity: "account",
    entityId: account.id,
    entityLabel: account.name,
    before: {
      stripeCustomerId: account.stripeCustomerId,
      stripeSubscriptionId: account.stripeSubscriptionId,
      subscriptionStatus: account.subscriptionStatus,
      tier: account.tier?.key ?? null,
    },
    after: {
      stripeCustomerId: null,
      stripeSubscriptionId: null,
      subscriptionStatus: null,
      tier: keepsTier ? (account.tier?.key ?? null) : null,
      reason,
    },
  });
  await announceAccountChange(tx, [account.id], "account.entitlements.updated");
  logger.info({ accountId: account.id, customerId, reason }, "Stripe customer unlinked");
  return {
    result: "applied",
    accountId: account.id,
    detail: `account ${account.id}: Stripe customer ${customerId} unlinked (${reason})`,
  };
}

/** A `customer.deleted` webhook. */
export function applyCustomerDeleted(tx: Tx, customer: { id: string }, { observedAt }: { observedAt: Date }) {
  return unlinkStripeCustomer(tx, customer.id, { reason: "customer.deleted webhook", observedAt });
}

/** Stripe answered `resource_missing` for the customer the account is linked to: unlink it now. */
export function unlinkMissingCustomer(customerId: string, action: string) {
  // Stripe's event times have whole seconds: an event of this very second (the checkout the owner
  // starts next) must tie with the unlink and be settled by asking Stripe, not be taken as older.
  const observedAt = new Date(Math.floor(Date.now() / 1000) * 1000);
  return inTransaction((tx) =>
    unlinkStripeCustomer(tx, customerId, { reason: `Stripe answered "No such customer" when ${action}`, observedAt }),
  );
}

/**
 * Unlinks `customerId` after asking Stripe that it is gone (deleted, or unknown to it): whole-account
 * reconciliation's "linked customer deleted in Stripe", audited as `actor`. Null when Stripe still has it.
 */
export async function unlinkGoneCustomer(
  customerId: string,
  { actor, reason }: { actor: AuditActor; reason: string },
): Promise<FulfilmentOutcome | null> {
  if (!(await isCustomerGone(customerId))) return null;
  const observedAt = new Date(Math.floor(Date.now() / 1000) * 1000);
  return inTransaction((tx) => unlinkStripeCustomer(tx, customerId, { reason, observedAt, actor }));
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
