// A customer's or an account's latest webhooks on support's pages, newest first: each links to its
// event page, with its status and the error or note support reads.
import { Link } from "@remix-run/react";

/** A moment as "21 Nov 2026, 14:05", in UTC so server and browser render the same text. */
const timeFormat = new Intl.DateTimeFormat("en-GB", { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" });

export type EventRow = {
  eventId: string;
  eventType: string;
  status: string;
  receivedAt: string;
  outcome: string | null;
  provider?: string;
};

export function EventsTable({ events, testId }: { events: readonly EventRow[]; testId: string }) {
  return (
    <div className="table-scroll">
      <table data-testid={testId} className="events-table">
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
          {events.map((event) => (
            <tr key={event.eventId} data-status={event.status} data-provider={event.provider}>
              <td data-label="Event">
                <Link to={`/admin/events/${event.eventId}`}>{event.eventId}</Link>
              </td>
              <td data-label="Type">
                <span>
                  {event.eventType}
                  {event.provider === "whop" ? <span className="hint"> (Whop)</span> : null}
                </span>
              </td>
              <td data-label="Status">
                <span className={`status status-${event.status}`}>{event.status}</span>
              </td>
              <td data-label="Received">
                <span>{timeFormat.format(new Date(event.receivedAt))}</span>
              </td>
              <td data-label="Error / note">
                <span className="outcome">{event.outcome ?? ""}</span>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
