/**
 * The emulator's in-memory Stripe account: state plus the billing operations
 * that change it. Every operation returns the events it created; the caller
 * (API, hosted pages or control endpoints) decides whether to wait for their
 * webhook delivery, which keeps HTTP and timing concerns out of this file.
 *
 * Validation of *request parameters* happens in api.ts; operations here only
 * enforce state rules (e.g. a canceled subscription cannot change plan).
 */
import { buildCatalogObjects, type Catalog } from './catalog.ts';
import { apiErrors } from './errors.ts';
import {
  buildCharge,
  buildCheckoutLineItem,
  buildCheckoutSession,
  buildCustomer,
  buildInvoice,
  buildPortalSession,
  buildSubscription,
  buildSubscriptionItem,
  checkoutCustomerDetails,
  planFromPrice,
} from './objects.ts';
import { applyMetadataPatch } from './params.ts';
import type {
  BillingReason,
  Charge,
  CheckoutLineItem,
  CheckoutSession,
  Customer,
  EventRecord,
  Invoice,
  Metadata,
  PortalSession,
  Price,
  Product,
  StripeEvent,
  Subscription,
} from './types.ts';
import { addInterval, newId, randomToken, snapshot } from './util.ts';

export const API_VERSION = '2026-10-28.endive';

export interface RequestInfo {
  id: string | null;
  idempotency_key: string | null;
}

/** Events caused by the hosted pages or the control API have no API request, like dashboard actions. */
export const NO_REQUEST: RequestInfo = { id: null, idempotency_key: null };

export type MetadataPatch = { clear: boolean; set: Record<string, string | null> };

export interface CheckoutInput {
  lineItems: Array<{ price: Price; quantity: number }>;
  successUrl: string;
  cancelUrl: string | null;
  customer: Customer | null;
  customerEmail: string | null;
  clientReferenceId: string | null;
  allowPromotionCodes: boolean | null;
  metadata: Metadata;
  subscriptionMetadata: Metadata;
  subscriptionDescription: string | null;
}

export interface CheckoutRecord {
  session: CheckoutSession;
  lineItems: CheckoutLineItem[];
  /** `subscription_data[...]`: not part of the session object, applied when it completes. */
  subscriptionData: { metadata: Metadata; description: string | null };
}

export interface SubscriptionItemChange {
  id?: string;
  price?: Price;
  quantity?: number;
  deleted?: boolean;
}

export interface SubscriptionChanges {
  items?: SubscriptionItemChange[];
  cancelAtPeriodEnd?: boolean;
  cancelAt?: number | null;
  metadata?: MetadataPatch;
  description?: string | null;
}

export interface CreateEventOptions {
  created?: number;
  previousAttributes?: Record<string, unknown>;
  request?: RequestInfo;
}

export class BillingState {
  readonly products = new Map<string, Product>();
  readonly prices = new Map<string, Price>();
  readonly customers = new Map<string, Customer>();
  readonly subscriptions = new Map<string, Subscription>();
  readonly checkoutSessions = new Map<string, CheckoutRecord>();
  readonly portalSessions = new Map<string, PortalSession>();
  readonly invoices = new Map<string, Invoice>();
  readonly charges = new Map<string, Charge>();
  /** Chronological (oldest first). */
  readonly events: EventRecord[] = [];
  private readonly eventsById = new Map<string, EventRecord>();

  constructor(
    private readonly catalog: Catalog,
    private readonly clock: () => Date,
    /** Number of webhook endpoints, reported as `pending_webhooks` on new events. */
    private readonly endpointCount: () => number,
  ) {
    this.loadCatalog();
  }

  now(): number {
    return Math.floor(this.clock().getTime() / 1000);
  }

  reset(): void {
    for (const map of [
      this.products,
      this.prices,
      this.customers,
      this.subscriptions,
      this.checkoutSessions,
      this.portalSessions,
      this.invoices,
      this.charges,
      this.eventsById,
    ]) {
      map.clear();
    }
    this.events.length = 0;
    this.loadCatalog();
  }

  private loadCatalog(): void {
    const { products, prices } = buildCatalogObjects(this.catalog);
    for (const p of products) this.products.set(p.id, p);
    for (const p of prices) this.prices.set(p.id, p);
  }

  /** Resolves any stored object by id, for `expand[]` and the control API. */
  findById(id: string): { object: string } | undefined {
    const prefix = id.slice(0, id.indexOf('_'));
    switch (prefix) {
      case 'prod':
        return this.products.get(id);
      case 'price':
        return this.prices.get(id);
      case 'cus':
        return this.customers.get(id);
      case 'sub':
        return this.subscriptions.get(id);
      case 'cs':
        return this.checkoutSessions.get(id)?.session;
      case 'bps':
        return this.portalSessions.get(id);
      case 'in':
        return this.invoices.get(id);
      case 'ch':
        return this.charges.get(id);
      case 'evt':
        return this.eventsById.get(id)?.event;
      default:
        return undefined;
    }
  }

  getEvent(id: string): EventRecord | undefined {
    return this.eventsById.get(id);
  }

  productName(productId: string): string {
    return this.products.get(productId)?.name ?? productId;
  }

  // ---------------------------------------------------------------- events

  createEvent(type: string, object: object, opts: CreateEventOptions = {}): EventRecord {
    const data: StripeEvent['data'] = { object: snapshot(object) as Record<string, unknown> };
    if (opts.previousAttributes) data.previous_attributes = snapshot(opts.previousAttributes);
    const event: StripeEvent = {
      id: newId('evt', 24),
      object: 'event',
      api_version: API_VERSION,
      created: opts.created ?? this.now(),
      data,
      livemode: false,
      pending_webhooks: this.endpointCount(),
      request: { ...(opts.request ?? NO_REQUEST) },
      type,
    };
    const record: EventRecord = { event, deliveries: [] };
    this.events.push(record);
    this.eventsById.set(event.id, record);
    return record;
  }

  // ------------------------------------------------------------- customers

  createCustomer(input: Omit<Parameters<typeof buildCustomer>[0], 'created'>): Customer {
    const customer = buildCustomer({ ...input, created: this.now() });
    this.customers.set(customer.id, customer);
    return customer;
  }

  // -------------------------------------------------------------- checkout

  createCheckoutSession(input: CheckoutInput, hostedUrl: (sessionId: string) => string): CheckoutSession {
    const id = `cs_test_a1${randomToken(56)}`;
    const lineItems = input.lineItems.map(({ price, quantity }) =>
      buildCheckoutLineItem(price, this.products.get(price.product), quantity),
    );
    const session = buildCheckoutSession({
      id,
      url: hostedUrl(id),
      created: this.now(),
      lineItems,
      successUrl: input.successUrl,
      cancelUrl: input.cancelUrl,
      customer: input.customer?.id ?? null,
      customerEmail: input.customerEmail,
      clientReferenceId: input.clientReferenceId,
      allowPromotionCodes: input.allowPromotionCodes,
      metadata: input.metadata,
    });
    this.checkoutSessions.set(id, {
      session,
      lineItems,
      subscriptionData: { metadata: input.subscriptionMetadata, description: input.subscriptionDescription },
    });
    return session;
  }

  /** The customer the hosted checkout page will charge, if already known. */
  checkoutEmail(record: CheckoutRecord): string | null {
    const { session } = record;
    if (session.customer) return this.customers.get(session.customer)?.email ?? null;
    return session.customer_email;
  }

  /** What pressing "Pay" on the hosted checkout page does. */
  completeCheckout(
    sessionId: string,
    opts: { email?: string | null } = {},
  ): { session: CheckoutSession; subscription: Subscription; invoice: Invoice; events: EventRecord[] } {
    const record = this.checkoutSessions.get(sessionId);
    if (!record) throw apiErrors.resourceMissing('checkout.session', sessionId);
    const { session } = record;
    if (session.status !== 'open') {
      throw apiErrors.invalidState(`This Checkout Session is ${session.status === 'complete' ? 'already complete' : 'expired'}.`);
    }

    let customer = session.customer ? this.customers.get(session.customer) : undefined;
    if (!customer) {
      const email = session.customer_email ?? opts.email?.trim() ?? '';
      if (!email) throw apiErrors.missingParam('email');
      customer = this.createCustomer({ email });
    }
    customer.currency ??= session.currency;

    const now = this.now();
    const subscriptionId = newId('sub', 24);
    const items = record.lineItems.map((li) => {
      // Bill the price as it is now, in case the catalogue changed since the session was created.
      const price = this.prices.get(li.price.id) ?? li.price;
      return buildSubscriptionItem({
        subscriptionId,
        price,
        quantity: li.quantity,
        created: now,
        periodStart: now,
        periodEnd: addInterval(now, price.recurring.interval, price.recurring.interval_count),
      });
    });
    const subscription = buildSubscription({
      id: subscriptionId,
      customer: customer.id,
      currency: session.currency,
      created: now,
      items,
      metadata: { ...record.subscriptionData.metadata },
      description: record.subscriptionData.description,
    });
    this.subscriptions.set(subscription.id, subscription);
    const invoice = this.issueInvoice(subscription, 'subscription_create', true, { start: now, end: now });

    session.status = 'complete';
    session.payment_status = 'paid';
    session.customer = customer.id;
    session.customer_details = checkoutCustomerDetails(customer);
    session.subscription = subscription.id;
    session.invoice = invoice.id;
    // Stripe clears the URL once a session can no longer be visited.
    session.url = null;

    const events = [
      this.createEvent('customer.subscription.created', subscription),
      this.createEvent('checkout.session.completed', session),
      this.createEvent('invoice.paid', invoice),
    ];
    return { session, subscription, invoice, events };
  }

  expireCheckoutSession(sessionId: string, request: RequestInfo): { session: CheckoutSession; events: EventRecord[] } {
    const record = this.checkoutSessions.get(sessionId);
    if (!record) throw apiErrors.resourceMissing('checkout.session', sessionId);
    const { session } = record;
    if (session.status !== 'open') {
      throw apiErrors.invalidState(`Only Checkout Sessions with a status in [open] can be expired. This Checkout Session has a status of ${session.status}.`);
    }
    session.status = 'expired';
    session.url = null;
    return { session, events: [this.createEvent('checkout.session.expired', session, { request })] };
  }

  // ---------------------------------------------------------------- portal

  createPortalSession(
    input: { customer: Customer; returnUrl: string | null; locale: string | null },
    hostedUrl: (sessionId: string) => string,
  ): PortalSession {
    const id = newId('bps', 24);
    const session = buildPortalSession({
      id,
      url: hostedUrl(id),
      created: this.now(),
      customer: input.customer.id,
      returnUrl: input.returnUrl,
      locale: input.locale,
    });
    this.portalSessions.set(id, session);
    return session;
  }

  // --------------------------------------------------------- subscriptions

  requireSubscription(id: string): Subscription {
    const sub = this.subscriptions.get(id);
    if (!sub) throw apiErrors.resourceMissing('subscription', id);
    return sub;
  }

  subscriptionsOf(customerId: string): Subscription[] {
    return [...this.subscriptions.values()].filter((s) => s.customer === customerId);
  }

  updateSubscription(
    id: string,
    changes: SubscriptionChanges,
    request: RequestInfo = NO_REQUEST,
  ): { subscription: Subscription; events: EventRecord[] } {
    const original = this.requireSubscription(id);
    const touchesBilling =
      changes.items !== undefined || changes.cancelAtPeriodEnd !== undefined || changes.cancelAt !== undefined;
    if (original.status === 'canceled' && touchesBilling) {
      throw apiErrors.invalidState('A canceled subscription can only update its cancellation_details and metadata.');
    }
    // Work on a copy so a change rejected halfway (e.g. the second of two
    // items) leaves the stored subscription untouched.
    const sub = snapshot(original);
    const now = this.now();

    let intervalChanged = false;
    if (changes.items) {
      const result = this.applyItemChanges(sub, changes.items, now);
      intervalChanged = result.intervalChanged;
    }

    let invoice: Invoice | undefined;
    if (intervalChanged) {
      // Changing the billing interval restarts the billing cycle and bills
      // immediately (Stripe's behaviour with default proration settings).
      for (const item of sub.items.data) {
        item.current_period_start = now;
        item.current_period_end = addInterval(now, item.price.recurring.interval, item.price.recurring.interval_count);
      }
      sub.billing_cycle_anchor = now;
      invoice = this.issueInvoice(sub, 'subscription_update', true, { start: now, end: now });
    }

    if (changes.cancelAtPeriodEnd !== undefined) {
      sub.cancel_at_period_end = changes.cancelAtPeriodEnd;
      sub.cancel_at = changes.cancelAtPeriodEnd ? periodEnd(sub) : null;
      sub.canceled_at = changes.cancelAtPeriodEnd ? now : null;
      sub.cancellation_details.reason = changes.cancelAtPeriodEnd ? 'cancellation_requested' : null;
    } else if (changes.cancelAt !== undefined) {
      sub.cancel_at = changes.cancelAt;
      sub.cancel_at_period_end = changes.cancelAt !== null && changes.cancelAt === periodEnd(sub);
      sub.canceled_at = changes.cancelAt === null ? null : now;
      sub.cancellation_details.reason = changes.cancelAt === null ? null : 'cancellation_requested';
    } else if (sub.cancel_at_period_end) {
      sub.cancel_at = periodEnd(sub);
    }

    if (changes.metadata) sub.metadata = applyMetadataPatch(sub.metadata, changes.metadata);
    if (changes.description !== undefined) sub.description = changes.description;

    this.subscriptions.set(sub.id, sub);
    const events: EventRecord[] = [];
    const previous = previousAttributes(original, sub);
    // Stripe only emits an update event when something actually changed.
    if (Object.keys(previous).length > 0) {
      events.push(this.createEvent('customer.subscription.updated', sub, { previousAttributes: previous, request }));
    }
    if (invoice) events.push(this.createEvent('invoice.paid', invoice, { request }));
    return { subscription: sub, events };
  }

  private applyItemChanges(sub: Subscription, changes: SubscriptionItemChange[], now: number): { intervalChanged: boolean } {
    const items = sub.items.data;
    const cycleOf = (p: Price) => `${p.recurring.interval}/${p.recurring.interval_count}`;
    const originalCycle = cycleOf(items[0].price);

    changes.forEach((change, i) => {
      if (change.id) {
        const index = items.findIndex((it) => it.id === change.id);
        if (index === -1) {
          throw apiErrors.invalidParam(
            `items[${i}][id]`,
            `Invalid subscription item id: ${change.id} does not belong to subscription ${sub.id}.`,
          );
        }
        if (change.deleted) {
          items.splice(index, 1);
          return;
        }
        const item = items[index];
        if (change.price && change.price.id !== item.price.id) {
          item.price = snapshot(change.price);
          item.plan = planFromPrice(change.price);
        }
        if (change.quantity !== undefined) item.quantity = change.quantity;
      } else {
        if (!change.price) throw apiErrors.missingParam(`items[${i}][price]`);
        if (items.some((it) => it.price.id === change.price!.id)) {
          throw apiErrors.invalidParam(
            `items[${i}][price]`,
            `Cannot add multiple subscription items with the same price: ${change.price.id}`,
          );
        }
        items.push(
          buildSubscriptionItem({
            subscriptionId: sub.id,
            price: change.price,
            quantity: change.quantity ?? 1,
            created: now,
            periodStart: items[0]?.current_period_start ?? now,
            periodEnd: items[0]?.current_period_end ?? now,
          }),
        );
      }
    });

    if (items.length === 0) {
      throw apiErrors.invalidParam('items', 'A subscription must have at least one active price. To cancel it, use DELETE.');
    }
    for (const item of items) {
      if (item.price.currency !== sub.currency) {
        throw apiErrors.invalidParam('items', `All prices on a subscription must use the currency ${sub.currency}.`);
      }
      if (cycleOf(item.price) !== cycleOf(items[0].price)) {
        throw apiErrors.invalidParam('items', 'All prices on a subscription must have the same recurring interval.');
      }
    }
    return { intervalChanged: cycleOf(items[0].price) !== originalCycle };
  }

  cancelSubscription(
    id: string,
    details: { comment?: string | null; feedback?: string | null } = {},
    request: RequestInfo = NO_REQUEST,
  ): { subscription: Subscription; events: EventRecord[] } {
    const sub = this.requireSubscription(id);
    if (sub.status === 'canceled') {
      throw apiErrors.invalidState(`This subscription has already been canceled: ${id}`);
    }
    const now = this.now();
    sub.status = 'canceled';
    sub.canceled_at = now;
    sub.ended_at = now;
    sub.cancellation_details = {
      comment: details.comment ?? sub.cancellation_details.comment,
      feedback: details.feedback ?? sub.cancellation_details.feedback,
      reason: 'cancellation_requested',
    };
    return { subscription: sub, events: [this.createEvent('customer.subscription.deleted', sub, { request })] };
  }

  /**
   * Simulates a failed renewal charge. The first failure renews the period
   * (Stripe moves the period forward before charging) and makes the
   * subscription `past_due`; further failures are retries of the same invoice.
   */
  failPayment(id: string): { subscription: Subscription; invoice: Invoice; events: EventRecord[] } {
    const sub = this.requireSubscription(id);
    if (sub.status === 'canceled') throw apiErrors.invalidState('Cannot fail a payment on a canceled subscription.');
    const customer = this.requireCustomerOf(sub);
    const before = snapshot(sub);
    const events: EventRecord[] = [];

    let invoice = sub.latest_invoice ? this.invoices.get(sub.latest_invoice) : undefined;
    if (sub.status === 'past_due' && invoice?.status === 'open') {
      invoice.attempt_count += 1;
      invoice.next_payment_attempt = this.now() + 3 * 86_400;
      this.recordCharge(invoice, customer, false);
    } else {
      const billedPeriod = this.advancePeriod(sub);
      invoice = this.issueInvoice(sub, 'subscription_cycle', false, billedPeriod);
      sub.status = 'past_due';
      customer.delinquent = true;
    }
    events.push(this.createEvent('invoice.payment_failed', invoice));
    const previous = previousAttributes(before, sub);
    if (Object.keys(previous).length > 0) {
      events.push(this.createEvent('customer.subscription.updated', sub, { previousAttributes: previous }));
    }
    return { subscription: sub, invoice, events };
  }

  /**
   * Simulates the end of the current period: a subscription set to cancel ends,
   * a past_due one pays its open invoice, an active one renews and pays.
   */
  renewSubscription(id: string): { subscription: Subscription; invoice: Invoice | null; events: EventRecord[] } {
    const sub = this.requireSubscription(id);
    if (sub.status === 'canceled') throw apiErrors.invalidState('Cannot renew a canceled subscription.');
    const customer = this.requireCustomerOf(sub);

    if (sub.cancel_at_period_end || (sub.cancel_at !== null && sub.cancel_at <= periodEnd(sub))) {
      const now = this.now();
      sub.status = 'canceled';
      sub.ended_at = now;
      return { subscription: sub, invoice: null, events: [this.createEvent('customer.subscription.deleted', sub)] };
    }

    const before = snapshot(sub);
    let invoice = sub.latest_invoice ? this.invoices.get(sub.latest_invoice) : undefined;
    if (sub.status === 'past_due' && invoice?.status === 'open') {
      const now = this.now();
      invoice.status = 'paid';
      invoice.amount_paid = invoice.amount_due;
      invoice.amount_remaining = 0;
      invoice.attempt_count += 1;
      invoice.next_payment_attempt = null;
      invoice.auto_advance = false;
      invoice.status_transitions.paid_at = now;
      this.recordCharge(invoice, customer, true);
    } else {
      const billedPeriod = this.advancePeriod(sub);
      invoice = this.issueInvoice(sub, 'subscription_cycle', true, billedPeriod);
    }
    sub.status = 'active';
    customer.delinquent = false;

    const events: EventRecord[] = [];
    const previous = previousAttributes(before, sub);
    if (Object.keys(previous).length > 0) {
      events.push(this.createEvent('customer.subscription.updated', sub, { previousAttributes: previous }));
    }
    events.push(this.createEvent('invoice.paid', invoice));
    return { subscription: sub, invoice, events };
  }

  // -------------------------------------------------------------- internals

  private requireCustomerOf(sub: Subscription): Customer {
    const customer = this.customers.get(sub.customer);
    if (!customer) throw apiErrors.resourceMissing('customer', sub.customer, 'customer');
    return customer;
  }

  /** Moves every item to its next period; returns the period that just ended. */
  private advancePeriod(sub: Subscription): { start: number; end: number } {
    const ended = { start: sub.items.data[0].current_period_start, end: sub.items.data[0].current_period_end };
    for (const item of sub.items.data) {
      const { interval, interval_count } = item.price.recurring;
      const start = item.current_period_end;
      // Periods are counted from the billing cycle anchor so month-end anchors survive short months.
      let n = 1;
      let end = addInterval(sub.billing_cycle_anchor, interval, interval_count, n);
      while (end <= start) end = addInterval(sub.billing_cycle_anchor, interval, interval_count, ++n);
      item.current_period_start = start;
      item.current_period_end = end;
    }
    return ended;
  }

  /**
   * `period` is the invoice-level period, which Stripe defines oddly: for
   * renewals it is the period that just *ended*, for the first invoice a
   * zero-length period at creation. The lines carry the billed item periods.
   */
  private issueInvoice(
    sub: Subscription,
    reason: BillingReason,
    paid: boolean,
    period: { start: number; end: number },
  ): Invoice {
    const customer = this.requireCustomerOf(sub);
    const now = this.now();
    const invoice = buildInvoice({
      subscription: sub,
      customer,
      billingReason: reason,
      status: paid ? 'paid' : 'open',
      created: now,
      periodStart: period.start,
      periodEnd: period.end,
      number: `${customer.invoice_prefix}-${String(customer.next_invoice_sequence).padStart(4, '0')}`,
      productName: (pid) => this.productName(pid),
    });
    customer.next_invoice_sequence += 1;
    this.invoices.set(invoice.id, invoice);
    sub.latest_invoice = invoice.id;
    this.recordCharge(invoice, customer, paid);
    return invoice;
  }

  private recordCharge(invoice: Invoice, customer: Customer, succeeded: boolean): Charge {
    const charge = buildCharge({ invoice, customer, created: this.now(), succeeded });
    this.charges.set(charge.id, charge);
    return charge;
  }
}

function periodEnd(sub: Subscription): number {
  return sub.items.data[0].current_period_end;
}

/**
 * Stripe's `previous_attributes`: the old values of the top-level fields that
 * changed (a changed `items` list is reported whole, as Stripe does).
 */
export function previousAttributes(before: object, after: object): Record<string, unknown> {
  const b = before as Record<string, unknown>;
  const a = after as Record<string, unknown>;
  const previous: Record<string, unknown> = {};
  for (const key of new Set([...Object.keys(b), ...Object.keys(a)])) {
    if (JSON.stringify(b[key]) !== JSON.stringify(a[key])) previous[key] = b[key] ?? null;
  }
  return previous;
}
