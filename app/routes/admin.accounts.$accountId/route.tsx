// /admin/accounts/:accountId: why is this account on this plan, and who is in it? Its seats (used,
// limit, pending invitations, over the limit since when), members and pending invitations, the tier
// in force and the rule that put it there, its Stripe and Whop ids (linked to their dashboards), and
// its latest webhooks. The loader is in account.server.ts, the panels in sections.tsx.
//
// Panels in this order: Seats, Members, Pending invitations, Plan (with "Sync from Stripe"), Events,
// then the admins' actions (actions-section.tsx); the action is in account.server.ts.
import type { MetaFunction } from "@remix-run/node";
import { Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { SyncResult } from "~/components/sync-result.tsx";
import { formatDate } from "~/components/dates.tsx";
import { action, loader } from "./account.server.ts";
import { AdminActions, SyncForm } from "./actions-section.tsx";
import { EventsSection, InvitationsSection, MembersSection, PlanSection, SeatsSection } from "./sections.tsx";

export { action, loader };

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: `${data?.account.name ?? "Account"} · Admin · Tierdesk` },
];

export default function AdminAccount() {
  const data = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  const navigation = useNavigation();
  const busy = (intent: string) => navigation.state === "submitting" && navigation.formData?.get("intent") === intent;
  const { account } = data;
  return (
    <section>
      <p>
        <Link to="/admin/accounts">← All accounts</Link>
      </p>
      <h1>{account.name}</h1>
      <p className="hint" data-testid="account-header">
        <code>{account.slug}</code> · created {formatDate(account.createdAt)}
      </p>

      {actionData && !actionData.ok ? (
        <p className="form-error" role="alert" data-testid="action-error">
          {actionData.message}
        </p>
      ) : null}
      {actionData?.ok && actionData.kind === "admin" ? (
        <p className="notice" role="status" data-testid="action-result">
          {actionData.message}
        </p>
      ) : null}
      {actionData?.ok && actionData.kind === "sync" ? <SyncResult result={actionData} /> : null}
      <SeatsSection seats={data.seats} />
      <MembersSection members={data.members} canAdmin={data.canAdmin} />
      <InvitationsSection invitations={data.invitations} />
      <PlanSection plan={data.plan} />
      <SyncForm data={data} busy={busy} />
      <EventsSection events={data.events} customerId={data.plan.stripeCustomerId} />
      <AdminActions data={data} busy={busy} />
    </section>
  );
}
