// An audit entry as pages show it: dates as ISO strings, the fields that changed with their values
// before and after (JSON), and the whole before/after for those who want it.
import type { listAuditEntries } from "~/models/audit.server.ts";

type Entry = Awaited<ReturnType<typeof listAuditEntries>>[number];
type Json = unknown;

function changedFields(before: Json, after: Json) {
  const asObject = (value: Json) =>
    value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, Json>) : {};
  const [a, b] = [asObject(before), asObject(after)];
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  return keys
    .filter((key) => JSON.stringify(a[key]) !== JSON.stringify(b[key]))
    .map((key) => ({
      field: key,
      before: key in a ? JSON.stringify(a[key]) : null,
      after: key in b ? JSON.stringify(b[key]) : null,
    }));
}

export function auditEntryView(entry: Entry) {
  return {
    id: entry.id.toString(),
    createdAt: entry.createdAt.toISOString(),
    actorEmail: entry.actorEmail,
    actorId: entry.actorId,
    action: entry.action,
    entity: entry.entity,
    entityId: entry.entityId,
    entityLabel: entry.entityLabel,
    changes: changedFields(entry.before, entry.after),
    before: entry.before === null ? null : JSON.stringify(entry.before, null, 2),
    after: entry.after === null ? null : JSON.stringify(entry.after, null, 2),
  };
}

export type AuditEntryView = ReturnType<typeof auditEntryView>;
