// /admin/accounts/:accountId: why is this account on this plan, and who is in it? Its seats (used,
// limit, pending invitations, over the limit since when), members and pending invitations, the tier
// in force and the rule that put it there, its Stripe and Whop ids (linked to their dashboards), and
// its latest webhooks. The loader is in account.server.ts, the panels in sections.tsx.
//
// Panels in this order: Seats, Members, Pending invitations, Plan, Events. Actions on the account
// ("Sync from Stripe", an exempt tier, a change of owner) belong in the Plan panel and in an admin
// panel after Events, as on /admin/users/:userId.
import type { MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { formatDate } from "~/components/dates.tsx";
import { loader } from "./account.server.ts";
import { EventsSection, InvitationsSection, MembersSection, PlanSection, SeatsSection } from "./sections.tsx";

export { loader };

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: `${data?.account.name ?? "Account"} · Admin · Tierdesk` },
];

export default function AdminAccount() {
  const data = useLoaderData<typeof loader>();
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

      <SeatsSection seats={data.seats} />
      <MembersSection members={data.members} />
      <InvitationsSection invitations={data.invitations} />
      <PlanSection plan={data.plan} />
      <EventsSection events={data.events} customerId={data.plan.stripeCustomerId} />
    </section>
  );
}
