// Retention of the outgoing webhooks' log (docs/decisions/018): deliveries that succeeded or failed for
// good before EVENT_RETENTION_DAYS leave in batches with their attempts, and a message leaves with its
// last delivery; a delivery still pending (retrying, or waiting for a disabled endpoint) and anything
// finished inside the window stay. /admin/webhooks/:id keeps counting exactly what it lists.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import * as endpointRoute from "../../app/routes/admin.webhooks.$endpointId.tsx";
import { purgeExpiredWebhookDeliveries, runRetentionStep } from "../../app/services/events/retention.server.ts";
import { stopJobQueue } from "../../app/services/jobs/queue.server.ts";
import { createWebhookEndpoint, deleteWebhookEndpoint } from "../../app/services/webhooks/endpoints.server.ts";
import { testDb } from "../setup/database.ts";
import { getRequest, routeArgs, seedDemoData, sessionCookieFor, settle } from "../utils.ts";

const prisma = () => testDb().prisma;
const ADMIN = { id: null, email: "test@example.com" } as const;

let support: string;
beforeAll(async () => {
  await seedDemoData();
  support = await sessionCookieFor("support@example.com");
});
afterAll(() => stopJobQueue());
beforeEach(async () => {
  await prisma().webhookEndpoint.deleteMany();
  await prisma().webhookMessage.deleteMany();
});

async function endpoint() {
  const created = await createWebhookEndpoint(ADMIN, {
    url: "http://127.0.0.1:9/hooks",
    eventTypes: ["account.entitlements.updated"],
  });
  if (!created.ok) throw new Error(created.message);
  return created.id;
}

type Delivery = { endpointId: number; status: "pending" | "succeeded" | "failed"; finishedDaysAgo?: number };

/** A message created `daysAgo` days ago with these deliveries, each with two attempts; its webhook-id. */
async function message(tag: string, daysAgo: number, deliveries: Delivery[]) {
  const webhookId = `msg_${tag}_${Date.now()}`;
  const created = await prisma().webhookMessage.create({
    data: {
      webhookId,
      eventType: "account.entitlements.updated",
      accountId: 1,
      payload: { type: "account.entitlements.updated" },
      createdAt: new Date(Date.now() - daysAgo * 86_400_000),
    },
  });
  for (const delivery of deliveries) {
    const finishedAt =
      delivery.finishedDaysAgo === undefined ? null : new Date(Date.now() - delivery.finishedDaysAgo * 86_400_000);
    const row = await prisma().webhookDelivery.create({
      data: {
        messageId: created.id,
        endpointId: delivery.endpointId,
        status: delivery.status,
        attempts: 2,
        createdAt: created.createdAt,
        nextAttemptAt: finishedAt ?? new Date(),
        finishedAt,
      },
    });
    await prisma().webhookDeliveryAttempt.createMany({
      data: [
        { deliveryId: row.id, at: created.createdAt, statusCode: 503, durationMs: 12 },
        { deliveryId: row.id, at: finishedAt ?? new Date(), statusCode: 200, durationMs: 9 },
      ],
    });
  }
  return webhookId;
}

const kept = async () =>
  (await prisma().webhookMessage.findMany({ select: { webhookId: true } })).map((m) => m.webhookId);

/** What /admin/webhooks/:id shows, beside what is stored for the endpoint. */
async function pageAgreesWithStore(endpointId: number) {
  const response = await settle(() =>
    endpointRoute.loader(
      routeArgs(getRequest(`/admin/webhooks/${endpointId}`, support), { endpointId: String(endpointId) }),
    ),
  );
  expect(response.status).toBe(200);
  const page = (await response.json()) as {
    counts: Record<string, number>;
    deliveries: Array<{ webhookId: string; status: string; attemptLog: unknown[] }>;
    retentionDays: number;
  };
  const stored = await prisma().webhookDelivery.findMany({
    where: { endpointId },
    include: { message: true, _count: { select: { attemptLog: true } } },
    orderBy: { id: "desc" },
  });
  for (const status of ["pending", "succeeded", "failed"]) {
    expect(page.counts[status], status).toBe(stored.filter((delivery) => delivery.status === status).length);
  }
  expect(page.deliveries.map((delivery) => [delivery.webhookId, delivery.status, delivery.attemptLog.length])).toEqual(
    stored.map((delivery) => [delivery.message.webhookId, delivery.status, delivery._count.attemptLog]),
  );
  expect(page.retentionDays).toBe(90);
  return page;
}

describe("webhook retention", () => {
  it("removes deliveries finished before the window with their attempts, and messages with their last delivery; never a pending one", async () => {
    const a = await endpoint();
    const b = await endpoint();
    await prisma().webhookEndpoint.update({ where: { id: b }, data: { enabled: false, disabledReason: "admin" } });
    const succeeded = await message("succeeded", 120, [{ endpointId: a, status: "succeeded", finishedDaysAgo: 120 }]);
    const failed = await message("failed", 97, [{ endpointId: a, status: "failed", finishedDaysAgo: 94 }]);
    const both = await message("both", 100, [
      { endpointId: a, status: "failed", finishedDaysAgo: 97 },
      { endpointId: b, status: "succeeded", finishedDaysAgo: 100 },
    ]);
    // B is disabled: its delivery waits, so the message stays with it (A's finished one goes).
    const waiting = await message("waiting", 150, [
      { endpointId: a, status: "succeeded", finishedDaysAgo: 150 },
      { endpointId: b, status: "pending" },
    ]);
    // B's delivery finished inside the window: the message stays with it (A's old one goes).
    const mixed = await message("mixed", 100, [
      { endpointId: a, status: "succeeded", finishedDaysAgo: 100 },
      { endpointId: b, status: "succeeded", finishedDaysAgo: 2 },
    ]);
    const retrying = await message("retrying", 200, [{ endpointId: a, status: "pending" }]);
    // Replayed a few days ago: it finished inside the window.
    const replayed = await message("replayed", 120, [{ endpointId: a, status: "succeeded", finishedDaysAgo: 3 }]);
    const recent = await message("recent", 1, [{ endpointId: a, status: "succeeded", finishedDaysAgo: 1 }]);
    const edge = await message("edge", 89, [{ endpointId: a, status: "failed", finishedDaysAgo: 89 }]);
    await pageAgreesWithStore(a);
    await pageAgreesWithStore(b);

    const result = await purgeExpiredWebhookDeliveries({ batchSize: 2 });
    expect(result).toEqual({ removed: 6, messages: 3, finished: true });
    expect((await kept()).sort()).toEqual([waiting, mixed, retrying, replayed, recent, edge].sort());
    expect(await kept()).not.toContain(succeeded);
    expect(await kept()).not.toContain(failed);
    expect(await kept()).not.toContain(both);
    const waitingDeliveries = await prisma().webhookDelivery.findMany({
      where: { message: { webhookId: waiting } },
      select: { endpointId: true, status: true },
    });
    expect(waitingDeliveries).toEqual([{ endpointId: b, status: "pending" }]);
    // Attempts went with their deliveries; the kept ones' stayed.
    expect(await prisma().webhookDeliveryAttempt.count()).toBe(2 * 6);
    expect(await prisma().webhookDelivery.count()).toBe(6);

    const page = await pageAgreesWithStore(a);
    expect(page.counts).toEqual({ pending: 1, succeeded: 2, failed: 1 });
    expect((await pageAgreesWithStore(b)).counts).toEqual({ pending: 1, succeeded: 1, failed: 0 });

    // Nothing more to remove: a second purge finds nothing.
    expect(await purgeExpiredWebhookDeliveries({ batchSize: 2 })).toEqual({ removed: 0, messages: 0, finished: true });
  });

  it("stops when its time is up and says more is left; the queue's retention step finishes it", async () => {
    const a = await endpoint();
    for (let i = 0; i < 5; i++)
      await message(`later_${i}`, 100, [{ endpointId: a, status: "succeeded", finishedDaysAgo: 100 }]);
    expect(await purgeExpiredWebhookDeliveries({ batchSize: 2, budgetMs: 0 })).toEqual({
      removed: 0,
      messages: 0,
      finished: false,
    });
    // The hourly job's step: the event log's purge, then the webhooks'.
    await runRetentionStep();
    expect(await prisma().webhookMessage.count()).toBe(0);
    expect(await prisma().webhookDeliveryAttempt.count()).toBe(0);
    await pageAgreesWithStore(a);
  });

  it("deleting an endpoint takes the messages only it was sent, and keeps those another endpoint has", async () => {
    const a = await endpoint();
    const b = await endpoint();
    const onlyA = await message("only_a", 1, [{ endpointId: a, status: "succeeded", finishedDaysAgo: 1 }]);
    const shared = await message("shared", 1, [
      { endpointId: a, status: "succeeded", finishedDaysAgo: 1 },
      { endpointId: b, status: "pending" },
    ]);
    expect(await deleteWebhookEndpoint(ADMIN, a)).toEqual({ ok: true });
    expect(await kept()).toEqual([shared]);
    expect(await kept()).not.toContain(onlyA);
    await pageAgreesWithStore(b);
  });
});
