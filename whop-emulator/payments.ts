// Payments: a membership's first payment, renewals, and failed renewals (no fees, disputes or refunds).
import type { Account } from "./account.ts";
import { copy, newId, productRoute } from "./objects.ts";
import type { Membership, Payment } from "./types.ts";

export class Payments {
  private readonly byId = new Map<string, Payment>();

  constructor(private readonly account: Account) {}

  create(membership: Membership, reason: Payment["billing_reason"], succeeded: boolean): Payment {
    const plan = this.account.catalog.plans.get(membership.plan.id);
    const at = this.account.stamp();
    const amount = reason === "subscription_create" ? (plan?.initial_price ?? 0) : (plan?.renewal_price ?? 0);
    const payment: Payment = {
      id: newId("pay"),
      status: succeeded ? "paid" : "open",
      substatus: succeeded ? "succeeded" : "failed",
      billing_reason: reason,
      created_at: at,
      updated_at: at,
      paid_at: succeeded ? at : null,
      currency: membership.currency,
      subtotal: amount,
      total: amount,
      usd_total: amount, // the catalogue's prices are in USD
      amount_after_fees: succeeded ? amount : 0,
      settlement_amount: succeeded ? amount : 0,
      settlement_currency: membership.currency,
      settlement_exchange_rate: null,
      failure_message: succeeded ? null : "Your card was declined (emulated).",
      checkout_configuration_id: membership.checkout_configuration_id,
      company: { ...this.account.company },
      member: { id: membership.member.id, phone: null },
      membership: { id: membership.id, phone_number: null, status: membership.status },
      metadata: copy(membership.metadata),
      plan: { id: membership.plan.id, internal_notes: null, metadata: null },
      product: {
        id: membership.product.id,
        title: membership.product.title,
        route: productRoute(membership.product.id),
        metadata: null,
      },
      user: copy(membership.user),
      application_fee: null,
      auto_refunded: false,
      billing_address: null,
      card_brand: null,
      card_last4: null,
      dispute_alerted_at: null,
      disputes: [],
      financing_installments_count: null,
      financing_transactions: [],
      last_payment_attempt: at,
      next_payment_attempt: null,
      payment_method: null,
      payment_method_type: null,
      payments_failed: succeeded ? 0 : 1,
      promo_code: null,
      refundable: succeeded,
      refunded_amount: null,
      refunded_at: null,
      refunds: [],
      resolutions: [],
      retryable: !succeeded,
      risk_score: null,
      risk_signals: null,
      shipping_address: null,
      tax_amount: null,
      tax_behavior: null,
      tax_refunded_amount: null,
      three_ds_verified: false,
      voidable: false,
    };
    this.byId.set(payment.id, payment);
    return payment;
  }

  clear(): void {
    this.byId.clear();
  }
}
