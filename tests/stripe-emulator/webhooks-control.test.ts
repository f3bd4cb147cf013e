import Stripe from 'stripe';
import { beforeEach, describe, expect, it } from 'vitest';
import { startStripeEmulator } from '../../stripe-emulator/emulator.ts';
import { signatureHeader } from '../../stripe-emulator/webhooks.ts';
import { WEBHOOK_SECRET, WebhookReceiver, control, createCheckout, useHarness, type Harness } from './helpers.ts';

const harness = useHarness();
let h: Harness;
beforeEach(() => {
  h = harness.current;
});

async function subscribe(): Promise<{ subscriptionId: string; customerId: string }> {
  const { subscription } = await h.emulator.completeCheckout((await createCheckout(h.stripe)).id);
  h.receiver.clear();
  return { subscriptionId: subscription.id, customerId: subscription.customer as string };
}

describe('webhook signatures', () => {
  it('produces headers the Stripe SDK verifies, and that fail with the wrong secret or a tampered body', () => {
    const payload = JSON.stringify({ id: 'evt_1', object: 'event' }, null, 2);
    const header = signatureHeader(payload, WEBHOOK_SECRET, Math.floor(Date.now() / 1000));
    expect(h.stripe.webhooks.constructEvent(payload, header, WEBHOOK_SECRET).id).toBe('evt_1');
    expect(() => h.stripe.webhooks.constructEvent(payload, header, 'whsec_other')).toThrow(
      Stripe.errors.StripeSignatureVerificationError,
    );
    expect(() => h.stripe.webhooks.constructEvent(payload.replace('evt_1', 'evt_2'), header, WEBHOOK_SECRET)).toThrow(
      Stripe.errors.StripeSignatureVerificationError,
    );
  });

  it('an app configured with a different secret rejects deliveries, and the 400 is recorded', async () => {
    const strictApp = await new WebhookReceiver('whsec_not_the_emulators').start();
    try {
      h.emulator.setWebhookUrl(strictApp.url);
      const event = await h.emulator.createEvent('customer.created', { id: 'cus_x', object: 'customer' });
      expect(strictApp.received[0].signatureError).toMatch(/No signatures found matching/);
      const record = h.emulator.events.find((r) => r.event.id === event.id)!;
      expect(record.deliveries[0]).toMatchObject({ status: 400, ok: false });
    } finally {
      await strictApp.close();
    }
  });
});

describe('createEvent', () => {
  it('wraps any object in a signed event and delivers it', async () => {
    const created = 1_700_000_000;
    const event = await h.emulator.createEvent(
      'customer.subscription.updated',
      { id: 'sub_custom', object: 'subscription', status: 'unpaid' },
      { created, previousAttributes: { status: 'past_due' } },
    );
    expect(event).toMatchObject({
      object: 'event',
      type: 'customer.subscription.updated',
      created,
      data: { object: { id: 'sub_custom', status: 'unpaid' }, previous_attributes: { status: 'past_due' } },
    });
    expect(h.receiver.events.map((e) => e.id)).toEqual([event.id]);
    expect(h.receiver.events[0].created).toBe(created);
  });

  it('records without delivering when deliver is false, and snapshots the object', async () => {
    const object = { id: 'cus_snap', object: 'customer', email: 'before@example.com' };
    const event = await h.emulator.createEvent('customer.updated', object, { deliver: false });
    object.email = 'after@example.com';
    expect(h.receiver.received).toHaveLength(0);
    expect((await h.stripe.events.retrieve(event.id)).data.object).toMatchObject({ email: 'before@example.com' });
  });

  it('is available over HTTP, including snapshotting a stored object by id', async () => {
    const { subscriptionId } = await subscribe();
    const res = await control(h.emulator, 'POST', 'events', { type: 'customer.subscription.paused', object: subscriptionId });
    expect(res.status).toBe(200);
    expect(res.body.event.data.object.id).toBe(subscriptionId);
    expect(res.body.deliveries[0].status).toBe(200);
    expect(h.receiver.types).toEqual(['customer.subscription.paused']);

    const bad = await control(h.emulator, 'POST', 'events', { object: {} });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/type/);
  });
});

describe('redelivery', () => {
  it('delivers the same event twice in sequence (duplicate webhook)', async () => {
    const event = await h.emulator.createEvent('invoice.paid', { id: 'in_1', object: 'invoice' }, { deliver: false });
    const results = await h.emulator.deliver(event.id, { times: 2 });
    expect(results.map((r) => r.status)).toEqual([200, 200]);
    expect(h.receiver.events.map((e) => e.id)).toEqual([event.id, event.id]);
    expect(h.emulator.events[0].deliveries).toHaveLength(2);
  });

  it('delivers 20 copies concurrently: all in flight at once', async () => {
    const event = await h.emulator.createEvent('invoice.paid', { id: 'in_2', object: 'invoice' }, { deliver: false });
    h.receiver.delayMs = 300;
    const started = Date.now();
    const res = await control(h.emulator, 'POST', `events/${event.id}/deliver`, { times: 20, concurrent: true });
    const elapsed = Date.now() - started;
    expect(res.status).toBe(200);
    expect(res.body.deliveries).toHaveLength(20);
    expect(res.body.deliveries.every((d: { status: number }) => d.status === 200)).toBe(true);
    expect(h.receiver.received).toHaveLength(20);
    expect(h.receiver.received.every((r) => r.event?.id === event.id)).toBe(true);
    // Sequential delivery would take 20 × 300 ms.
    expect(elapsed).toBeLessThan(3000);
  });

  it('delivers a chosen sequence in exactly that order (out-of-order tests)', async () => {
    const { subscriptionId } = await subscribe();
    await h.stripe.subscriptions.update(subscriptionId, { metadata: { step: '1' } });
    await h.stripe.subscriptions.cancel(subscriptionId);
    await h.emulator.settle();
    const [updated, deleted] = h.receiver.events;
    expect([updated.type, deleted.type]).toEqual(['customer.subscription.updated', 'customer.subscription.deleted']);
    h.receiver.clear();

    const res = await control(h.emulator, 'POST', 'deliver', { event_ids: [deleted.id, updated.id] });
    expect(res.status).toBe(200);
    expect(h.receiver.events.map((e) => e.id)).toEqual([deleted.id, updated.id]);
  });

  it('records non-2xx answers from the app', async () => {
    h.receiver.status = 500;
    const event = await h.emulator.createEvent('invoice.paid', { id: 'in_3', object: 'invoice' });
    const record = h.emulator.events.find((r) => r.event.id === event.id)!;
    expect(record.deliveries[0]).toMatchObject({ status: 500, ok: false });
    expect(record.event.pending_webhooks).toBe(1);
    h.receiver.status = 200;
    await h.emulator.deliver(event.id);
    expect(record.deliveries.map((d) => d.status)).toEqual([500, 200]);
    expect(record.event.pending_webhooks).toBe(0);
  });

  it('reports unknown events and a missing webhook URL as errors', async () => {
    const unknown = await control(h.emulator, 'POST', 'events/evt_nope/deliver', {});
    expect(unknown.status).toBe(404);
    const event = await h.emulator.createEvent('invoice.paid', { id: 'in_4' }, { deliver: false });
    h.emulator.setWebhookUrl(null);
    await expect(h.emulator.deliver(event.id)).rejects.toThrow(/No webhook URL/);
    // Without a URL, new events are still recorded.
    await h.emulator.createEvent('invoice.paid', { id: 'in_5' });
    expect(h.emulator.events).toHaveLength(2);
    expect(h.receiver.received).toHaveLength(0);
  });
});

describe('hold and release', () => {
  it('parks automatic deliveries and releases them in reverse order', async () => {
    expect((await control(h.emulator, 'POST', 'webhooks/hold')).body).toEqual({ held: true });
    const { subscription } = await h.emulator.completeCheckout((await createCheckout(h.stripe)).id);
    expect(h.receiver.received).toHaveLength(0);
    expect(h.emulator.heldEventIds).toHaveLength(3);
    // The state changed even though the app has not heard about it yet.
    expect((await h.stripe.subscriptions.retrieve(subscription.id)).status).toBe('active');

    const res = await control(h.emulator, 'POST', 'webhooks/release', { order: 'reverse' });
    expect(res.body.deliveries).toHaveLength(3);
    expect(h.receiver.types).toEqual(['invoice.paid', 'checkout.session.completed', 'customer.subscription.created']);
    expect(h.emulator.heldEventIds).toHaveLength(0);

    // After release, deliveries are automatic again.
    await h.emulator.createEvent('ping', { id: 'x' });
    expect(h.receiver.received).toHaveLength(4);
  });

  it('releases in creation order by default', async () => {
    h.emulator.holdWebhooks();
    await h.emulator.createEvent('a.one', { id: '1' });
    await h.emulator.createEvent('a.two', { id: '2' });
    await h.emulator.releaseWebhooks();
    expect(h.receiver.types).toEqual(['a.one', 'a.two']);
  });
});

describe('payment failure and renewal', () => {
  it('failPayment makes the subscription past_due and emits invoice.payment_failed then customer.subscription.updated', async () => {
    const { subscriptionId, customerId } = await subscribe();
    const before = await h.stripe.subscriptions.retrieve(subscriptionId);
    const res = await control(h.emulator, 'POST', `subscriptions/${subscriptionId}/fail_payment`);
    expect(res.status).toBe(200);

    expect(h.receiver.types).toEqual(['invoice.payment_failed', 'customer.subscription.updated']);
    const invoice = h.receiver.events[0].data.object as Stripe.Invoice;
    expect(invoice).toMatchObject({
      status: 'open',
      amount_paid: 0,
      amount_due: 2900,
      amount_remaining: 2900,
      attempted: true,
      attempt_count: 1,
      billing_reason: 'subscription_cycle',
    });
    const updated = h.receiver.events[1];
    expect((updated.data.object as Stripe.Subscription).status).toBe('past_due');
    expect((updated.data.previous_attributes as Record<string, unknown>).status).toBe('active');

    const after = await h.stripe.subscriptions.retrieve(subscriptionId);
    expect(after.status).toBe('past_due');
    expect(after.latest_invoice).toBe(invoice.id);
    // The failed renewal still moved the billing period forward, as Stripe does.
    expect(after.items.data[0].current_period_start).toBe(before.items.data[0].current_period_end);
    expect(((await h.stripe.customers.retrieve(customerId)) as Stripe.Customer).delinquent).toBe(true);
  });

  it('a second failure retries the same invoice without another subscription update', async () => {
    const { subscriptionId } = await subscribe();
    const first = await h.emulator.failPayment(subscriptionId);
    h.receiver.clear();
    const second = await h.emulator.failPayment(subscriptionId);
    expect(second.invoice.id).toBe(first.invoice.id);
    expect(second.invoice.attempt_count).toBe(2);
    expect(h.receiver.types).toEqual(['invoice.payment_failed']);
  });

  it('renew recovers a past_due subscription, and renews an active one into the next period', async () => {
    const { subscriptionId } = await subscribe();
    await h.emulator.failPayment(subscriptionId);
    h.receiver.clear();
    const recovered = await h.emulator.renewSubscription(subscriptionId);
    expect(recovered.subscription.status).toBe('active');
    expect(recovered.invoice?.status).toBe('paid');
    expect(h.receiver.types).toEqual(['customer.subscription.updated', 'invoice.paid']);

    const periodEnd = recovered.subscription.items.data[0].current_period_end;
    const renewed = await control(h.emulator, 'POST', `subscriptions/${subscriptionId}/renew`);
    expect(renewed.body.subscription.items.data[0].current_period_start).toBe(periodEnd);
    expect(renewed.body.invoice.billing_reason).toBe('subscription_cycle');
  });

  it('renew ends a subscription that was set to cancel at period end', async () => {
    const { subscriptionId } = await subscribe();
    await h.stripe.subscriptions.update(subscriptionId, { cancel_at_period_end: true });
    await h.emulator.settle();
    h.receiver.clear();
    const result = await h.emulator.renewSubscription(subscriptionId);
    expect(result.subscription.status).toBe('canceled');
    expect(h.receiver.types).toEqual(['customer.subscription.deleted']);
  });

  it('404s fail_payment for unknown subscriptions', async () => {
    const res = await control(h.emulator, 'POST', 'subscriptions/sub_nope/fail_payment');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('resource_missing');
  });
});

describe('control endpoints', () => {
  it('health reports configuration and counts', async () => {
    await subscribe();
    const res = await control(h.emulator, 'GET', 'health');
    expect(res.body).toMatchObject({
      ok: true,
      url: h.emulator.url,
      webhook_url: h.receiver.url,
      auto_deliver: true,
      counts: { customers: 1, subscriptions: 1, checkout_sessions: 1, events: 3 },
    });
  });

  it('lists recorded events with their deliveries, optionally by type', async () => {
    await subscribe();
    const res = await control(h.emulator, 'GET', 'events?type=invoice.paid');
    expect(res.body.data).toHaveLength(1);
    expect(res.body.data[0].event.type).toBe('invoice.paid');
    expect(res.body.data[0].deliveries[0].status).toBe(200);
  });

  it('completes a checkout session without the browser', async () => {
    const session = await createCheckout(h.stripe);
    const res = await control(h.emulator, 'POST', `checkout/sessions/${session.id}/complete`);
    expect(res.body.session.status).toBe('complete');
    expect(res.body.events.map((e: Stripe.Event) => e.type)).toEqual([
      'customer.subscription.created',
      'checkout.session.completed',
      'invoice.paid',
    ]);
    const again = await control(h.emulator, 'POST', `checkout/sessions/${session.id}/complete`);
    expect(again.status).toBe(400);
  });

  it('config switches the webhook URL and auto delivery', async () => {
    const other = await new WebhookReceiver().start();
    try {
      const res = await control(h.emulator, 'POST', 'config', { webhookUrl: other.url, autoDeliver: false });
      expect(res.body).toEqual({ webhookUrl: other.url, autoDeliver: false });
      const event = await h.emulator.createEvent('x.y', { id: 'x' });
      expect(other.received).toHaveLength(0);
      await h.emulator.deliver(event.id);
      expect(other.received).toHaveLength(1);
      expect(h.receiver.received).toHaveLength(0);
      const invalid = await control(h.emulator, 'POST', 'config', { webhookUrl: 'not a url' });
      expect(invalid.status).toBe(400);
    } finally {
      await control(h.emulator, 'POST', 'config', { autoDeliver: true });
      await other.close();
    }
  });

  it('reset forgets customers, subscriptions, events and idempotency keys but keeps the catalogue', async () => {
    await subscribe();
    await h.stripe.customers.create({ email: 'k@example.com' }, { idempotencyKey: 'reset-key' });
    expect((await control(h.emulator, 'POST', 'reset')).body).toEqual({ ok: true });
    expect(h.emulator.events).toHaveLength(0);
    expect((await h.stripe.subscriptions.list({ status: 'all' })).data).toHaveLength(0);
    expect((await h.stripe.prices.list()).data).toHaveLength(4);
    // The key is free again: a different request with it is not an idempotency error.
    const customer = await h.stripe.customers.create({ email: 'other@example.com' }, { idempotencyKey: 'reset-key' });
    expect(customer.email).toBe('other@example.com');
  });

  it('answers unknown control endpoints and invalid JSON with errors', async () => {
    expect((await control(h.emulator, 'POST', 'nope', {})).status).toBe(404);
    const res = await fetch(`${h.emulator.url}/_emulator/events`, { method: 'POST', body: '{not json' });
    expect(res.status).toBe(400);
  });
});

describe('autoDeliver: false', () => {
  it('records events from hosted flows without sending them until asked', async () => {
    const receiver = await new WebhookReceiver().start();
    const emulator = await startStripeEmulator({ webhookUrl: receiver.url, webhookSecret: WEBHOOK_SECRET, autoDeliver: false });
    try {
      const stripe = new Stripe('sk_test_x', { ...emulator.stripeConfig, maxNetworkRetries: 0 });
      const { events } = await emulator.completeCheckout((await createCheckout(stripe)).id);
      expect(receiver.received).toHaveLength(0);
      await emulator.deliverInOrder(events.map((e) => e.id));
      expect(receiver.types).toEqual(events.map((e) => e.type));
    } finally {
      await emulator.close();
      await receiver.close();
    }
  });
});
