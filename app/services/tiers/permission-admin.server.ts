// Creating, renaming, describing and deleting permissions, each audited in the same transaction.
import { type AuditActor, recordAudit } from "~/models/audit.server.ts";
import {
  createPermission,
  deletePermission,
  isPermissionNameTaken,
  lockPermission,
  updatePermission,
} from "~/models/permission.server.ts";
import { inTransaction } from "~/models/transaction.server.ts";
import { isUniqueViolation } from "~/models/user.server.ts";
import { announceTierChange } from "~/services/webhooks/fanout.server.ts";
import type { PermissionFormValues } from "~/forms/permission-form.ts";

export type PermissionOutcome =
  | { ok: true; name: string; renamedFrom: string | null }
  | { ok: false; notFound?: true; fieldErrors: Record<string, string[]>; formError?: string };

const taken = (name: string): PermissionOutcome => ({
  ok: false,
  fieldErrors: { name: [`A permission named "${name}" already exists.`] },
});

export async function savePermission(
  actor: AuditActor,
  id: number | null,
  values: PermissionFormValues,
): Promise<PermissionOutcome> {
  try {
    return await inTransaction(async (tx) => {
      const existing = id ? await lockPermission(tx, id) : null;
      if (id && !existing)
        return { ok: false, notFound: true, fieldErrors: {}, formError: "This permission no longer exists." };
      if (await isPermissionNameTaken(tx, values.name, existing?.id ?? null)) return taken(values.name);
      const saved = existing ? await updatePermission(tx, existing.id, values) : await createPermission(tx, values);
      const before = existing ? { name: existing.name, description: existing.description } : null;
      const after = { name: saved.name, description: saved.description };
      // A new name changes the permissions every account of the tiers granting it is told it has.
      if (existing && existing.name !== saved.name) {
        await announceTierChange(
          tx,
          existing.tiers.map(({ tier }) => tier),
        );
      }
      if (JSON.stringify(before) !== JSON.stringify(after)) {
        await recordAudit(tx, {
          actor,
          action: existing ? (existing.name !== saved.name ? "renamed" : "updated") : "created",
          entity: "permission",
          entityId: saved.id,
          entityLabel: saved.name,
          before,
          after,
        });
      }
      return {
        ok: true,
        name: saved.name,
        renamedFrom: existing && existing.name !== saved.name ? existing.name : null,
      };
    });
  } catch (error) {
    if (isUniqueViolation(error)) return taken(values.name);
    throw error;
  }
}

export type PermissionDeleteOutcome =
  | { ok: true; name: string }
  | { ok: false; reason: "not-found"; message: string }
  | { ok: false; reason: "needs-confirmation"; name: string; grantedBy: Array<{ key: string; name: string }> };

/** Deletes a permission; one that tiers grant needs `confirmed` (the admin saw which tiers lose it). */
export async function removePermission(
  actor: AuditActor,
  id: number,
  confirmed: boolean,
): Promise<PermissionDeleteOutcome> {
  return inTransaction(async (tx) => {
    const permission = await lockPermission(tx, id);
    if (!permission) return { ok: false, reason: "not-found", message: "This permission no longer exists." };
    const grantedBy = permission.tiers.map(({ tier }) => ({ key: tier.key, name: tier.name }));
    if (grantedBy.length && !confirmed)
      return { ok: false, reason: "needs-confirmation", name: permission.name, grantedBy };
    await deletePermission(tx, permission.id);
    await announceTierChange(
      tx,
      permission.tiers.map(({ tier }) => tier),
    );
    await recordAudit(tx, {
      actor,
      action: "deleted",
      entity: "permission",
      entityId: permission.id,
      entityLabel: permission.name,
      before: {
        name: permission.name,
        description: permission.description,
        grantedBy: grantedBy.map((tier) => tier.key),
      },
      after: null,
    });
    return { ok: true, name: permission.name };
  });
}
