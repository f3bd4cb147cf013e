// The Plan panel: the tier in force and why, subscription status and dates, Stripe and Whop ids, and the
// "Sync from Stripe" button.
import { Form, Link } from "@remix-run/react";
import { formatDate } from "~/components/dates.tsx";
import { timeFormat } from "./time-format.ts";
import type { UserPage } from "./user.server.ts";

export function PlanSection({ data, busy }: { data: UserPage; busy: (intent: string) => boolean }) {
  const { user } = data;
  return (
    <section className="panel" aria-labelledby="plan">
      <h2 id="plan">Plan</h2>
      {user.personalAccountId ? (
        <p className="hint">
          Of their <Link to={`/admin/accounts/${user.personalAccountId}`}>personal account</Link>; team accounts are
          listed below.
        </p>
      ) : null}
      <dl className="facts">
        <dt>Tier in force</dt>
        <dd data-testid="tier-in-force">{data.inForce.tierName}</dd>
        <dt>Why</dt>
        <dd data-testid="tier-reason">{data.inForce.reason}</dd>
        <dt>Role</dt>
        <dd data-testid="user-role">{user.role}</dd>
        <dt>Subscription</dt>
        <dd data-testid="subscription-status">{user.subscriptionStatus ?? "none"}</dd>
        {data.dates?.renewsAt ? (
          <>
            <dt>Renews</dt>
            <dd>{formatDate(data.dates.renewsAt)}</dd>
          </>
        ) : null}
        {data.dates?.cancelsAt ? (
          <>
            <dt>Cancels</dt>
            <dd>{formatDate(data.dates.cancelsAt)}</dd>
          </>
        ) : null}
        {data.dates?.endedAt ? (
          <>
            <dt>Ended</dt>
            <dd>{formatDate(data.dates.endedAt)}</dd>
          </>
        ) : null}
        <dt>Last Stripe state applied</dt>
        <dd>{user.syncedAt ? `${timeFormat.format(new Date(user.syncedAt))} UTC` : "never"}</dd>
        <dt>Stripe customer</dt>
        <dd>
          {user.stripeCustomerId && data.links.customer ? (
            <a href={data.links.customer} target="_blank" rel="noreferrer">
              <code>{user.stripeCustomerId}</code>
            </a>
          ) : (
            "—"
          )}
          {data.links.livemode === false ? <span className="hint"> (test mode)</span> : null}
        </dd>
        <dt>Paid through</dt>
        <dd data-testid="billing-source">{user.billingSource ?? "—"}</dd>
        {user.whop ? (
          <>
            <dt>Whop membership</dt>
            <dd data-testid="whop-membership">
              <code>{user.whop.membershipId}</code> · {user.whop.status ?? "unknown"}
              {user.whop.linkedBy ? <span className="hint"> (linked by {user.whop.linkedBy})</span> : null}
              {user.whop.manageUrl ? (
                <>
                  {" "}
                  ·{" "}
                  <a href={user.whop.manageUrl} target="_blank" rel="noreferrer">
                    manage on Whop
                  </a>
                </>
              ) : null}
            </dd>
          </>
        ) : null}
        <dt>Stripe subscription</dt>
        <dd>
          {user.stripeSubscriptionId && data.links.subscription ? (
            <a href={data.links.subscription} target="_blank" rel="noreferrer">
              <code>{user.stripeSubscriptionId}</code>
            </a>
          ) : (
            "—"
          )}
        </dd>
      </dl>
      <Form method="post" className="actions">
        <input type="hidden" name="intent" value="sync" />
        <button type="submit" disabled={busy("sync") || !user.stripeCustomerId}>
          {busy("sync") ? "Syncing…" : "Sync from Stripe"}
        </button>
        {!user.stripeCustomerId ? <span className="hint">No Stripe customer yet.</span> : null}
      </Form>
    </section>
  );
}

export function PermissionsSection({ permissions }: { permissions: UserPage["permissions"] }) {
  return (
    <section className="panel" aria-labelledby="permissions">
      <h2 id="permissions">Permissions in force</h2>
      {permissions.length ? (
        <ul data-testid="user-permissions">
          {permissions.map((permission) => (
            <li key={permission.name}>
              <code>{permission.name}</code>
              {permission.description ? ` — ${permission.description}` : ""}
            </li>
          ))}
        </ul>
      ) : (
        <p className="hint">None.</p>
      )}
    </section>
  );
}
