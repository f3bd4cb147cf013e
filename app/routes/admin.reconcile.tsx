// /admin/reconcile: whole-account reconciliation with Stripe (support and admin, who may also run it
// and apply its differences, as they may Sync from Stripe). "Run now" only puts a run on the job
// queue: the page shows its progress (refreshing itself while it runs), then the latest finished
// run's differences, a page at a time, and the history of runs.
import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json, redirect } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { formatMoment } from "~/components/dates.tsx";
import { DIFFERENCE_LABELS, type DifferenceKind } from "~/rules/reconciliation.ts";
import {
  applyDifference,
  leaveDifference,
  reconciliationOverview,
  requestApplyAll,
  requestReconciliation,
} from "~/services/customers/reconciliation.server.ts";
import { requireRole, STAFF_ROLES } from "~/web/auth.server.ts";
import { readForm } from "~/utils/http.server.ts";

const PAGE_SIZE = 50;

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: "Reconciliation · Admin · Tierdesk" },
  ...(data?.inProgress ? [{ httpEquiv: "refresh", content: "2" } as const] : []),
];

export async function loader({ request }: LoaderFunctionArgs) {
  await requireRole(request, STAFF_ROLES);
  const after = Number(new URL(request.url).searchParams.get("after") ?? 0);
  const overview = await reconciliationOverview({
    afterId: Number.isSafeInteger(after) && after > 0 ? after : 0,
    pageSize: PAGE_SIZE,
  });
  const newest = overview.history[0] ?? null;
  return json({
    inProgress: newest?.status === "queued" || newest?.status === "running",
    history: overview.history.map((run) => ({
      id: run.id,
      trigger: run.trigger,
      requestedBy: run.requestedByEmail,
      status: run.status,
      progress: run.progress,
      createdAt: run.createdAt.toISOString(),
      startedAt: run.startedAt?.toISOString() ?? null,
      finishedAt: run.finishedAt?.toISOString() ?? null,
      subscriptions: run.subscriptions,
      customers: run.customers,
      accountsChecked: run.accountsChecked,
      stripeRequests: run.stripeRequests,
      differenceCount: run.differenceCount,
      error: run.error,
    })),
    latest: overview.latest ? { id: overview.latest.id, differenceCount: overview.latest.differenceCount } : null,
    statuses: overview.statuses,
    differences: overview.differences.map((difference) => ({
      id: difference.id,
      accountId: difference.accountId,
      accountName: difference.accountName,
      label: DIFFERENCE_LABELS[difference.kind as DifferenceKind] ?? difference.kind,
      rule: difference.rule,
      tierdesk: difference.tierdesk as Record<string, string | null>,
      stripe: difference.stripe as Record<string, string | null>,
      fix: difference.fix,
      status: difference.status,
      outcome: difference.outcome,
      resolvedBy: difference.resolvedByEmail,
    })),
    nextAfterId: overview.nextAfterId,
  });
}

/** "run", "apply" (one), "leave" (one), "apply-all" (on the queue): support and admins, as Sync from Stripe. */
export async function action({ request }: ActionFunctionArgs) {
  const viewer = await requireRole(request, STAFF_ROLES);
  const actor = { id: viewer.id, email: viewer.email };
  const form = await readForm(request);
  const intent = form.get("intent");
  const id = Number(form.get("id"));
  if (intent === "run") {
    await requestReconciliation(actor);
    return redirect("/admin/reconcile");
  }
  if ((intent === "apply" || intent === "leave" || intent === "apply-all") && Number.isSafeInteger(id) && id > 0) {
    if (intent === "apply-all") {
      await requestApplyAll(actor, id);
      return json({ ok: true as const, message: "Applying every open difference on the job queue: reload to follow." });
    }
    const outcome = intent === "apply" ? await applyDifference(actor, id) : await leaveDifference(actor, id);
    if (outcome.ok) return json({ ok: true as const, message: outcome.detail });
    return json({ ok: false as const, message: outcome.message }, { status: 409 });
  }
  return json({ ok: false as const, message: "Choose what to do." }, { status: 400 });
}

function Side({ view }: { view: Record<string, string | null> }) {
  return (
    <dl className="compact">
      {(["tier", "status", "customer", "subscription", "seats"] as const).map((key) => (
        <div key={key}>
          <dt>{key}</dt>
          <dd>{view[key] ?? (key === "tier" ? "free" : "—")}</dd>
        </div>
      ))}
    </dl>
  );
}

export default function Reconcile() {
  const { inProgress, history, latest, statuses, differences, nextAfterId } = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  const busy = useNavigation().state === "submitting";
  const newest = history[0];
  const open = (statuses.open ?? 0) + (statuses.failed ?? 0);
  return (
    <section>
      <h1>Reconciliation</h1>
      <p className="hint">
        Pages through every Stripe subscription and customer, compares them with each account&apos;s tier, status,
        customer link and seats, and lists every difference with the rule that decides it. Applying one goes through the
        same rules as a webhook or Sync from Stripe, and is audited. It also runs every night.
      </p>
      <Form method="post">
        <input type="hidden" name="intent" value="run" />
        <button type="submit" disabled={busy || inProgress}>
          {inProgress ? "Running…" : "Run now"}
        </button>
      </Form>
      {newest && inProgress ? (
        <p role="status" data-testid="reconcile-progress" data-status={newest.status}>
          Run #{newest.id} is {newest.status}
          {newest.progress ? `: ${newest.progress}` : ""} ({newest.stripeRequests} Stripe requests so far).
        </p>
      ) : null}
      {actionData ? (
        <p role={actionData.ok ? "status" : "alert"} className={actionData.ok ? "notice" : "error"}>
          {actionData.message}
        </p>
      ) : null}

      <h2>Differences</h2>
      {!latest ? (
        <p>No run has finished yet.</p>
      ) : (
        <>
          <p data-testid="reconcile-summary">
            Run #{latest.id}: {latest.differenceCount} difference{latest.differenceCount === 1 ? "" : "s"}
            {latest.differenceCount
              ? ` — ${open} open, ${statuses.applied ?? 0} applied, ${statuses.left ?? 0} left`
              : ""}
            .
          </p>
          {open ? (
            <Form method="post">
              <input type="hidden" name="intent" value="apply-all" />
              <input type="hidden" name="id" value={latest.id} />
              <button type="submit" disabled={busy}>
                Apply all open differences
              </button>
            </Form>
          ) : null}
          {differences.length ? (
            <table>
              <thead>
                <tr>
                  <th scope="col">Account</th>
                  <th scope="col">Difference</th>
                  <th scope="col">Tierdesk has</th>
                  <th scope="col">Stripe says</th>
                  <th scope="col">Status</th>
                </tr>
              </thead>
              <tbody>
                {differences.map((difference) => (
                  <tr key={difference.id} data-testid="reconcile-difference">
                    <td>
                      {difference.accountId ? (
                        <Link to={`/admin/accounts/${difference.accountId}`}>{difference.accountName}</Link>
                      ) : (
                        difference.accountName
                      )}
                    </td>
                    <td>
                      <strong>{difference.label}</strong>
                      <p className="hint">{difference.rule}</p>
                    </td>
                    <td>
                      <Side view={difference.tierdesk} />
                    </td>
                    <td>
                      <Side view={difference.stripe} />
                    </td>
                    <td>
                      {difference.status === "open" || difference.status === "failed" ? (
                        <>
                          {difference.status === "failed" ? (
                            <p className="error">Failed: {difference.outcome}</p>
                          ) : null}
                          {difference.fix !== "none" ? (
                            <Form method="post">
                              <input type="hidden" name="intent" value="apply" />
                              <input type="hidden" name="id" value={difference.id} />
                              <button type="submit" disabled={busy}>
                                Apply
                              </button>
                            </Form>
                          ) : (
                            <p className="hint">A person decides.</p>
                          )}
                          <Form method="post">
                            <input type="hidden" name="intent" value="leave" />
                            <input type="hidden" name="id" value={difference.id} />
                            <button type="submit" disabled={busy} className="secondary">
                              Leave it
                            </button>
                          </Form>
                        </>
                      ) : (
                        <span>
                          {difference.status} by {difference.resolvedBy}: {difference.outcome}
                        </span>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <p>Tierdesk and Stripe agree.</p>
          )}
          {nextAfterId ? (
            <p>
              <Link to={`/admin/reconcile?after=${nextAfterId}`}>Next {PAGE_SIZE} →</Link>
            </p>
          ) : null}
        </>
      )}

      <h2>History</h2>
      {history.length ? (
        <table>
          <thead>
            <tr>
              <th scope="col">Run</th>
              <th scope="col">Started by</th>
              <th scope="col">Started</th>
              <th scope="col">Finished</th>
              <th scope="col">Status</th>
              <th scope="col">Subscriptions</th>
              <th scope="col">Customers</th>
              <th scope="col">Accounts</th>
              <th scope="col">Stripe requests</th>
              <th scope="col">Differences</th>
            </tr>
          </thead>
          <tbody>
            {history.map((run) => (
              <tr key={run.id} data-testid="reconcile-run">
                <td>#{run.id}</td>
                <td>{run.requestedBy ?? run.trigger}</td>
                <td>{run.startedAt ? formatMoment(run.startedAt) : "waiting"}</td>
                <td>{run.finishedAt ? formatMoment(run.finishedAt) : "—"}</td>
                <td>
                  {run.status}
                  {run.error ? `: ${run.error}` : ""}
                </td>
                <td>{run.subscriptions}</td>
                <td>{run.customers}</td>
                <td>{run.accountsChecked}</td>
                <td>{run.stripeRequests}</td>
                <td>{run.differenceCount}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p>No runs yet.</p>
      )}
    </section>
  );
}
