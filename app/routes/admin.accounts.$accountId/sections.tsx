// The panels of /admin/accounts/:accountId (route.tsx), each from its part of the loader's data.
import { Form, Link } from "@remix-run/react";
import { EventsTable } from "~/components/events-table.tsx";
import { formatDate } from "~/components/dates.tsx";
import type { AccountPage } from "./account.server.ts";

/** A moment as "21 Nov 2026, 14:05", in UTC so server and browser render the same text. */
const timeFormat = new Intl.DateTimeFormat("en-GB", { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" });
const moment = (iso: string) => `${timeFormat.format(new Date(iso))} UTC`;
const seatCount = (count: number) => `${count} seat${count === 1 ? "" : "s"}`;
const memberCount = (count: number) => `${count} member${count === 1 ? "" : "s"}`;

export function SeatsSection({ seats }: { seats: AccountPage["seats"] }) {
  return (
    <section className="panel" aria-labelledby="seats">
      <h2 id="seats">Seats</h2>
      {seats.overLimitSince ? (
        <p className="warning" role="status" data-testid="over-limit">
          Over its seat limit since {moment(seats.overLimitSince)}: {memberCount(seats.used)} for{" "}
          {seats.limit === null ? "no limit" : seatCount(seats.limit)}. Nobody loses access, but new invitations are
          refused until members leave or the plan grows.
        </p>
      ) : seats.limit !== null && seats.used > seats.limit ? (
        <p className="warning" role="status" data-testid="over-limit">
          {memberCount(seats.used)} for {seatCount(seats.limit)}, though the account is not marked over its limit yet:
          the mark is refreshed whenever its members, tier or billing status change in the app.
        </p>
      ) : null}
      <dl className="facts">
        <dt>Used / limit</dt>
        <dd data-testid="seats-used">
          {seats.used} / {seats.limit ?? "no limit"}
        </dd>
        <dt>Pending invitations</dt>
        <dd data-testid="seats-pending">{seats.pending}</dd>
      </dl>
    </section>
  );
}

export function MembersSection({ members, canAdmin }: { members: AccountPage["members"]; canAdmin: boolean }) {
  return (
    <section className="panel" aria-labelledby="members">
      <h2 id="members">Members</h2>
      {members.length ? (
        <div className="table-scroll">
          <table data-testid="account-members">
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Role</th>
                <th scope="col">Since</th>
                {canAdmin ? <th scope="col">Change</th> : null}
              </tr>
            </thead>
            <tbody>
              {members.map((member) => (
                <tr key={member.userId} data-role={member.role}>
                  <td data-label="Email">
                    <Link to={`/admin/users/${member.userId}`}>{member.email}</Link>
                  </td>
                  <td data-label="Role">
                    <span>{member.role}</span>
                  </td>
                  <td data-label="Since">
                    <span>{formatDate(member.since)}</span>
                  </td>
                  {canAdmin ? (
                    <td data-label="Change">
                      <Form method="post">
                        <input type="hidden" name="intent" value="member-role" />
                        <input type="hidden" name="userId" value={member.userId} />
                        <input type="hidden" name="role" value={member.role === "owner" ? "member" : "owner"} />
                        <button type="submit" className="secondary small">
                          {member.role === "owner" ? "Make member" : "Make owner"}
                        </button>
                      </Form>
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <p className="hint">Nobody belongs to this account.</p>
      )}
    </section>
  );
}

export function InvitationsSection({ invitations }: { invitations: AccountPage["invitations"] }) {
  return (
    <section className="panel" aria-labelledby="invitations">
      <h2 id="invitations">Pending invitations</h2>
      {invitations.length ? (
        <div className="table-scroll">
          <table data-testid="account-invitations">
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Sent</th>
                <th scope="col">Expires</th>
              </tr>
            </thead>
            <tbody>
              {invitations.map((invitation) => (
                <tr key={invitation.id}>
                  <td data-label="Email">
                    <span>{invitation.email}</span>
                  </td>
                  <td data-label="Sent">
                    <span>{moment(invitation.sentAt)}</span>
                  </td>
                  <td data-label="Expires">
                    <span>{moment(invitation.expiresAt)}</span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <p className="hint">No pending invitations.</p>
      )}
    </section>
  );
}

function StripeLink({ id, href }: { id: string | null; href: string | null }) {
  return id && href ? (
    <a href={href} target="_blank" rel="noreferrer">
      <code>{id}</code>
    </a>
  ) : (
    <>—</>
  );
}

export function PlanSection({ plan }: { plan: AccountPage["plan"] }) {
  return (
    <section className="panel" aria-labelledby="plan">
      <h2 id="plan">Plan</h2>
      <dl className="facts">
        <dt>Tier in force</dt>
        <dd data-testid="tier-in-force">{plan.inForce.tierName}</dd>
        <dt>Why</dt>
        <dd data-testid="tier-reason">{plan.inForce.reason}</dd>
        <dt>Stored tier</dt>
        <dd data-testid="stored-tier">{plan.storedTier?.name ?? "none"}</dd>
        <dt>Paid through</dt>
        <dd data-testid="billing-source">
          {plan.billingSource ?? "—"}
          {plan.billingSince ? <span className="hint"> since {formatDate(plan.billingSince)}</span> : null}
        </dd>
        <dt>Subscription</dt>
        <dd data-testid="subscription-status">{plan.subscriptionStatus ?? "none"}</dd>
        <dt>Last Stripe state applied</dt>
        <dd>{plan.syncedAt ? moment(plan.syncedAt) : "never"}</dd>
        <dt>Stripe customer</dt>
        <dd data-testid="stripe-customer">
          <StripeLink id={plan.stripeCustomerId} href={plan.links.customer} />
          {plan.links.livemode === false ? <span className="hint"> (test mode)</span> : null}
        </dd>
        <dt>Stripe subscription</dt>
        <dd data-testid="stripe-subscription">
          <StripeLink id={plan.stripeSubscriptionId} href={plan.links.subscription} />
        </dd>
        <dt>Whop membership</dt>
        <dd data-testid="whop-membership">
          {plan.whop ? (
            <>
              <code>{plan.whop.membershipId}</code> · {plan.whop.status ?? "unknown"}
              {plan.whop.userId ? (
                <>
                  {" "}
                  · <code>{plan.whop.userId}</code>
                </>
              ) : null}
              {plan.whop.linkedBy ? <span className="hint"> (linked by {plan.whop.linkedBy})</span> : null}
              {plan.whop.manageUrl ? (
                <>
                  {" "}
                  ·{" "}
                  <a href={plan.whop.manageUrl} target="_blank" rel="noreferrer">
                    manage on Whop
                  </a>
                </>
              ) : null}
            </>
          ) : (
            "—"
          )}
        </dd>
      </dl>
    </section>
  );
}

export function EventsSection({ events, customerId }: { events: AccountPage["events"]; customerId: string | null }) {
  return (
    <section className="panel" aria-labelledby="events">
      <h2 id="events">Latest events</h2>
      {events.length ? (
        <EventsTable events={events} testId="account-events" />
      ) : (
        <p className="hint">No Stripe or Whop events for this account.</p>
      )}
      {customerId && events.length ? (
        <p>
          <Link to={`/admin/events?q=${encodeURIComponent(customerId)}`}>All of this customer&apos;s events →</Link>
        </p>
      ) : null}
    </section>
  );
}
