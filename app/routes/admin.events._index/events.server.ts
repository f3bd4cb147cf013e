// The loader and action of /admin/events (route.tsx): the filtered, keyset-paged event log, and replaying
// one failed event or starting a bulk replay of every failed event the filter matches.
import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { json, redirect } from "@remix-run/node";
import { previewBulkReplay, startBulkReplay } from "~/services/events/bulk-replay.server.ts";
import { replayStoredEvent } from "~/services/events/replay.server.ts";
import { countEventsByStatus } from "~/models/event-counts.server.ts";
import { type EventCursor, type EventLogFilter, listEventLog } from "~/models/event-log.server.ts";
import { requireRole, STAFF_ROLES } from "~/web/auth.server.ts";
import { EVENT_STATUSES } from "~/utils/event-statuses.ts";
import { formatCursor, parseCursor } from "~/utils/keyset-cursor.ts";
import { safeRedirectWithin } from "~/utils/safe-redirect.ts";
import { readForm } from "~/utils/http.server.ts";
import { PROVIDERS } from "./providers.ts";

function eventCursor(value: string | null): EventCursor | undefined {
  const cursor = parseCursor(value);
  return cursor ? { receivedAt: cursor.at, id: cursor.id } : undefined;
}

const cursorOf = (row: { receivedAt: Date; id: bigint }) => formatCursor(row.receivedAt, row.id);

/** A day (YYYY-MM-DD, from a date input) or a moment; `to` days are inclusive. */
function parseDay(value: string | null, end: boolean): Date | undefined {
  if (!value) return undefined;
  const day = /^\d{4}-\d{2}-\d{2}$/.test(value);
  const date = new Date(day ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(date.getTime())) return undefined;
  return day && end ? new Date(date.getTime() + 86_400_000) : date;
}

/** The event log filter in the URL. Anything malformed is ignored rather than an error. */
export function filterFrom(params: URLSearchParams): EventLogFilter {
  const provider = PROVIDERS.find((value) => value === params.get("provider"));
  const status = EVENT_STATUSES.find((value) => value === params.get("status"));
  const type = params.get("type")?.trim().slice(0, 255);
  const q = params.get("q")?.trim().slice(0, 255);
  return {
    provider,
    status,
    type: type && /^[a-z0-9_.*]+$/.test(type) ? type : undefined,
    from: parseDay(params.get("from"), false),
    to: parseDay(params.get("to"), true),
    q: q && /^[A-Za-z0-9_-]+$/.test(q) ? q : undefined,
  };
}

export async function loader({ request }: LoaderFunctionArgs) {
  await requireRole(request, STAFF_ROLES);
  const params = new URL(request.url).searchParams;
  const filter = filterFrom(params);
  const [page, counts, toReplay] = await Promise.all([
    listEventLog(filter, { after: eventCursor(params.get("after")), before: eventCursor(params.get("before")) }),
    countEventsByStatus(),
    params.get("replayAll") ? previewBulkReplay(filter) : Promise.resolve(null),
  ]);
  const first = page.rows[0];
  const last = page.rows.at(-1);
  return json({
    counts,
    events: page.rows.map((row) => ({
      provider: row.provider,
      eventId: row.eventId,
      eventType: row.eventType,
      status: row.status,
      attempts: row.attempts,
      customerId: row.customerId,
      outcome: row.error ?? row.note,
      receivedAt: row.receivedAt.toISOString(),
    })),
    newer: page.hasNewer && first ? cursorOf(first) : null,
    older: page.hasOlder && last ? cursorOf(last) : null,
    toReplay,
  });
}

export async function action({ request }: ActionFunctionArgs) {
  const user = await requireRole(request, STAFF_ROLES);
  const form = await readForm(request);
  // Only back to this list, after resolving the path: "/admin/events/../..//evil.com" is no way out.
  const list = new URL(safeRedirectWithin(form.get("back"), "/admin/events"), "http://tierdesk.invalid");
  list.searchParams.delete("replayAll");
  const listPath = `${list.pathname}${list.search}`;

  if (form.get("intent") === "replay-all") {
    const job = await startBulkReplay(user.email, filterFrom(list.searchParams));
    if (!job) return redirect(listPath);
    return redirect(`/admin/events/replays/${job.id}`);
  }
  const eventId = String(form.get("eventId") ?? "");
  if (!/^[A-Za-z0-9_-]{1,255}$/.test(eventId)) return json({ error: "Choose an event to replay." }, { status: 400 });
  const outcome = await replayStoredEvent(eventId);
  if (!outcome.ok && outcome.refused === "not-found") return redirect(listPath);
  // The event's own page shows what the replay did, its attempts and a link back to this list. It words
  // the result from the event as stored now: no free text travels in the URL.
  const page = new URLSearchParams({ replayed: "1" });
  if (!outcome.ok && outcome.refused) page.set("refused", "1");
  if (listPath !== "/admin/events") page.set("back", listPath);
  return redirect(`/admin/events/${eventId}?${page}`);
}
