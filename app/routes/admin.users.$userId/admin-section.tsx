// Admins only: change the role, or give an exempt tier. The action refuses support's POSTs as well.
import { Form } from "@remix-run/react";
import { ROLES } from "./roles.ts";
import type { UserPage } from "./user.server.ts";

export function AdminSection({ data, busy }: { data: UserPage; busy: (intent: string) => boolean }) {
  const { user } = data;
  return (
    <section className="panel" aria-labelledby="admin-actions">
      <h2 id="admin-actions">Role and exempt tier</h2>
      <Form method="post" className="inline-form">
        <input type="hidden" name="intent" value="role" />
        <div className="field">
          <label htmlFor="role">Role</label>
          <select id="role" name="role" defaultValue={user.role}>
            {ROLES.map((role) => (
              <option key={role} value={role}>
                {role}
              </option>
            ))}
          </select>
          {data.isSelf ? <p className="hint">You cannot remove your own admin role.</p> : null}
        </div>
        <button type="submit" disabled={busy("role")}>
          Change role
        </button>
      </Form>
      <Form method="post" className="inline-form">
        <input type="hidden" name="intent" value="tier" />
        <div className="field">
          <label htmlFor="tier">Exempt tier</label>
          <select
            id="tier"
            name="tier"
            defaultValue={
              data.exemptTiers.some((tier) => tier.key === user.storedTier?.key) ? user.storedTier?.key : ""
            }
          >
            <option value="">none (their subscription decides)</option>
            {data.exemptTiers.map((tier) => (
              <option key={tier.key} value={tier.key}>
                {tier.name}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" disabled={busy("tier")}>
          Set tier
        </button>
      </Form>
    </section>
  );
}
