// The customer's latest webhooks (Stripe's, and Whop's when they have a Whop user), newest first.
import { Link } from "@remix-run/react";
import { timeFormat } from "./time-format.ts";
import type { UserPage } from "./user.server.ts";

export function EventsSection({ data }: { data: UserPage }) {
  const { user } = data;
  return (
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
  );
}
