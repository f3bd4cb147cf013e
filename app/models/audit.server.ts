// The audit log: who changed what, when, with the values before and after. Entries are written in
// the same transaction as the change they describe; nothing in the app edits or deletes them.
import type { Prisma } from "~/generated/prisma/client.ts";
import { prisma } from "~/db/db.server.ts";
import type { Db } from "./transaction.server.ts";
import { notifyApiCacheChanged } from "./catalog-changes.server.ts";

export type AuditEntity = "tier" | "permission" | "user" | "account" | "webhook_endpoint" | "api_key";
export type AuditActor = { id: number; email: string } | { id: null; email: string };

export type NewAuditEntry = {
  actor: AuditActor;
  action: string;
  entity: AuditEntity;
  entityId: string | number;
  entityLabel: string;
  before: Prisma.InputJsonValue | null;
  after: Prisma.InputJsonValue | null;
};

export async function recordAudit(tx: Db, entry: NewAuditEntry) {
  // Every admin change of a tier or a permission is audited here, in its transaction: what any account
  // may do can have changed, so every instance drops its cached entitlements at commit (docs/decisions/017).
  if (entry.entity === "tier" || entry.entity === "permission") await notifyApiCacheChanged(tx, ["all"]);
  await tx.auditEntry.create({
    data: {
      actorId: entry.actor.id,
      actorEmail: entry.actor.email,
      action: entry.action,
      entity: entry.entity,
      entityId: String(entry.entityId),
      entityLabel: entry.entityLabel.slice(0, 254),
      before: entry.before ?? undefined,
      after: entry.after ?? undefined,
    },
  });
}

export const AUDIT_PAGE_SIZE = 50;

export type AuditFilter = {
  entity?: AuditEntity;
  entityId?: string;
  actorId?: number;
  /** Keyset cursor: entries strictly older than this (created_at, id). */
  before?: { createdAt: Date; id: bigint };
  take?: number;
};

/** Newest first, by entity, entity id and person; keyset-paged on (created_at, id). */
export function listAuditEntries({ entity, entityId, actorId, before, take = AUDIT_PAGE_SIZE }: AuditFilter) {
  return prisma.auditEntry.findMany({
    where: {
      ...(entity ? { entity } : {}),
      ...(entityId ? { entityId } : {}),
      ...(actorId ? { actorId } : {}),
      ...(before
        ? { OR: [{ createdAt: { lt: before.createdAt } }, { createdAt: before.createdAt, id: { lt: before.id } }] }
        : {}),
    },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: take + 1,
  });
}

/** The people who appear in the log, for the "by person" filter. */
export async function listAuditActors() {
  const rows = await prisma.auditEntry.groupBy({ by: ["actorId", "actorEmail"], orderBy: { actorEmail: "asc" } });
  return rows
    .filter((row) => row.actorId !== null)
    .map((row) => ({ id: row.actorId as number, email: row.actorEmail }));
}
