// The emulator's in-memory Stripe account: the catalogue, customers, sessions, subscriptions and
// events, and the billing operations that change them. Operations return the events they created;
// callers decide whether to wait for their delivery.
import { randomBytes } from "node:crypto";
import Stripe from "stripe";
import catalogJson from "./catalog.json" with { type: "json" };
import { invalid, missingParam, noSuch } from "./errors.ts";
import type {
  CheckoutLineItem,
  Charge,
  CheckoutSession,
  Customer,
  DeletedCustomer,
  EmulatorEvent,
  EventRecord,
  Invoice,
  InvoiceLine,
  InvoicePayment,
  List,
  Metadata,
  PaymentIntent,
  Plan,
  PortalFlow,
  PortalSession,
  Price,
  Product,
  RequestInfo,
  Subscription,
  SubscriptionItem,
} from "./types.ts";

export type Interval = "day" | "week" | "month" | "year";
interface Catalog {
  products: Array<{
    id: string;
    name: string;
    description?: string;
    metadata?: Metadata;
    prices: Array<{
      id: string;
      lookup_key?: string;
      nickname?: string;
      currency: string;
      unit_amount: number;
      interval: Interval;
      interval_count?: number;
      active?: boolean;
    }>;
  }>;
}
const catalog = catalogJson as Catalog;
/** The emulated Stripe account, as invoices name it (the catalogue sells in GBP). */
const ACCOUNT = { country: "GB", name: "Tierdesk (Stripe emulator)" };
/** 2025-01-01T00:00:00Z, so catalogue objects are identical across runs. */
const CATALOG_CREATED = 1_735_689_600;

/** A licensed, per-unit recurring price as Stripe returns it (the seeded catalog's and created ones). */
function recurringPrice(fields: {
  id: string;
  active: boolean;
  created: number;
  currency: string;
  lookupKey: string | null;
  metadata: Price["metadata"];
  nickname: string | null;
  product: string;
  interval: Price["recurring"]["interval"];
  intervalCount: number;
  unitAmount: number;
}): Price {
  return {
    id: fields.id,
    object: "price",
    active: fields.active,
    billing_scheme: "per_unit",
    created: fields.created,
    currency: fields.currency,
    custom_unit_amount: null,
    livemode: false,
    lookup_key: fields.lookupKey,
    metadata: fields.metadata,
    nickname: fields.nickname,
    product: fields.product,
    recurring: {
      interval: fields.interval,
      interval_count: fields.intervalCount,
      meter: null,
      trial_period_days: null,
      usage_type: "licensed",
    },
    tax_behavior: "unspecified",
    tiers_mode: null,
    transform_quantity: null,
    type: "recurring",
    unit_amount: fields.unitAmount,
    unit_amount_decimal: String(fields.unitAmount),
  };
}

const NO_REQUEST: RequestInfo = { id: null, idempotency_key: null };

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const token = (length: number) => Array.from(randomBytes(length), (b) => ALPHABET[b % ALPHABET.length]).join("");
export const newId = (prefix: string, length = 24) => `${prefix}_${token(length)}`;

export const list = <T>(data: T[], url: string, hasMore = false): List<T> => ({
  object: "list",
  data,
  has_more: hasMore,
  url,
});

/** Plain-JSON deep copy: events and snapshots must not alias live state. */
export const snapshot = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/** Adds billing intervals keeping the anchor day, clamped to short months (31 Jan → 28 Feb → 31 Mar). */
function addInterval(anchor: number, interval: Interval, count: number): number {
  if (interval === "day" || interval === "week") return anchor + count * (interval === "day" ? 1 : 7) * 86_400;
  const d = new Date(anchor * 1000);
  const month = d.getUTCMonth() + count * (interval === "year" ? 12 : 1);
  const lastDay = new Date(Date.UTC(d.getUTCFullYear(), month + 1, 0)).getUTCDate();
  const date = Date.UTC(
    d.getUTCFullYear(),
    month,
    Math.min(d.getUTCDate(), lastDay),
    d.getUTCHours(),
    d.getUTCMinutes(),
    d.getUTCSeconds(),
  );
  return Math.floor(date / 1000);
}

const periodEnd = (sub: Subscription) => sub.items.data[0]?.current_period_end ?? sub.created;

/** Stripe's `previous_attributes`: the old values of the top-level fields that changed. */
function previousAttributes(before: object, after: object): Record<string, unknown> {
  const b: Record<string, unknown> = { ...before };
  const a: Record<string, unknown> = { ...after };
  const previous: Record<string, unknown> = {};
  for (const key of Object.keys(a)) {
    if (JSON.stringify(b[key]) !== JSON.stringify(a[key])) previous[key] = b[key] ?? null;
  }
  return previous;
}

/** How long a checkout's payment takes, from the customer's click to the completed session (seconds). */
const CHECKOUT_PAYMENT_SECONDS = 4;

/** An invoice as `invoice.created` shows it: a draft, not yet numbered, finalized or attempted. */
function draftOf(invoice: Invoice): Invoice {
  const draft = snapshot(invoice);
  return Object.assign(draft, {
    status: "draft",
    number: null,
    attempted: false,
    attempt_count: 0,
    next_payment_attempt: null,
    status_transitions: { ...draft.status_transitions, finalized_at: null },
  } satisfies Partial<Invoice>);
}

/** The payment intent of an invoice's first payment, just created (the card is confirmed next). */
function buildPaymentIntent(invoice: Invoice, created: number): PaymentIntent {
  const id = newId("pi");
  return {
    id,
    object: "payment_intent",
    amount: invoice.amount_due,
    amount_capturable: 0,
    amount_details: { tip: {} },
    amount_received: 0,
    application: null,
    application_fee_amount: null,
    automatic_payment_methods: null,
    canceled_at: null,
    cancellation_reason: null,
    capture_method: "automatic",
    client_secret: `${id}_secret_${newId("").slice(1)}`,
    confirmation_method: "automatic",
    created,
    currency: invoice.currency,
    customer: invoice.customer,
    description: "Subscription creation",
    excluded_payment_method_types: null,
    last_payment_error: null,
    latest_charge: null,
    livemode: false,
    metadata: {},
    next_action: null,
    on_behalf_of: null,
    payment_method: null,
    payment_method_configuration_details: null,
    payment_method_options: {
      card: { installments: null, mandate_options: null, network: null, request_three_d_secure: "automatic" },
    },
    payment_method_types: ["card"],
    processing: null,
    receipt_email: null,
    review: null,
    setup_future_usage: "off_session",
    shipping: null,
    source: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status: "requires_payment_method",
    transfer_data: null,
    transfer_group: null,
  };
}

/** The successful card charge of a payment intent (the hosted page's test card, 4242). */
function buildCharge(paymentIntent: PaymentIntent, created: number, email: string | null): Charge {
  const id = newId("ch");
  return {
    id,
    object: "charge",
    amount: paymentIntent.amount,
    amount_captured: paymentIntent.amount,
    amount_refunded: 0,
    application: null,
    application_fee: null,
    application_fee_amount: null,
    balance_transaction: newId("txn"),
    billing_details: {
      address: { city: null, country: null, line1: null, line2: null, postal_code: null, state: null },
      email,
      name: null,
      phone: null,
      tax_id: null,
    },
    calculated_statement_descriptor: "TIERDESK",
    captured: true,
    created,
    currency: paymentIntent.currency,
    customer: paymentIntent.customer,
    description: paymentIntent.description,
    disputed: false,
    failure_balance_transaction: null,
    failure_code: null,
    failure_message: null,
    fraud_details: {},
    livemode: false,
    metadata: {},
    on_behalf_of: null,
    outcome: {
      advice_code: null,
      network_advice_code: null,
      network_decline_code: null,
      network_status: "approved_by_network",
      reason: null,
      seller_message: "Payment complete.",
      type: "authorized",
    },
    paid: true,
    payment_intent: paymentIntent.id,
    payment_method: newId("pm"),
    payment_method_details: {
      card: {
        amount_authorized: paymentIntent.amount,
        authorization_code: null,
        brand: "visa",
        checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: "pass" },
        country: "US",
        electronic_commerce_indicator: null,
        exp_month: 12,
        exp_year: 2034,
        extended_authorization: { status: "disabled" },
        fingerprint: "Emu4242Fingerprt",
        funding: "credit",
        incremental_authorization: { status: "unavailable" },
        installments: null,
        last4: "4242",
        mandate: null,
        multicapture: { status: "unavailable" },
        network: "visa",
        network_token: { used: false },
        network_transaction_id: null,
        overcapture: { maximum_amount_capturable: paymentIntent.amount, status: "unavailable" },
        regulated_status: "unregulated",
        three_d_secure: null,
        transaction_link_id: null,
        wallet: null,
      },
      type: "card",
    },
    receipt_email: email,
    receipt_number: null,
    receipt_url: null, // the emulator has no receipt page
    refunded: false,
    refunds: { object: "list", data: [], has_more: false, url: `/v1/charges/${id}/refunds` },
    review: null,
    shipping: null,
    source: null,
    source_transfer: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status: "succeeded",
    transfer_data: null,
    transfer_group: null,
  };
}

/** The link between an invoice and the payment intent that paid it (`invoice_payment.paid`). */
function buildInvoicePayment(invoice: Invoice, paymentIntent: PaymentIntent, paidAt: number): InvoicePayment {
  return {
    id: newId("inpay"),
    object: "invoice_payment",
    amount_paid: paymentIntent.amount_received,
    amount_requested: invoice.amount_due,
    created: paymentIntent.created,
    currency: invoice.currency,
    invoice: invoice.id,
    is_default: true,
    livemode: false,
    payment: { payment_intent: paymentIntent.id, type: "payment_intent" },
    status: "paid",
    status_transitions: { canceled_at: null, paid_at: paidAt },
  };
}

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

export interface SubscriptionChanges {
  items?: Array<{ id?: string; price?: Price; quantity?: number; deleted?: boolean }>;
  cancelAtPeriodEnd?: boolean;
}

/** `POST /v1/prices` as the emulator supports it: a recurring per-unit price of a product. */
export interface PriceInput {
  product: string;
  currency: string;
  unitAmount: number;
  interval: Interval;
  intervalCount: number;
  lookupKey: string | null;
  transferLookupKey: boolean;
  nickname: string | null;
  active: boolean;
  metadata: Metadata;
}

/** A portal deep link (`flow_data`) as the emulator supports it: confirming one plan switch. */
export interface PortalFlowInput {
  subscription: Subscription;
  item: SubscriptionItem;
  price: Price;
  quantity: number;
  afterCompletion: PortalFlow["after_completion"];
}

/** Everything the account holds but the catalogue: what a state file keeps across restarts. */
export interface AccountState {
  customers: Customer[];
  deletedCustomers: string[];
  subscriptions: Subscription[];
  checkoutSessions: CheckoutRecord[];
  portalSessions: PortalSession[];
  completedPortalFlows: string[];
  invoices: Invoice[];
  events: EventRecord[];
  /** Prices created through the API and catalogue prices whose lookup key moved (absent in older files). */
  prices?: Price[];
}

/** Events kept in a state file: the newest ones, enough for support's replays, without growing forever. */
const SAVED_EVENTS = 1000;

export class Account {
  readonly products = new Map<string, Product>();
  readonly prices = new Map<string, Price>();
  readonly customers = new Map<string, Customer>();
  /** Ids of deleted customers: Stripe still answers a retrieve with `{ id, deleted: true }`. */
  readonly deletedCustomers = new Set<string>();
  readonly subscriptions = new Map<string, Subscription>();
  readonly checkoutSessions = new Map<string, CheckoutRecord>();
  readonly portalSessions = new Map<string, PortalSession>();
  /** Portal sessions whose flow (deep link) has been completed: their page is the portal homepage now. */
  readonly completedPortalFlows = new Set<string>();
  private readonly invoices = new Map<string, Invoice>();
  /** Ids of prices that differ from the catalogue (created through the API, or their lookup key moved). */
  private readonly changedPrices = new Set<string>();
  /** Oldest first. */
  readonly events: EventRecord[] = [];

  /** `onChange` is told after every change of state (the emulator saves its state file then). */
  constructor(
    private readonly webhookEndpoints: () => number,
    private readonly onChange: () => void = () => {},
  ) {
    this.reset();
  }

  /** While an operation dates its steps (a checkout's payment), the second it is at; else the wall clock. */
  private steppedClock: number | null = null;

  now(): number {
    return this.steppedClock ?? Math.floor(Date.now() / 1000);
  }

  /** Runs `step` with the clock at `second`: the objects it builds and the events it records are dated then. */
  private at<T>(second: number, step: () => T): T {
    const previous = this.steppedClock;
    this.steppedClock = second;
    try {
      return step();
    } finally {
      this.steppedClock = previous;
    }
  }

  /** The newest `created` among the events about a customer (0 when none): its later events never precede it. */
  private lastEventAbout(customerId: string): number {
    let newest = 0;
    for (const { event } of this.events) {
      const object = event.data.object as { id?: unknown; object?: unknown; customer?: unknown };
      const about = object.object === "customer" ? object.id : object.customer;
      if (about === customerId && event.created > newest) newest = event.created;
    }
    return newest;
  }

  /** Says that state changed outside an operation of this class (a webhook delivery was recorded). */
  changed(): void {
    this.onChange();
  }

  /** The state to save: plain JSON, no aliasing of live objects. */
  state(): AccountState {
    return snapshot({
      customers: [...this.customers.values()],
      deletedCustomers: [...this.deletedCustomers],
      subscriptions: [...this.subscriptions.values()],
      checkoutSessions: [...this.checkoutSessions.values()],
      portalSessions: [...this.portalSessions.values()],
      completedPortalFlows: [...this.completedPortalFlows],
      invoices: [...this.invoices.values()],
      events: this.events.slice(-SAVED_EVENTS),
      prices: [...this.changedPrices].flatMap((id) => this.prices.get(id) ?? []),
    });
  }

  /** Replaces everything but the catalogue with a saved state. */
  restore(state: AccountState): void {
    this.clear();
    for (const customer of state.customers) this.customers.set(customer.id, customer);
    for (const id of state.deletedCustomers) this.deletedCustomers.add(id);
    for (const sub of state.subscriptions) this.subscriptions.set(sub.id, sub);
    for (const record of state.checkoutSessions) this.checkoutSessions.set(record.session.id, record);
    for (const session of state.portalSessions) this.portalSessions.set(session.id, session);
    for (const id of state.completedPortalFlows) this.completedPortalFlows.add(id);
    for (const invoice of state.invoices) this.invoices.set(invoice.id, invoice);
    this.events.push(...state.events);
    for (const price of state.prices ?? []) {
      this.prices.set(price.id, price);
      this.changedPrices.add(price.id);
    }
  }

  // ------------------------------------------------------------------------------------- prices

  /**
   * `POST /v1/prices`. Prices are immutable in Stripe, so a new amount is a new price; with
   * `transfer_lookup_key` it takes the lookup key from the price that has it, which keeps every
   * subscription on it but without a lookup key from now on.
   */
  createPrice(input: PriceInput, request = NO_REQUEST) {
    const product = this.products.get(input.product);
    if (!product) throw noSuch("product", input.product, "product");
    const holder = input.lookupKey
      ? [...this.prices.values()].find((price) => price.lookup_key === input.lookupKey)
      : undefined;
    if (holder && !input.transferLookupKey) {
      throw invalid(
        "lookup_key",
        `A price (\`${holder.id}\`) already uses that lookup key. Set transfer_lookup_key to true to move it to this price.`,
      );
    }
    const now = this.now();
    const price = recurringPrice({
      id: newId("price"),
      active: input.active,
      created: now,
      currency: input.currency,
      lookupKey: input.lookupKey,
      metadata: input.metadata,
      nickname: input.nickname,
      product: product.id,
      interval: input.interval,
      intervalCount: input.intervalCount,
      unitAmount: input.unitAmount,
    });
    const events: EventRecord[] = [];
    if (holder) {
      holder.lookup_key = null;
      this.changedPrices.add(holder.id);
      // Subscription items embed their price: they show it as it is now, keyless.
      for (const sub of this.subscriptions.values()) {
        for (const item of sub.items.data) if (item.price.id === holder.id) item.price.lookup_key = null;
      }
      events.push(
        this.createEvent("price.updated", holder, { previousAttributes: { lookup_key: input.lookupKey }, request }),
      );
    }
    this.prices.set(price.id, price);
    this.changedPrices.add(price.id);
    events.unshift(this.createEvent("price.created", price, { request }));
    this.onChange();
    return { price, events };
  }

  private clear(): void {
    for (const map of [this.customers, this.subscriptions, this.checkoutSessions, this.portalSessions, this.invoices]) {
      map.clear();
    }
    this.deletedCustomers.clear();
    this.completedPortalFlows.clear();
    this.events.length = 0;
  }

  reset(): void {
    this.clear();
    this.prices.clear();
    this.changedPrices.clear();
    for (const p of catalog.products) {
      this.products.set(p.id, {
        id: p.id,
        object: "product",
        active: true,
        created: CATALOG_CREATED,
        default_price: p.prices[0]?.id ?? null,
        description: p.description ?? null,
        images: [],
        livemode: false,
        marketing_features: [],
        metadata: { ...p.metadata },
        name: p.name,
        package_dimensions: null,
        shippable: null,
        statement_descriptor: null,
        tax_code: null,
        tax_details: null,
        type: "service",
        unit_label: null,
        updated: CATALOG_CREATED,
        url: null,
      });
      for (const price of p.prices) {
        this.prices.set(
          price.id,
          recurringPrice({
            id: price.id,
            active: price.active ?? true,
            created: CATALOG_CREATED,
            currency: price.currency,
            lookupKey: price.lookup_key ?? null,
            metadata: {},
            nickname: price.nickname ?? null,
            product: p.id,
            interval: price.interval,
            intervalCount: price.interval_count ?? 1,
            unitAmount: price.unit_amount,
          }),
        );
      }
    }
    this.onChange();
  }

  /** Stored objects by id, for `expand[]`; a deleted customer expands to its stub. */
  findById(id: string): object | undefined {
    return (
      this.products.get(id) ??
      this.prices.get(id) ??
      this.customers.get(id) ??
      this.deletedCustomer(id) ??
      this.subscriptions.get(id) ??
      this.invoices.get(id)
    );
  }

  /** What Stripe answers for a deleted customer, or undefined when the id was never deleted. */
  deletedCustomer(id: string): DeletedCustomer | undefined {
    return this.deletedCustomers.has(id) ? { id, object: "customer", deleted: true } : undefined;
  }

  event(id: string): EventRecord | undefined {
    return this.events.find((r) => r.event.id === id);
  }

  createEvent(
    type: string,
    object: object,
    opts: { created?: number; previousAttributes?: Record<string, unknown>; request?: RequestInfo } = {},
  ): EventRecord {
    const event: EmulatorEvent = {
      id: newId("evt"),
      object: "event",
      api_version: Stripe.API_VERSION,
      created: opts.created ?? this.now(),
      data: { object: snapshot(object) },
      livemode: false,
      pending_webhooks: this.webhookEndpoints(),
      request: { ...(opts.request ?? NO_REQUEST) },
      type,
    };
    if (opts.previousAttributes) event.data.previous_attributes = snapshot(opts.previousAttributes);
    const record = { event, deliveries: [] };
    this.events.push(record);
    this.onChange();
    return record;
  }

  createCustomer(input: { email: string | null; name?: string | null; metadata?: Metadata }): Customer {
    const customer: Customer = {
      id: newId("cus", 14),
      object: "customer",
      address: null,
      balance: 0,
      created: this.now(),
      currency: null,
      default_source: null,
      delinquent: false,
      description: null,
      discount: null,
      email: input.email,
      invoice_prefix: token(8).toUpperCase(),
      invoice_settings: { custom_fields: null, default_payment_method: null, footer: null, rendering_options: null },
      livemode: false,
      metadata: input.metadata ?? {},
      name: input.name ?? null,
      next_invoice_sequence: 1,
      phone: null,
      preferred_locales: [],
      shipping: null,
      tax_exempt: "none",
      test_clock: null,
    };
    this.customers.set(customer.id, customer);
    this.onChange();
    return customer;
  }

  /**
   * Deletes a customer, as Stripe does: its subscriptions are canceled at once
   * (`customer.subscription.deleted` each), then `customer.deleted`. The id then answers as deleted.
   */
  deleteCustomer(id: string, request = NO_REQUEST) {
    const customer = this.customers.get(id);
    if (!customer) throw noSuch("customer", id);
    const events: EventRecord[] = [];
    for (const sub of this.subscriptions.values()) {
      if (sub.customer !== id || sub.status === "canceled" || sub.status === "incomplete_expired") continue;
      this.end(sub);
      sub.canceled_at = sub.ended_at;
      sub.cancellation_details = cancellation("cancellation_requested");
      events.push(this.createEvent("customer.subscription.deleted", sub, { request }));
    }
    this.customers.delete(id);
    this.deletedCustomers.add(id);
    events.push(this.createEvent("customer.deleted", customer, { request }));
    return { deleted: this.deletedCustomer(id) ?? { id, object: "customer" as const, deleted: true as const }, events };
  }

  // ------------------------------------------------------------------------------------ checkout

  createCheckoutSession(input: CheckoutInput, hostedUrl: (id: string) => string): CheckoutSession {
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
        description: this.products.get(price.product)?.name ?? null,
        metadata: {},
        price: snapshot(price),
        quantity,
      };
    });
    const total = lineItems.reduce((sum, li) => sum + li.amount_total, 0);
    const created = this.now();
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
    this.checkoutSessions.set(id, { session, lineItems, subscriptionMetadata: input.subscriptionMetadata });
    this.onChange();
    return session;
  }

  /** The email the hosted checkout page will charge, if already known. */
  checkoutEmail(session: CheckoutSession): string | null {
    if (session.customer) return this.customers.get(session.customer)?.email ?? null;
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
  completeCheckout(sessionId: string, opts: { email?: string | null } = {}) {
    const record = this.checkoutSessions.get(sessionId);
    if (!record) throw noSuch("checkout.session", sessionId);
    const { session } = record;
    if (session.status !== "open") {
      throw invalid(undefined, `This Checkout Session is ${session.status}.`, "checkout_session_not_open");
    }
    const existing = session.customer ? this.customers.get(session.customer) : undefined;
    const email = existing ? null : (session.customer_email ?? opts.email?.trim() ?? null);
    if (!existing && !email) throw missingParam("email");

    const end = this.now();
    const start = Math.max(end - CHECKOUT_PAYMENT_SECONDS, existing ? this.lastEventAbout(existing.id) : 0);
    const second = (step: number) => Math.min(end, start + step);
    const events: EventRecord[] = [];
    const emit = (type: string, object: object, previousAttributes?: Record<string, unknown>) =>
      events.push(this.createEvent(type, object, { previousAttributes }));

    const { customer, subscription, invoice } = this.at(second(0), () => {
      const customer = existing ?? this.createCustomer({ email });
      customer.currency ??= session.currency;
      if (!existing) emit("customer.created", customer);
      const subscriptionId = newId("sub");
      const now = this.now();
      const items = record.lineItems.map((li) => this.buildItem(subscriptionId, li.price, li.quantity ?? 1, now));
      const subscription = this.buildSubscription(subscriptionId, customer, items, { ...record.subscriptionMetadata });
      // Until its first invoice is paid (Stripe: `incomplete`, which grants nothing yet).
      subscription.status = "incomplete";
      this.subscriptions.set(subscription.id, subscription);
      const invoice = this.issueInvoice(subscription, "subscription_create", false, { start: now, end: now });
      emit("customer.subscription.created", subscription);
      emit("invoice.created", draftOf(invoice));
      return { customer, subscription, invoice };
    });

    const paymentIntent = this.at(second(1), () => {
      emit("invoice.finalized", invoice);
      const paymentIntent = buildPaymentIntent(invoice, this.now());
      emit("payment_intent.created", paymentIntent);
      return paymentIntent;
    });

    this.at(second(2), () => {
      const charge = buildCharge(paymentIntent, this.now(), customer.email ?? null);
      Object.assign(paymentIntent, {
        status: "succeeded",
        amount_received: paymentIntent.amount,
        latest_charge: charge.id,
        payment_method: charge.payment_method,
      } satisfies Partial<PaymentIntent>);
      emit("charge.succeeded", charge);
      emit("payment_intent.succeeded", paymentIntent);
      emit("invoice_payment.paid", buildInvoicePayment(invoice, paymentIntent, this.now()));
    });

    this.at(second(3), () => {
      Object.assign(invoice, {
        status: "paid",
        amount_paid: invoice.amount_due,
        amount_remaining: 0,
        next_payment_attempt: null,
      } satisfies Partial<Invoice>);
      invoice.status_transitions.paid_at = this.now();
      emit("invoice.paid", invoice);
      emit("invoice.payment_succeeded", invoice);
      const before = snapshot(subscription);
      subscription.status = "active";
      emit("customer.subscription.updated", subscription, previousAttributes(before, subscription));
    });

    this.at(second(4), () => {
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

  createPortalSession(
    customer: string,
    returnUrl: string | null,
    hostedUrl: (id: string) => string,
    flowInput: PortalFlowInput | null = null,
  ): PortalSession {
    const id = newId("bps");
    const flow: PortalFlow | null = flowInput && {
      after_completion: flowInput.afterCompletion,
      customer_update: null,
      subscription_cancel: null,
      subscription_pause: null,
      subscription_update: null,
      subscription_update_confirm: {
        discounts: [],
        items: [{ id: flowInput.item.id, price: flowInput.price.id, quantity: flowInput.quantity }],
        subscription: flowInput.subscription.id,
      },
      type: "subscription_update_confirm",
    };
    const session: PortalSession = {
      id,
      object: "billing_portal.session",
      configuration: "bpc_emulator_default",
      created: this.now(),
      customer,
      customer_account: null,
      flow,
      livemode: false,
      locale: null,
      on_behalf_of: null,
      return_url: returnUrl,
      url: hostedUrl(id),
    };
    this.portalSessions.set(id, session);
    this.onChange();
    return session;
  }

  /** The plan switch a portal session's flow asks to confirm, while it has not been completed. */
  pendingPortalFlow(portal: PortalSession) {
    const confirm = portal.flow?.subscription_update_confirm;
    const item = confirm?.items[0];
    if (!confirm || !item?.id || !item.price || this.completedPortalFlows.has(portal.id)) return null;
    const subscription = this.subscriptions.get(confirm.subscription);
    const price = this.prices.get(item.price);
    if (!subscription || !price) return null;
    return { subscription, itemId: item.id, price, quantity: item.quantity ?? 1 };
  }

  /** Confirms a portal session's plan switch: the same update as the API's, once. */
  completePortalFlow(portalId: string) {
    const portal = this.portalSessions.get(portalId);
    const flow = portal && this.pendingPortalFlow(portal);
    if (!portal || !flow)
      throw invalid(undefined, "This plan change has already been confirmed or is no longer available.");
    const result = this.updateSubscription(flow.subscription.id, {
      items: [{ id: flow.itemId, price: flow.price, quantity: flow.quantity }],
    });
    this.completedPortalFlows.add(portal.id);
    this.onChange();
    return result;
  }

  // ------------------------------------------------------------------------------- subscriptions

  requireSubscription(id: string): Subscription {
    const sub = this.subscriptions.get(id);
    if (!sub) throw noSuch("subscription", id);
    return sub;
  }

  /** Plan switches, quantity changes and `cancel_at_period_end`. */
  updateSubscription(id: string, changes: SubscriptionChanges, request = NO_REQUEST) {
    const original = this.requireSubscription(id);
    if (original.status === "canceled") {
      throw invalid(undefined, "A canceled subscription can only update its cancellation_details and metadata.");
    }
    // Work on a copy so a change rejected halfway leaves the stored subscription untouched.
    const sub = snapshot(original);
    const now = this.now();
    const cycle = (p: Price) => `${p.recurring.interval}/${p.recurring.interval_count}`;
    const firstCycle = (s: Subscription) => (s.items.data[0] ? cycle(s.items.data[0].price) : "");
    const items = sub.items.data;
    changes.items?.forEach((change, i) => {
      const index = change.id ? items.findIndex((it) => it.id === change.id) : -1;
      const item = items[index];
      if (!item) {
        if (change.id) throw invalid(`items[${i}][id]`, `Invalid subscription item id: ${change.id}`);
        if (!change.price) throw missingParam(`items[${i}][price]`);
        items.push(this.buildItem(sub.id, change.price, change.quantity ?? 1, now, items[0]));
      } else if (change.deleted) {
        items.splice(index, 1);
      } else {
        if (change.price) {
          Object.assign(item, {
            price: snapshot(change.price),
            plan: planOf(change.price),
          } satisfies Partial<SubscriptionItem>);
        }
        if (change.quantity !== undefined) item.quantity = change.quantity;
      }
    });
    if (items.length === 0) {
      throw invalid("items", "A subscription must have at least one price. To cancel it, use DELETE.");
    }
    if (items.some((it) => cycle(it.price) !== firstCycle(sub) || it.price.currency !== sub.currency)) {
      throw invalid("items", "All prices on a subscription must have the same currency and recurring interval.");
    }

    let invoice: Invoice | undefined;
    if (firstCycle(sub) !== firstCycle(original)) {
      // A new billing interval restarts the cycle and bills now (Stripe's default proration behaviour).
      for (const item of items) {
        item.current_period_start = now;
        item.current_period_end = addInterval(now, item.price.recurring.interval, item.price.recurring.interval_count);
      }
      sub.billing_cycle_anchor = now;
      invoice = this.issueInvoice(sub, "subscription_update", true, { start: now, end: now });
    }
    if (changes.cancelAtPeriodEnd !== undefined) {
      sub.cancel_at_period_end = changes.cancelAtPeriodEnd;
      sub.canceled_at = changes.cancelAtPeriodEnd ? now : null;
      sub.cancellation_details = cancellation(changes.cancelAtPeriodEnd ? "cancellation_requested" : null);
    }
    if (sub.cancel_at_period_end) sub.cancel_at = periodEnd(sub);
    else if (changes.cancelAtPeriodEnd === false) sub.cancel_at = null;

    this.subscriptions.set(sub.id, sub);
    const previous = previousAttributes(original, sub);
    const events: EventRecord[] = [];
    // Stripe only emits an update when something changed.
    if (Object.keys(previous).length > 0) {
      events.push(this.createEvent("customer.subscription.updated", sub, { previousAttributes: previous, request }));
    }
    if (invoice) events.push(this.createEvent("invoice.paid", invoice, { request }));
    return { subscription: sub, events };
  }

  /** Cancels now (DELETE, or the portal's Cancel button). */
  cancelSubscription(id: string, request = NO_REQUEST) {
    const sub = this.requireSubscription(id);
    if (sub.status === "canceled") throw invalid(undefined, `This subscription has already been canceled: ${id}`);
    this.end(sub);
    sub.canceled_at = sub.ended_at;
    sub.cancellation_details = cancellation("cancellation_requested");
    return { subscription: sub, events: [this.createEvent("customer.subscription.deleted", sub, { request })] };
  }

  /**
   * A failed renewal: the period moves on, its invoice stays open and the subscription becomes
   * `past_due`. Another failure only retries that invoice.
   */
  failPayment(id: string) {
    const sub = this.requireSubscription(id);
    if (sub.status === "canceled") throw invalid(undefined, "Cannot fail a payment on a canceled subscription.");
    const before = snapshot(sub);
    let invoice = this.invoices.get(sub.latest_invoice ?? "");
    if (sub.status === "past_due" && invoice?.status === "open") {
      invoice.attempt_count += 1;
      invoice.next_payment_attempt = this.now() + 3 * 86_400;
    } else {
      invoice = this.issueInvoice(sub, "subscription_cycle", false, this.advancePeriod(sub));
      sub.status = "past_due";
      this.customerOf(sub).delinquent = true;
    }
    const events = [this.createEvent("invoice.payment_failed", invoice)];
    const previous = previousAttributes(before, sub);
    if (Object.keys(previous).length > 0) {
      events.push(this.createEvent("customer.subscription.updated", sub, { previousAttributes: previous }));
    }
    return { subscription: sub, invoice, events };
  }

  /** The end of the period: a subscription set to cancel ends; others renew and pay (recovering past_due). */
  renewSubscription(id: string) {
    const sub = this.requireSubscription(id);
    if (sub.status === "canceled") throw invalid(undefined, "Cannot renew a canceled subscription.");
    if (sub.cancel_at_period_end) {
      this.end(sub);
      return { subscription: sub, invoice: null, events: [this.createEvent("customer.subscription.deleted", sub)] };
    }
    const before = snapshot(sub);
    let invoice = this.invoices.get(sub.latest_invoice ?? "");
    if (sub.status === "past_due" && invoice?.status === "open") {
      Object.assign(invoice, {
        status: "paid",
        amount_paid: invoice.amount_due,
        amount_remaining: 0,
        next_payment_attempt: null,
      } satisfies Partial<Invoice>);
      invoice.attempt_count += 1;
      invoice.status_transitions.paid_at = this.now();
    } else {
      invoice = this.issueInvoice(sub, "subscription_cycle", true, this.advancePeriod(sub));
    }
    sub.status = "active";
    this.customerOf(sub).delinquent = false;
    const events: EventRecord[] = [];
    const previous = previousAttributes(before, sub);
    if (Object.keys(previous).length > 0) {
      events.push(this.createEvent("customer.subscription.updated", sub, { previousAttributes: previous }));
    }
    events.push(this.createEvent("invoice.paid", invoice));
    return { subscription: sub, invoice, events };
  }

  // ----------------------------------------------------------------------------------- internals

  private end(sub: Subscription): void {
    sub.status = "canceled";
    sub.ended_at = this.now();
  }

  private customerOf(sub: Subscription): Customer {
    const customer = this.customers.get(sub.customer);
    if (!customer) throw noSuch("customer", sub.customer, "customer");
    return customer;
  }

  private buildItem(
    subscription: string,
    price: Price,
    quantity: number,
    now: number,
    sibling?: SubscriptionItem,
  ): SubscriptionItem {
    return {
      id: newId("si", 14),
      object: "subscription_item",
      billing_thresholds: null,
      created: now,
      current_period_end:
        sibling?.current_period_end ?? addInterval(now, price.recurring.interval, price.recurring.interval_count),
      current_period_start: sibling?.current_period_start ?? now,
      current_trial: null,
      discounts: [],
      metadata: {},
      plan: planOf(price),
      price: snapshot(price),
      quantity,
      subscription,
      tax_rates: [],
    };
  }

  private buildSubscription(
    id: string,
    customer: Customer,
    items: SubscriptionItem[],
    metadata: Metadata,
  ): Subscription {
    const now = this.now();
    return {
      id,
      object: "subscription",
      application: null,
      application_fee_percent: null,
      automatic_tax: { disabled_reason: null, enabled: false, liability: null },
      billing_cycle_anchor: now,
      billing_cycle_anchor_config: null,
      billing_mode: { flexible: null, type: "classic" },
      billing_schedules: [],
      billing_thresholds: null,
      cancel_at: null,
      cancel_at_period_end: false,
      canceled_at: null,
      cancellation_details: cancellation(null),
      collection_method: "charge_automatically",
      created: now,
      currency: items[0]?.price.currency ?? "gbp",
      customer: customer.id,
      customer_account: null,
      days_until_due: null,
      default_payment_method: null,
      default_source: null,
      default_tax_rates: [],
      description: null,
      discounts: [],
      ended_at: null,
      invoice_settings: {
        account_tax_ids: null,
        custom_fields: null,
        description: null,
        footer: null,
        issuer: { type: "self" },
      },
      items: list(items, `/v1/subscription_items?subscription=${id}`),
      latest_invoice: null,
      livemode: false,
      managed_payments: null,
      metadata,
      next_pending_invoice_item_invoice: null,
      on_behalf_of: null,
      pause_collection: null,
      payment_settings: {
        payment_method_options: null,
        payment_method_types: null,
        save_default_payment_method: "off",
      },
      pending_invoice_item_interval: null,
      pending_setup_intent: null,
      pending_update: null,
      schedule: null,
      start_date: now,
      status: "active",
      test_clock: null,
      transfer_data: null,
      trial_end: null,
      trial_settings: { end_behavior: { billing_cycle_anchor: null, missing_payment_method: "create_invoice" } },
      trial_start: null,
    };
  }

  /** Moves every item to its next period, counted from the anchor; returns the period that ended. */
  private advancePeriod(sub: Subscription): { start: number; end: number } {
    const first = sub.items.data[0];
    const ended = { start: first?.current_period_start ?? sub.created, end: periodEnd(sub) };
    for (const item of sub.items.data) {
      const { interval, interval_count } = item.price.recurring;
      let n = 1;
      while (addInterval(sub.billing_cycle_anchor, interval, interval_count * n) <= item.current_period_end) n++;
      item.current_period_start = item.current_period_end;
      item.current_period_end = addInterval(sub.billing_cycle_anchor, interval, interval_count * n);
    }
    return ended;
  }

  /**
   * The invoice-level period is Stripe's: the period that just ended for renewals, a zero-length
   * one at creation for the first invoice. Lines carry the billed item periods.
   */
  private issueInvoice(
    sub: Subscription,
    reason: "subscription_create" | "subscription_cycle" | "subscription_update",
    paid: boolean,
    period: { start: number; end: number },
  ): Invoice {
    const customer = this.customerOf(sub);
    const id = newId("in");
    const now = this.now();
    const lines = sub.items.data.map((item): InvoiceLine => {
      const quantity = item.quantity ?? 1;
      const amount = (item.price.unit_amount ?? 0) * quantity;
      return {
        id: newId("il"),
        object: "line_item",
        amount,
        currency: item.price.currency,
        description: `${quantity} × ${this.products.get(item.price.product)?.name ?? item.price.product}`,
        discount_amounts: [],
        discountable: true,
        discounts: [],
        invoice: id,
        livemode: false,
        metadata: {},
        parent: {
          invoice_item_details: null,
          subscription_item_details: {
            invoice_item: null,
            proration: false,
            proration_details: { credited_items: null },
            subscription: sub.id,
            subscription_item: item.id,
          },
          type: "subscription_item_details",
        },
        period: { end: item.current_period_end, start: item.current_period_start },
        pretax_credit_amounts: [],
        pricing: {
          price_details: { price: item.price.id, product: item.price.product },
          type: "price_details",
          unit_amount_decimal: item.price.unit_amount_decimal,
        },
        quantity,
        quantity_decimal: String(quantity),
        subscription: sub.id,
        subtotal: amount,
        taxes: [],
      };
    });
    const total = lines.reduce((sum, line) => sum + line.amount, 0);
    const invoice: Invoice = {
      id,
      object: "invoice",
      account_country: ACCOUNT.country,
      account_name: ACCOUNT.name,
      account_tax_ids: null,
      amount_due: total,
      amount_overpaid: 0,
      amount_paid: paid ? total : 0,
      amount_remaining: paid ? 0 : total,
      amount_shipping: 0,
      application: null,
      attempt_count: 1,
      attempted: true,
      // Stripe keeps retrying an unpaid automatic invoice; a paid one has nothing left to advance.
      auto_advance: !paid,
      automatic_tax: { disabled_reason: null, enabled: false, liability: null, provider: null, status: null },
      automatically_finalizes_at: null,
      billing_reason: reason,
      collection_method: "charge_automatically",
      created: now,
      currency: sub.currency,
      custom_fields: null,
      customer: customer.id,
      customer_account: null,
      customer_address: customer.address ?? null,
      customer_email: customer.email,
      customer_name: customer.name ?? null,
      customer_phone: customer.phone ?? null,
      customer_shipping: customer.shipping,
      customer_tax_exempt: customer.tax_exempt ?? "none",
      customer_tax_ids: [],
      default_payment_method: null,
      default_source: null,
      default_tax_rates: [],
      description: null,
      discounts: [],
      due_date: null, // only `send_invoice` invoices have one
      effective_at: now,
      ending_balance: 0,
      footer: null,
      from_invoice: null,
      // The emulator serves no hosted invoice page or PDF, so it links to none.
      hosted_invoice_url: null,
      invoice_pdf: null,
      issuer: { type: "self" },
      last_finalization_error: null,
      latest_revision: null,
      lines: list(lines, `/v1/invoices/${id}/lines`),
      livemode: false,
      metadata: {},
      next_payment_attempt: paid ? null : now + 3 * 86_400,
      number: `${customer.invoice_prefix}-${String(customer.next_invoice_sequence ?? 1).padStart(4, "0")}`,
      on_behalf_of: null,
      parent: {
        quote_details: null,
        subscription_details: { metadata: { ...sub.metadata }, subscription: sub.id },
        type: "subscription_details",
      },
      payment_settings: { default_mandate: null, payment_method_options: null, payment_method_types: null },
      period_end: period.end,
      period_start: period.start,
      post_payment_credit_notes_amount: 0,
      pre_payment_credit_notes_amount: 0,
      receipt_number: null,
      rendering: { amount_tax_display: null, pdf: { page_size: "auto" }, template: null, template_version: null },
      shipping_cost: null,
      shipping_details: null,
      starting_balance: 0,
      statement_descriptor: null,
      status: paid ? "paid" : "open",
      status_transitions: {
        finalized_at: now,
        marked_uncollectible_at: null,
        paid_at: paid ? now : null,
        voided_at: null,
      },
      subtotal: total,
      subtotal_excluding_tax: total,
      test_clock: null,
      total,
      total_discount_amounts: [],
      total_excluding_tax: total,
      total_pretax_credit_amounts: [],
      total_taxes: [],
      webhooks_delivered_at: now,
    };
    customer.next_invoice_sequence = (customer.next_invoice_sequence ?? 1) + 1;
    this.invoices.set(id, invoice);
    sub.latest_invoice = id;
    return invoice;
  }
}

function cancellation(reason: "cancellation_requested" | null): Subscription["cancellation_details"] {
  return { comment: null, feedback: null, feedback_option: null, reason };
}

/** The legacy `plan` Stripe still embeds next to each subscription item's price. */
function planOf(price: Price): Plan {
  return {
    id: price.id,
    object: "plan",
    active: price.active,
    amount: price.unit_amount,
    amount_decimal: price.unit_amount_decimal,
    billing_scheme: "per_unit",
    created: price.created,
    currency: price.currency,
    interval: price.recurring.interval,
    interval_count: price.recurring.interval_count,
    livemode: false,
    metadata: { ...price.metadata },
    meter: null,
    nickname: price.nickname,
    product: price.product,
    tiers_mode: null,
    transform_usage: null,
    trial_period_days: null,
    usage_type: "licensed",
  };
}
