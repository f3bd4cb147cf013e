// The hosted Checkout and Customer Portal pages, driven like a browser (plain form posts).
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { startStripeEmulator } from "../../stripe-emulator/emulator.ts";
import { clientFor, createCheckout, payCheckout, subscribe, useHarness } from "./helpers.ts";

const h = useHarness();

async function get(url: string) {
  const res = await fetch(url, { redirect: "manual" });
  return { status: res.status, location: res.headers.get("location"), html: await res.text() };
}

function post(url: string, form: Record<string, string> = {}) {
  return fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(form),
    redirect: "manual",
  });
}

describe("hosted checkout", () => {
  it("shows plan, price, email, Pay and a Cancel link, escaping what the app sent", async () => {
    const session = await createCheckout(h.stripe, { customer_email: '"<b>"@example.com' });
    const { status, html } = await get(session.url!);
    expect(status).toBe(200);
    expect(html).toContain("Stripe emulator — no real payment");
    expect(html).toContain('<strong class="product-name">Pro</strong>');
    expect(html).toContain("£29.00 / month");
    expect(html).toContain("&quot;&lt;b&gt;&quot;@example.com");
    expect(html).not.toContain("<b>");
    expect(html).toContain(`<form method="post" action="/checkout/${session.id}/pay">`);
    expect(html).toMatch(/<button type="submit" class="primary">Pay<\/button>/);
    expect(html).toContain(`<a href="/checkout/${session.id}/cancel">Cancel</a>`);
    expect((await get(`${h.emulator.url}/checkout/cs_test_nope`)).status).toBe(404);
  });

  it("Pay creates the subscription and delivers its signed webhooks before redirecting (303) to success_url", async () => {
    const session = await createCheckout(h.stripe);
    const res = await payCheckout(h.emulator, session.id);
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(`http://app.test/billing/success?session_id=${session.id}`);

    // Already delivered when the redirect arrives, each verified by the SDK (the sequence itself:
    // webhooks.test.ts).
    expect(h.receiver.received.map((r) => r.signatureError)).toEqual(Array(12).fill(null));
    const objectOf = (type: string) => h.receiver.events.find((e) => e.type === type)?.data.object;
    const subscription = await h.stripe.subscriptions.retrieve(
      (objectOf("customer.subscription.updated") as Stripe.Subscription).id,
    );
    const completedSession = objectOf("checkout.session.completed") as Stripe.Checkout.Session;
    const invoice = objectOf("invoice.paid") as Stripe.Invoice;
    expect(completedSession).toMatchObject({
      id: session.id,
      status: "complete",
      subscription: subscription.id,
      client_reference_id: "user_123",
    });
    expect(subscription).toMatchObject({
      status: "active",
      customer: completedSession.customer,
      metadata: { user_id: "123" },
      latest_invoice: invoice.id,
    });
    expect(invoice).toMatchObject({
      object: "invoice",
      status: "paid",
      billing_reason: "subscription_create",
      amount_paid: 2900,
      customer: completedSession.customer,
      parent: { type: "subscription_details", subscription_details: { subscription: subscription.id } },
    });
    expect(invoice.lines.data[0]).toMatchObject({
      object: "line_item",
      amount: 2900,
      pricing: { price_details: { price: "price_emu_pro_monthly" } },
    });
    // Its shape, both ways and nested, is Stripe's: contract.test.ts.
    for (const event of h.receiver.events) {
      expect(event).toMatchObject({ object: "event", livemode: false, pending_webhooks: 1, request: { id: null } });
    }
    const delivery = h.receiver.received[0]!;
    expect(delivery.headers["user-agent"]).toBe("Stripe/1.0 (+https://stripe.com/docs/webhooks)");
    expect(delivery.rawBody).toBe(JSON.stringify(JSON.parse(delivery.rawBody), null, 2));
    expect(h.emulator.events.map((r) => r.deliveries.map((d) => d.status))).toEqual(Array(12).fill([200]));

    // Paying again (double submit, back button) charges nothing.
    const again = await payCheckout(h.emulator, session.id);
    expect(await again.text()).toContain("already complete");
    expect(h.receiver.received).toHaveLength(12);
  });

  it("asks for an email when the app sent none, and uses the customer the app sent", async () => {
    const anonymous = await createCheckout(h.stripe, { customer_email: undefined });
    expect((await get(anonymous.url!)).html).toContain('<input id="email" name="email" type="email" required');
    const withoutEmail = await payCheckout(h.emulator, anonymous.id);
    expect(withoutEmail.status).toBe(400);
    expect(await withoutEmail.text()).toContain("Please enter your email address.");
    expect((await payCheckout(h.emulator, anonymous.id, { email: "typed@example.com" })).status).toBe(303);
    const customerId = (await h.stripe.checkout.sessions.retrieve(anonymous.id)).customer;
    expect(await h.stripe.customers.retrieve(String(customerId))).toMatchObject({ email: "typed@example.com" });

    const known = await createCheckout(h.stripe, { customer: String(customerId), customer_email: undefined });
    expect((await get(known.url!)).html).toContain('<span class="customer-email">typed@example.com</span>');
    await payCheckout(h.emulator, known.id);
    expect((await h.stripe.checkout.sessions.retrieve(known.id)).customer).toBe(customerId);
  });

  it("Cancel goes back to cancel_url and leaves the session open", async () => {
    const session = await createCheckout(h.stripe);
    const { status, location } = await get(`${h.emulator.url}/checkout/${session.id}/cancel`);
    expect([status, location]).toEqual([303, "http://app.test/pricing"]);
    expect((await h.stripe.checkout.sessions.retrieve(session.id)).status).toBe("open");
    expect(h.emulator.events).toEqual([]);
  });

  it("still completes and redirects when the app is unreachable, recording the failed delivery", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const emulator = await startStripeEmulator({ webhookUrl: `http://127.0.0.1:${port}/api/stripe/webhook` });
    try {
      const session = await createCheckout(clientFor(emulator));
      expect((await payCheckout(emulator, session.id)).status).toBe(303);
      const [attempt] = emulator.events[0]!.deliveries;
      expect(attempt).toMatchObject({ ok: false, status: 0, error: expect.stringContaining("ECONNREFUSED") });
    } finally {
      await emulator.close();
    }
  });
});

describe("hosted customer portal", () => {
  async function openPortal() {
    const { subscription } = await subscribe(h);
    const portal = await h.stripe.billingPortal.sessions.create({
      customer: subscription.customer,
      return_url: "http://app.test/account",
    });
    return { subscription, portal, base: `${h.emulator.url}/portal/${portal.id}` };
  }

  it("shows the plan, renewal date, the prices the app sells to switch to, Cancel and the return link", async () => {
    const { subscription, portal } = await openPortal();
    const { html } = await get(portal.url);
    expect(html).toContain('<h2 class="plan-name">Pro (monthly)</h2>');
    expect(html).toContain("£29.00 / month");
    const renews = new Date(subscription.items.data[0]!.current_period_end * 1000);
    expect(html).toContain(
      `Renews on ${renews.toLocaleDateString("en-GB", { day: "numeric", month: "long", year: "numeric", timeZone: "UTC" })}`,
    );
    const switches = [...html.matchAll(/<button type="submit">Switch to ([^<]+)<\/button>/g)].map((m) => m[1]);
    expect(switches).toEqual(["Hobbyist (monthly)", "Hobbyist (yearly)", "Pro (yearly)"]);
    expect(html).toContain('<button type="submit">Cancel subscription</button>');
    expect(html).toContain('<a href="http://app.test/account" class="return-link">Return to app.test</a>');
    expect((await get(`${h.emulator.url}/portal/bps_nope`)).status).toBe(404);
  });

  it("switching plan delivers customer.subscription.updated before coming back with a notice", async () => {
    const { subscription, base } = await openPortal();
    const res = await post(`${base}/subscriptions/${subscription.id}/switch`, { price: "price_emu_hobbyist_monthly" });
    expect(res.status).toBe(303);
    expect(h.receiver.types).toEqual(["customer.subscription.updated"]);
    const updated = h.receiver.events[0]?.data.object as Stripe.Subscription;
    expect(updated.items.data[0]?.price.lookup_key).toBe("hobbyist_monthly");
    const { html } = await get(new URL(res.headers.get("location")!, base).href);
    expect(html).toContain("Your plan has been switched to Hobbyist (monthly).");
    expect(html).toContain('<h2 class="plan-name">Hobbyist (monthly)</h2>');

    const unsold = await post(`${base}/subscriptions/${subscription.id}/switch`, {
      price: "price_emu_hobbyist_quarterly",
    });
    expect(unsold.status).toBe(400);
    expect(await unsold.text()).toContain("That plan is not available.");
  });

  it("switching to a yearly plan restarts the period and bills it", async () => {
    const { subscription, base } = await openPortal();
    await post(`${base}/subscriptions/${subscription.id}/switch`, { price: "price_emu_pro_yearly" });
    expect(h.receiver.types).toEqual(["customer.subscription.updated", "invoice.paid"]);
  });

  it("Cancel subscription asks first, then cancels at the end of the period (Stripe's default) and can be renewed", async () => {
    const { subscription, base } = await openPortal();
    const periodEnd = subscription.items.data[0]!.current_period_end;
    const endDate = new Date(periodEnd * 1000).toLocaleDateString("en-GB", {
      day: "numeric",
      month: "long",
      year: "numeric",
      timeZone: "UTC",
    });
    // The button opens a confirmation page; nothing changes yet.
    const confirmation = await get(`${base}/subscriptions/${subscription.id}/cancel`);
    expect(confirmation.status).toBe(200);
    expect(confirmation.html).toContain(`on <strong class="period-end">${endDate}</strong>`);
    expect(confirmation.html).toContain('<button type="submit" class="primary">Confirm cancellation</button>');
    expect(confirmation.html).toContain('<button type="submit">Cancel immediately instead</button>');
    expect(h.receiver.types).toEqual([]);

    const res = await post(`${base}/subscriptions/${subscription.id}/cancel`, { when: "period_end" });
    expect(res.status).toBe(303);
    expect(h.receiver.types).toEqual(["customer.subscription.updated"]);
    const updated = h.receiver.events[0]?.data.object as Stripe.Subscription;
    expect(updated).toMatchObject({ status: "active", cancel_at_period_end: true, cancel_at: periodEnd });
    const { html } = await get(new URL(res.headers.get("location")!, base).href);
    expect(html).toContain(`Your subscription will be canceled on ${endDate}. You keep it until then.`);
    expect(html).toContain(`Cancels on ${endDate}`);
    expect(html).toContain('<button type="submit">Renew subscription</button>');
    expect(html).not.toContain("Cancel subscription");

    h.receiver.clear();
    const renewed = await post(`${base}/subscriptions/${subscription.id}/resume`);
    expect(renewed.status).toBe(303);
    expect(h.receiver.types).toEqual(["customer.subscription.updated"]);
    expect(h.receiver.events[0]?.data.object).toMatchObject({ cancel_at_period_end: false, cancel_at: null });
    expect((await get(new URL(renewed.headers.get("location")!, base).href)).html).toContain(
      "Your subscription will renew as usual.",
    );
  });

  it("Cancel immediately ends the subscription now and delivers customer.subscription.deleted", async () => {
    const { subscription, base } = await openPortal();
    const res = await post(`${base}/subscriptions/${subscription.id}/cancel`, { when: "now" });
    expect(res.status).toBe(303);
    expect(h.receiver.types).toEqual(["customer.subscription.deleted"]);
    const { html } = await get(new URL(res.headers.get("location")!, base).href);
    expect(html).toContain("Your subscription has been canceled.");
    expect(html).toContain("You have no active subscriptions.");
    expect(html).toContain("Past subscriptions");
  });

  it("a subscription_update_confirm deep link shows the switch, applies it once confirmed, then redirects", async () => {
    const { subscription } = await subscribe(h);
    const item = subscription.items.data[0]!;
    const portal = await h.stripe.billingPortal.sessions.create({
      customer: subscription.customer as string,
      return_url: "http://app.test/pricing",
      flow_data: {
        type: "subscription_update_confirm",
        subscription_update_confirm: {
          subscription: subscription.id,
          items: [{ id: item.id, price: "price_emu_hobbyist_yearly", quantity: 1 }],
        },
        after_completion: { type: "redirect", redirect: { return_url: "http://app.test/account" } },
      },
    });
    const { html } = await get(portal.url);
    expect(html).toContain("<h1>Confirm your new plan</h1>");
    expect(html).toContain('<span class="current-plan">Pro (monthly) — £29.00 / month</span>');
    expect(html).toContain('<strong class="new-plan">Hobbyist (yearly) — £70.00 / year</strong>');
    expect(html).toContain("The new billing period starts today and £70.00 / year is charged now.");
    expect(html).toContain('<a href="http://app.test/pricing">Go back</a>');
    expect(h.receiver.types).toEqual([]);

    const confirmed = await post(`${h.emulator.url}/portal/${portal.id}/flow/confirm`);
    expect(confirmed.status).toBe(303);
    expect(confirmed.headers.get("location")).toBe("http://app.test/account");
    expect(h.receiver.types).toEqual(["customer.subscription.updated", "invoice.paid"]);
    const updated = await h.stripe.subscriptions.retrieve(subscription.id);
    expect(updated.items.data[0]).toMatchObject({ id: item.id, price: { id: "price_emu_hobbyist_yearly" } });

    // Once only: a second submit changes nothing, and the session now opens the portal homepage.
    const again = await post(`${h.emulator.url}/portal/${portal.id}/flow/confirm`);
    expect(again.headers.get("location")).toBe(`/portal/${portal.id}`);
    expect(h.receiver.types).toHaveLength(2);
    expect((await get(portal.url)).html).toContain('<h2 class="plan-name">Hobbyist (yearly)</h2>');
  });

  it("a deep link can end on a hosted confirmation instead of a redirect", async () => {
    const { subscription } = await subscribe(h);
    const portal = await h.stripe.billingPortal.sessions.create({
      customer: subscription.customer as string,
      return_url: "http://app.test/account",
      flow_data: {
        type: "subscription_update_confirm",
        subscription_update_confirm: {
          subscription: subscription.id,
          items: [{ id: subscription.items.data[0]!.id, price: "price_emu_hobbyist_monthly" }],
        },
        after_completion: {
          type: "hosted_confirmation",
          hosted_confirmation: { custom_message: "Welcome to <Hobbyist>" },
        },
      },
    });
    expect((await get(portal.url)).html).toContain("Your renewal date stays the same");
    const confirmed = await post(`${h.emulator.url}/portal/${portal.id}/flow/confirm`);
    expect(confirmed.status).toBe(200);
    const html = await confirmed.text();
    expect(html).toContain("Welcome to &lt;Hobbyist&gt;");
    expect(html).toContain('class="return-link">Return to app.test</a>');
    expect(h.receiver.types).toEqual(["customer.subscription.updated"]);
  });

  it("acts only on the portal customer's own subscriptions, and never echoes notice text", async () => {
    const { base } = await openPortal();
    const { subscription: other } = await subscribe(h);
    expect((await post(`${base}/subscriptions/${other.id}/cancel`)).status).toBe(404);
    expect((await h.stripe.subscriptions.retrieve(other.id)).status).toBe("active");
    expect((await get(`${base}?notice=%3Cscript%3Ealert(1)%3C/script%3E`)).html).not.toContain("alert(1)");
  });
});
