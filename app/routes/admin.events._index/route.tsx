// /admin/events: every stored Stripe webhook, newest first, at any size. Filters and pages live in
// the URL (?status=&type=&from=&to=&q=, keyset ?after=/?before=<received_at>~<id>) so support can
// paste a link. Replay one failed event, or every failed event the filter matches (in the background).
// The loader and action are in events.server.ts.
import { KeysetPager } from "~/components/keyset-pager.tsx";
import type { MetaFunction } from "@remix-run/node";
import { Form, Link, useLoaderData, useNavigation, useSearchParams } from "@remix-run/react";
import { type ColumnDef, tableFeatures, useTable } from "@tanstack/react-table";
import { DataTable } from "~/components/data-table.tsx";
import { EVENT_STATUSES } from "~/utils/event-statuses.ts";
import { action, loader } from "./events.server.ts";
import { PROVIDER_LABEL, PROVIDERS } from "./providers.ts";

export { action, loader };

export const meta: MetaFunction = () => [{ title: "Stripe events · Admin · Tierdesk" }];

type EventRow = ReturnType<typeof useLoaderData<typeof loader>>["events"][number];

const features = tableFeatures({});
const timeFormat = new Intl.DateTimeFormat("en-GB", { dateStyle: "medium", timeStyle: "medium", timeZone: "UTC" });

const columns: Array<ColumnDef<typeof features, EventRow>> = [
  {
    accessorKey: "eventId",
    header: "Event",
    cell: ({ row }) => (
      <>
        <Link to={`/admin/events/${row.original.eventId}`}>{row.original.eventId}</Link>
        <div className="hint">
          {PROVIDER_LABEL[row.original.provider]} · {row.original.eventType}
        </div>
      </>
    ),
  },
  {
    accessorKey: "status",
    header: "Status",
    cell: ({ row }) => <span className={`status status-${row.original.status}`}>{row.original.status}</span>,
  },
  { accessorKey: "attempts", header: "Attempts" },
  {
    accessorKey: "customerId",
    header: "Customer",
    cell: ({ row }) =>
      row.original.customerId ? (
        <Link to={`/admin/users?q=${encodeURIComponent(row.original.customerId)}`}>
          <code>{row.original.customerId}</code>
        </Link>
      ) : (
        "—"
      ),
  },
  {
    accessorKey: "receivedAt",
    header: "Received (UTC)",
    cell: ({ row }) => timeFormat.format(new Date(row.original.receivedAt)),
  },
  {
    accessorKey: "outcome",
    header: "Error / note",
    cell: ({ row }) => <span className="outcome">{row.original.outcome ?? ""}</span>,
  },
  {
    id: "actions",
    header: "Replay",
    cell: ({ row }) => (row.original.status === "failed" ? <ReplayButton eventId={row.original.eventId} /> : null),
  },
];

function useBack() {
  const [searchParams] = useSearchParams();
  const kept = new URLSearchParams(searchParams);
  kept.delete("replayAll");
  return `/admin/events${kept.size ? `?${kept}` : ""}`;
}

function ReplayButton({ eventId }: { eventId: string }) {
  const navigation = useNavigation();
  const back = useBack();
  const busy = navigation.state === "submitting" && navigation.formData?.get("eventId") === eventId;
  return (
    <Form method="post" action="/admin/events?index">
      <input type="hidden" name="eventId" value={eventId} />
      <input type="hidden" name="back" value={back} />
      <button type="submit" className="small" disabled={busy} aria-label={`Replay ${eventId}`}>
        {busy ? "Replaying…" : "Replay"}
      </button>
    </Form>
  );
}

/** "10,051": counts are exact at any size (kept up to date as events arrive). */
function formatCount(value: number) {
  return value.toLocaleString("en-GB");
}

export default function AdminEvents() {
  const { events, counts, newer, older, toReplay } = useLoaderData<typeof loader>();
  const [searchParams] = useSearchParams();
  const table = useTable({ features, columns, data: events });
  const back = useBack();
  const withReplayAll = new URLSearchParams(searchParams);
  withReplayAll.set("replayAll", "1");
  return (
    <section>
      <h1>Stripe events</h1>
      <p className="hint">
        Every verified webhook is stored before it is processed. Stripe retries failed ones for days; replay one here
        once its cause is fixed.
      </p>
      <p className="counts" data-testid="event-counts">
        <Link to="?status=failed">
          <strong>{formatCount(counts.failed)}</strong> failed
        </Link>{" "}
        · {formatCount(counts.pending)} pending · {formatCount(counts.processed)} processed ·{" "}
        {formatCount(counts.stale)} stale · {formatCount(counts.ignored)} ignored · {formatCount(counts.total)} in all
      </p>
      <Form method="get" className="filters" role="search">
        <label>
          Status{" "}
          <select name="status" defaultValue={searchParams.get("status") ?? ""}>
            <option value="">all</option>
            {EVENT_STATUSES.map((status) => (
              <option key={status} value={status}>
                {status}
              </option>
            ))}
          </select>
        </label>
        <label>
          Provider{" "}
          <select name="provider" defaultValue={searchParams.get("provider") ?? ""}>
            <option value="">all</option>
            {PROVIDERS.map((provider) => (
              <option key={provider} value={provider}>
                {PROVIDER_LABEL[provider]}
              </option>
            ))}
          </select>
        </label>
        <label>
          Type <input name="type" defaultValue={searchParams.get("type") ?? ""} placeholder="customer.subscription." />
        </label>
        <label>
          From <input name="from" type="date" defaultValue={searchParams.get("from") ?? ""} />
        </label>
        <label>
          To <input name="to" type="date" defaultValue={searchParams.get("to") ?? ""} />
        </label>
        <label>
          Event or customer{" "}
          <input
            name="q"
            type="search"
            defaultValue={searchParams.get("q") ?? ""}
            placeholder="evt_…, cus_…, mem_… or user_…"
          />
        </label>
        <button type="submit" className="secondary">
          Filter
        </button>
        {searchParams.size ? <Link to="/admin/events">Clear</Link> : null}
      </Form>
      <p className="hint">A type ending in "." matches every type that starts with it.</p>

      {toReplay !== null ? (
        <Form method="post" action="/admin/events?index" className="panel" aria-labelledby="replay-all">
          <h2 id="replay-all">Replay all failed events matching this filter</h2>
          {toReplay.count ? (
            <>
              <p role="alert">
                {toReplay.atLeast ? "More than " : ""}
                {toReplay.count.toLocaleString("en-GB")} failed event{toReplay.count === 1 ? "" : "s"} will be replayed
                in the background, in batches. You can leave the page; progress is kept.
              </p>
              <input type="hidden" name="intent" value="replay-all" />
              <input type="hidden" name="back" value={back} />
              <div className="actions">
                <button type="submit">
                  Replay {toReplay.atLeast ? "all " : ""}
                  {toReplay.count.toLocaleString("en-GB")}
                  {toReplay.atLeast ? "+" : ""} events
                </button>
                <Link className="button secondary" to={back}>
                  Cancel
                </Link>
              </div>
            </>
          ) : (
            <p>No failed event matches this filter.</p>
          )}
        </Form>
      ) : (
        <p>
          <Link to={`?${withReplayAll}`}>Replay all failed events matching this filter…</Link>
        </p>
      )}

      {events.length ? (
        <DataTable
          table={table}
          caption="Stripe events"
          testId="events-table"
          className="events-table"
          rowAttributes={(event) => ({ "data-status": event.status, "data-event": event.eventId })}
        />
      ) : (
        <p>No events match.</p>
      )}
      <KeysetPager
        newer={newer || null}
        older={older || null}
        labels={{ newer: "← Newer events", older: "Older events →" }}
        drop={["replayAll"]}
      />
    </section>
  );
}
