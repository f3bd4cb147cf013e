// Admins' outgoing webhook endpoints (docs/decisions/018): registering (with a signing secret shown
// once), editing, enabling and disabling, deleting, and replaying failed deliveries. Every change is
// audited in its transaction.
import { randomBytes } from "node:crypto";
import { type AuditActor, recordAudit } from "~/models/audit.server.ts";
import { inTransaction } from "~/models/transaction.server.ts";
import { requeueFailedDeliveries } from "~/models/webhook-delivery.server.ts";
import {
  createEndpoint,
  deleteEndpoint,
  lockEndpoint,
  setEndpointEnabled,
  updateEndpoint,
} from "~/models/webhook-endpoint.server.ts";
import { WEBHOOK_EVENT_TYPES } from "~/models/webhook-outbox.server.ts";
import { destinationProblem } from "./destination.server.ts";
import { kickWebhookDelivery } from "./outbox.server.ts";

/** A Standard Webhooks signing secret: `whsec_` and 24 random bytes in base64. */
export function newSigningSecret() {
  return `whsec_${randomBytes(24).toString("base64")}`;
}

export type EndpointInput = { url: string; eventTypes: string[] };
type FieldRefusal = { ok: false; field: "url" | "eventTypes"; message: string };
type NotFound = { ok: false; field?: undefined; message: string };

async function refusal(input: EndpointInput): Promise<FieldRefusal | null> {
  const problem = await destinationProblem(input.url);
  if (problem) return { ok: false, field: "url", message: problem };
  if (!input.eventTypes.length) return { ok: false, field: "eventTypes", message: "Choose at least one event." };
  const unknown = input.eventTypes.find((type) => !(WEBHOOK_EVENT_TYPES as readonly string[]).includes(type));
  if (unknown) return { ok: false, field: "eventTypes", message: `There is no event "${unknown}".` };
  return null;
}

const shown = (endpoint: { url: string; eventTypes: string[]; enabled: boolean }) => ({
  url: endpoint.url,
  eventTypes: endpoint.eventTypes,
  enabled: endpoint.enabled,
});

export async function createWebhookEndpoint(
  actor: AuditActor,
  input: EndpointInput,
): Promise<{ ok: true; id: number; secret: string } | FieldRefusal> {
  const refused = await refusal(input);
  if (refused) return refused;
  const secret = newSigningSecret();
  return inTransaction(async (tx) => {
    const endpoint = await createEndpoint(tx, { url: input.url, eventTypes: input.eventTypes, secret });
    await recordAudit(tx, {
      actor,
      action: "created",
      entity: "webhook_endpoint",
      entityId: endpoint.id,
      entityLabel: endpoint.url,
      before: null,
      after: shown(endpoint),
    });
    return { ok: true as const, id: endpoint.id, secret };
  });
}

export async function updateWebhookEndpoint(
  actor: AuditActor,
  id: number,
  input: EndpointInput,
): Promise<{ ok: true } | FieldRefusal | NotFound> {
  const refused = await refusal(input);
  if (refused) return refused;
  return inTransaction(async (tx) => {
    const before = await lockEndpoint(tx, id);
    if (!before) return { ok: false as const, message: `No webhook endpoint ${id}.` };
    const after = await updateEndpoint(tx, id, input);
    await recordAudit(tx, {
      actor,
      action: "updated",
      entity: "webhook_endpoint",
      entityId: id,
      entityLabel: after.url,
      before: shown(before),
      after: shown(after),
    });
    return { ok: true as const };
  });
}

/** Enables (clearing an automatic disable) or disables an endpoint. */
export function setWebhookEndpointEnabled(actor: AuditActor, id: number, enabled: boolean) {
  return inTransaction(async (tx) => {
    const before = await lockEndpoint(tx, id);
    if (!before) return { ok: false as const, message: `No webhook endpoint ${id}.` };
    const after = await setEndpointEnabled(tx, id, enabled);
    await recordAudit(tx, {
      actor,
      action: enabled ? "enabled" : "disabled",
      entity: "webhook_endpoint",
      entityId: id,
      entityLabel: after.url,
      before: { ...shown(before), disabledReason: before.disabledReason },
      after: shown(after),
    });
    if (enabled) kickWebhookDelivery();
    return { ok: true as const };
  });
}

export function deleteWebhookEndpoint(actor: AuditActor, id: number) {
  return inTransaction(async (tx) => {
    const before = await lockEndpoint(tx, id);
    if (!before) return { ok: false as const, message: `No webhook endpoint ${id}.` };
    await deleteEndpoint(tx, id);
    await recordAudit(tx, {
      actor,
      action: "deleted",
      entity: "webhook_endpoint",
      entityId: id,
      entityLabel: before.url,
      before: shown(before),
      after: null,
    });
    return { ok: true as const };
  });
}

/** Sends failed deliveries of the endpoint again (one, or all): due now, with 3 more days of retries. */
export async function replayFailedDeliveries(
  actor: AuditActor,
  endpointId: number,
  { deliveryId }: { deliveryId?: bigint } = {},
) {
  const count = await inTransaction(async (tx) => {
    const endpoint = await lockEndpoint(tx, endpointId);
    if (!endpoint) return null;
    const requeued = await requeueFailedDeliveries(tx, endpointId, deliveryId);
    if (requeued) {
      await recordAudit(tx, {
        actor,
        action: "replayed",
        entity: "webhook_endpoint",
        entityId: endpointId,
        entityLabel: endpoint.url,
        before: null,
        after: { deliveries: deliveryId === undefined ? "all failed" : String(deliveryId), count: requeued },
      });
    }
    return requeued;
  });
  if (count === null) return { ok: false as const, message: `No webhook endpoint ${endpointId}.` };
  if (count) kickWebhookDelivery();
  return { ok: true as const, count };
}
