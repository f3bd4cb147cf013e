// /admin/tiers/:key/price-moves/:moveId: the progress of moving a lookup key's legacy subscribers to
// its current price (run by the job queue's workers). Refreshes itself while it runs (a meta refresh:
// no JavaScript needed). Support and admins read it.
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { priceMoveProgress } from "~/services/tiers/price-moves.server.ts";
import { jsonResponse } from "~/utils/http.server.ts";
import { requireRole, STAFF_ROLES } from "~/web/auth.server.ts";

const ACTIVE = new Set(["collecting", "running"]);

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: `Moving ${data?.move.lookupKey ?? "subscribers"} · Admin · Tierdesk` },
  ...(data && ACTIVE.has(data.move.status) ? [{ httpEquiv: "refresh", content: "2" } as const] : []),
];

export async function loader({ request, params }: LoaderFunctionArgs) {
  await requireRole(request, STAFF_ROLES);
  const id = Number(params.moveId);
  const progress = Number.isSafeInteger(id) && id > 0 ? await priceMoveProgress(id) : null;
  if (!progress || progress.move.tierKey !== params.key)
    throw jsonResponse({ error: "There is no such price move." }, 404);
  const { move, items } = progress;
  return json({
    move: {
      id: move.id,
      tierKey: move.tierKey,
      lookupKey: move.lookupKey,
      status: move.status,
      total: move.total,
      moved: move.moved,
      skipped: move.skipped,
      failed: move.failed,
      rateLimited: move.rateLimited,
      lastError: move.lastError,
      createdAt: move.createdAt.toISOString(),
      createdByEmail: move.createdByEmail,
      finishedAt: move.finishedAt?.toISOString() ?? null,
    },
    items: items.map((item) => ({
      subscriptionId: item.subscriptionId,
      customerId: item.customerId,
      status: item.status,
      error: item.error,
    })),
  });
}

const STATUS_TEXT = {
  collecting: "Listing the subscriptions on legacy prices",
  running: "Moving",
  finished: "Finished",
  failed: "Stopped",
} as const;

export default function PriceMove() {
  const { move, items } = useLoaderData<typeof loader>();
  const done = move.moved + move.skipped + move.failed;
  return (
    <section>
      <p>
        <Link to={`/admin/tiers/${encodeURIComponent(move.tierKey)}`}>← Tier {move.tierKey}</Link>
      </p>
      <h1>
        Moving {move.lookupKey} subscribers (#{move.id})
      </h1>
      <p role="status" data-testid="price-move-progress" data-status={move.status}>
        {STATUS_TEXT[move.status]}: {done} of {move.total} done — {move.moved} on the current price, {move.skipped} left
        alone, {move.failed} failed.
      </p>
      <progress max={Math.max(1, move.total)} value={done} aria-label="Move progress" />
      {move.lastError ? (
        <p
          className={move.status === "failed" ? "form-error" : "hint"}
          role={move.status === "failed" ? "alert" : undefined}
        >
          {move.lastError}
        </p>
      ) : null}
      <p className="hint">
        From the legacy prices of <code>{move.lookupKey}</code> to its current price, without proration: each
        subscription pays the new price from its next renewal. Started by {move.createdByEmail}
        {move.rateLimited ? `; Stripe asked to slow down ${move.rateLimited} times (waited out)` : ""}.
      </p>
      {items.length ? (
        <div className="table-scroll">
          <table>
            <caption>First subscriptions of this move</caption>
            <thead>
              <tr>
                <th scope="col">Subscription</th>
                <th scope="col">Customer</th>
                <th scope="col">Outcome</th>
              </tr>
            </thead>
            <tbody>
              {items.map((item) => (
                <tr key={item.subscriptionId}>
                  <td data-label="Subscription">
                    <code>{item.subscriptionId}</code>
                  </td>
                  <td data-label="Customer">{item.customerId ? <code>{item.customerId}</code> : "—"}</td>
                  <td data-label="Outcome">{item.error ?? item.status}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}
