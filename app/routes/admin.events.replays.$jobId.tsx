// /admin/events/replays/:jobId: the progress of "replay all failed". Refreshes itself while it runs
// (a meta refresh: no JavaScript needed).
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { bulkReplayProgress } from "~/services/events/bulk-replay.server.ts";
import { requireRole, STAFF_ROLES } from "~/web/auth.server.ts";
import { jsonResponse } from "~/utils/http.server.ts";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: "Bulk replay · Admin · Tierdesk" },
  ...(data?.job.status === "running" ? [{ httpEquiv: "refresh", content: "2" } as const] : []),
];

export async function loader({ request, params }: LoaderFunctionArgs) {
  await requireRole(request, STAFF_ROLES);
  const id = Number(params.jobId);
  const job = Number.isSafeInteger(id) && id > 0 ? await bulkReplayProgress(id) : null;
  if (!job) throw jsonResponse({ error: "There is no such bulk replay." }, 404);
  return json({
    job: {
      id: job.id,
      status: job.status,
      total: job.total,
      processed: job.processed,
      failed: job.failed,
      createdAt: job.createdAt.toISOString(),
      createdByEmail: job.createdByEmail,
      filter: job.filter as Record<string, string>,
    },
  });
}

export default function BulkReplay() {
  const { job } = useLoaderData<typeof loader>();
  const done = job.processed + job.failed;
  const filter = new URLSearchParams({ status: "failed", ...job.filter });
  return (
    <section>
      <p>
        <Link to="/admin/events">← All events</Link>
      </p>
      <h1>Bulk replay #{job.id}</h1>
      <p role="status" data-testid="replay-progress" data-status={job.status}>
        {job.status === "running" ? "Running: " : "Finished: "}
        {done} of {job.total} replayed — {job.processed} processed, {job.failed} failed again.
      </p>
      <progress max={Math.max(1, job.total)} value={done} aria-label="Replay progress" />
      <p className="hint">
        Started by {job.createdByEmail}. Events that a delivery or another replay processed meanwhile are skipped.
      </p>
      <p>
        <Link to={`/admin/events?${filter}`}>Failed events of this filter →</Link>
      </p>
    </section>
  );
}
