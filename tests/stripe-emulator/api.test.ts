import Stripe from 'stripe';
import { beforeEach, describe, expect, it } from 'vitest';
import { startStripeEmulator, type StripeEmulator } from '../../stripe-emulator/emulator.ts';
import { createCheckout, useHarness, type Harness } from './helpers.ts';

/** Captures the SDK's rejection so tests can assert on the error class and Stripe fields. */
async function stripeError(promise: Promise<unknown>): Promise<Stripe.errors.StripeError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Stripe.errors.StripeError) return error;
    throw error;
  }
  throw new Error('Expected the Stripe call to fail');
}

const harness = useHarness();
let h: Harness;
beforeEach(() => {
  h = harness.current;
});

describe('authentication, routing and headers', () => {
  it('rejects requests without an API key with a 401 envelope', async () => {
    const res = await fetch(`${h.emulator.url}/v1/prices`);
    expect(res.status).toBe(401);
    const body = await res.json();
    expect(body.error.type).toBe('invalid_request_error');
    expect(body.error.message).toMatch(/did not provide an API key/);
  });

  it('rejects keys that are not secret or restricted keys', async () => {
    const stripe = new Stripe('pk_test_nope', { ...h.emulator.stripeConfig, maxNetworkRetries: 0 });
    const error = await stripeError(stripe.prices.list());
    expect(error).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    expect(error.statusCode).toBe(401);
  });

  it('accepts restricted keys and Basic auth (curl -u sk_test_x:)', async () => {
    const restricted = new Stripe('rk_test_reader', { ...h.emulator.stripeConfig, maxNetworkRetries: 0 });
    expect((await restricted.prices.list()).object).toBe('list');
    const res = await fetch(`${h.emulator.url}/v1/products`, {
      headers: { Authorization: `Basic ${Buffer.from('sk_test_curl:').toString('base64')}` },
    });
    expect(res.status).toBe(200);
  });

  it('sets Request-Id, echoes Stripe-Version and answers JSON', async () => {
    const res = await fetch(`${h.emulator.url}/v1/prices/price_emu_pro_monthly`, {
      headers: { Authorization: 'Bearer sk_test_x', 'Stripe-Version': '2026-10-28.endive' },
    });
    expect(res.headers.get('request-id')).toMatch(/^req_[A-Za-z0-9]+$/);
    expect(res.headers.get('stripe-version')).toBe('2026-10-28.endive');
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  });

  it('answers unknown routes with a 404 envelope', async () => {
    const res = await fetch(`${h.emulator.url}/v1/coupons`, { headers: { Authorization: 'Bearer sk_test_x' } });
    expect(res.status).toBe(404);
    expect((await res.json()).error.message).toMatch(/Unrecognized request URL \(GET: \/v1\/coupons\)/);
  });
});

describe('prices and products', () => {
  it('looks prices up by lookup key with the Stripe price shape', async () => {
    const prices = await h.stripe.prices.list({ lookup_keys: ['pro_monthly', 'hobbyist_yearly'] });
    expect(prices.object).toBe('list');
    expect(prices.has_more).toBe(false);
    expect(prices.url).toBe('/v1/prices');
    expect(prices.data.map((p) => p.lookup_key).sort()).toEqual(['hobbyist_yearly', 'pro_monthly']);

    const pro = prices.data.find((p) => p.lookup_key === 'pro_monthly')!;
    expect(pro).toMatchObject({
      id: 'price_emu_pro_monthly',
      object: 'price',
      active: true,
      currency: 'gbp',
      unit_amount: 2900,
      type: 'recurring',
      livemode: false,
      product: 'prod_emu_pro',
      metadata: {},
      recurring: { interval: 'month', interval_count: 1, usage_type: 'licensed', meter: null, trial_period_days: null },
    });
    // The SDK coerces decimal strings; the wire value was "2900".
    expect(String(pro.unit_amount_decimal)).toBe('2900');
  });

  it('serves the four catalogue prices with the agreed amounts', async () => {
    const prices = await h.stripe.prices.list({ active: true, limit: 100 });
    const amounts = Object.fromEntries(prices.data.map((p) => [p.lookup_key, [p.unit_amount, p.recurring?.interval]]));
    expect(amounts).toEqual({
      hobbyist_monthly: [700, 'month'],
      hobbyist_yearly: [7000, 'year'],
      pro_monthly: [2900, 'month'],
      pro_yearly: [29000, 'year'],
    });
  });

  it('expands data.product into full product objects', async () => {
    const prices = await h.stripe.prices.list({ lookup_keys: ['hobbyist_monthly'], expand: ['data.product'] });
    const product = prices.data[0].product as Stripe.Product;
    expect(product).toMatchObject({ id: 'prod_emu_hobbyist', object: 'product', name: 'Hobbyist', active: true });
    expect(product.default_price).toBe('price_emu_hobbyist_monthly');
  });

  it('refuses more than 10 lookup keys, naming the param', async () => {
    const keys = Array.from({ length: 11 }, (_, i) => `key_${i}`);
    const error = await stripeError(h.stripe.prices.list({ lookup_keys: keys }));
    expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(error.statusCode).toBe(400);
    expect(error.param).toBe('lookup_keys');
  });

  it('reports unknown ids as resource_missing on param id', async () => {
    const error = await stripeError(h.stripe.prices.retrieve('price_nope'));
    expect(error.statusCode).toBe(404);
    expect(error.code).toBe('resource_missing');
    expect(error.param).toBe('id');
    expect(error.message).toBe("No such price: 'price_nope'");
  });

  it('paginates lists with limit and starting_after', async () => {
    const first = await h.stripe.prices.list({ limit: 3 });
    expect(first.data).toHaveLength(3);
    expect(first.has_more).toBe(true);
    const rest = await h.stripe.prices.list({ limit: 3, starting_after: first.data[2].id });
    expect(rest.data).toHaveLength(1);
    expect(rest.has_more).toBe(false);
    const error = await stripeError(h.stripe.prices.list({ limit: 1000 }));
    expect(error.param).toBe('limit');
  });

  it('lists and retrieves products', async () => {
    const products = await h.stripe.products.list();
    expect(products.data.map((p) => p.name)).toEqual(['Hobbyist', 'Pro']);
    const pro = await h.stripe.products.retrieve('prod_emu_pro');
    expect(pro.metadata).toEqual({ tier: 'pro' });
  });

  it('filters out inactive prices when asked, using a custom catalogue', async () => {
    const emulator = await startStripeEmulator({
      catalog: {
        products: [
          {
            id: 'prod_x',
            name: 'X',
            prices: [
              { id: 'price_x_live', lookup_key: 'x_live', currency: 'gbp', unit_amount: 100, interval: 'month' },
              { id: 'price_x_old', lookup_key: 'x_old', currency: 'gbp', unit_amount: 90, interval: 'month', active: false },
            ],
          },
        ],
      },
    });
    try {
      const stripe = new Stripe('sk_test_x', { ...emulator.stripeConfig, maxNetworkRetries: 0 });
      expect((await stripe.prices.list({ active: true })).data.map((p) => p.id)).toEqual(['price_x_live']);
      const error = await stripeError(
        stripe.checkout.sessions.create({
          mode: 'subscription',
          line_items: [{ price: 'price_x_old', quantity: 1 }],
          success_url: 'http://app.test/ok',
        }),
      );
      expect(error.statusCode).toBe(400);
      expect(error.param).toBe('line_items[0][price]');
      expect(error.message).toMatch(/inactive/);
    } finally {
      await emulator.close();
    }
  });
});

describe('customers', () => {
  it('creates and retrieves customers', async () => {
    const created = await h.stripe.customers.create({ email: 'ada@example.com', name: 'Ada', metadata: { org_id: 'o1' } });
    expect(created.id).toMatch(/^cus_/);
    expect(created).toMatchObject({ object: 'customer', email: 'ada@example.com', name: 'Ada', livemode: false, delinquent: false });
    const fetched = await h.stripe.customers.retrieve(created.id);
    expect(fetched).toEqual(created);
    const byEmail = await h.stripe.customers.list({ email: 'ada@example.com' });
    expect(byEmail.data.map((c) => c.id)).toEqual([created.id]);
  });

  it('validates the email param', async () => {
    const error = await stripeError(h.stripe.customers.create({ email: 'not-an-email' }));
    expect(error.param).toBe('email');
  });

  it('404s unknown customers', async () => {
    const error = await stripeError(h.stripe.customers.retrieve('cus_missing'));
    expect(error.code).toBe('resource_missing');
    expect(error.statusCode).toBe(404);
  });
});

describe('idempotency', () => {
  async function post(key: string, body: string) {
    return fetch(`${h.emulator.url}/v1/customers`, {
      method: 'POST',
      headers: {
        Authorization: 'Bearer sk_test_x',
        'Content-Type': 'application/x-www-form-urlencoded',
        'Idempotency-Key': key,
      },
      body,
    });
  }

  it('replays the stored response for a repeated key without creating anything new', async () => {
    const first = await post('key-1', 'email=a%40example.com');
    const second = await post('key-1', 'email=a%40example.com');
    const a = await first.json();
    const b = await second.json();
    expect(b.id).toBe(a.id);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(second.headers.get('request-id')).toBe(first.headers.get('request-id'));
    expect(h.emulator.state.customers.size).toBe(1);
  });

  it('rejects the same key with different params as an idempotency_error', async () => {
    await post('key-2', 'email=a%40example.com');
    const res = await post('key-2', 'email=b%40example.com');
    expect(res.status).toBe(400);
    expect((await res.json()).error.type).toBe('idempotency_error');

    // Through the SDK this surfaces as its dedicated error class.
    const error = await stripeError(h.stripe.customers.create({ email: 'c@example.com' }, { idempotencyKey: 'key-2' }));
    expect(error).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
  });

  it('does not store failed requests, so a fixed retry with the same key succeeds', async () => {
    const bad = await post('key-3', 'email=broken');
    expect(bad.status).toBe(400);
    const good = await post('key-3', 'email=fixed%40example.com');
    expect(good.status).toBe(200);
  });
});

describe('checkout sessions', () => {
  it('creates an open hosted session pointing at the emulator', async () => {
    const session = await createCheckout(h.stripe, { allow_promotion_codes: true });
    expect(session.id).toMatch(/^cs_test_a1[A-Za-z0-9]+$/);
    expect(session).toMatchObject({
      object: 'checkout.session',
      mode: 'subscription',
      status: 'open',
      payment_status: 'unpaid',
      ui_mode: 'hosted',
      customer: null,
      customer_email: 'ada@example.com',
      client_reference_id: 'org_123',
      allow_promotion_codes: true,
      metadata: { org_id: 'org_123' },
      amount_total: 2900,
      currency: 'gbp',
      subscription: null,
      livemode: false,
      success_url: 'http://app.test/billing/success?session_id={CHECKOUT_SESSION_ID}',
      cancel_url: 'http://app.test/billing',
    });
    expect(session.url).toBe(`${h.emulator.url}/checkout/${session.id}`);
  });

  it('names line_items[0][price] for an unknown price', async () => {
    const error = await stripeError(createCheckout(h.stripe, { line_items: [{ price: 'price_nope', quantity: 1 }] }));
    expect(error.statusCode).toBe(400);
    expect(error.code).toBe('resource_missing');
    expect(error.param).toBe('line_items[0][price]');
  });

  it('requires success_url', async () => {
    const error = await stripeError(createCheckout(h.stripe, { success_url: undefined }));
    expect(error.param).toBe('success_url');
    expect(error.message).toMatch(/Missing required param/);
  });

  it('refuses both customer and customer_email, and unknown customers', async () => {
    const customer = await h.stripe.customers.create({ email: 'x@example.com' });
    const both = await stripeError(createCheckout(h.stripe, { customer: customer.id }));
    expect(both.param).toBe('customer_email');
    const unknown = await stripeError(createCheckout(h.stripe, { customer: 'cus_nope', customer_email: undefined }));
    expect(unknown.param).toBe('customer');
  });

  it('serves line_items only when expanded', async () => {
    const session = await createCheckout(h.stripe);
    const plain = await h.stripe.checkout.sessions.retrieve(session.id);
    expect(plain.line_items).toBeUndefined();
    const expanded = await h.stripe.checkout.sessions.retrieve(session.id, { expand: ['line_items'] });
    expect(expanded.line_items?.data).toHaveLength(1);
    expect(expanded.line_items?.data[0]).toMatchObject({
      object: 'item',
      quantity: 1,
      amount_total: 2900,
      description: 'Pro',
      price: { id: 'price_emu_pro_monthly', product: 'prod_emu_pro' },
    });
  });

  it('rejects expansions of properties that are not expandable', async () => {
    const session = await createCheckout(h.stripe);
    const error = await stripeError(h.stripe.checkout.sessions.retrieve(session.id, { expand: ['success_url'] }));
    expect(error.param).toBe('expand[0]');
  });
});

describe('billing portal sessions', () => {
  it('creates a session for an existing customer', async () => {
    const customer = await h.stripe.customers.create({ email: 'p@example.com' });
    const portal = await h.stripe.billingPortal.sessions.create({ customer: customer.id, return_url: 'http://app.test/billing' });
    expect(portal.id).toMatch(/^bps_/);
    expect(portal).toMatchObject({
      object: 'billing_portal.session',
      customer: customer.id,
      return_url: 'http://app.test/billing',
      livemode: false,
    });
    expect(portal.url).toBe(`${h.emulator.url}/portal/${portal.id}`);
  });

  it('requires an existing customer', async () => {
    const missing = await stripeError(h.stripe.billingPortal.sessions.create({} as Stripe.BillingPortal.SessionCreateParams));
    expect(missing.param).toBe('customer');
    const unknown = await stripeError(h.stripe.billingPortal.sessions.create({ customer: 'cus_nope' }));
    expect(unknown.param).toBe('customer');
    expect(unknown.code).toBe('resource_missing');
  });
});

describe('subscriptions', () => {
  it('404s unknown subscriptions', async () => {
    const error = await stripeError(h.stripe.subscriptions.retrieve('sub_nope'));
    expect(error.statusCode).toBe(404);
    expect(error.message).toBe("No such subscription: 'sub_nope'");
  });

  it('lists by customer; canceled ones only with status=all or canceled', async () => {
    const a = await h.emulator.completeCheckout((await createCheckout(h.stripe)).id);
    const b = await h.emulator.completeCheckout(
      (await createCheckout(h.stripe, { customer_email: undefined, customer: a.session.customer as string })).id,
    );
    await h.stripe.subscriptions.cancel(a.subscription.id);
    const customer = a.session.customer as string;

    const byDefault = await h.stripe.subscriptions.list({ customer });
    expect(byDefault.data.map((s) => s.id)).toEqual([b.subscription.id]);
    const all = await h.stripe.subscriptions.list({ customer, status: 'all' });
    expect(all.data.map((s) => s.id).sort()).toEqual([a.subscription.id, b.subscription.id].sort());
    const canceled = await h.stripe.subscriptions.list({ customer, status: 'canceled' });
    expect(canceled.data.map((s) => s.id)).toEqual([a.subscription.id]);
  });

  it('switches plan in place and emits customer.subscription.updated with previous_attributes', async () => {
    const { subscription } = await h.emulator.completeCheckout((await createCheckout(h.stripe)).id);
    h.receiver.clear();
    const item = subscription.items.data[0];

    const updated = await h.stripe.subscriptions.update(subscription.id, {
      items: [{ id: item.id, price: 'price_emu_hobbyist_monthly' }],
      metadata: { changed: 'yes' },
    });
    expect(updated.items.data).toHaveLength(1);
    expect(updated.items.data[0].id).toBe(item.id);
    expect(updated.items.data[0].price.id).toBe('price_emu_hobbyist_monthly');
    // Same interval: the billing period is unchanged.
    expect(updated.items.data[0].current_period_end).toBe(item.current_period_end);
    expect(updated.metadata).toEqual({ org_id: 'org_123', changed: 'yes' });

    await h.emulator.settle();
    expect(h.receiver.types).toEqual(['customer.subscription.updated']);
    const event = h.receiver.events[0];
    const previous = event.data.previous_attributes as Record<string, any>;
    expect(previous.items.data[0].price.id).toBe('price_emu_pro_monthly');
    expect(previous.metadata).toEqual({ org_id: 'org_123' });
    expect((event.data.object as Stripe.Subscription).items.data[0].price.id).toBe('price_emu_hobbyist_monthly');
    // Events caused by API calls carry the request id and idempotency key.
    expect(event.request?.id).toMatch(/^req_/);
    expect(event.request?.idempotency_key).toMatch(/^stripe-node-retry-/);
  });

  it('restarts the period and bills when switching monthly → yearly', async () => {
    const { subscription } = await h.emulator.completeCheckout((await createCheckout(h.stripe)).id);
    h.receiver.clear();
    const updated = await h.stripe.subscriptions.update(subscription.id, {
      items: [{ id: subscription.items.data[0].id, price: 'price_emu_pro_yearly' }],
    });
    const item = updated.items.data[0];
    const year = item.current_period_end - item.current_period_start;
    expect(year).toBeGreaterThanOrEqual(365 * 86_400);
    expect(year).toBeLessThanOrEqual(366 * 86_400);
    expect(updated.latest_invoice).not.toBe(subscription.latest_invoice);
    await h.emulator.settle();
    expect(h.receiver.types).toEqual(['customer.subscription.updated', 'invoice.paid']);
    expect((h.receiver.events[1].data.object as Stripe.Invoice).amount_paid).toBe(29000);
  });

  it('sets cancel_at_period_end and cancel_at, and clears them again', async () => {
    const { subscription } = await h.emulator.completeCheckout((await createCheckout(h.stripe)).id);
    const periodEnd = subscription.items.data[0].current_period_end;
    const canceling = await h.stripe.subscriptions.update(subscription.id, { cancel_at_period_end: true });
    expect(canceling).toMatchObject({ cancel_at_period_end: true, cancel_at: periodEnd, status: 'active' });
    expect(canceling.canceled_at).toEqual(expect.any(Number));
    const resumed = await h.stripe.subscriptions.update(subscription.id, { cancel_at_period_end: false });
    expect(resumed).toMatchObject({ cancel_at_period_end: false, cancel_at: null, canceled_at: null });
  });

  it('validates update params and leaves the subscription untouched on error', async () => {
    const { subscription } = await h.emulator.completeCheckout((await createCheckout(h.stripe)).id);
    const badPrice = await stripeError(
      h.stripe.subscriptions.update(subscription.id, { items: [{ id: subscription.items.data[0].id, price: 'price_nope' }] }),
    );
    expect(badPrice.param).toBe('items[0][price]');
    const badItem = await stripeError(
      h.stripe.subscriptions.update(subscription.id, {
        items: [
          { id: subscription.items.data[0].id, price: 'price_emu_hobbyist_monthly' },
          { id: 'si_other', price: 'price_emu_pro_yearly' },
        ],
      }),
    );
    expect(badItem.param).toBe('items[1][id]');
    const badBool = await stripeError(
      h.stripe.subscriptions.update(subscription.id, { cancel_at_period_end: 'maybe' as unknown as boolean }),
    );
    expect(badBool.param).toBe('cancel_at_period_end');
    const after = await h.stripe.subscriptions.retrieve(subscription.id);
    expect(after.items.data[0].price.id).toBe('price_emu_pro_monthly');
  });

  it('cancels immediately with DELETE and emits customer.subscription.deleted', async () => {
    const { subscription } = await h.emulator.completeCheckout((await createCheckout(h.stripe)).id);
    h.receiver.clear();
    const canceled = await h.stripe.subscriptions.cancel(subscription.id, {
      cancellation_details: { comment: 'moving on', feedback: 'too_expensive' },
    });
    expect(canceled.status).toBe('canceled');
    expect(canceled.ended_at).toEqual(expect.any(Number));
    expect(canceled.canceled_at).toEqual(expect.any(Number));
    expect(canceled.cancellation_details).toEqual({ comment: 'moving on', feedback: 'too_expensive', reason: 'cancellation_requested' });
    await h.emulator.settle();
    expect(h.receiver.types).toEqual(['customer.subscription.deleted']);

    const again = await stripeError(h.stripe.subscriptions.cancel(subscription.id));
    expect(again.statusCode).toBe(400);
    const planChange = await stripeError(
      h.stripe.subscriptions.update(subscription.id, { items: [{ id: subscription.items.data[0].id, price: 'price_emu_pro_yearly' }] }),
    );
    expect(planChange.message).toMatch(/canceled subscription/);
  });
});

describe('events API', () => {
  it('lists events newest first with type filters and retrieves them by id', async () => {
    await h.emulator.completeCheckout((await createCheckout(h.stripe)).id);
    const all = await h.stripe.events.list();
    expect(all.data.map((e) => e.type)).toEqual(['invoice.paid', 'checkout.session.completed', 'customer.subscription.created']);
    const completed = await h.stripe.events.list({ type: 'checkout.session.completed' });
    expect(completed.data).toHaveLength(1);
    const wildcard = await h.stripe.events.list({ type: 'customer.subscription.*' });
    expect(wildcard.data.map((e) => e.type)).toEqual(['customer.subscription.created']);
    const limited = await h.stripe.events.list({ limit: 1 });
    expect(limited.data).toHaveLength(1);
    expect(limited.has_more).toBe(true);

    const event = await h.stripe.events.retrieve(completed.data[0].id);
    expect(event).toMatchObject({ object: 'event', api_version: '2026-10-28.endive', livemode: false, type: 'checkout.session.completed' });
    const missing = await stripeError(h.stripe.events.retrieve('evt_nope'));
    expect(missing.code).toBe('resource_missing');
  });
});

describe('emulator lifecycle', () => {
  it('binds a random port by default and frees it on close', async () => {
    const emulator: StripeEmulator = await startStripeEmulator();
    expect(emulator.port).toBeGreaterThan(0);
    expect(emulator.url).toBe(`http://127.0.0.1:${emulator.port}`);
    const health = await (await fetch(`${emulator.url}/_emulator/health`)).json();
    expect(health).toMatchObject({ ok: true, webhook_url: null });
    await emulator.close();
    await expect(fetch(`${emulator.url}/_emulator/health`)).rejects.toThrow();
  });
});
