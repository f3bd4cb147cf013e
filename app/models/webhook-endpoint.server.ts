// Outgoing webhook endpoints and their delivery log (docs/decisions/018).
import { prisma } from "~/db/db.server.ts";
import type { Db } from "./transaction.server.ts";

export type EndpointFields = { url: string; eventTypes: string[] };

export function createEndpoint(db: Db, fields: EndpointFields & { secret: string }) {
  return db.webhookEndpoint.create({ data: fields });
}

export function updateEndpoint(db: Db, id: number, fields: EndpointFields) {
  return db.webhookEndpoint.update({ where: { id }, data: fields });
}

/** Enables (clearing the failing streak) or disables an endpoint by hand. */
export function setEndpointEnabled(db: Db, id: number, enabled: boolean) {
  return db.webhookEndpoint.update({
    where: { id },
    data: enabled
      ? { enabled: true, disabledReason: null, disabledAt: null, failingSince: null }
      : { enabled: false, disabledReason: "admin", disabledAt: new Date() },
  });
}

/**
 * Deletes an endpoint with its log: its deliveries and their attempts (by cascade), and the messages
 * that no other endpoint has a delivery of (retention finds messages through their deliveries only).
 */
export async function deleteEndpoint(db: Db, id: number) {
  await db.$executeRaw`
    DELETE FROM webhook_messages m
     WHERE m.id = ANY(ARRAY(SELECT message_id FROM webhook_deliveries WHERE endpoint_id = ${id}))
       AND NOT EXISTS (SELECT 1 FROM webhook_deliveries o WHERE o.message_id = m.id AND o.endpoint_id <> ${id})`;
  return db.webhookEndpoint.delete({ where: { id } });
}

export function lockEndpoint(db: Db, id: number) {
  return db.webhookEndpoint.findUnique({ where: { id } });
}

const ENDPOINT_FIELDS = {
  id: true,
  url: true,
  eventTypes: true,
  enabled: true,
  disabledReason: true,
  disabledAt: true,
  failingSince: true,
  lastSuccessAt: true,
  createdAt: true,
} as const;

/** Every endpoint (an admin registers a handful), oldest first, without secrets. */
export function listEndpoints() {
  return prisma.webhookEndpoint.findMany({ select: ENDPOINT_FIELDS, orderBy: { id: "asc" } });
}

export function getEndpoint(id: number) {
  return prisma.webhookEndpoint.findUnique({ where: { id }, select: ENDPOINT_FIELDS });
}

/** How many of the endpoint's deliveries are pending, succeeded and failed (three index counts). */
export async function countDeliveriesByStatus(endpointId: number) {
  const rows = await prisma.webhookDelivery.groupBy({
    by: ["status"],
    where: { endpointId },
    _count: { _all: true },
  });
  const counts = { pending: 0, succeeded: 0, failed: 0 };
  for (const row of rows) counts[row.status] = row._count._all;
  return counts;
}

export const DELIVERY_PAGE_SIZE = 25;
const ATTEMPTS_SHOWN = 10;

/** The endpoint's deliveries, newest first, keyset-paged on id, each with its message and latest attempts. */
export function listDeliveries(endpointId: number, { beforeId, status }: { beforeId?: bigint; status?: "failed" }) {
  return prisma.webhookDelivery.findMany({
    where: { endpointId, ...(status ? { status } : {}), ...(beforeId ? { id: { lt: beforeId } } : {}) },
    orderBy: { id: "desc" },
    take: DELIVERY_PAGE_SIZE + 1,
    include: {
      message: { select: { webhookId: true, eventType: true, accountId: true, createdAt: true } },
      attemptLog: { orderBy: { at: "desc" }, take: ATTEMPTS_SHOWN },
    },
  });
}
