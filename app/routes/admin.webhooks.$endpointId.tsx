// /admin/webhooks/:endpointId: one endpoint and its delivery log, newest first (keyset pages of 25,
// ?failed=1 for failed ones only), each delivery with its attempts (status, duration, the answer's
// first 1 KB). Admins edit, enable or disable, delete, and replay one failed delivery or all of them.
// Deliveries finished more than EVENT_RETENTION_DAYS ago are gone (retention): the counts are of the
// deliveries kept, the same rows the log lists.
import { parseWithZod } from "@conform-to/zod/v4";
import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json, redirect } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useSearchParams } from "@remix-run/react";
import { formatMoment } from "~/components/dates.tsx";
import { endpointState, WebhookEndpointForm } from "~/components/webhook-endpoint-form.tsx";
import { WEBHOOK_FIELD_MAX, WebhookEndpointFormSchema } from "~/forms/webhook-endpoint-form.ts";
import {
  countDeliveriesByStatus,
  DELIVERY_PAGE_SIZE,
  getEndpoint,
  listDeliveries,
} from "~/models/webhook-endpoint.server.ts";
import { retentionDays } from "~/services/events/retention.server.ts";
import {
  deleteWebhookEndpoint,
  replayFailedDeliveries,
  setWebhookEndpointEnabled,
  updateWebhookEndpoint,
} from "~/services/webhooks/endpoints.server.ts";
import { boundedReply } from "~/utils/forms.ts";
import { readForm } from "~/utils/http.server.ts";
import { requireRole, STAFF_ROLES } from "~/web/auth.server.ts";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: `${data?.endpoint.url ?? "Webhook endpoint"} · Webhooks · Admin · Tierdesk` },
];

function endpointIdOf(params: { endpointId?: string }) {
  const id = Number(params.endpointId);
  if (!Number.isSafeInteger(id) || id <= 0) throw new Response("No such webhook endpoint.", { status: 404 });
  return id;
}

const cursorOf = (value: string | null) => (value && /^\d{1,19}$/.test(value) ? BigInt(value) : undefined);

export async function loader({ request, params }: LoaderFunctionArgs) {
  const user = await requireRole(request, STAFF_ROLES);
  const id = endpointIdOf(params);
  const url = new URL(request.url);
  const failedOnly = url.searchParams.get("failed") === "1";
  const [endpoint, counts, rows] = await Promise.all([
    getEndpoint(id),
    countDeliveriesByStatus(id),
    listDeliveries(id, {
      beforeId: cursorOf(url.searchParams.get("before")),
      status: failedOnly ? "failed" : undefined,
    }),
  ]);
  if (!endpoint) throw new Response("No such webhook endpoint.", { status: 404 });
  const page = rows.slice(0, DELIVERY_PAGE_SIZE);
  return json({
    canEdit: user.role === "admin",
    failedOnly,
    counts,
    retentionDays: retentionDays(),
    endpoint: {
      ...endpoint,
      disabledAt: endpoint.disabledAt?.toISOString() ?? null,
      failingSince: endpoint.failingSince?.toISOString() ?? null,
      lastSuccessAt: endpoint.lastSuccessAt?.toISOString() ?? null,
      createdAt: endpoint.createdAt.toISOString(),
    },
    deliveries: page.map((delivery) => ({
      id: String(delivery.id),
      status: delivery.status,
      attempts: delivery.attempts,
      nextAttemptAt: delivery.nextAttemptAt.toISOString(),
      webhookId: delivery.message.webhookId,
      eventType: delivery.message.eventType,
      accountId: delivery.message.accountId,
      createdAt: delivery.message.createdAt.toISOString(),
      attemptLog: delivery.attemptLog.map((attempt) => ({
        id: String(attempt.id),
        at: attempt.at.toISOString(),
        statusCode: attempt.statusCode,
        durationMs: attempt.durationMs,
        responseExcerpt: attempt.responseExcerpt,
        error: attempt.error,
      })),
    })),
    nextCursor: rows.length > DELIVERY_PAGE_SIZE ? String(page.at(-1)?.id) : null,
  });
}

export async function action({ request, params }: ActionFunctionArgs) {
  const user = await requireRole(request, ["admin"]);
  const actor = { id: user.id, email: user.email };
  const id = endpointIdOf(params);
  const formData = await readForm(request, { freeText: ["url"] });
  const intent = formData.get("intent");
  const done = (notice: string) => redirect(`/admin/webhooks/${id}?notice=${encodeURIComponent(notice)}`);
  const failure = (message: string, status = 404) => json({ result: null, error: message }, { status });

  if (intent === "update") {
    const submission = parseWithZod(formData, { schema: WebhookEndpointFormSchema });
    if (submission.status !== "success") {
      return json({ result: boundedReply(submission.reply(), WEBHOOK_FIELD_MAX), error: null }, { status: 400 });
    }
    const outcome = await updateWebhookEndpoint(actor, id, submission.value);
    if (outcome.ok) return done("Saved.");
    if (!outcome.field) return failure(outcome.message);
    const reply = submission.reply({ fieldErrors: { [outcome.field]: [outcome.message] } });
    return json({ result: boundedReply(reply, WEBHOOK_FIELD_MAX), error: null }, { status: 400 });
  }
  if (intent === "enable" || intent === "disable") {
    const outcome = await setWebhookEndpointEnabled(actor, id, intent === "enable");
    return outcome.ok ? done(intent === "enable" ? "Enabled." : "Disabled.") : failure(outcome.message);
  }
  if (intent === "delete") {
    if (formData.get("confirm") !== "yes") return redirect(`/admin/webhooks/${id}?delete=1`);
    const outcome = await deleteWebhookEndpoint(actor, id);
    return outcome.ok ? redirect("/admin/webhooks") : failure(outcome.message);
  }
  if (intent === "replay" || intent === "replay-all") {
    const deliveryId = intent === "replay" ? cursorOf(String(formData.get("deliveryId") ?? "")) : undefined;
    if (intent === "replay" && deliveryId === undefined) return failure("Choose a delivery to replay.", 400);
    const outcome = await replayFailedDeliveries(actor, id, { deliveryId });
    if (!outcome.ok) return failure(outcome.message);
    return done(
      outcome.count === 0
        ? "Nothing to replay: no failed delivery."
        : `Replaying ${outcome.count === 1 ? "1 delivery" : `${outcome.count} deliveries`}.`,
    );
  }
  return failure("Unknown action.", 400);
}

export default function AdminWebhookEndpoint() {
  const { endpoint, deliveries, counts, retentionDays, canEdit, nextCursor, failedOnly } =
    useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  const [searchParams] = useSearchParams();
  const notice = searchParams.get("notice");
  return (
    <section>
      <p>
        <Link to="/admin/webhooks">← All endpoints</Link>
      </p>
      <h1 className="break">{endpoint.url}</h1>
      <p className="hint" data-testid="endpoint-state">
        {endpointState(endpoint)} · {counts.succeeded} succeeded · {counts.pending} pending · {counts.failed} failed
      </p>
      {!endpoint.enabled && endpoint.disabledReason === "failing" ? (
        <p className="warning" role="alert" data-testid="failing-banner">
          Disabled automatically: every delivery failed for 3 days. Fix the receiver, enable the endpoint, then replay
          its failed deliveries.
        </p>
      ) : null}
      {notice ? (
        <p className="notice" role="status" data-testid="notice">
          {notice}
        </p>
      ) : null}
      {actionData?.error ? (
        <p className="form-error" role="alert">
          {actionData.error}
        </p>
      ) : null}

      {canEdit ? (
        <section className="panel" aria-labelledby="endpoint-actions">
          <h2 id="endpoint-actions">Endpoint</h2>
          <WebhookEndpointForm
            intent="update"
            submitLabel="Save"
            defaultValue={{ url: endpoint.url, eventTypes: endpoint.eventTypes }}
            lastResult={actionData?.result}
          />
          <div className="actions">
            <Form method="post">
              <input type="hidden" name="intent" value={endpoint.enabled ? "disable" : "enable"} />
              <button type="submit" className="secondary">
                {endpoint.enabled ? "Disable" : "Enable"}
              </button>
            </Form>
            {counts.failed ? (
              <Form method="post">
                <input type="hidden" name="intent" value="replay-all" />
                <button type="submit">Replay all failed ({counts.failed})</button>
              </Form>
            ) : null}
            <Form method="post">
              <input type="hidden" name="intent" value="delete" />
              {searchParams.get("delete") === "1" ? <input type="hidden" name="confirm" value="yes" /> : null}
              <button type="submit" className="danger">
                {searchParams.get("delete") === "1" ? "Yes, delete this endpoint and its log" : "Delete…"}
              </button>
            </Form>
          </div>
        </section>
      ) : null}

      <h2 id="deliveries">Deliveries</h2>
      <p className="hint" data-testid="retention">
        Deliveries that succeeded or failed more than {retentionDays} days ago are removed with their attempts; pending
        ones stay until they finish.
      </p>
      <p>
        {failedOnly ? (
          <Link to={`/admin/webhooks/${endpoint.id}`}>Show all deliveries</Link>
        ) : (
          <Link to={`/admin/webhooks/${endpoint.id}?failed=1`}>Show failed deliveries only</Link>
        )}
      </p>
      {deliveries.length ? (
        <ol className="delivery-log" data-testid="deliveries">
          {deliveries.map((delivery) => (
            <li key={delivery.id} className="panel" data-status={delivery.status}>
              <p>
                <strong className={`status status-${delivery.status}`}>{delivery.status}</strong>{" "}
                <code>{delivery.eventType}</code> · account{" "}
                <Link to={`/admin/accounts/${delivery.accountId}`}>{delivery.accountId}</Link> ·{" "}
                <code className="break">{delivery.webhookId}</code> · {formatMoment(delivery.createdAt)}
                {delivery.status === "pending" && delivery.attempts > 0
                  ? ` · next attempt ${formatMoment(delivery.nextAttemptAt)}`
                  : ""}
              </p>
              {delivery.attemptLog.length ? (
                <div className="table-scroll">
                  <table>
                    <caption className="visually-hidden">Attempts of {delivery.webhookId}</caption>
                    <thead>
                      <tr>
                        <th scope="col">At</th>
                        <th scope="col">Status</th>
                        <th scope="col">Duration</th>
                        <th scope="col">Response</th>
                      </tr>
                    </thead>
                    <tbody>
                      {delivery.attemptLog.map((attempt) => (
                        <tr key={attempt.id}>
                          <td>{formatMoment(attempt.at)}</td>
                          <td>{attempt.statusCode ?? "no answer"}</td>
                          <td>{attempt.durationMs} ms</td>
                          <td className="excerpt">
                            {attempt.error && attempt.statusCode === null ? attempt.error : null}
                            {attempt.responseExcerpt ? <code>{attempt.responseExcerpt}</code> : null}
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              ) : (
                <p className="hint">Not attempted yet.</p>
              )}
              {canEdit && delivery.status === "failed" ? (
                <Form method="post">
                  <input type="hidden" name="intent" value="replay" />
                  <input type="hidden" name="deliveryId" value={delivery.id} />
                  <button type="submit" className="secondary">
                    Replay
                  </button>
                </Form>
              ) : null}
            </li>
          ))}
        </ol>
      ) : (
        <p className="hint">No deliveries{failedOnly ? " failed" : " yet"}.</p>
      )}
      {nextCursor ? (
        <p>
          <Link to={`/admin/webhooks/${endpoint.id}?${failedOnly ? "failed=1&" : ""}before=${nextCursor}`}>
            Older deliveries →
          </Link>
        </p>
      ) : null}
    </section>
  );
}
