// The customer's latest webhooks (Stripe's, and Whop's when they have a Whop user), newest first.
import { Link } from "@remix-run/react";
import { EventsTable } from "~/components/events-table.tsx";
import type { UserPage } from "./user.server.ts";

export function EventsSection({ data }: { data: UserPage }) {
  const { user } = data;
  return (
    <section className="panel" aria-labelledby="events">
      <h2 id="events">Stripe events</h2>
      {data.events.length ? (
        <EventsTable events={data.events} testId="user-events" />
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
  );
}
