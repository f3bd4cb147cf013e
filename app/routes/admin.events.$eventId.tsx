// /admin/events/:eventId: one stored Stripe event — what it is, the customer and object it concerns
// (linked to its account), every processing attempt, and the payload as escaped text (it comes from
// outside: never rendered as HTML).
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json } from "@remix-run/node";
import { Form, Link, useLoaderData, useNavigation } from "@remix-run/react";
import { getStoredEvent, listEventAttempts, MAX_STORED_PAYLOAD_BYTES } from "~/models/stripe-event.server.ts";
import { findAccountByStripeCustomer } from "~/models/billing-account.server.ts";
import { findAccountByWhopUserId } from "~/models/whop.server.ts";
import { requireRole, STAFF_ROLES } from "~/web/auth.server.ts";
import { jsonResponse } from "~/utils/http.server.ts";
import { safeRedirectWithin } from "~/utils/safe-redirect.ts";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: `${data?.event.eventId ?? "Event"} · Admin · Tierdesk` },
];

export async function loader({ request, params }: LoaderFunctionArgs) {
  await requireRole(request, STAFF_ROLES);
  const stored = await getStoredEvent(params.eventId ?? "");
  if (!stored) throw jsonResponse({ error: `No stored event ${params.eventId}.` }, 404);
  const [attempts, account] = await Promise.all([
    listEventAttempts(stored.id),
    // A Whop event's "customer" is the Whop user (user_…), linked to an account once a membership was applied.
    stored.customerId
      ? stored.provider === "whop"
        ? findAccountByWhopUserId(stored.customerId)
        : findAccountByStripeCustomer(stored.customerId)
      : Promise.resolve(null),
  ]);
  const search = new URL(request.url).searchParams;
  // The list this page was reached from (a replay keeps its filters), never anywhere else.
  const back = safeRedirectWithin(search.get("back"), "/admin/events");
  let payload = stored.payload;
  let truncated = false;
  try {
    payload = JSON.stringify(JSON.parse(stored.payload), null, 2);
  } catch {
    truncated = Buffer.byteLength(stored.payload, "utf8") >= MAX_STORED_PAYLOAD_BYTES - 4;
  }
  return json({
    event: {
      provider: stored.provider,
      eventId: stored.eventId,
      eventType: stored.eventType,
      status: stored.status,
      attempts: stored.attempts,
      error: stored.error,
      note: stored.note,
      objectId: stored.objectId,
      customerId: stored.customerId,
      eventCreatedAt: stored.eventCreatedAt?.toISOString() ?? null,
      receivedAt: stored.receivedAt.toISOString(),
      processedAt: stored.processedAt?.toISOString() ?? null,
    },
    account,
    attemptLog: attempts.map((attempt) => ({
      id: attempt.id.toString(),
      at: attempt.at.toISOString(),
      source: attempt.source,
      outcome: attempt.outcome,
      error: attempt.error,
      durationMs: attempt.durationMs,
    })),
    payload,
    truncated,
    back,
    // After a replay: its result, worded from the event as stored now (no free text in the URL).
    replay: search.get("replayed") === "1" ? { refused: search.get("refused") === "1" } : null,
  });
}

const timeFormat = new Intl.DateTimeFormat("en-GB", { dateStyle: "medium", timeStyle: "medium", timeZone: "UTC" });
const when = (iso: string | null) => (iso ? `${timeFormat.format(new Date(iso))} UTC` : "—");
const SOURCE_TEXT: Record<string, string> = {
  webhook: "webhook delivery",
  replay: "replay",
  bulk_replay: "bulk replay",
  resync: "replay, fetched again from Stripe",
};

export default function AdminEvent() {
  const { event, account, attemptLog, payload, truncated, back, replay } = useLoaderData<typeof loader>();
  const navigation = useNavigation();
  const busy = navigation.state === "submitting";
  return (
    <section>
      <p>
        <Link to={back}>← All events</Link>
      </p>
      <h1 className="break">{event.eventId}</h1>
      {replay ? (
        <p
          className={event.status === "failed" || replay.refused ? "form-error" : "notice"}
          role={event.status === "failed" || replay.refused ? "alert" : "status"}
          data-testid="replay-result"
        >
          {replay.refused
            ? `${event.eventId} was not replayed: it is ${event.status}, and only failed or pending events can be replayed.`
            : event.status === "failed"
              ? `Replaying ${event.eventId} failed: ${event.error ?? "unknown error"}`
              : `Replayed ${event.eventId}: ${event.status}.`}
        </p>
      ) : null}
      <dl className="facts">
        <dt>From</dt>
        <dd data-testid="event-provider">{event.provider === "whop" ? "Whop" : "Stripe"}</dd>
        <dt>Type</dt>
        <dd>{event.eventType}</dd>
        <dt>Status</dt>
        <dd data-testid="event-status">
          <span className={`status status-${event.status}`}>{event.status}</span>
        </dd>
        <dt>Attempts</dt>
        <dd data-testid="event-attempts">{event.attempts}</dd>
        <dt>Object</dt>
        <dd>{event.objectId ? <code>{event.objectId}</code> : "—"}</dd>
        <dt>Customer</dt>
        <dd data-testid="event-customer">
          {event.customerId ? <code>{event.customerId}</code> : "—"}
          {account ? (
            <>
              {" "}
              · <Link to={`/admin/accounts/${account.id}`}>{account.name}</Link>
            </>
          ) : event.customerId ? (
            <span className="hint">
              {" "}
              (no Tierdesk account has this {event.provider === "whop" ? "Whop user" : "customer"})
            </span>
          ) : null}
        </dd>
        <dt>Happened ({event.provider === "whop" ? "Whop" : "Stripe"})</dt>
        <dd>{when(event.eventCreatedAt)}</dd>
        <dt>Received</dt>
        <dd>{when(event.receivedAt)}</dd>
        <dt>Processed</dt>
        <dd>{when(event.processedAt)}</dd>
      </dl>
      {event.error && !replay ? (
        <p className="form-error" role="alert">
          {event.error}
        </p>
      ) : null}
      {event.note ? <p className="notice">{event.note}</p> : null}
      {event.status === "failed" ? (
        <Form method="post" action="/admin/events?index">
          <input type="hidden" name="eventId" value={event.eventId} />
          <input type="hidden" name="back" value={back} />
          <button type="submit" disabled={busy}>
            {busy ? "Replaying…" : "Replay this event"}
          </button>
        </Form>
      ) : null}

      <h2>Processing attempts</h2>
      {attemptLog.length ? (
        <div className="table-scroll">
          <table data-testid="attempts">
            <thead>
              <tr>
                <th scope="col">When (UTC)</th>
                <th scope="col">Source</th>
                <th scope="col">Outcome</th>
                <th scope="col">Duration</th>
                <th scope="col">Error</th>
              </tr>
            </thead>
            <tbody>
              {attemptLog.map((attempt) => (
                <tr key={attempt.id} data-outcome={attempt.outcome}>
                  <td data-label="When">{timeFormat.format(new Date(attempt.at))}</td>
                  <td data-label="Source">{SOURCE_TEXT[attempt.source] ?? attempt.source}</td>
                  <td data-label="Outcome">
                    <span className={`status status-${attempt.outcome}`}>{attempt.outcome}</span>
                  </td>
                  <td data-label="Duration">{attempt.durationMs} ms</td>
                  <td data-label="Error">
                    <span className="outcome">{attempt.error ?? ""}</span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <p className="hint">No attempt recorded (stored before attempts were kept).</p>
      )}

      <h2>Payload</h2>
      {truncated ? (
        <p className="hint">
          Stored truncated to 16 KiB; a replay fetches the whole event from Stripe (a Whop membership event: the
          membership as Whop has it now).
        </p>
      ) : null}
      <pre className="payload" data-testid="payload">
        {payload}
      </pre>
    </section>
  );
}
