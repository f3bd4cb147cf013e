// Outgoing webhooks on PostgreSQL: the outbox written with the change, signed delivery to a local
// receiver, retries with backoff, giving up after 3 days, replay, auto-disable, SSRF, two workers.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Webhook } from "standardwebhooks";
import * as webhookRoute from "../../app/routes/api.stripe.webhook.ts";
import { requirePostgres, testDb } from "../setup/database.ts";
import { event, subscription, TEST_WEBHOOK_SECRET, webhookRequest } from "../stripe-fixtures.ts";
import { createBillingUser, routeArgs, seedDemoData } from "../utils.ts";
import { useStripeConnection } from "../../app/services/stripe/client.server.ts";
import { deliverDueWebhooks, retryWindowMs } from "../../app/services/webhooks/delivery.server.ts";
import { destinationProblem } from "../../app/services/webhooks/destination.server.ts";
import { announceAccountChange } from "../../app/services/webhooks/outbox.server.ts";
import {
  createWebhookEndpoint,
  replayFailedDeliveries,
  setWebhookEndpointEnabled,
} from "../../app/services/webhooks/endpoints.server.ts";
import { inTransaction } from "../../app/models/transaction.server.ts";
import { createUser } from "../../app/models/user.server.ts";
import { inviteMember, revokeInvitation } from "../../app/services/customers/members.server.ts";
import { config, useConfig } from "../../app/utils/config.server.ts";
import { stopJobQueue } from "../../app/services/jobs/queue.server.ts";

const prisma = () => testDb().prisma;
const ADMIN = { id: null, email: "test@example.com" } as const;

type Received = { id: string; headers: http.IncomingHttpHeaders; body: string };
/** A local receiver: records every request, answers with `answer()`'s status. */
async function receiver() {
  const received: Received[] = [];
  const state = { answer: (_request: Received): number => 200 };
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const entry = {
        id: String(request.headers["webhook-id"]),
        headers: request.headers,
        body: Buffer.concat(chunks).toString(),
      };
      received.push(entry);
      const status = state.answer(entry);
      response.writeHead(status, { "content-type": "text/plain" }).end(status < 300 ? "ok" : "receiver says no");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  return { url, received, state, close: () => new Promise((resolve) => server.close(resolve)) };
}

let sink: Awaited<ReturnType<typeof receiver>>;
const productionConfig = () => useConfig({ ...config(), production: true });
const original = () => config();
let savedConfig: ReturnType<typeof config>;

beforeAll(async () => {
  await seedDemoData();
  sink = await receiver();
  savedConfig = original();
});
afterAll(async () => {
  await stopJobQueue();
  await sink.close();
});
beforeEach(async () => {
  useStripeConnection({ mode: "disabled", apiKey: null, apiBase: null, webhookSecrets: [TEST_WEBHOOK_SECRET] });
  sink.received.length = 0;
  sink.state.answer = () => 200;
  await prisma().webhookEndpoint.deleteMany();
  await prisma().webhookMessage.deleteMany();
});
afterEach(() => useConfig(savedConfig));

async function endpoint(types = ["account.entitlements.updated", "account.seats.updated", "account.created"]) {
  const created = await createWebhookEndpoint(ADMIN, { url: sink.url, eventTypes: types });
  if (!created.ok) throw new Error(created.message);
  return created;
}

let n = 0;
async function customer() {
  n++;
  return createBillingUser({
    email: `outhooks-${n}-${Date.now()}@example.com`,
    stripeCustomerId: `cus_out_${n}_${Date.now()}`,
  });
}

const deliver = (request: Request) => webhookRoute.action(routeArgs(request));

describe("outbox", () => {
  it("a Stripe webhook that changes an account's tier writes exactly one message, delivered signed", async () => {
    const { secret } = await endpoint();
    const user = await customer();
    // The product's own id for the account travels with every message (its `ext:` ref in the API).
    const externalId = `product-team-${user.accountId}`;
    await prisma().account.update({ where: { id: user.accountId }, data: { externalId } });
    const response = await deliver(
      webhookRequest(
        event(
          "customer.subscription.updated",
          subscription({ customer: user.stripeCustomerId!, lookupKey: "pro_monthly" }),
        ),
      ),
    );
    expect(response.status).toBe(200);
    const messages = await prisma().webhookMessage.findMany({ where: { accountId: user.accountId } });
    expect(messages.map((m) => m.eventType)).toEqual(["account.entitlements.updated"]);
    expect(messages[0]!.webhookId).toMatch(/^msg_[0-9a-f]{32}$/);

    // The same state again changes nothing: no second message.
    await deliver(
      webhookRequest(
        event(
          "customer.subscription.updated",
          subscription({ customer: user.stripeCustomerId!, lookupKey: "pro_monthly" }),
        ),
      ),
    );
    expect(await prisma().webhookMessage.count({ where: { accountId: user.accountId } })).toBe(1);

    expect(await deliverDueWebhooks()).toBe(1);
    expect(sink.received).toHaveLength(1);
    const got = sink.received[0]!;
    const payload = new Webhook(secret).verify(got.body, got.headers as Record<string, string>) as {
      type: string;
      data: {
        account: { id: number; externalId: string | null };
        entitlements: {
          tier: string;
          status: string;
          permissions: string[];
          seats: { limit: number; used: number; pending: number };
        };
      };
    };
    expect(got.id).toBe(messages[0]!.webhookId);
    expect(payload.type).toBe("account.entitlements.updated");
    expect(payload.data.account).toMatchObject({ id: user.accountId, externalId });
    expect(payload.data.entitlements).toMatchObject({ tier: "pro", status: "active", seats: { used: 1, pending: 0 } });
    expect(payload.data.entitlements.permissions.length).toBeGreaterThan(0);
    const delivery = await prisma().webhookDelivery.findFirstOrThrow({ include: { attemptLog: true } });
    expect(delivery.status).toBe("succeeded");
    expect(delivery.attemptLog).toHaveLength(1);
    expect(delivery.attemptLog[0]).toMatchObject({ statusCode: 200, responseExcerpt: "ok" });
  });

  it("a change that rolls back sends nothing (outbox atomicity)", async () => {
    await endpoint();
    const user = await customer();
    const pro = await prisma().subscriptionTier.findUniqueOrThrow({ where: { key: "partner" } });
    await expect(
      inTransaction(async (tx) => {
        await tx.account.update({ where: { id: user.accountId }, data: { tierId: pro.id } });
        await announceAccountChange(tx, [user.accountId], "account.entitlements.updated");
        throw new Error("rolled back");
      }),
    ).rejects.toThrow("rolled back");
    expect(await prisma().webhookMessage.count()).toBe(0);
    expect(await deliverDueWebhooks()).toBe(0);
    expect(sink.received).toHaveLength(0);
  });

  it("sign-up announces account.created; an invitation and its revocation announce account.seats.updated", async () => {
    await endpoint();
    const user = await createUser({ email: `created-${Date.now()}@example.com`, password: "a long enough password" });
    const account = await prisma().membership.findFirstOrThrow({ where: { userId: user.id } });
    const created = await prisma().webhookMessage.findMany({ where: { accountId: account.accountId } });
    expect(created.map((m) => m.eventType)).toEqual(["account.created"]);
    expect(created[0]!.payload).toMatchObject({
      data: { account: { id: account.accountId }, entitlements: { tier: "free", seats: { used: 1 } } },
    });

    const team = await prisma().account.findUniqueOrThrow({ where: { slug: "acme-studio" } });
    const before = await prisma().webhookMessage.count({ where: { accountId: team.id } });
    const outcome = await inviteMember(
      { id: team.id, name: team.name },
      { userId: user.id, email: user.email },
      `seat-${Date.now()}@example.com`,
      { page: "http://localhost:3000", mail: null },
    );
    expect(outcome.ok).toBe(true);
    const invitation = await prisma().invitation.findFirstOrThrow({
      where: { accountId: team.id },
      orderBy: { id: "desc" },
    });
    expect(await revokeInvitation(team.id, invitation.id)).toBe(true);
    const seats = await prisma().webhookMessage.findMany({
      where: { accountId: team.id },
      orderBy: { id: "asc" },
      skip: before,
    });
    expect(seats.map((m) => m.eventType)).toEqual(["account.seats.updated", "account.seats.updated"]);
    // The demo data holds one pending invitation already: one more, then back.
    const pending = seats.map(
      (m) => (m.payload as { data: { entitlements: { seats: { pending: number } } } }).data.entitlements.seats.pending,
    );
    expect(pending[1]).toBe(pending[0]! - 1);
  });

  it("writes nothing when no endpoint is subscribed to the type", async () => {
    await endpoint(["account.created"]);
    const user = await customer();
    const partner = await prisma().subscriptionTier.findUniqueOrThrow({ where: { key: "partner" } });
    await inTransaction(async (tx) => {
      await tx.account.update({ where: { id: user.accountId }, data: { tierId: partner.id } });
      await announceAccountChange(tx, [user.accountId], "account.entitlements.updated");
    });
    expect(await prisma().webhookMessage.count()).toBe(0);
  });
});

describe("delivery", () => {
  async function oneMessage() {
    await endpoint(["account.entitlements.updated"]);
    const user = await customer();
    const partner = await prisma().subscriptionTier.findUniqueOrThrow({ where: { key: "partner" } });
    await inTransaction(async (tx) => {
      await tx.account.update({ where: { id: user.accountId }, data: { tierId: partner.id } });
      await announceAccountChange(tx, [user.accountId], "account.entitlements.updated");
    });
    return prisma().webhookDelivery.findFirstOrThrow();
  }

  it("retries a non-2xx answer with backoff, then succeeds with the same webhook-id", async () => {
    const delivery = await oneMessage();
    sink.state.answer = () => 503;
    const t0 = new Date();
    expect(await deliverDueWebhooks({ now: () => t0 })).toBe(1);
    let row = await prisma().webhookDelivery.findUniqueOrThrow({ where: { id: delivery.id } });
    expect(row).toMatchObject({ status: "pending", attempts: 1, lastStatus: 503 });
    const wait1 = row.nextAttemptAt.getTime() - t0.getTime();
    expect(wait1).toBeGreaterThanOrEqual(4_000);
    expect(wait1).toBeLessThanOrEqual(6_000);
    // Not due yet: nothing sent.
    expect(await deliverDueWebhooks({ now: () => t0 })).toBe(0);
    const t1 = new Date(row.nextAttemptAt.getTime() + 1);
    expect(await deliverDueWebhooks({ now: () => t1 })).toBe(1);
    row = await prisma().webhookDelivery.findUniqueOrThrow({ where: { id: delivery.id } });
    const wait2 = row.nextAttemptAt.getTime() - t1.getTime();
    expect(wait2).toBeGreaterThanOrEqual(8_000); // doubled
    sink.state.answer = () => 204;
    const t2 = new Date(row.nextAttemptAt.getTime() + 1);
    expect(await deliverDueWebhooks({ now: () => t2 })).toBe(1);
    row = await prisma().webhookDelivery.findUniqueOrThrow({ where: { id: delivery.id } });
    expect(row).toMatchObject({ status: "succeeded", attempts: 3, lastStatus: 204 });
    expect(new Set(sink.received.map((r) => r.id)).size).toBe(1);
    expect(await prisma().webhookDeliveryAttempt.count({ where: { deliveryId: delivery.id } })).toBe(3);
  });

  it("gives up after 3 days, disables an endpoint failing that long, and a replay delivers once re-enabled", async () => {
    const delivery = await oneMessage();
    sink.state.answer = () => 500;
    let now = new Date();
    // Fail until given up, stepping the clock to each retry.
    for (let i = 0; i < 40; i++) {
      await deliverDueWebhooks({ now: () => now });
      const row = await prisma().webhookDelivery.findUniqueOrThrow({ where: { id: delivery.id } });
      if (row.status !== "pending") break;
      now = new Date(row.nextAttemptAt.getTime() + 1);
    }
    const failed = await prisma().webhookDelivery.findUniqueOrThrow({ where: { id: delivery.id } });
    expect(failed.status).toBe("failed");
    expect(now.getTime() - delivery.createdAt.getTime()).toBeGreaterThan(retryWindowMs() - 7 * 3600_000);
    // Failing every attempt for 3 days: the next step (the periodic sweep's, say) disables the endpoint.
    await deliverDueWebhooks({ now: () => new Date(delivery.createdAt.getTime() + retryWindowMs() + 60_000) });
    const endpointRow = await prisma().webhookEndpoint.findUniqueOrThrow({ where: { id: delivery.endpointId } });
    expect(endpointRow).toMatchObject({ enabled: false, disabledReason: "failing" });

    sink.state.answer = () => 200;
    expect(await replayFailedDeliveries(ADMIN, delivery.endpointId, { deliveryId: delivery.id })).toMatchObject({
      ok: true,
      count: 1,
    });
    // Disabled: nothing is sent until an admin enables it again.
    expect(await deliverDueWebhooks()).toBe(0);
    await setWebhookEndpointEnabled(ADMIN, delivery.endpointId, true);
    expect(await deliverDueWebhooks()).toBe(1);
    expect(await prisma().webhookDelivery.findUniqueOrThrow({ where: { id: delivery.id } })).toMatchObject({
      status: "succeeded",
    });
  });

  it("Replay all failed puts every failed delivery back; endpoint changes are audited", async () => {
    const { id } = await endpoint(["account.entitlements.updated"]);
    const partner = await prisma().subscriptionTier.findUniqueOrThrow({ where: { key: "partner" } });
    for (const user of [await customer(), await customer()]) {
      await inTransaction(async (tx) => {
        await tx.account.update({ where: { id: user.accountId }, data: { tierId: partner.id } });
        await announceAccountChange(tx, [user.accountId], "account.entitlements.updated");
      });
    }
    await prisma().webhookDelivery.updateMany({ where: { endpointId: id }, data: { status: "failed" } });
    expect(await replayFailedDeliveries(ADMIN, id)).toEqual({ ok: true, count: 2 });
    expect(await replayFailedDeliveries(ADMIN, id)).toEqual({ ok: true, count: 0 });
    expect(await deliverDueWebhooks()).toBe(2);
    expect(await prisma().webhookDelivery.count({ where: { endpointId: id, status: "succeeded" } })).toBe(2);
    await setWebhookEndpointEnabled(ADMIN, id, false);
    const audit = await prisma().auditEntry.findMany({
      where: { entity: "webhook_endpoint", entityId: String(id) },
      orderBy: { id: "asc" },
    });
    expect(audit.map((entry) => entry.action)).toEqual(["created", "replayed", "disabled"]);
    expect(JSON.stringify(audit.map((entry) => [entry.before, entry.after]))).not.toContain("whsec_");
  });

  it("two workers racing send each webhook-id once", async (ctx) => {
    requirePostgres(ctx);
    await endpoint(["account.entitlements.updated"]);
    const partner = await prisma().subscriptionTier.findUniqueOrThrow({ where: { key: "partner" } });
    const users = await Promise.all(Array.from({ length: 40 }, () => customer()));
    for (const user of users) {
      await inTransaction(async (tx) => {
        await tx.account.update({ where: { id: user.accountId }, data: { tierId: partner.id } });
        await announceAccountChange(tx, [user.accountId], "account.entitlements.updated");
      });
    }
    const [a, b] = await Promise.all([deliverDueWebhooks(), deliverDueWebhooks()]);
    expect(a + b).toBe(40);
    const ids = sink.received.map((r) => r.id);
    expect(ids).toHaveLength(40);
    expect(new Set(ids).size).toBe(40);
  });
});

describe("destinations (SSRF)", () => {
  it("production refuses loopback, private, link-local, CGNAT and unspecified hosts; development allows them", async () => {
    productionConfig();
    for (const url of [
      "http://127.0.0.1/x",
      "http://localhost/x",
      "http://10.1.2.3/x",
      "http://172.16.0.1/x",
      "http://192.168.1.1/x",
      "http://169.254.169.254/latest/meta-data",
      "http://100.64.0.1/x",
      "http://0.0.0.0/x",
      "http://[::1]/x",
      "http://[fd00::1]/x",
      "http://[fe80::1]/x",
      "http://[::ffff:127.0.0.1]/x",
    ]) {
      expect(await destinationProblem(url), url).toMatch(/private|resolve/);
    }
    expect(await destinationProblem("ftp://example.com/x")).toMatch(/http/);
    expect(await destinationProblem("http://93.184.215.14/x")).toBeNull();
    const refused = await createWebhookEndpoint(ADMIN, { url: sink.url, eventTypes: ["account.created"] });
    expect(refused).toMatchObject({ ok: false, field: "url" });

    useConfig(savedConfig);
    expect(await destinationProblem(sink.url)).toBeNull();
  });

  it("production refuses at delivery time too (an endpoint registered before, or DNS changed)", async () => {
    await endpoint(["account.entitlements.updated"]);
    const user = await customer();
    const partner = await prisma().subscriptionTier.findUniqueOrThrow({ where: { key: "partner" } });
    await inTransaction(async (tx) => {
      await tx.account.update({ where: { id: user.accountId }, data: { tierId: partner.id } });
      await announceAccountChange(tx, [user.accountId], "account.entitlements.updated");
    });
    // The same receiver by name: the connection's own DNS lookup is what refuses it.
    await createWebhookEndpoint(ADMIN, {
      url: sink.url.replace("127.0.0.1", "localhost"),
      eventTypes: ["account.entitlements.updated"],
    });
    await inTransaction(async (tx) => {
      await tx.account.update({ where: { id: user.accountId }, data: { tierId: null } });
      await announceAccountChange(tx, [user.accountId], "account.entitlements.updated");
    });
    productionConfig();
    expect(await deliverDueWebhooks()).toBe(3);
    expect(sink.received).toHaveLength(0);
    const attempts = await prisma().webhookDeliveryAttempt.findMany({
      include: { delivery: { include: { endpoint: true } } },
    });
    expect(attempts).toHaveLength(3);
    for (const attempt of attempts) expect(attempt.error, attempt.delivery.endpoint.url).toMatch(/private/);
    expect(attempts.filter((attempt) => attempt.delivery.endpoint.url.includes("localhost"))).toHaveLength(1);
  });
});
