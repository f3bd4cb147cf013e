// /admin/events: stored Stripe webhook events, newest first, with their outcome; failed ones can be replayed.
import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json, redirect } from "@remix-run/node";
import { Form, Link, useLoaderData, useNavigation, useSearchParams } from "@remix-run/react";
import { tableFeatures, useTable, type ColumnDef } from "@tanstack/react-table";
import { replayStoredEvent } from "~/billing/webhook.server.ts";
import type { StripeEventStatus } from "~/generated/prisma/client.ts";
import { countEventsByStatus, EVENT_STATUSES, EVENTS_PAGE_SIZE, listStoredEvents } from "~/models/stripe-event.server.ts";
import { requireRole, STAFF_ROLES } from "~/utils/auth.server.ts";

export const meta: MetaFunction = () => [{ title: "Stripe events · Admin · Tierdesk" }];

export async function loader({ request }: LoaderFunctionArgs) {
  await requireRole(request, STAFF_ROLES);
  const params = new URL(request.url).searchParams;
  const statusParam = params.get("status");
  const status = EVENT_STATUSES.find((s) => s === statusParam);
  const type = params.get("type")?.trim() || undefined;
  const beforeParam = params.get("before");
  const before = beforeParam && /^\d+$/.test(beforeParam) ? BigInt(beforeParam) : undefined;
  const [rows, counts] = await Promise.all([listStoredEvents({ status, type, before }), countEventsByStatus()]);
  const page = rows.slice(0, EVENTS_PAGE_SIZE);
  return json({
    counts,
    events: page.map((row) => ({
      eventId: row.eventId,
      eventType: row.eventType,
      status: row.status,
      attempts: row.attempts,
      outcome: row.error ?? row.note,
      receivedAt: row.receivedAt.toISOString(),
      processedAt: row.processedAt?.toISOString() ?? null,
    })),
    nextBefore: rows.length > EVENTS_PAGE_SIZE ? page[page.length - 1]!.id.toString() : null,
    notice: params.get("notice"),
    error: params.get("error"),
  });
}

export async function action({ request }: ActionFunctionArgs) {
  await requireRole(request, STAFF_ROLES);
  const form = await request.formData();
  const eventId = String(form.get("eventId") ?? "");
  const back = String(form.get("back") ?? "/admin/events");
  const target = back.startsWith("/admin/events") ? back : "/admin/events";
  const withMessage = (key: "notice" | "error", message: string) => {
    const url = new URL(target, "http://x");
    url.searchParams.set(key, message);
    return redirect(`${url.pathname}${url.search}`);
  };
  if (!/^evt_[A-Za-z0-9_]+$/.test(eventId)) return withMessage("error", "Choose an event to replay.");
  const result = await replayStoredEvent(eventId);
  return result.ok
    ? withMessage("notice", `Replayed ${eventId}: processed.`)
    : withMessage("error", `Replaying ${eventId} failed: ${result.error}`);
}

type EventRow = ReturnType<typeof useLoaderData<typeof loader>>["events"][number];

const features = tableFeatures({});
const timeFormat = new Intl.DateTimeFormat("en-GB", { dateStyle: "medium", timeStyle: "medium", timeZone: "UTC" });

const columns: Array<ColumnDef<typeof features, EventRow>> = [
  {
    accessorKey: "eventId",
    header: "Event",
    cell: (info) => <Link to={`/admin/events/${info.getValue()}`}>{String(info.getValue())}</Link>,
  },
  { accessorKey: "eventType", header: "Type" },
  {
    accessorKey: "status",
    header: "Status",
    cell: (info) => <span className={`status status-${info.getValue()}`}>{String(info.getValue())}</span>,
  },
  { accessorKey: "attempts", header: "Attempts" },
  { accessorKey: "receivedAt", header: "Received (UTC)", cell: (info) => timeFormat.format(new Date(String(info.getValue()))) },
  { accessorKey: "outcome", header: "Error / note", cell: (info) => <span className="outcome">{(info.getValue() as string | null) ?? ""}</span> },
  {
    id: "actions",
    header: "",
    cell: ({ row }) => (row.original.status === "failed" ? <ReplayButton eventId={row.original.eventId} /> : null),
  },
];

function ReplayButton({ eventId }: { eventId: string }) {
  const [searchParams] = useSearchParams();
  const navigation = useNavigation();
  const busy = navigation.state === "submitting" && navigation.formData?.get("eventId") === eventId;
  const back = `/admin/events${searchParams.size ? `?${searchParams}` : ""}`;
  return (
    <Form method="post" action="/admin/events?index">
      <input type="hidden" name="eventId" value={eventId} />
      <input type="hidden" name="back" value={back} />
      <button type="submit" className="small" disabled={busy}>
        {busy ? "Replaying…" : "Replay"}
      </button>
    </Form>
  );
}

export default function AdminEvents() {
  const { events, counts, nextBefore, notice, error } = useLoaderData<typeof loader>();
  const [searchParams] = useSearchParams();
  const table = useTable({ features, columns, data: events });
  const status = searchParams.get("status") ?? "";
  const nextPage = new URLSearchParams(searchParams);
  if (nextBefore) nextPage.set("before", nextBefore);
  return (
    <section>
      <h1>Stripe events</h1>
      <p className="hint">Every verified webhook is stored before it is processed. Failed events are retried by Stripe; replay one here once its cause is fixed.</p>
      {notice ? <p className="notice" role="status">{notice}</p> : null}
      {error ? <p className="form-error" role="alert">{error}</p> : null}
      <Form method="get" className="filters">
        <label>
          Status{" "}
          <select name="status" defaultValue={status}>
            <option value="">all</option>
            {EVENT_STATUSES.map((s: StripeEventStatus) => (
              <option key={s} value={s}>
                {s} ({counts[s] ?? 0})
              </option>
            ))}
          </select>
        </label>
        <label>
          Type starts with <input name="type" defaultValue={searchParams.get("type") ?? ""} placeholder="customer.subscription" />
        </label>
        <button type="submit" className="secondary">
          Filter
        </button>
      </Form>
      {events.length ? (
        <table data-testid="events-table">
          <thead>
            {table.getHeaderGroups().map((group) => (
              <tr key={group.id}>
                {group.headers.map((header) => (
                  <th key={header.id}>{header.isPlaceholder ? null : <table.FlexRender header={header} />}</th>
                ))}
              </tr>
            ))}
          </thead>
          <tbody>
            {table.getRowModel().rows.map((row) => (
              <tr key={row.id} data-status={row.original.status}>
                {row.getAllCells().map((cell) => (
                  <td key={cell.id}>
                    <table.FlexRender cell={cell} />
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p>No events match.</p>
      )}
      {nextBefore ? (
        <p>
          <Link to={`/admin/events?${nextPage}`}>Older events →</Link>
        </p>
      ) : null}
    </section>
  );
}
