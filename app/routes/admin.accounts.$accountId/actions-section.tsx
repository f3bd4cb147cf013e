// The account page's actions: "Sync from Stripe" for support and admins; an exempt tier for admins
// (the action refuses support's POSTs as well).
import { Form } from "@remix-run/react";
import type { AccountPage } from "./account.server.ts";

export function SyncForm({ data, busy }: { data: AccountPage; busy: (intent: string) => boolean }) {
  const customer = data.plan.stripeCustomerId;
  return (
    <Form method="post" className="actions">
      <input type="hidden" name="intent" value="sync" />
      <button type="submit" disabled={busy("sync") || !customer}>
        {busy("sync") ? "Syncing…" : "Sync from Stripe"}
      </button>
      {!customer ? <span className="hint">No Stripe customer yet.</span> : null}
    </Form>
  );
}

export function AdminActions({ data, busy }: { data: AccountPage; busy: (intent: string) => boolean }) {
  if (!data.canAdmin) return null;
  const stored = data.plan.storedTier?.key;
  return (
    <section className="panel" aria-labelledby="account-admin">
      <h2 id="account-admin">Exempt tier</h2>
      <Form method="post" className="inline-form">
        <input type="hidden" name="intent" value="tier" />
        <div className="field">
          <label htmlFor="tier">Exempt tier</label>
          <select
            id="tier"
            name="tier"
            defaultValue={data.exemptTiers.some((tier) => tier.key === stored) ? stored : ""}
          >
            <option value="">none (its subscription decides)</option>
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
