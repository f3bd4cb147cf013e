// The /v1 API through the real SDK: what the app calls, and what the next billing features will.
import Stripe from "stripe";
import { describe, expect, it } from "vitest";
import customerFixture from "../fixtures/stripe/customer.json" with { type: "json" };
import eventFixture from "../fixtures/stripe/event.json" with { type: "json" };
import priceFixture from "../fixtures/stripe/price.json" with { type: "json" };
import productFixture from "../fixtures/stripe/product.json" with { type: "json" };
import sessionFixture from "../fixtures/stripe/checkout.session.json" with { type: "json" };
import subscriptionFixture from "../fixtures/stripe/subscription.json" with { type: "json" };
import portalFixture from "./fixtures/billing_portal.session.json" with { type: "json" };
import { clientFor, createCheckout, subscribe, useHarness } from "./helpers.ts";

const h = useHarness();

/** The SDK's rejection, so tests can assert on its class and Stripe's fields. */
async function stripeError(promise: Promise<unknown>): Promise<Stripe.errors.StripeError> {
  const error: unknown = await promise.then(
    () => new Error("Expected the Stripe call to fail"),
    (e: unknown) => e,
  );
  if (error instanceof Stripe.errors.StripeError) return error;
  throw error;
}

/** Paths of fields Stripe's fixture has and `actual` lacks, recursing where both hold objects or lists. */
function missingFields(actual: unknown, fixture: unknown, path = ""): string[] {
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null;
  if (Array.isArray(actual) && Array.isArray(fixture)) return missingFields(actual[0], fixture[0], `${path}[0]`);
  if (!isObject(actual) || !isObject(fixture) || Array.isArray(actual) || path.endsWith("metadata")) return [];
  return Object.keys(fixture).flatMap((key) =>
    key in actual ? missingFields(actual[key], fixture[key], `${path}.${key}`) : [`${path}.${key}`],
  );
}

/** Same `object` tag, same id prefix, and every field (nested too) of Stripe's own example. */
function expectStripeShape(actual: { id: string; object: string }, fixture: { id: string; object: string }) {
  expect(actual.object).toBe(fixture.object);
  expect(actual.id.startsWith(fixture.id.replace(/[A-Za-z0-9]+$/, ""))).toBe(true);
  expect(missingFields(actual, fixture)).toEqual([]);
}

describe("authentication and errors", () => {
  it("answers 401 in Stripe's envelope without an API key, and rejects publishable keys", async () => {
    const res = await fetch(`${h.emulator.url}/v1/prices`);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({
      error: { type: "invalid_request_error", message: expect.stringMatching(/did not provide an API key/) },
    });
    const error = await stripeError(clientFor(h.emulator, "pk_test_nope").prices.list());
    expect(error).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    expect(error.code).toBe("api_key_invalid");
  });

  it("sets Request-Id, echoes Stripe-Version, and 404s unknown routes in the envelope", async () => {
    const headers = { Authorization: "Bearer sk_test_x", "Stripe-Version": Stripe.API_VERSION };
    const ok = await fetch(`${h.emulator.url}/v1/prices?limit=1`, { headers });
    expect(ok.headers.get("request-id")).toMatch(/^req_\w+$/);
    expect(ok.headers.get("stripe-version")).toBe(Stripe.API_VERSION);
    const missing = await fetch(`${h.emulator.url}/v1/invoices`, { headers });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({
      error: {
        type: "invalid_request_error",
        message: expect.stringContaining("Unrecognized request URL (GET: /v1/invoices)"),
      },
    });
  });
});

describe("prices", () => {
  it("looks prices up by lookup key, as the app does, with products expanded", async () => {
    const prices = await h.stripe.prices.list({
      lookup_keys: ["pro_monthly", "hobbyist_yearly", "nonexistent"],
      active: true,
      expand: ["data.product"],
      limit: 100,
    });
    expect(prices).toMatchObject({ object: "list", has_more: false, url: "/v1/prices" });
    expect(prices.data.map((p) => [p.lookup_key, p.unit_amount, p.recurring?.interval])).toEqual([
      ["hobbyist_yearly", 7000, "year"],
      ["pro_monthly", 2900, "month"],
    ]);
    const pro = prices.data[1]!;
    expect(pro.unit_amount_decimal?.toString()).toBe("2900");
    expect(pro.product).toMatchObject({ id: "prod_emu_pro", object: "product", name: "Pro" });
    const raw = await fetch(`${h.emulator.url}/v1/prices?lookup_keys[]=pro_monthly&expand[]=data.product`, {
      headers: { Authorization: "Bearer sk_test_x" },
    });
    const [wire] = (
      (await raw.json()) as { data: Array<{ id: string; object: string; product: { id: string; object: string } }> }
    ).data;
    expectStripeShape(wire!, priceFixture);
    expectStripeShape(wire!.product, productFixture);
  });

  it("refuses more than 10 lookup keys, naming the param", async () => {
    const keys = Array.from({ length: 11 }, (_, i) => `key_${i}`);
    const error = await stripeError(h.stripe.prices.list({ lookup_keys: keys }));
    expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(error).toMatchObject({ statusCode: 400, code: "parameter_invalid", param: "lookup_keys" });
  });

  it("pages through active prices with their products, including prices without lookup keys", async () => {
    const seen: Stripe.Price[] = [];
    let startingAfter: string | undefined;
    for (;;) {
      const page = await h.stripe.prices.list({
        active: true,
        expand: ["data.product"],
        limit: 2,
        starting_after: startingAfter,
      });
      seen.push(...page.data);
      if (!page.has_more) break;
      startingAfter = page.data.at(-1)?.id;
    }
    expect(seen.map((p) => p.id)).toEqual([
      "price_emu_hobbyist_monthly",
      "price_emu_hobbyist_yearly",
      "price_emu_hobbyist_quarterly",
      "price_emu_pro_monthly",
      "price_emu_pro_yearly",
      "price_emu_team_monthly",
      "price_emu_team_yearly",
    ]);
    expect(seen.every((p) => p.active && typeof p.product === "object")).toBe(true);
    // What the listing's caller keeps: prices the app sells.
    expect(seen.filter((p) => p.lookup_key).map((p) => p.lookup_key)).toEqual([
      "hobbyist_monthly",
      "hobbyist_yearly",
      "pro_monthly",
      "pro_yearly",
      "team_monthly",
      "team_yearly",
    ]);
    const quarterly = seen.find((p) => p.id === "price_emu_hobbyist_quarterly");
    expect(quarterly?.recurring).toMatchObject({ interval: "month", interval_count: 3 });

    const all = await h.stripe.prices.list({ limit: 100 });
    expect(all.data.find((p) => !p.active)?.id).toBe("price_emu_pro_monthly_2024");
    const error = await stripeError(h.stripe.prices.list({ starting_after: "price_nope" }));
    expect(error).toMatchObject({ statusCode: 400, code: "resource_missing", param: "starting_after" });
  });
});

describe("creating prices", () => {
  it("moves a lookup key to a new price with transfer_lookup_key; subscriptions keep the old, now keyless, price", async () => {
    const { subscription } = await subscribe(h);
    const refused = await stripeError(
      h.stripe.prices.create({
        product: "prod_emu_pro",
        currency: "gbp",
        unit_amount: 3500,
        recurring: { interval: "month" },
        lookup_key: "pro_monthly",
      }),
    );
    expect(refused).toMatchObject({ statusCode: 400, param: "lookup_key" });

    const created = await h.stripe.prices.create({
      product: "prod_emu_pro",
      currency: "gbp",
      unit_amount: 3500,
      recurring: { interval: "month" },
      lookup_key: "pro_monthly",
      transfer_lookup_key: true,
    });
    expect(created).toMatchObject({ object: "price", active: true, lookup_key: "pro_monthly", unit_amount: 3500 });
    expectStripeShape(created as unknown as { id: string; object: string }, priceFixture);
    const byKey = await h.stripe.prices.list({ lookup_keys: ["pro_monthly"] });
    expect(byKey.data.map((p) => p.id)).toEqual([created.id]);
    const old = await h.stripe.prices.list({ limit: 100 });
    expect(old.data.find((p) => p.id === "price_emu_pro_monthly")?.lookup_key).toBeNull();

    const kept = await h.stripe.subscriptions.retrieve(subscription.id);
    expect(kept.items.data[0]?.price).toMatchObject({
      id: "price_emu_pro_monthly",
      lookup_key: null,
      product: "prod_emu_pro",
    });
    await h.emulator.settle();
    expect(h.receiver.types).toEqual(["price.created", "price.updated"]);
    expect(h.receiver.events[1]?.data.previous_attributes).toEqual({ lookup_key: "pro_monthly" });

    h.emulator.reset();
    const afterReset = await h.stripe.prices.list({ lookup_keys: ["pro_monthly"] });
    expect(afterReset.data.map((p) => p.id)).toEqual(["price_emu_pro_monthly"]);
  });
});

describe("listing a product's prices", () => {
  it("lists every price of a product, archived and keyless ones included unless `active` says otherwise", async () => {
    const created = await h.stripe.prices.create({
      product: "prod_emu_pro",
      currency: "gbp",
      unit_amount: 3500,
      recurring: { interval: "month" },
      lookup_key: "pro_monthly",
      transfer_lookup_key: true,
    });
    const all = await h.stripe.prices.list({ product: "prod_emu_pro", limit: 100 });
    expect(all.data.map((p) => [p.id, p.lookup_key, p.active])).toEqual([
      ["price_emu_pro_monthly", null, true],
      ["price_emu_pro_yearly", "pro_yearly", true],
      ["price_emu_pro_monthly_2024", null, false],
      [created.id, "pro_monthly", true],
    ]);
    expect(all.data.every((p) => p.product === "prod_emu_pro")).toBe(true);
    const active = await h.stripe.prices.list({ product: "prod_emu_pro", active: true, limit: 100 });
    expect(active.data.map((p) => p.id)).not.toContain("price_emu_pro_monthly_2024");
    const inactive = await h.stripe.prices.list({ product: "prod_emu_pro", active: false });
    expect(inactive.data.map((p) => p.id)).toEqual(["price_emu_pro_monthly_2024"]);
    const page = await h.stripe.prices.list({ product: "prod_emu_pro", limit: 2 });
    expect(page.has_more).toBe(true);
    const next = await h.stripe.prices.list({ product: "prod_emu_pro", limit: 2, starting_after: page.data[1]!.id });
    expect(next.data.map((p) => p.id)).toEqual(["price_emu_pro_monthly_2024", created.id]);
    expect((await h.stripe.prices.list({ product: "prod_nope" })).data).toEqual([]);
  });
});

describe("rate limit", () => {
  it("answers 429 in Stripe's envelope past the limit, counts refusals, and lets a paced client through", async () => {
    h.emulator.rateLimitPerSecond = 3;
    try {
      const results = await Promise.allSettled(Array.from({ length: 5 }, () => h.stripe.prices.list({ limit: 1 })));
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(3);
      const refused = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
      expect(refused.reason).toBeInstanceOf(Stripe.errors.StripeRateLimitError);
      expect(refused.reason).toMatchObject({ statusCode: 429, code: "rate_limit", type: "StripeRateLimitError" });
      expect(h.emulator.rateLimited).toBe(2);

      const raw = await fetch(`${h.emulator.url}/v1/prices`, { headers: { Authorization: "Bearer sk_test_x" } });
      expect(raw.status).toBe(429);
      expect(raw.headers.get("stripe-rate-limited-reason")).toBe("global-rate");
      expect(await raw.json()).toEqual({
        error: { type: "invalid_request_error", code: "rate_limit", message: expect.stringMatching(/rate limit/) },
      });

      await new Promise((resolve) => setTimeout(resolve, 1_050)); // the window slides on
      for (let i = 0; i < 3; i++) await h.stripe.prices.list({ limit: 1 });
      const control = await fetch(`${h.emulator.url}/_emulator/rate-limit`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ per_second: 0 }),
      });
      expect(await control.json()).toEqual({ per_second: null, refused: 3 });
      await Promise.all(Array.from({ length: 10 }, () => h.stripe.prices.list({ limit: 1 })));
      const bad = await fetch(`${h.emulator.url}/_emulator/rate-limit`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ per_second: -1 }),
      });
      expect(bad.status).toBe(400);
    } finally {
      h.emulator.rateLimitPerSecond = null;
    }
  });

  it("records every request with its status and whether an idempotent POST was replayed", async () => {
    const before = h.emulator.apiRequests.length;
    const params = {
      product: "prod_emu_hobbyist",
      currency: "gbp",
      unit_amount: 800,
      recurring: { interval: "month" as const },
    };
    await h.stripe.prices.create(params, { idempotencyKey: "record-me" });
    await h.stripe.prices.create(params, { idempotencyKey: "record-me" });
    expect(h.emulator.apiRequests.slice(before)).toEqual([
      { method: "POST", path: "/v1/prices", status: 200, idempotencyKey: "record-me", replayed: false },
      { method: "POST", path: "/v1/prices", status: 200, idempotencyKey: "record-me", replayed: true },
    ]);
  });
});

describe("customers", () => {
  it("creates and retrieves customers with Stripe's shape, and 404s unknown ones", async () => {
    const created = await h.stripe.customers.create({ email: "ada@example.com", metadata: { user_id: "1" } });
    const customer = await h.stripe.customers.retrieve(created.id);
    expect(customer).toMatchObject({ id: created.id, email: "ada@example.com", metadata: { user_id: "1" } });
    expectStripeShape(customer, customerFixture);
    // As Stripe does, a customer created through the API is announced by `customer.created`.
    await h.emulator.settle();
    expect(h.receiver.types).toEqual(["customer.created"]);
    expect(h.receiver.events[0]?.data.object).toMatchObject({ id: created.id, metadata: { user_id: "1" } });

    const error = await stripeError(h.stripe.customers.retrieve("cus_nope"));
    expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(error).toMatchObject({
      statusCode: 404,
      code: "resource_missing",
      param: "id",
      message: "No such customer: 'cus_nope'",
    });
  });

  it("deletes a customer as Stripe does: subscriptions canceled, customer.deleted, and the id answers as deleted", async () => {
    const { subscription } = await subscribe(h);
    const customerId = subscription.customer as string;
    const deleted = await h.stripe.customers.del(customerId);
    expect(deleted).toEqual({ id: customerId, object: "customer", deleted: true });
    await h.emulator.settle();
    expect(h.receiver.types).toEqual(["customer.subscription.deleted", "customer.deleted"]);
    expect(h.receiver.events[1]?.data.object).toMatchObject({
      id: customerId,
      object: "customer",
      email: "ada@example.com",
    });
    expect((await h.stripe.subscriptions.retrieve(subscription.id)).status).toBe("canceled");
    expect(await h.stripe.customers.retrieve(customerId)).toEqual({
      id: customerId,
      object: "customer",
      deleted: true,
    });

    // What the app meets afterwards: `resource_missing` on the customer it still has.
    const portal = await stripeError(h.stripe.billingPortal.sessions.create({ customer: customerId }));
    expect(portal).toMatchObject({ statusCode: 400, code: "resource_missing", param: "customer" });
    const checkout = await stripeError(createCheckout(h.stripe, { customer: customerId, customer_email: undefined }));
    expect(checkout).toMatchObject({ statusCode: 400, code: "resource_missing", param: "customer" });
    expect(await stripeError(h.stripe.customers.del(customerId))).toMatchObject({
      statusCode: 404,
      code: "resource_missing",
    });
  });
});

describe("checkout sessions", () => {
  it("creates an open hosted session as the app asks for it, with Stripe's shape", async () => {
    const session = await createCheckout(h.stripe);
    expect(session).toMatchObject({
      object: "checkout.session",
      mode: "subscription",
      status: "open",
      payment_status: "unpaid",
      customer: null,
      customer_email: "ada@example.com",
      client_reference_id: "user_123",
      allow_promotion_codes: true,
      metadata: { user_id: "123" },
      success_url: "http://app.test/billing/success?session_id={CHECKOUT_SESSION_ID}",
      cancel_url: "http://app.test/pricing",
      amount_total: 2900,
      currency: "gbp",
      subscription: null,
      url: `${h.emulator.url}/checkout/${session.id}`,
    });
    expect(session).not.toHaveProperty("line_items");
    expectStripeShape(session, sessionFixture);
  });

  it("names the param of each invalid request", async () => {
    const cases: Array<[Partial<Stripe.Checkout.SessionCreateParams>, Record<string, unknown>]> = [
      [{ success_url: undefined }, { code: "parameter_missing", param: "success_url" }],
      [
        { line_items: [{ price: "price_nope", quantity: 1 }] },
        { code: "resource_missing", param: "line_items[0][price]" },
      ],
      [{ line_items: [{ price: "price_emu_pro_monthly_2024", quantity: 1 }] }, { param: "line_items[0][price]" }],
      [
        { customer: "cus_nope", customer_email: undefined },
        { code: "resource_missing", param: "customer" },
      ],
      [{ customer: "cus_nope" }, { param: "customer_email" }],
      [{ mode: "payment" }, { param: "mode" }],
    ];
    for (const [overrides, expected] of cases) {
      expect(await stripeError(createCheckout(h.stripe, overrides))).toMatchObject({ statusCode: 400, ...expected });
    }
  });

  it("replays a double click with the same Idempotency-Key, refuses the key with other params, and keeps no failures", async () => {
    const sessions = await Promise.all(
      [1, 2].map(() => h.stripe.checkout.sessions.create(fullParams({}), { idempotencyKey: "k-1" })),
    );
    expect(new Set(sessions.map((s) => s.id)).size).toBe(1);
    expect(sessions.map((s) => s.lastResponse.headers["idempotent-replayed"]).sort()).toEqual(["true", undefined]);

    const mismatch = await stripeError(
      h.stripe.checkout.sessions.create(fullParams({ client_reference_id: "other" }), { idempotencyKey: "k-1" }),
    );
    expect(mismatch).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);

    const failed = await stripeError(
      h.stripe.checkout.sessions.create(fullParams({ success_url: "nope" }), { idempotencyKey: "k-2" }),
    );
    expect(failed).toMatchObject({ code: "url_invalid", param: "success_url" });
    const fixed = await h.stripe.checkout.sessions.create(fullParams({}), { idempotencyKey: "k-2" });
    expect(fixed.status).toBe("open");
  });

  it("retrieves a paid session with its subscription and line items expanded", async () => {
    const session = await createCheckout(h.stripe);
    const { subscription } = await h.emulator.completeCheckout(session.id);
    const paid = await h.stripe.checkout.sessions.retrieve(session.id, { expand: ["subscription", "line_items"] });
    expect(paid).toMatchObject({
      status: "complete",
      payment_status: "paid",
      url: null,
      customer: subscription.customer,
    });
    expect(paid.customer_details).toMatchObject({ email: "ada@example.com" });
    expect(paid.subscription).toMatchObject({
      id: subscription.id,
      object: "subscription",
      metadata: { user_id: "123" },
    });
    expect(paid.line_items?.data).toEqual([
      expect.objectContaining({
        object: "item",
        quantity: 1,
        amount_total: 2900,
        price: expect.objectContaining({ lookup_key: "pro_monthly" }),
      }),
    ]);
    expectStripeShape(paid, sessionFixture);

    const error = await stripeError(h.stripe.checkout.sessions.retrieve(session.id, { expand: ["mode"] }));
    expect(error).toMatchObject({ statusCode: 400, param: "expand[0]" });
    expect(await stripeError(h.stripe.checkout.sessions.retrieve("cs_test_nope"))).toMatchObject({ statusCode: 404 });
  });
});

/** The app's checkout params, with `overrides`. */
function fullParams(overrides: Partial<Stripe.Checkout.SessionCreateParams>): Stripe.Checkout.SessionCreateParams {
  return {
    mode: "subscription",
    line_items: [{ price: "price_emu_pro_monthly", quantity: 1 }],
    customer_email: "ada@example.com",
    success_url: "http://app.test/billing/success?session_id={CHECKOUT_SESSION_ID}",
    ...overrides,
  };
}

describe("billing portal sessions", () => {
  it("creates a session on the emulator's portal page for an existing customer only", async () => {
    const { subscription } = await subscribe(h);
    const portal = await h.stripe.billingPortal.sessions.create({
      customer: subscription.customer,
      return_url: "http://app.test/account",
    });
    expect(portal).toMatchObject({
      customer: subscription.customer,
      return_url: "http://app.test/account",
      url: `${h.emulator.url}/portal/${portal.id}`,
    });
    expectStripeShape(portal, portalFixture);

    const error = await stripeError(h.stripe.billingPortal.sessions.create({ customer: "cus_nope" }));
    expect(error).toMatchObject({ statusCode: 400, code: "resource_missing", param: "customer" });
  });

  it("creates a subscription_update_confirm deep link (flow_data) for one of the customer's subscription items", async () => {
    const { subscription } = await subscribe(h);
    const item = subscription.items.data[0]!;
    const flowData = (
      overrides: Partial<Stripe.BillingPortal.SessionCreateParams.FlowData.SubscriptionUpdateConfirm> = {},
    ) => ({
      type: "subscription_update_confirm" as const,
      subscription_update_confirm: {
        subscription: subscription.id,
        items: [{ id: item.id, price: "price_emu_hobbyist_monthly", quantity: 1 }],
        ...overrides,
      },
      after_completion: { type: "redirect" as const, redirect: { return_url: "http://app.test/account?switched=1" } },
    });
    const portal = await h.stripe.billingPortal.sessions.create({
      customer: subscription.customer as string,
      return_url: "http://app.test/pricing",
      flow_data: flowData(),
    });
    expect(portal.flow).toEqual({
      type: "subscription_update_confirm",
      after_completion: {
        type: "redirect",
        redirect: { return_url: "http://app.test/account?switched=1" },
        hosted_confirmation: null,
      },
      customer_update: null,
      subscription_cancel: null,
      subscription_pause: null,
      subscription_update: null,
      subscription_update_confirm: {
        subscription: subscription.id,
        items: [{ id: item.id, price: "price_emu_hobbyist_monthly", quantity: 1 }],
        discounts: [],
      },
    });

    const customer = subscription.customer as string;
    const create = (flow: ReturnType<typeof flowData>) =>
      h.stripe.billingPortal.sessions.create({ customer, flow_data: flow });
    expect(
      await stripeError(create(flowData({ items: [{ id: "si_nope", price: "price_emu_hobbyist_monthly" }] }))),
    ).toMatchObject({
      statusCode: 400,
      param: "flow_data[subscription_update_confirm][items][0][id]",
    });
    expect(
      await stripeError(create(flowData({ items: [{ id: item.id, price: "price_emu_pro_monthly_2024" }] }))),
    ).toMatchObject({
      statusCode: 400,
      param: "flow_data[subscription_update_confirm][items][0][price]",
    });
    const other = (await subscribe(h)).subscription;
    expect(await stripeError(create(flowData({ subscription: other.id })))).toMatchObject({
      statusCode: 400,
      code: "resource_missing",
      param: "flow_data[subscription_update_confirm][subscription]",
    });
    // Nothing changed: the flow only switches once confirmed on the portal page.
    expect((await h.stripe.subscriptions.retrieve(subscription.id)).items.data[0]?.price.id).toBe(
      "price_emu_pro_monthly",
    );
  });
});

describe("subscriptions", () => {
  it("retrieves a subscription with Stripe's shape and the period on its items (API 2025-03-31+)", async () => {
    const { subscription } = await subscribe(h);
    const retrieved = await h.stripe.subscriptions.retrieve(subscription.id);
    expect(retrieved).toMatchObject({ status: "active", cancel_at_period_end: false, metadata: { user_id: "123" } });
    expect(retrieved).not.toHaveProperty("current_period_end");
    const item = retrieved.items.data[0]!;
    const months = (t: number) => new Date(t * 1000).getUTCFullYear() * 12 + new Date(t * 1000).getUTCMonth();
    expect(months(item.current_period_end) - months(item.current_period_start)).toBe(1);
    expectStripeShape(retrieved, subscriptionFixture);
    expect(await stripeError(h.stripe.subscriptions.retrieve("sub_nope"))).toMatchObject({
      statusCode: 404,
      code: "resource_missing",
    });
  });

  it("lists a customer's subscriptions; canceled ones only with status=all", async () => {
    const { subscription: first } = await subscribe(h);
    const customer = first.customer;
    await h.stripe.subscriptions.cancel(first.id);
    const session = await createCheckout(h.stripe, { customer, customer_email: undefined });
    const { subscription: second } = await h.emulator.completeCheckout(session.id);
    await subscribe(h); // someone else's

    expect((await h.stripe.subscriptions.list({ customer })).data.map((s) => s.id)).toEqual([second.id]);
    const all = await h.stripe.subscriptions.list({ customer, status: "all" });
    expect(all.data.map((s) => [s.id, s.status])).toEqual([
      [second.id, "active"],
      [first.id, "canceled"],
    ]);
    expect(await stripeError(h.stripe.subscriptions.list({ status: "bogus" as "all" }))).toMatchObject({
      param: "status",
    });
  });

  it("lists the subscriptions on a price (any item), newest first, paged by cursor", async () => {
    const { subscription: first } = await subscribe(h);
    const { subscription: second } = await subscribe(h);
    await h.stripe.subscriptions.update(second.id, {
      items: [{ id: second.items.data[0]!.id, price: "price_emu_hobbyist_monthly" }],
    });
    const { subscription: third } = await subscribe(h);
    const onPro = await h.stripe.subscriptions.list({ price: "price_emu_pro_monthly" });
    expect(onPro.data.map((s) => s.id)).toEqual([third.id, first.id]);
    const page = await h.stripe.subscriptions.list({ price: "price_emu_pro_monthly", limit: 1 });
    expect(page.has_more).toBe(true);
    const rest = await h.stripe.subscriptions.list({
      price: "price_emu_pro_monthly",
      limit: 1,
      starting_after: page.data[0]!.id,
    });
    expect(rest.data.map((s) => s.id)).toEqual([first.id]);
    expect(rest.has_more).toBe(false);
    expect((await h.stripe.subscriptions.list({ price: "price_emu_hobbyist_monthly" })).data.map((s) => s.id)).toEqual([
      second.id,
    ]);
  });

  it("switches plan in place: customer.subscription.updated with previous_attributes, delivered in the background", async () => {
    const { subscription } = await subscribe(h);
    const item = subscription.items.data[0]!;
    const updated = await h.stripe.subscriptions.update(
      subscription.id,
      { items: [{ id: item.id, price: "price_emu_hobbyist_monthly" }], proration_behavior: "create_prorations" },
      { idempotencyKey: "switch-1" },
    );
    expect(updated.items.data.map((i) => [i.id, i.price.id, i.plan.id])).toEqual([
      [item.id, "price_emu_hobbyist_monthly", "price_emu_hobbyist_monthly"],
    ]);
    expect(updated.items.data[0]?.current_period_end).toBe(item.current_period_end);

    await h.receiver.waitFor(1);
    const [event] = h.receiver.events;
    expect(event).toMatchObject({
      type: "customer.subscription.updated",
      request: { id: expect.stringMatching(/^req_/), idempotency_key: "switch-1" },
    });
    expect(event?.data.previous_attributes).toHaveProperty("items.data.0.price.id", "price_emu_pro_monthly");
  });

  it("restarts the period and bills when the interval changes", async () => {
    const { subscription } = await subscribe(h);
    const item = subscription.items.data[0]!;
    const updated = await h.stripe.subscriptions.update(subscription.id, {
      items: [{ id: item.id, price: "price_emu_pro_yearly" }],
    });
    await h.emulator.settle();
    expect(h.receiver.types).toEqual(["customer.subscription.updated", "invoice.paid"]);
    const invoice = h.receiver.events[1]?.data.object as Stripe.Invoice;
    expect(invoice).toMatchObject({ billing_reason: "subscription_update", amount_paid: 29000, status: "paid" });
    expect(updated.latest_invoice).toBe(invoice.id);
    const period = updated.items.data[0]!;
    expect(
      new Date(period.current_period_end * 1000).getUTCFullYear() -
        new Date(period.current_period_start * 1000).getUTCFullYear(),
    ).toBe(1);
  });

  it("sets and clears cancel_at_period_end, and refuses invalid updates without changing anything", async () => {
    const { subscription } = await subscribe(h);
    const periodEnd = subscription.items.data[0]!.current_period_end;
    const canceling = await h.stripe.subscriptions.update(subscription.id, { cancel_at_period_end: true });
    expect(canceling).toMatchObject({
      cancel_at_period_end: true,
      cancel_at: periodEnd,
      cancellation_details: { reason: "cancellation_requested" },
    });
    const resumed = await h.stripe.subscriptions.update(subscription.id, { cancel_at_period_end: false });
    expect(resumed).toMatchObject({ cancel_at_period_end: false, cancel_at: null, canceled_at: null });

    const badItem = await stripeError(
      h.stripe.subscriptions.update(subscription.id, { items: [{ id: "si_nope", price: "price_emu_pro_yearly" }] }),
    );
    expect(badItem).toMatchObject({ statusCode: 400, param: "items[0][id]" });
    const badPrice = await stripeError(
      h.stripe.subscriptions.update(subscription.id, { items: [{ price: "price_nope" }] }),
    );
    expect(badPrice).toMatchObject({ statusCode: 400, code: "resource_missing", param: "items[0][price]" });
    expect((await h.stripe.subscriptions.retrieve(subscription.id)).items.data.map((i) => i.price.id)).toEqual([
      "price_emu_pro_monthly",
    ]);
    await h.emulator.settle();
    expect(h.receiver.types).toEqual(["customer.subscription.updated", "customer.subscription.updated"]);
  });

  it("cancels now with DELETE: customer.subscription.deleted, and no further changes", async () => {
    const { subscription } = await subscribe(h);
    const canceled = await h.stripe.subscriptions.cancel(subscription.id);
    expect(canceled).toMatchObject({ status: "canceled", cancellation_details: { reason: "cancellation_requested" } });
    expect(canceled.ended_at).toBe(canceled.canceled_at);
    await h.emulator.settle();
    expect(h.receiver.types).toEqual(["customer.subscription.deleted"]);
    expect(await stripeError(h.stripe.subscriptions.cancel(subscription.id))).toMatchObject({ statusCode: 400 });
    expect(
      await stripeError(h.stripe.subscriptions.update(subscription.id, { cancel_at_period_end: true })),
    ).toMatchObject({ statusCode: 400 });
  });
});

describe("events", () => {
  it("retrieves an event by id, as sent in the webhook, and 404s unknown ids", async () => {
    const session = await createCheckout(h.stripe);
    const { events } = await h.emulator.completeCheckout(session.id);
    const created = events.find((e) => e.type === "customer.subscription.created")!;
    const event = await h.stripe.events.retrieve(created.id);
    // Delivered, so no webhooks are pending any more.
    expect(event).toMatchObject({
      type: "customer.subscription.created",
      api_version: Stripe.API_VERSION,
      pending_webhooks: 0,
    });
    expect(JSON.stringify(event.data)).toBe(JSON.stringify(h.receiver.events.find((e) => e.id === created.id)?.data));
    const envelope = { ...eventFixture, data: {} }; // the fixture's payload is a plan
    expectStripeShape(event, envelope);
    expect(await stripeError(h.stripe.events.retrieve("evt_nope"))).toMatchObject({
      statusCode: 404,
      code: "resource_missing",
    });
  });
});
