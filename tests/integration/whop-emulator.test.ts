// The Whop emulator speaks the part of Whop's REST API v1 the app reads, in Whop's shapes (parsed by
// the app's own client), with Whop's auth, paging and errors, and signs webhooks the way Whop does.
import { Whop } from "@whop/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  listMemberships,
  listPlans,
  retrieveMembership,
  retrieveProduct,
  WhopApiError,
} from "../../app/services/whop/client.server.ts";
import {
  hasValidWhopSignature,
  standardWebhooksKey,
  webhookHeadersOf,
} from "../../app/services/whop/signatures.server.ts";
import { useWhopConnection } from "../../app/services/whop/client.server.ts";
import { startWhopEmulator, type WhopEmulator } from "../../whop-emulator/emulator.ts";
import { TEST_WHOP_API_KEY, TEST_WHOP_SECRET, withWhopConnection } from "../whop-harness.ts";

// Its own emulator, recording webhooks without sending them: this file needs no app and no database.
const whop = {} as { emulator: WhopEmulator };
beforeAll(async () => {
  whop.emulator = await startWhopEmulator({ webhookSecret: TEST_WHOP_SECRET, apiKey: TEST_WHOP_API_KEY });
  useWhopConnection({
    mode: "emulator",
    apiKey: TEST_WHOP_API_KEY,
    apiBase: whop.emulator.apiBase,
    webhookSecrets: [TEST_WHOP_SECRET],
  });
});
afterAll(async () => {
  await whop.emulator.close();
  useWhopConnection({ mode: "disabled", apiKey: null, apiBase: null, webhookSecrets: [] });
});
const api = (path: string, init: RequestInit = {}, key: string | null = TEST_WHOP_API_KEY) =>
  fetch(`${whop.emulator.apiBase}${path}`, {
    ...init,
    headers: { ...(key ? { Authorization: `Bearer ${key}` } : {}), ...init.headers },
  });

describe("REST API v1", () => {
  it("refuses requests without the API key", async () => {
    const response = await api("/products/prod_whop_basic", {}, null);
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: { type: "unauthorized", message: expect.any(String) } });
    await expect(withWhopConnection({ apiKey: "wrong" }, () => retrieveProduct("prod_whop_basic"))).rejects.toThrow(
      WhopApiError,
    );
  });

  it("serves products and their plans in shapes the app's client reads", async () => {
    expect(await retrieveProduct("prod_whop_basic")).toMatchObject({
      id: "prod_whop_basic",
      title: "Whop Basic",
      visibility: "visible",
      company: { id: "biz_emulator" },
    });
    expect(await retrieveProduct("prod_nope")).toBeNull();
    const plans = await listPlans(["prod_whop_basic", "prod_whop_plus"], "biz_emulator");
    expect(plans.map((plan) => [plan.id, plan.productId])).toEqual([
      ["plan_emu_whop_basic_monthly", "prod_whop_basic"],
      ["plan_emu_whop_basic_2024", "prod_whop_basic"],
      ["plan_emu_whop_plus_monthly", "prod_whop_plus"],
      ["plan_emu_whop_plus_yearly", "prod_whop_plus"],
    ]);
    expect(plans[0]).toMatchObject({
      initialPrice: 5,
      renewalPrice: 5,
      billingPeriod: 30,
      currency: "usd",
      purchaseUrl: `${whop.emulator.url}/checkout/plan/plan_emu_whop_basic_monthly`,
    });
  });

  it("lists plans per company, cursor-paged", async () => {
    expect((await api("/plans?product_ids[]=prod_whop_basic")).status).toBe(400);
    const first = (await (await api("/plans?company_id=biz_emulator&first=2")).json()) as {
      data: Array<{ id: string }>;
      page_info: { end_cursor: string; has_next_page: boolean };
    };
    expect(first.data).toHaveLength(2);
    expect(first.page_info.has_next_page).toBe(true);
    const next = (await (
      await api(`/plans?account_id=biz_emulator&first=100&after=${first.page_info.end_cursor}`)
    ).json()) as { data: Array<{ id: string }> };
    expect([...first.data, ...next.data].map((plan) => plan.id)).toHaveLength(6);
  });

  it("filters memberships by user, product and status; a checkout configuration's metadata reaches the membership", async () => {
    whop.emulator.reset();
    const created = await api("/checkout_configurations", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        plan_id: "plan_emu_whop_plus_monthly",
        metadata: { tierdesk_user_id: "42" },
        redirect_url: "http://localhost/back",
      }),
    });
    const configuration = (await created.json()) as { id: string; purchase_url: string };
    expect(configuration.purchase_url).toBe(`${whop.emulator.url}/checkout/${configuration.id}`);
    const { membership } = await whop.emulator.completeCheckout(configuration.id, { email: "Buyer@Example.com" });
    expect(membership).toMatchObject({
      status: "trialing",
      metadata: { tierdesk_user_id: "42" },
      user: { email: "buyer@example.com" },
    });
    await whop.emulator.purchase("plan_emu_whop_basic_monthly", { email: "other@example.com" });

    expect((await listMemberships({ userIds: [membership.user.id] })).map((m) => m.id)).toEqual([membership.id]);
    expect(await listMemberships({ productIds: ["prod_whop_basic"], statuses: ["trialing"] })).toEqual([]);
    expect(await retrieveMembership(membership.id)).toMatchObject({
      id: membership.id,
      status: "trialing",
      product: { id: "prod_whop_plus" },
    });
    expect(await retrieveMembership("mem_nope")).toBeNull();
    expect((await api("/memberships?statuses[]=sleeping")).status).toBe(400);
  });

  it("refuses a checkout for a plan that is not for sale", async () => {
    const response = await api("/checkout_configurations", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ plan_id: "plan_emu_whop_basic_2024" }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: { type: "invalid_request_error", message: "Plan plan_emu_whop_basic_2024 is not for sale" },
    });
  });
});

describe("webhooks", () => {
  it("signs each delivery like Whop: the same webhook-id on every delivery, keyed by the secret's literal bytes", async () => {
    const received: Array<{ headers: Headers; body: string }> = [];
    const http = await import("node:http");
    const server = http.createServer(async (req, res) => {
      let body = "";
      for await (const chunk of req) body += String(chunk);
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) if (typeof value === "string") headers.set(name, value);
      received.push({ headers, body });
      res.end("ok");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    const emulator = await startWhopEmulator({
      webhookUrl: `http://127.0.0.1:${port}/hook`,
      webhookSecret: TEST_WHOP_SECRET,
    });
    try {
      const { events } = await emulator.purchase("plan_emu_whop_basic_monthly", { email: "signed@example.com" });
      await emulator.deliver(events[0]!.id, { times: 2 });
      expect(received).toHaveLength(4);
      const activations = received.filter((delivery) => delivery.headers.get("webhook-id") === events[0]!.id);
      expect(activations).toHaveLength(3);
      // A plain SDK client, set up as Whop's documentation says (webhookKey: the secret in base64).
      const sdk = new Whop({ apiKey: "unused", webhookKey: standardWebhooksKey(TEST_WHOP_SECRET), logLevel: "off" });
      for (const { headers, body } of received) {
        expect(sdk.webhooks.unwrap(body, { headers: Object.fromEntries(headers) })).toEqual(JSON.parse(body));
        expect(() =>
          sdk.webhooks.unwrap(body.replace('"v1"', '"v2"'), { headers: Object.fromEntries(headers) }),
        ).toThrow("No matching signature found");
        expect(hasValidWhopSignature(body, webhookHeadersOf(headers)!, [TEST_WHOP_SECRET])).toBe(true);
        expect(JSON.parse(body)).toMatchObject({
          api_version: "v1",
          company_id: "biz_emulator",
          type: expect.stringMatching(/^(membership|payment)\./),
        });
      }
    } finally {
      await emulator.close();
      server.close();
    }
  });
});
