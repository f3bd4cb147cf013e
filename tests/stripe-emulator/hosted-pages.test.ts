import type Stripe from 'stripe';
import { beforeEach, describe, expect, it } from 'vitest';
import { startStripeEmulator } from '../../stripe-emulator/emulator.ts';
import { WEBHOOK_SECRET, createCheckout, payCheckout, useHarness, type Harness } from './helpers.ts';

const harness = useHarness();
let h: Harness;
beforeEach(() => {
  h = harness.current;
});

async function getHtml(url: string): Promise<{ status: number; html: string }> {
  const res = await fetch(url, { redirect: 'manual' });
  return { status: res.status, html: await res.text() };
}

describe('hosted checkout page', () => {
  it('shows the plan, price, email, a Pay button, a Cancel link and the no-payment banner', async () => {
    const session = await createCheckout(h.stripe);
    const { status, html } = await getHtml(session.url!);
    expect(status).toBe(200);
    expect(html).toContain('Stripe emulator — no real payment');
    expect(html).toContain('Pro');
    expect(html).toContain('£29.00 / month');
    expect(html).toContain('ada@example.com');
    expect(html).toMatch(/<form method="post" action="\/checkout\/cs_test_[^"]+\/pay">/);
    expect(html).toMatch(/<button[^>]*>Pay<\/button>/);
    expect(html).toContain(`href="/checkout/${session.id}/cancel"`);
  });

  it('shows the yearly price for a yearly plan and escapes HTML in user-supplied values', async () => {
    const session = await createCheckout(h.stripe, {
      line_items: [{ price: 'price_emu_hobbyist_yearly', quantity: 1 }],
      customer_email: '"<script>"@example.com',
    });
    const { html } = await getHtml(session.url!);
    expect(html).toContain('£70.00 / year');
    expect(html).not.toContain('<script>');
    expect(html).toContain('&quot;&lt;script&gt;&quot;@example.com');
  });

  it('asks for an email when the session has no customer or customer_email', async () => {
    const session = await createCheckout(h.stripe, { customer_email: undefined });
    const { html } = await getHtml(session.url!);
    expect(html).toMatch(/<input id="email" name="email" type="email" required/);

    const withoutEmail = await payCheckout(h.emulator, session.id);
    expect(withoutEmail.status).toBe(400);
    expect(await withoutEmail.text()).toContain('Please enter your email address.');

    const paid = await payCheckout(h.emulator, session.id, { email: 'typed@example.com' });
    expect(paid.status).toBe(303);
    const customer = (await h.stripe.customers.retrieve(
      (await h.stripe.checkout.sessions.retrieve(session.id)).customer as string,
    )) as Stripe.Customer;
    expect(customer.email).toBe('typed@example.com');
  });

  it('Cancel redirects to cancel_url and leaves the session open', async () => {
    const session = await createCheckout(h.stripe);
    const res = await fetch(`${h.emulator.url}/checkout/${session.id}/cancel`, { redirect: 'manual' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('http://app.test/billing');
    expect((await h.stripe.checkout.sessions.retrieve(session.id)).status).toBe('open');
    expect(h.receiver.received).toHaveLength(0);
  });

  it('404s unknown sessions', async () => {
    expect((await getHtml(`${h.emulator.url}/checkout/cs_test_nope`)).status).toBe(404);
  });
});

describe('paying on the hosted checkout page', () => {
  it('creates customer, subscription, invoice; delivers signed webhooks before redirecting to success_url', async () => {
    const session = await createCheckout(h.stripe);
    const res = await payCheckout(h.emulator, session.id);

    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`http://app.test/billing/success?session_id=${session.id}`);

    // Already delivered when the redirect arrived — no waiting needed.
    expect(h.receiver.received.every((r) => r.signatureError === null)).toBe(true);
    expect(h.receiver.types).toEqual(['customer.subscription.created', 'checkout.session.completed', 'invoice.paid']);
    const [subCreated, completed, invoicePaid] = h.receiver.events;
    for (const event of h.receiver.events) {
      expect(event.id).toMatch(/^evt_/);
      expect(event).toMatchObject({ object: 'event', api_version: '2026-10-28.endive', livemode: false, pending_webhooks: 1 });
      expect(Math.abs(event.created - Date.now() / 1000)).toBeLessThan(10);
    }

    const completedSession = completed.data.object as Stripe.Checkout.Session;
    expect(completedSession).toMatchObject({
      id: session.id,
      status: 'complete',
      payment_status: 'paid',
      client_reference_id: 'org_123',
      metadata: { org_id: 'org_123' },
    });
    expect(completedSession.customer).toMatch(/^cus_/);
    expect(completedSession.subscription).toMatch(/^sub_/);
    expect(completedSession.customer_details?.email).toBe('ada@example.com');

    const subscription = subCreated.data.object as Stripe.Subscription;
    expect(subscription.id).toBe(completedSession.subscription);
    expect(subscription).toMatchObject({
      object: 'subscription',
      status: 'active',
      customer: completedSession.customer,
      metadata: { org_id: 'org_123' },
      cancel_at_period_end: false,
      cancel_at: null,
      canceled_at: null,
      currency: 'gbp',
      livemode: false,
    });
    expect(subscription).not.toHaveProperty('current_period_end');
    const item = subscription.items.data[0];
    expect(item.id).toMatch(/^si_/);
    expect(item).toMatchObject({ object: 'subscription_item', quantity: 1, subscription: subscription.id });
    expect(item.price).toMatchObject({ id: 'price_emu_pro_monthly', object: 'price', product: 'prod_emu_pro', unit_amount: 2900 });
    const start = new Date(item.current_period_start * 1000);
    const end = new Date(item.current_period_end * 1000);
    expect(item.current_period_start).toBe(subscription.start_date);
    expect((end.getUTCFullYear() * 12 + end.getUTCMonth()) - (start.getUTCFullYear() * 12 + start.getUTCMonth())).toBe(1);

    const invoice = invoicePaid.data.object as Stripe.Invoice;
    expect(invoice.id).toMatch(/^in_/);
    expect(invoice).toMatchObject({
      object: 'invoice',
      status: 'paid',
      amount_paid: 2900,
      amount_remaining: 0,
      billing_reason: 'subscription_create',
      customer: completedSession.customer,
      customer_email: 'ada@example.com',
    });
    expect(invoice.parent?.subscription_details?.subscription).toBe(subscription.id);
    expect(subscription.latest_invoice).toBe(invoice.id);
    expect(h.emulator.state.charges.size).toBe(1);

    // The webhook is exactly what Stripe sends: pretty JSON, signed, with Stripe's headers.
    const delivery = h.receiver.received[0];
    expect(delivery.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(delivery.headers['user-agent']).toBe('Stripe/1.0 (+https://stripe.com/docs/webhooks)');
    expect(delivery.headers['stripe-signature']).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(delivery.rawBody).toBe(JSON.stringify(JSON.parse(delivery.rawBody), null, 2));

    // And the API agrees with the webhook payloads.
    const retrieved = await h.stripe.checkout.sessions.retrieve(session.id, { expand: ['subscription', 'line_items'] });
    expect((retrieved.subscription as Stripe.Subscription).id).toBe(subscription.id);
    expect((retrieved.subscription as Stripe.Subscription).items.data[0].current_period_end).toBe(item.current_period_end);
    expect(retrieved.line_items?.data[0].price?.id).toBe('price_emu_pro_monthly');
  });

  it('records delivery attempts on the handle', async () => {
    const session = await createCheckout(h.stripe);
    await payCheckout(h.emulator, session.id);
    const records = h.emulator.events;
    expect(records).toHaveLength(3);
    for (const record of records) {
      expect(record.deliveries).toHaveLength(1);
      expect(record.deliveries[0]).toMatchObject({ status: 200, ok: true, error: null, url: h.receiver.url });
      expect(record.deliveries[0].body).toContain('"received":true');
      // Delivered successfully, so Stripe would report nothing pending any more.
      expect(record.event.pending_webhooks).toBe(0);
    }
  });

  it('uses an existing customer when the session was created with one', async () => {
    const customer = await h.stripe.customers.create({ email: 'known@example.com' });
    const session = await createCheckout(h.stripe, { customer: customer.id, customer_email: undefined });
    const { html } = await getHtml(session.url!);
    expect(html).toContain('known@example.com');
    await payCheckout(h.emulator, session.id);
    expect(h.emulator.state.customers.size).toBe(1);
    const subs = await h.stripe.subscriptions.list({ customer: customer.id });
    expect(subs.data).toHaveLength(1);
  });

  it('paying twice does not charge again and shows that the session is complete', async () => {
    const session = await createCheckout(h.stripe);
    await payCheckout(h.emulator, session.id);
    const again = await payCheckout(h.emulator, session.id);
    expect(again.status).toBe(200);
    expect(await again.text()).toContain('already complete');
    expect(h.emulator.state.subscriptions.size).toBe(1);
    expect(h.receiver.received).toHaveLength(3);
    expect((await getHtml(`${h.emulator.url}/checkout/${session.id}`)).html).toContain('Payment complete');
  });

  it('still completes and redirects when the app is unreachable, recording the failures', async () => {
    const emulator = await startStripeEmulator({ webhookUrl: 'http://127.0.0.1:9/unreachable', webhookSecret: WEBHOOK_SECRET });
    try {
      const { default: StripeSdk } = await import('stripe');
      const stripe = new StripeSdk('sk_test_x', { ...emulator.stripeConfig, maxNetworkRetries: 0 });
      const session = await createCheckout(stripe);
      const res = await payCheckout(emulator, session.id);
      expect(res.status).toBe(303);
      expect((await stripe.checkout.sessions.retrieve(session.id)).status).toBe('complete');
      const attempts = emulator.events.flatMap((r) => r.deliveries);
      expect(attempts).toHaveLength(3);
      expect(attempts.every((a) => a.status === 0 && a.error !== null && !a.ok)).toBe(true);
      expect(emulator.events.every((r) => r.event.pending_webhooks === 1)).toBe(true);
    } finally {
      await emulator.close();
    }
  });

  it('gives up on a slow app after the delivery timeout instead of hanging the page', async () => {
    const emulator = await startStripeEmulator({
      webhookUrl: h.receiver.url,
      webhookSecret: WEBHOOK_SECRET,
      webhookTimeoutMs: 200,
    });
    h.receiver.delayMs = 1000;
    try {
      const { default: StripeSdk } = await import('stripe');
      const stripe = new StripeSdk('sk_test_x', { ...emulator.stripeConfig, maxNetworkRetries: 0 });
      const session = await createCheckout(stripe);
      const started = Date.now();
      const res = await payCheckout(emulator, session.id);
      expect(res.status).toBe(303);
      expect(Date.now() - started).toBeLessThan(2000);
      expect(emulator.events[0].deliveries[0].error).toMatch(/timed out/);
    } finally {
      await emulator.close();
    }
  });
});

describe('hosted customer portal', () => {
  async function subscribedCustomer(price = 'price_emu_pro_monthly') {
    const session = await createCheckout(h.stripe, { line_items: [{ price, quantity: 1 }] });
    await payCheckout(h.emulator, session.id);
    const completed = await h.stripe.checkout.sessions.retrieve(session.id);
    const portal = await h.stripe.billingPortal.sessions.create({
      customer: completed.customer as string,
      return_url: 'http://app.test/billing',
    });
    h.receiver.clear();
    return { subscriptionId: completed.subscription as string, portal };
  }

  it('shows the current plan, price, status, renewal date, actions and the return link', async () => {
    const { subscriptionId, portal } = await subscribedCustomer();
    const sub = await h.stripe.subscriptions.retrieve(subscriptionId);
    const renewal = new Date(sub.items.data[0].current_period_end * 1000).toLocaleDateString('en-GB', {
      day: 'numeric',
      month: 'long',
      year: 'numeric',
      timeZone: 'UTC',
    });
    const { status, html } = await getHtml(portal.url);
    expect(status).toBe(200);
    expect(html).toContain('Stripe emulator — no real payment');
    expect(html).toContain('Pro (monthly)');
    expect(html).toContain('£29.00 / month');
    expect(html).toContain('>active<');
    expect(html).toContain(`Renews on ${renewal}`);
    expect(html).toContain('>Cancel subscription</button>');
    expect(html).toContain('>Switch to Pro (yearly)</button>');
    expect(html).toContain('>Switch to Hobbyist (monthly)</button>');
    expect(html).toContain('>Switch to Hobbyist (yearly)</button>');
    expect(html).not.toContain('>Switch to Pro (monthly)</button>');
    expect(html).toContain('<a href="http://app.test/billing" class="return-link">Return to app.test</a>');
  });

  it('switching plan updates the subscription, delivers customer.subscription.updated, and shows a notice', async () => {
    const { subscriptionId, portal } = await subscribedCustomer();
    const res = await fetch(`${h.emulator.url}/portal/${portal.id}/subscriptions/${subscriptionId}/switch`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'price=price_emu_hobbyist_monthly',
      redirect: 'manual',
    });
    expect(res.status).toBe(303);
    const location = new URL(res.headers.get('location')!, h.emulator.url);
    expect(location.pathname).toBe(`/portal/${portal.id}`);

    expect(h.receiver.types).toEqual(['customer.subscription.updated']);
    const event = h.receiver.events[0];
    expect((event.data.object as Stripe.Subscription).items.data[0].price.id).toBe('price_emu_hobbyist_monthly');
    expect((event.data.previous_attributes as any).items.data[0].price.id).toBe('price_emu_pro_monthly');
    expect(event.request).toEqual({ id: null, idempotency_key: null });

    const { html } = await getHtml(location.toString());
    expect(html).toContain('Your plan has been switched to Hobbyist (monthly).');
    expect(html).toContain('£7.00 / month');
    expect(html).toContain('>Switch to Pro (monthly)</button>');
  });

  it('canceling ends the subscription now, delivers customer.subscription.deleted, and shows it as past', async () => {
    const { subscriptionId, portal } = await subscribedCustomer();
    const res = await fetch(`${h.emulator.url}/portal/${portal.id}/subscriptions/${subscriptionId}/cancel`, {
      method: 'POST',
      redirect: 'manual',
    });
    expect(res.status).toBe(303);
    expect(h.receiver.types).toEqual(['customer.subscription.deleted']);
    expect((h.receiver.events[0].data.object as Stripe.Subscription).status).toBe('canceled');
    expect((await h.stripe.subscriptions.retrieve(subscriptionId)).status).toBe('canceled');

    const { html } = await getHtml(new URL(res.headers.get('location')!, h.emulator.url).toString());
    expect(html).toContain('Your subscription has been canceled.');
    expect(html).toContain('You have no active subscriptions.');
    expect(html).toContain('Past subscriptions');
  });

  it("refuses to act on another customer's subscription", async () => {
    const first = await subscribedCustomer();
    const second = await subscribedCustomer();
    const res = await fetch(`${h.emulator.url}/portal/${second.portal.id}/subscriptions/${first.subscriptionId}/cancel`, {
      method: 'POST',
      redirect: 'manual',
    });
    expect(res.status).toBe(404);
    expect((await h.stripe.subscriptions.retrieve(first.subscriptionId)).status).toBe('active');
    expect(h.receiver.received).toHaveLength(0);
  });

  it('does not echo arbitrary notice text from the query string', async () => {
    const { portal } = await subscribedCustomer();
    const { html } = await getHtml(`${portal.url}?notice=%3Cb%3Eowned%3C%2Fb%3E`);
    expect(html).not.toContain('owned');
  });
});
