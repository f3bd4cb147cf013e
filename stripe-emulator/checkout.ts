// Checkout Sessions (subscription mode) and what paying on the hosted page does: Stripe's whole
// sequence of objects and events, from the customer to the completed session.
import type { Account } from "./account.ts";
import { invalid, missingParam, noSuch } from "./errors.ts";
import { draftOf } from "./invoices.ts";
import { newId, previousAttributes, snapshot, token } from "./objects.ts";
import { buildCharge, buildInvoicePayment, buildPaymentIntent } from "./payments.ts";
import { buildItem, buildSubscription } from "./subscription-objects.ts";
import type { CheckoutLineItem, CheckoutSession, EventRecord, Metadata, PaymentIntent, Price } from "./types.ts";

/** How long a checkout's payment takes, from the customer's click to the completed session (seconds). */
const CHECKOUT_PAYMENT_SECONDS = 4;

export interface CheckoutInput {
  lineItems: Array<{ price: Price; quantity: number }>;
  successUrl: string;
  cancelUrl: string | null;
  customer: string | null;
  customerEmail: string | null;
  clientReferenceId: string | null;
  allowPromotionCodes: boolean | null;
  metadata: Metadata;
  subscriptionMetadata: Metadata;
}

export interface CheckoutRecord {
  session: CheckoutSession;
  lineItems: CheckoutLineItem[];
  /** `subscription_data[metadata]`: not on the session, applied to the subscription it creates. */
  subscriptionMetadata: Metadata;
}

export class CheckoutSessions {
  private readonly byId = new Map<string, CheckoutRecord>();

  constructor(private readonly account: Account) {}

  get(id: string): CheckoutRecord | undefined {
    return this.byId.get(id);
  }

  create(input: CheckoutInput, hostedUrl: (id: string) => string): CheckoutSession {
    const id = `cs_test_a1${token(56)}`;
    const lineItems = input.lineItems.map(({ price, quantity }): CheckoutLineItem => {
      const amount = (price.unit_amount ?? 0) * quantity;
      return {
        id: newId("li"),
        object: "item",
        adjustable_quantity: null,
        amount_discount: 0,
        amount_subtotal: amount,
        amount_tax: 0,
        amount_total: amount,
        currency: price.currency,
        description: this.account.catalog.products.get(price.product)?.name ?? null,
        metadata: {},
        price: snapshot(price),
        quantity,
      };
    });
    const total = lineItems.reduce((sum, li) => sum + li.amount_total, 0);
    const created = this.account.now();
    const session: CheckoutSession = {
      id,
      object: "checkout.session",
      adaptive_pricing: null,
      after_expiration: null,
      allow_promotion_codes: input.allowPromotionCodes,
      allowed_payment_method_types: null,
      amount_subtotal: total,
      amount_total: total,
      automatic_tax: { enabled: false, liability: null, provider: null, status: null },
      billing_address_collection: null,
      cancel_url: input.cancelUrl,
      client_reference_id: input.clientReferenceId,
      client_secret: null,
      collected_information: null,
      consent: null,
      consent_collection: null,
      created,
      currency: lineItems[0]?.currency ?? null,
      currency_conversion: null,
      custom_fields: [],
      custom_text: { after_submit: null, shipping_address: null, submit: null, terms_of_service_acceptance: null },
      customer: input.customer,
      customer_account: null,
      // Subscription-mode sessions always end with a customer, so Stripe leaves this null.
      customer_creation: null,
      customer_details: null,
      customer_email: input.customerEmail,
      discounts: [],
      expires_at: created + 24 * 3600,
      integration_identifier: null,
      invoice: null,
      invoice_creation: null,
      livemode: false,
      locale: null,
      managed_payments: null,
      metadata: input.metadata,
      mode: "subscription",
      origin_context: null,
      payment_intent: null,
      payment_link: null,
      payment_method_collection: "always",
      payment_method_configuration_details: null,
      payment_method_options: {},
      payment_method_types: ["card"],
      payment_status: "unpaid",
      permissions: null,
      phone_number_collection: { enabled: false },
      recovered_from: null,
      saved_payment_method_options: null,
      setup_intent: null,
      shipping_address_collection: null,
      shipping_cost: null,
      shipping_options: [],
      status: "open",
      submit_type: null,
      subscription: null,
      success_url: input.successUrl,
      total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 0 },
      ui_mode: "hosted_page",
      url: hostedUrl(id),
      wallet_options: null,
    };
    this.byId.set(id, { session, lineItems, subscriptionMetadata: input.subscriptionMetadata });
    this.account.changed();
    return session;
  }

  /** The email the hosted checkout page will charge, if already known. */
  email(session: CheckoutSession): string | null {
    if (session.customer) return this.account.customers.get(session.customer)?.email ?? null;
    return session.customer_email;
  }

  /**
   * What pressing "Pay" on the hosted checkout page does, with a card that pays at once, in the
   * steps Stripe takes (docs.stripe.com/billing/subscriptions/webhooks): the customer (when new), the
   * subscription `incomplete` with its first invoice, the invoice finalized, the payment intent and
   * its charge succeeding, the invoice paid, the subscription `active`, the session complete. Each
   * event carries its object as it was at that step, and the steps are dated a second or so apart,
   * ending now (never before an earlier event about the same customer).
   */
  complete(sessionId: string, opts: { email?: string | null } = {}) {
    const record = this.byId.get(sessionId);
    if (!record) throw noSuch("checkout.session", sessionId);
    const { session } = record;
    if (session.status !== "open") {
      throw invalid(undefined, `This Checkout Session is ${session.status}.`, "checkout_session_not_open");
    }
    const existing = session.customer ? this.account.customers.get(session.customer) : undefined;
    const email = existing ? null : (session.customer_email ?? opts.email?.trim() ?? null);
    if (!existing && !email) throw missingParam("email");

    const end = this.account.now();
    const start = Math.max(end - CHECKOUT_PAYMENT_SECONDS, existing ? this.account.events.lastAbout(existing.id) : 0);
    const second = (step: number) => Math.min(end, start + step);
    const events: EventRecord[] = [];
    const emit = (type: string, object: object, previousAttributes?: Record<string, unknown>) =>
      events.push(this.account.events.create(type, object, { previousAttributes }));

    const { customer, subscription, invoice } = this.account.at(second(0), () => {
      const customer = existing ?? this.account.customers.create({ email });
      customer.currency ??= session.currency;
      if (!existing) emit("customer.created", customer);
      const subscriptionId = newId("sub");
      const now = this.account.now();
      const items = record.lineItems.map((li) => buildItem(subscriptionId, li.price, li.quantity ?? 1, now));
      const subscription = buildSubscription(subscriptionId, customer, items, { ...record.subscriptionMetadata }, now);
      // Until its first invoice is paid (Stripe: `incomplete`, which grants nothing yet).
      subscription.status = "incomplete";
      this.account.subscriptions.add(subscription);
      const invoice = this.account.invoices.issue(subscription, "subscription_create", false, { start: now, end: now });
      emit("customer.subscription.created", subscription);
      emit("invoice.created", draftOf(invoice));
      return { customer, subscription, invoice };
    });

    const paymentIntent = this.account.at(second(1), () => {
      emit("invoice.finalized", invoice);
      const paymentIntent = buildPaymentIntent(invoice, this.account.now());
      emit("payment_intent.created", paymentIntent);
      return paymentIntent;
    });

    this.account.at(second(2), () => {
      const charge = buildCharge(paymentIntent, this.account.now(), customer.email ?? null);
      Object.assign(paymentIntent, {
        status: "succeeded",
        amount_received: paymentIntent.amount,
        latest_charge: charge.id,
        payment_method: charge.payment_method,
      } satisfies Partial<PaymentIntent>);
      emit("charge.succeeded", charge);
      emit("payment_intent.succeeded", paymentIntent);
      emit("invoice_payment.paid", buildInvoicePayment(invoice, paymentIntent, this.account.now()));
    });

    this.account.at(second(3), () => {
      this.account.invoices.pay(invoice);
      emit("invoice.paid", invoice);
      emit("invoice.payment_succeeded", invoice);
      const before = snapshot(subscription);
      subscription.status = "active";
      emit("customer.subscription.updated", subscription, previousAttributes(before, subscription));
    });

    this.account.at(second(4), () => {
      Object.assign(session, {
        status: "complete",
        payment_status: "paid",
        customer: customer.id,
        customer_details: {
          address: null,
          business_name: null,
          email: customer.email ?? null,
          individual_name: null,
          name: customer.name ?? null,
          phone: null,
          tax_exempt: "none",
          tax_ids: [],
        },
        subscription: subscription.id,
        invoice: invoice.id,
        url: null, // Stripe clears it once the session can no longer be visited.
      } satisfies Partial<CheckoutSession>);
      emit("checkout.session.completed", session);
    });
    return { session, subscription, invoice, events };
  }

  /** Sessions newest first, as `GET /v1/checkout/sessions` lists them (by customer and status). */
  list(filter: { customer?: string; status?: string }): CheckoutSession[] {
    return [...this.byId.values()]
      .map((record) => record.session)
      .filter(
        (session) =>
          (filter.customer === undefined || session.customer === filter.customer) &&
          (filter.status === undefined || session.status === filter.status),
      )
      .sort((a, b) => b.created - a.created);
  }

  /**
   * `POST /v1/checkout/sessions/:id/expire`: an open session can no longer be paid (its page says
   * so); Stripe sends `checkout.session.expired`. Only open sessions can be expired.
   */
  expire(id: string) {
    const record = this.byId.get(id);
    if (!record) throw noSuch("checkout.session", id);
    const { session } = record;
    if (session.status !== "open") {
      throw invalid(undefined, `You can only expire Checkout Sessions that are open. This one is ${session.status}.`);
    }
    Object.assign(session, { status: "expired", url: null } satisfies Partial<CheckoutSession>);
    const events = [this.account.events.create("checkout.session.expired", session)];
    this.account.changed();
    return { session, events };
  }

  /** What a state file keeps. */
  all(): CheckoutRecord[] {
    return [...this.byId.values()];
  }

  restore(records: CheckoutRecord[]): void {
    for (const record of records) this.byId.set(record.session.id, record);
  }

  clear(): void {
    this.byId.clear();
  }
}
