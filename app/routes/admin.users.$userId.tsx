// /admin/users/:userId: why is this customer on this plan? Role, the tier in force and the rule that
// put them there, subscription status and dates, Stripe ids (linked to Stripe's dashboard), the
// permissions in force, their Stripe events, and the history of changes. Support and admins can
// sync from Stripe; admins can change the role or give an exempt tier.
import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { getEntitlements } from "~/services/customers/entitlements.server.ts";
import { explainTierInForce } from "~/rules/support.ts";
import { FREE_TIER_KEY } from "~/rules/tiers.ts";
import { billingMode } from "~/services/stripe/client.server.ts";
import { fetchSubscriptionDates } from "~/services/stripe/subscription-details.server.ts";
import { changeUserRole, setExemptTier, syncUserFromStripe } from "~/services/customers/user-admin.server.ts";
import { AuditTrail } from "~/components/audit-trail.tsx";
import { formatDate } from "~/components/dates.tsx";
import { listAuditEntries } from "~/models/audit.server.ts";
import { listEventLog } from "~/models/event-log.server.ts";
import { livemodeOfCustomer } from "~/models/stripe-event.server.ts";
import { getTierWithPermissionsByKey, listExemptTiers } from "~/models/tier.server.ts";
import { getUserWithTier, type Role } from "~/models/user.server.ts";
import { auditEntryView } from "~/web/audit-view.server.ts";
import { requireRole, STAFF_ROLES } from "~/web/auth.server.ts";
import { jsonResponse, readForm } from "~/utils/http.server.ts";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: `${data?.user.email ?? "User"} · Admin · Tierdesk` },
];

const EVENTS_SHOWN = 25;
const ROLES = ["admin", "support", "customer"] as const satisfies readonly Role[];

function userIdFrom(params: { userId?: string }) {
  const id = Number(params.userId);
  if (!Number.isSafeInteger(id) || id <= 0) throw jsonResponse({ error: "There is no such user." }, 404);
  return id;
}

const dashboardUrl = (livemode: boolean | null, kind: "customers" | "subscriptions", id: string) =>
  `https://dashboard.stripe.com/${livemode ? "" : "test/"}${kind}/${encodeURIComponent(id)}`;

export async function loader({ request, params }: LoaderFunctionArgs) {
  const viewer = await requireRole(request, STAFF_ROLES);
  const userId = userIdFrom(params);
  const user = await getUserWithTier(userId);
  if (!user) throw jsonResponse({ error: `There is no user ${userId}.` }, 404);
  const customerId = user.stripeCustomerId;
  const [entitlements, free, events, whopEvents, livemode, history, exemptTiers, dates] = await Promise.all([
    getEntitlements(user),
    getTierWithPermissionsByKey(FREE_TIER_KEY),
    customerId ? listEventLog({ q: customerId }, {}, EVENTS_SHOWN) : Promise.resolve(null),
    user.whopUserId ? listEventLog({ q: user.whopUserId, provider: "whop" }, {}, EVENTS_SHOWN) : Promise.resolve(null),
    customerId ? livemodeOfCustomer(customerId) : Promise.resolve(null),
    listAuditEntries({ entity: "user", entityId: String(user.id), take: 20 }),
    listExemptTiers(),
    user.stripeSubscriptionId && billingMode() !== "disabled"
      ? fetchSubscriptionDates(user.stripeSubscriptionId)
      : Promise.resolve(null),
  ]);
  const why = explainTierInForce({
    storedTier: user.tier,
    subscriptionStatus: user.subscriptionStatus,
    freeTierName: free?.name ?? "Free",
    billingSource: user.billingSource,
    whopMembershipStatus: user.whopMembershipStatus,
  });
  return json({
    canAdmin: viewer.role === "admin",
    isSelf: viewer.id === user.id,
    user: {
      id: user.id,
      email: user.email,
      role: user.role,
      createdAt: user.createdAt.toISOString(),
      storedTier: user.tier ? { key: user.tier.key, name: user.tier.name } : null,
      subscriptionStatus: user.subscriptionStatus,
      syncedAt: user.subscriptionSyncedAt?.toISOString() ?? null,
      stripeCustomerId: customerId,
      stripeSubscriptionId: user.stripeSubscriptionId,
      billingSource: user.billingSource,
      whop: user.whopMembershipId
        ? {
            membershipId: user.whopMembershipId,
            status: user.whopMembershipStatus,
            userId: user.whopUserId,
            linkedBy: user.whopLinkedBy,
            manageUrl: user.whopManageUrl,
          }
        : null,
    },
    inForce: { tierName: entitlements.tier?.name ?? why.tierName, reason: why.reason },
    permissions: entitlements.permissionDetails,
    dates,
    links: {
      livemode,
      customer: customerId ? dashboardUrl(livemode, "customers", customerId) : null,
      subscription: user.stripeSubscriptionId
        ? dashboardUrl(livemode, "subscriptions", user.stripeSubscriptionId)
        : null,
    },
    events: [...(events?.rows ?? []), ...(whopEvents?.rows ?? [])]
      .sort((a, b) => b.receivedAt.getTime() - a.receivedAt.getTime())
      .map((event) => ({
        eventId: event.eventId,
        eventType: event.eventType,
        status: event.status,
        receivedAt: event.receivedAt.toISOString(),
        outcome: event.error ?? event.note,
      })),
    moreEvents: events?.hasOlder ?? false,
    history: history.slice(0, 20).map(auditEntryView),
    exemptTiers,
  });
}

export async function action({ request, params }: ActionFunctionArgs) {
  const userId = userIdFrom(params);
  const formData = await readForm(request);
  const intent = formData.get("intent");
  if (intent === "sync") {
    const viewer = await requireRole(request, STAFF_ROLES);
    const outcome = await syncUserFromStripe({ id: viewer.id, email: viewer.email }, userId);
    if (outcome.ok) return json({ kind: "sync" as const, ...outcome });
    const status = outcome.reason === "not-found" ? 404 : outcome.reason === "stripe-unavailable" ? 502 : 409;
    return json({ kind: "sync" as const, ok: false as const, message: outcome.message }, { status });
  }
  // Role and tier changes are for admins only: support's POST gets 403 here, not just a hidden form.
  const admin = await requireRole(request, ["admin"]);
  const actor = { id: admin.id, email: admin.email };
  if (intent === "role") {
    const role = ROLES.find((value) => value === formData.get("role"));
    if (!role) return json({ kind: "admin" as const, ok: false as const, message: "Choose a role." }, { status: 400 });
    const outcome = await changeUserRole(actor, userId, role);
    if (!outcome.ok)
      return json({ kind: "admin" as const, ok: false as const, message: outcome.message }, { status: outcome.status });
    return json({
      kind: "admin" as const,
      ok: true as const,
      message: outcome.changed ? `Role changed to ${role}; their sessions were ended.` : "Role unchanged.",
    });
  }
  if (intent === "tier") {
    const tierKey = String(formData.get("tier") ?? "") || null;
    const outcome = await setExemptTier(actor, userId, tierKey);
    if (!outcome.ok)
      return json({ kind: "admin" as const, ok: false as const, message: outcome.message }, { status: outcome.status });
    return json({
      kind: "admin" as const,
      ok: true as const,
      message: outcome.changed ? "Tier changed." : "Tier unchanged.",
    });
  }
  return json({ kind: "admin" as const, ok: false as const, message: "Unknown action." }, { status: 400 });
}

const timeFormat = new Intl.DateTimeFormat("en-GB", { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" });

export default function AdminUser() {
  const data = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  const navigation = useNavigation();
  const busy = (intent: string) => navigation.state === "submitting" && navigation.formData?.get("intent") === intent;
  const { user } = data;
  return (
    <section>
      <p>
        <Link to="/admin/users">← All users</Link>
      </p>
      <h1>{user.email}</h1>
      {actionData && !actionData.ok ? (
        <p className="form-error" role="alert">
          {actionData.message}
        </p>
      ) : null}
      {actionData?.ok && actionData.kind === "admin" ? (
        <p className="notice" role="status">
          {actionData.message}
        </p>
      ) : null}
      {actionData?.ok && actionData.kind === "sync" ? <SyncResult result={actionData} /> : null}

      <section className="panel" aria-labelledby="plan">
        <h2 id="plan">Plan</h2>
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

      <section className="panel" aria-labelledby="permissions">
        <h2 id="permissions">Permissions in force</h2>
        {data.permissions.length ? (
          <ul data-testid="user-permissions">
            {data.permissions.map((permission) => (
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

      <section className="panel" aria-labelledby="events">
        <h2 id="events">Stripe events</h2>
        {data.events.length ? (
          <div className="table-scroll">
            <table data-testid="user-events">
              <thead>
                <tr>
                  <th scope="col">Event</th>
                  <th scope="col">Type</th>
                  <th scope="col">Status</th>
                  <th scope="col">Received (UTC)</th>
                  <th scope="col">Error / note</th>
                </tr>
              </thead>
              <tbody>
                {data.events.map((event) => (
                  <tr key={event.eventId} data-status={event.status}>
                    <td data-label="Event">
                      <Link to={`/admin/events/${event.eventId}`}>{event.eventId}</Link>
                    </td>
                    <td data-label="Type">{event.eventType}</td>
                    <td data-label="Status">
                      <span className={`status status-${event.status}`}>{event.status}</span>
                    </td>
                    <td data-label="Received">{timeFormat.format(new Date(event.receivedAt))}</td>
                    <td data-label="Error / note">
                      <span className="outcome">{event.outcome ?? ""}</span>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : (
          <p className="hint">No Stripe events for this customer.</p>
        )}
        {data.moreEvents && user.stripeCustomerId ? (
          <p>
            <Link to={`/admin/events?q=${encodeURIComponent(user.stripeCustomerId)}`}>
              All of this customer's events →
            </Link>
          </p>
        ) : null}
      </section>

      {data.canAdmin ? (
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
      ) : null}

      <section className="panel" aria-labelledby="history">
        <h2 id="history">History</h2>
        <AuditTrail entries={data.history} />
      </section>
    </section>
  );
}

function SyncResult({
  result,
}: {
  result: { changed: boolean; before: Record<string, unknown>; after: Record<string, unknown>; detail: string };
}) {
  const fields = Object.keys(result.after).filter(
    (key) => JSON.stringify(result.before[key]) !== JSON.stringify(result.after[key]),
  );
  return (
    <div className="notice" role="status" data-testid="sync-result">
      <p>Synced from Stripe. {result.detail}</p>
      {result.changed ? (
        <ul>
          {fields.map((field) => (
            <li key={field}>
              <code>{field}</code>: {JSON.stringify(result.before[field])} → {JSON.stringify(result.after[field])}
            </li>
          ))}
        </ul>
      ) : (
        <p>Nothing changed: Tierdesk already matched Stripe.</p>
      )}
    </div>
  );
}
