// Admin actions on a user: change a role (ends the user's sessions), audited with it. Billing actions
// (sync from Stripe, exempt tiers) act on accounts: app/services/customers/account-admin.server.ts.
import { type AuditActor, recordAudit } from "~/models/audit.server.ts";
import { deleteUserSessions } from "~/models/session.server.ts";
import { inTransaction } from "~/models/transaction.server.ts";
import { lockUserForRoleChange, type Role, setUserRole } from "~/models/user.server.ts";
import { roleChangeProblem } from "~/rules/roles.ts";

export type AdminChangeOutcome =
  { ok: true; changed: boolean } | { ok: false; status: 400 | 404 | 409; message: string };

export async function changeUserRole(
  actor: AuditActor & { id: number },
  userId: number,
  role: Role,
): Promise<AdminChangeOutcome> {
  return inTransaction(async (tx) => {
    const locked = await lockUserForRoleChange(tx, userId);
    if (!locked) return { ok: false, status: 404, message: `No user ${userId}.` };
    const { user, adminCount } = locked;
    const problem = roleChangeProblem({ actorId: actor.id, target: user, newRole: role, adminCount });
    if (problem) return { ok: false, status: 409, message: problem };
    if (user.role === role) return { ok: true, changed: false };
    await setUserRole(tx, user.id, role);
    await recordAudit(tx, {
      actor,
      action: "role changed",
      entity: "user",
      entityId: user.id,
      entityLabel: user.email,
      before: { role: user.role },
      after: { role },
    });
    // Sessions carry the old role's reach: end them, the user signs in again.
    await deleteUserSessions(user.id, tx);
    return { ok: true, changed: true };
  });
}
