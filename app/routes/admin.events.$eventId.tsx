// /admin/events/:eventId: one stored Stripe event, its outcome and payload.
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json } from "@remix-run/node";
import { Form, Link, useLoaderData } from "@remix-run/react";
import { getStoredEvent, MAX_STORED_PAYLOAD_BYTES } from "~/models/stripe-event.server.ts";
import { requireRole, STAFF_ROLES } from "~/utils/auth.server.ts";
import { jsonResponse } from "~/utils/http.server.ts";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.event.eventId ?? "Event"} · Admin · Tierdesk` }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  await requireRole(request, STAFF_ROLES);
  const stored = await getStoredEvent(params.eventId ?? "");
  if (!stored) throw jsonResponse({ error: `No stored event ${params.eventId}.` }, 404);
  let payload = stored.payload;
  let truncated = false;
  try {
    payload = JSON.stringify(JSON.parse(stored.payload), null, 2);
  } catch {
    truncated = Buffer.byteLength(stored.payload, "utf8") >= MAX_STORED_PAYLOAD_BYTES - 4;
  }
  return json({
    event: {
      eventId: stored.eventId,
      eventType: stored.eventType,
      status: stored.status,
      attempts: stored.attempts,
      error: stored.error,
      note: stored.note,
      eventCreatedAt: stored.eventCreatedAt?.toISOString() ?? null,
      receivedAt: stored.receivedAt.toISOString(),
      processedAt: stored.processedAt?.toISOString() ?? null,
    },
    payload,
    truncated,
  });
}

export default function AdminEvent() {
  const { event, payload, truncated } = useLoaderData<typeof loader>();
  return (
    <section>
      <p>
        <Link to="/admin/events">← All events</Link>
      </p>
      <h1>{event.eventId}</h1>
      <dl className="facts">
        <dt>Type</dt>
        <dd>{event.eventType}</dd>
        <dt>Status</dt>
        <dd data-testid="event-status">{event.status}</dd>
        <dt>Attempts</dt>
        <dd>{event.attempts}</dd>
        <dt>Happened (Stripe)</dt>
        <dd>{event.eventCreatedAt ?? "—"}</dd>
        <dt>Received</dt>
        <dd>{event.receivedAt}</dd>
        <dt>Processed</dt>
        <dd>{event.processedAt ?? "—"}</dd>
      </dl>
      {event.error ? (
        <p className="form-error" role="alert">
          {event.error}
        </p>
      ) : null}
      {event.note ? <p className="notice">{event.note}</p> : null}
      {event.status === "failed" ? (
        <Form method="post" action="/admin/events?index">
          <input type="hidden" name="eventId" value={event.eventId} />
          <input type="hidden" name="back" value="/admin/events" />
          <button type="submit">Replay this event</button>
        </Form>
      ) : null}
      <h2>Payload</h2>
      {truncated ? (
        <p className="hint">Stored truncated to 16 KiB; a replay fetches the whole event from Stripe.</p>
      ) : null}
      <pre className="payload">{payload}</pre>
    </section>
  );
}
