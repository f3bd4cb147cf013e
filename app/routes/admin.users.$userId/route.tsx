// /admin/users/:userId: why is this customer on this plan? Role, the tier in force and the rule that
// put them there, subscription status and dates, Stripe ids (linked to Stripe's dashboard), the
// permissions in force, their Stripe events, and the history of changes. Support and admins can
// sync from Stripe; admins can change the role or give an exempt tier. The loader and action are in
// user.server.ts, the page's panels beside this file.
import type { MetaFunction } from "@remix-run/node";
import { Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { SyncResult } from "~/components/sync-result.tsx";
import { AuditTrail } from "~/components/audit-trail.tsx";
import { AccountsSection } from "./accounts-section.tsx";
import { AdminSection } from "./admin-section.tsx";
import { EventsSection } from "./events-section.tsx";
import { PermissionsSection, PlanSection } from "./plan-section.tsx";
import { action, loader } from "./user.server.ts";

export { action, loader };

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: `${data?.user.email ?? "User"} · Admin · Tierdesk` },
];

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

      <PlanSection data={data} busy={busy} />
      <PermissionsSection permissions={data.permissions} />
      <AccountsSection accounts={data.accounts} />
      <EventsSection data={data} />
      {data.canAdmin ? <AdminSection data={data} busy={busy} /> : null}

      <section className="panel" aria-labelledby="history">
        <h2 id="history">History</h2>
        <AuditTrail entries={data.history} />
      </section>
    </section>
  );
}
