/**
 * The /v1 endpoints. Handlers parse and validate parameters (errors name the
 * offending param, as Stripe's do), resolve referenced objects, then call into
 * BillingState. Auth, idempotency and response headers live in emulator.ts.
 */
import type { BillingState, RequestInfo, SubscriptionChanges, SubscriptionItemChange } from './billing.ts';
import { apiErrors } from './errors.ts';
import { Router, type PathParams } from './http.ts';
import { list } from './objects.ts';
import { applyMetadataPatch, type Params } from './params.ts';
import { createdFilter, expand, newestFirst, paginate } from './query.ts';
import type { EventRecord, Price, Subscription, SubscriptionStatus } from './types.ts';

export interface ApiContext {
  state: BillingState;
  params: Params;
  request: RequestInfo;
  /** Where the hosted checkout and portal pages are served. */
  publicUrl: string;
  /** Webhooks for API-triggered events go out asynchronously, as with Stripe. */
  deliverInBackground: (records: EventRecord[]) => void;
}

export type ApiHandler = (ctx: ApiContext, path: PathParams) => object;

const SUBSCRIPTION_LIST_STATUSES = [
  'active',
  'all',
  'canceled',
  'ended',
  'incomplete',
  'incomplete_expired',
  'past_due',
  'paused',
  'trialing',
  'unpaid',
] as const;

export function buildApiRouter(): Router<ApiHandler> {
  const router = new Router<ApiHandler>();

  // ------------------------------------------------------------- catalogue

  router.add('GET', '/v1/prices', ({ state, params }) => {
    const lookupKeys = params.stringArray('lookup_keys');
    if (lookupKeys && lookupKeys.length > 10) {
      throw apiErrors.invalidParam('lookup_keys', `You may only specify up to 10 lookup_keys, but ${lookupKeys.length} were given.`);
    }
    const active = params.boolean('active');
    const currency = params.string('currency');
    const product = params.string('product');
    const type = params.enumValue('type', ['one_time', 'recurring'] as const);
    const recurring = params.object('recurring');
    const interval = recurring?.enumValue('interval', ['day', 'week', 'month', 'year'] as const);
    const expandPaths = params.expand();

    const prices = [...state.prices.values()].filter(
      (p) =>
        (active === undefined || p.active === active) &&
        (currency === undefined || p.currency === currency.toLowerCase()) &&
        (product === undefined || p.product === product) &&
        (type === undefined || p.type === type) &&
        (interval === undefined || p.recurring.interval === interval) &&
        (lookupKeys === undefined || (p.lookup_key !== null && lookupKeys.includes(p.lookup_key))),
    );
    return expand(paginate(prices, params, '/v1/prices', 'price'), expandPaths, (id) => state.findById(id));
  });

  router.add('GET', '/v1/prices/:id', ({ state, params }, { id }) => {
    const price = state.prices.get(id);
    if (!price) throw apiErrors.resourceMissing('price', id);
    return expand(price, params.expand(), (x) => state.findById(x));
  });

  router.add('GET', '/v1/products', ({ state, params }) => {
    const active = params.boolean('active');
    const ids = params.stringArray('ids');
    const products = [...state.products.values()].filter(
      (p) => (active === undefined || p.active === active) && (ids === undefined || ids.includes(p.id)),
    );
    return expand(paginate(products, params, '/v1/products', 'product'), params.expand(), (x) => state.findById(x));
  });

  router.add('GET', '/v1/products/:id', ({ state, params }, { id }) => {
    const product = state.products.get(id);
    if (!product) throw apiErrors.resourceMissing('product', id);
    return expand(product, params.expand(), (x) => state.findById(x));
  });

  // ------------------------------------------------------------- customers

  router.add('POST', '/v1/customers', ({ state, params }) => {
    const customer = state.createCustomer({
      email: optionalEmail(params, 'email'),
      name: params.nullableString('name'),
      description: params.nullableString('description'),
      phone: params.nullableString('phone'),
      metadata: params.metadata(),
    });
    return expand(customer, params.expand(), (x) => state.findById(x));
  });

  router.add('GET', '/v1/customers', ({ state, params }) => {
    const email = params.string('email');
    const matchesCreated = createdFilter(params);
    const customers = newestFirst(state.customers.values()).filter(
      (c) => (email === undefined || c.email === email) && matchesCreated(c.created),
    );
    return expand(paginate(customers, params, '/v1/customers', 'customer'), params.expand(), (x) => state.findById(x));
  });

  router.add('GET', '/v1/customers/:id', ({ state, params }, { id }) => {
    const customer = state.customers.get(id);
    if (!customer) throw apiErrors.resourceMissing('customer', id);
    return expand(customer, params.expand(), (x) => state.findById(x));
  });

  router.add('POST', '/v1/customers/:id', ({ state, params }, { id }) => {
    const customer = state.customers.get(id);
    if (!customer) throw apiErrors.resourceMissing('customer', id);
    const email = optionalEmail(params, 'email');
    const name = params.nullableString('name');
    const description = params.nullableString('description');
    const phone = params.nullableString('phone');
    const metadata = params.metadataPatch();
    if (email !== undefined) customer.email = email;
    if (name !== undefined) customer.name = name;
    if (description !== undefined) customer.description = description;
    if (phone !== undefined) customer.phone = phone;
    if (metadata) customer.metadata = applyMetadataPatch(customer.metadata, metadata);
    return expand(customer, params.expand(), (x) => state.findById(x));
  });

  // -------------------------------------------------------------- checkout

  router.add('POST', '/v1/checkout/sessions', ({ state, params, publicUrl }) => {
    const mode = params.enumValue('mode', ['payment', 'setup', 'subscription'] as const);
    if (!mode) throw apiErrors.missingParam('mode');
    if (mode !== 'subscription') {
      throw apiErrors.invalidParam('mode', `The Stripe emulator only supports mode=subscription (got ${mode}).`);
    }
    const uiMode = params.enumValue('ui_mode', ['hosted', 'hosted_page', 'embedded', 'embedded_page', 'custom', 'elements'] as const);
    if (uiMode && uiMode !== 'hosted' && uiMode !== 'hosted_page') {
      throw apiErrors.invalidParam('ui_mode', 'The Stripe emulator only supports hosted Checkout pages.');
    }

    const lineItemParams = params.objectArray('line_items');
    if (!lineItemParams || lineItemParams.length === 0) throw apiErrors.missingParam('line_items');
    const lineItems = lineItemParams.map((li) => {
      if (li.has('price_data')) {
        throw apiErrors.invalidParam(li.name('price_data'), 'The Stripe emulator only supports catalogue prices: pass `price`.');
      }
      const price = activePrice(state, li.requiredString('price'), li.name('price'));
      const quantity = li.integer('quantity', { min: 1, max: 999_999 });
      if (quantity === undefined) throw apiErrors.missingParam(li.name('quantity'));
      return { price, quantity };
    });
    const [first] = lineItems;
    for (const { price } of lineItems) {
      if (price.currency !== first.price.currency) {
        throw apiErrors.invalidParam('line_items', 'All line items must use the same currency.');
      }
      if (
        price.recurring.interval !== first.price.recurring.interval ||
        price.recurring.interval_count !== first.price.recurring.interval_count
      ) {
        throw apiErrors.invalidParam('line_items', 'All recurring prices in a subscription must have the same billing interval.');
      }
    }

    const successUrl = params.string('success_url');
    if (!successUrl) throw apiErrors.missingParam('success_url');
    requireUrl(successUrl, 'success_url');
    const cancelUrl = params.string('cancel_url') || null;
    if (cancelUrl) requireUrl(cancelUrl, 'cancel_url');

    const customerId = params.string('customer') || undefined;
    const customerEmail = optionalEmail(params, 'customer_email') ?? null;
    if (customerId && customerEmail) {
      throw apiErrors.invalidParam('customer_email', 'You may only specify one of these parameters: customer, customer_email.');
    }
    const customer = customerId ? state.customers.get(customerId) : null;
    if (customerId && !customer) throw apiErrors.resourceMissing('customer', customerId, 'customer');

    const clientReferenceId = params.string('client_reference_id') || null;
    if (clientReferenceId && clientReferenceId.length > 200) {
      throw apiErrors.invalidParam('client_reference_id', 'client_reference_id must be at most 200 characters.');
    }

    const subscriptionData = params.object('subscription_data');
    if (subscriptionData?.has('trial_period_days') || subscriptionData?.has('trial_end')) {
      throw apiErrors.invalidParam(
        subscriptionData.name('trial_period_days'),
        'The Stripe emulator does not support trials.',
      );
    }

    const session = state.createCheckoutSession(
      {
        lineItems,
        successUrl,
        cancelUrl,
        customer: customer ?? null,
        customerEmail,
        clientReferenceId,
        allowPromotionCodes: params.boolean('allow_promotion_codes') ?? null,
        metadata: params.metadata(),
        subscriptionMetadata: subscriptionData?.metadata() ?? {},
        subscriptionDescription: subscriptionData?.string('description') ?? null,
      },
      (id) => `${publicUrl}/checkout/${id}`,
    );
    return expandSession(state, session.id, params.expand());
  });

  router.add('GET', '/v1/checkout/sessions', ({ state, params }) => {
    const customer = params.string('customer');
    const subscription = params.string('subscription');
    const status = params.enumValue('status', ['open', 'complete', 'expired'] as const);
    const sessions = newestFirst([...state.checkoutSessions.values()].map((r) => r.session)).filter(
      (s) =>
        (customer === undefined || s.customer === customer) &&
        (subscription === undefined || s.subscription === subscription) &&
        (status === undefined || s.status === status),
    );
    return expand(paginate(sessions, params, '/v1/checkout/sessions', 'checkout.session'), params.expand(), (x) =>
      state.findById(x),
    );
  });

  router.add('GET', '/v1/checkout/sessions/:id', ({ state, params }, { id }) => expandSession(state, id, params.expand()));

  router.add('GET', '/v1/checkout/sessions/:id/line_items', ({ state, params }, { id }) => {
    const record = state.checkoutSessions.get(id);
    if (!record) throw apiErrors.resourceMissing('checkout.session', id);
    return expand(
      paginate(record.lineItems, params, `/v1/checkout/sessions/${id}/line_items`, 'line item'),
      params.expand(),
      (x) => state.findById(x),
    );
  });

  router.add('POST', '/v1/checkout/sessions/:id/expire', ({ state, params, request, deliverInBackground }, { id }) => {
    const { events } = state.expireCheckoutSession(id, request);
    deliverInBackground(events);
    return expandSession(state, id, params.expand());
  });

  // ---------------------------------------------------------------- portal

  router.add('POST', '/v1/billing_portal/sessions', ({ state, params, publicUrl }) => {
    const customerId = params.requiredString('customer');
    const customer = state.customers.get(customerId);
    if (!customer) throw apiErrors.resourceMissing('customer', customerId, 'customer');
    const returnUrl = params.string('return_url') || null;
    if (returnUrl) requireUrl(returnUrl, 'return_url');
    if (params.has('flow_data')) {
      throw apiErrors.invalidParam('flow_data', 'The Stripe emulator does not support portal flows; omit flow_data.');
    }
    const session = state.createPortalSession(
      { customer, returnUrl, locale: params.string('locale') ?? null },
      (id) => `${publicUrl}/portal/${id}`,
    );
    return expand(session, params.expand(), (x) => state.findById(x));
  });

  // --------------------------------------------------------- subscriptions

  router.add('GET', '/v1/subscriptions', ({ state, params }) => {
    const customer = params.string('customer');
    const price = params.string('price');
    const status = params.enumValue('status', SUBSCRIPTION_LIST_STATUSES);
    const matchesCreated = createdFilter(params);
    const matchesStatus = (s: SubscriptionStatus): boolean => {
      if (status === undefined) return s !== 'canceled' && s !== 'incomplete_expired';
      if (status === 'all') return true;
      if (status === 'ended') return s === 'canceled' || s === 'incomplete_expired';
      return s === status;
    };
    const subscriptions = newestFirst(state.subscriptions.values()).filter(
      (s) =>
        (customer === undefined || s.customer === customer) &&
        (price === undefined || s.items.data.some((item) => item.price.id === price)) &&
        matchesStatus(s.status) &&
        matchesCreated(s.created),
    );
    return expand(paginate(subscriptions, params, '/v1/subscriptions', 'subscription'), params.expand(), (x) =>
      state.findById(x),
    );
  });

  router.add('GET', '/v1/subscriptions/:id', ({ state, params }, { id }) =>
    expand(state.requireSubscription(id), params.expand(), (x) => state.findById(x)),
  );

  router.add('POST', '/v1/subscriptions/:id', ({ state, params, request, deliverInBackground }, { id }) => {
    const current = state.requireSubscription(id);
    const changes = parseSubscriptionChanges(state, params, current);
    const { subscription, events } = state.updateSubscription(id, changes, request);
    deliverInBackground(events);
    return expand(subscription, params.expand(), (x) => state.findById(x));
  });

  router.add('DELETE', '/v1/subscriptions/:id', ({ state, params, request, deliverInBackground }, { id }) => {
    state.requireSubscription(id);
    const details = params.object('cancellation_details');
    const comment = details?.nullableString('comment');
    const feedback = details?.enumValue('feedback', [
      'customer_service',
      'low_quality',
      'missing_features',
      'other',
      'switched_service',
      'too_complex',
      'too_expensive',
      'unused',
    ] as const);
    // Accepted for compatibility; the emulator never prorates on cancel.
    params.boolean('invoice_now');
    params.boolean('prorate');
    const { subscription, events } = state.cancelSubscription(id, { comment, feedback }, request);
    deliverInBackground(events);
    return expand(subscription, params.expand(), (x) => state.findById(x));
  });

  // ---------------------------------------------------- invoices & charges

  router.add('GET', '/v1/invoices', ({ state, params }) => {
    const customer = params.string('customer');
    const subscription = params.string('subscription');
    const status = params.enumValue('status', ['draft', 'open', 'paid', 'uncollectible', 'void'] as const);
    const invoices = newestFirst(state.invoices.values()).filter(
      (inv) =>
        (customer === undefined || inv.customer === customer) &&
        (subscription === undefined || inv.parent.subscription_details.subscription === subscription) &&
        (status === undefined || inv.status === status),
    );
    return expand(paginate(invoices, params, '/v1/invoices', 'invoice'), params.expand(), (x) => state.findById(x));
  });

  router.add('GET', '/v1/invoices/:id', ({ state, params }, { id }) => {
    const invoice = state.invoices.get(id);
    if (!invoice) throw apiErrors.resourceMissing('invoice', id);
    return expand(invoice, params.expand(), (x) => state.findById(x));
  });

  router.add('GET', '/v1/charges/:id', ({ state, params }, { id }) => {
    const charge = state.charges.get(id);
    if (!charge) throw apiErrors.resourceMissing('charge', id);
    return expand(charge, params.expand(), (x) => state.findById(x));
  });

  // ---------------------------------------------------------------- events

  router.add('GET', '/v1/events', ({ state, params }) => {
    const type = params.string('type');
    const types = params.stringArray('types');
    if (type && types) throw apiErrors.invalidParam('types', 'You may only specify one of these parameters: type, types.');
    if (types && types.length > 20) throw apiErrors.invalidParam('types', 'You may only specify up to 20 types.');
    const patterns = (types ?? (type ? [type] : [])).map(typePattern);
    const matchesCreated = createdFilter(params);
    const events = newestFirst(state.events.map((r) => r.event)).filter(
      (e) => (patterns.length === 0 || patterns.some((re) => re.test(e.type))) && matchesCreated(e.created),
    );
    return paginate(events, params, '/v1/events', 'event');
  });

  router.add('GET', '/v1/events/:id', ({ state }, { id }) => {
    const record = state.getEvent(id);
    if (!record) throw apiErrors.resourceMissing('event', id);
    return record.event;
  });

  return router;
}

function expandSession(state: BillingState, id: string, paths: string[]): object {
  const record = state.checkoutSessions.get(id);
  if (!record) throw apiErrors.resourceMissing('checkout.session', id);
  return expand(record.session, paths, (x) => state.findById(x), {
    line_items: () => list(record.lineItems, `/v1/checkout/sessions/${id}/line_items`),
  });
}

function activePrice(state: BillingState, id: string, param: string): Price {
  const price = state.prices.get(id);
  if (!price) throw apiErrors.resourceMissing('price', id, param);
  if (!price.active) {
    throw apiErrors.invalidParam(param, `The price specified (${id}) is inactive. This field only accepts active prices.`);
  }
  return price;
}

function parseSubscriptionChanges(state: BillingState, params: Params, current: Subscription): SubscriptionChanges {
  const changes: SubscriptionChanges = {};
  const items = params.objectArray('items');
  if (items) {
    changes.items = items.map((item): SubscriptionItemChange => {
      const priceId = item.string('price');
      return {
        id: item.string('id') || undefined,
        price: priceId ? activePrice(state, priceId, item.name('price')) : undefined,
        quantity: item.integer('quantity', { min: 1, max: 999_999 }),
        deleted: item.boolean('deleted'),
      };
    });
  }

  const cancelAtPeriodEnd = params.boolean('cancel_at_period_end');
  if (params.has('cancel_at') && cancelAtPeriodEnd !== undefined) {
    throw apiErrors.invalidParam('cancel_at', 'You may only specify one of these parameters: cancel_at, cancel_at_period_end.');
  }
  if (cancelAtPeriodEnd !== undefined) changes.cancelAtPeriodEnd = cancelAtPeriodEnd;
  if (params.has('cancel_at')) {
    const raw = params.string('cancel_at');
    if (raw === '') changes.cancelAt = null;
    else if (raw === 'min_period_end' || raw === 'max_period_end') {
      // All items share one period in the emulator, so both mean "end of the current period".
      changes.cancelAt = current.items.data[0].current_period_end;
    } else changes.cancelAt = params.integer('cancel_at', { min: 0 })!;
  }

  changes.metadata = params.metadataPatch();
  const description = params.nullableString('description');
  if (description !== undefined) changes.description = description;

  // Accepted so real-world calls work; the emulator does not model prorations.
  params.enumValue('proration_behavior', ['always_invoice', 'create_prorations', 'none'] as const);
  params.enumValue('payment_behavior', [
    'allow_incomplete',
    'default_incomplete',
    'error_if_incomplete',
    'pending_if_incomplete',
  ] as const);
  params.enumValue('billing_cycle_anchor', ['now', 'unchanged'] as const);
  return changes;
}

function optionalEmail(params: Params, key: string): string | null | undefined {
  const email = params.nullableString(key);
  if (email && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) {
    throw apiErrors.invalidParam(params.name(key), `Invalid email address: ${email}`, 'email_invalid');
  }
  return email;
}

function requireUrl(value: string, param: string): void {
  // `{CHECKOUT_SESSION_ID}` is a template placeholder, not part of the URL syntax.
  const candidate = value.replace(/\{CHECKOUT_SESSION_ID\}/g, 'x');
  let ok = false;
  try {
    const url = new URL(candidate);
    ok = url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    ok = false;
  }
  if (!ok) throw apiErrors.invalidParam(param, `Not a valid URL: ${param} must be an absolute http(s) URL.`, 'url_invalid');
}

/** Stripe's event type filter accepts `*` wildcards, e.g. `customer.subscription.*`. */
function typePattern(type: string): RegExp {
  const escaped = type.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`);
}
