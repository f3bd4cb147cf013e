// /admin/webhooks: where Tierdesk sends its outgoing webhooks. Admins register endpoints (URL, events)
// and see the signing secret once; support reads. An endpoint disabled because it kept failing is
// flagged here, as Stripe does.
import { parseWithZod } from "@conform-to/zod/v4";
import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json } from "@remix-run/node";
import { Link, useActionData, useLoaderData } from "@remix-run/react";
import { formatDate } from "~/components/dates.tsx";
import { endpointState, WebhookEndpointForm } from "~/components/webhook-endpoint-form.tsx";
import { WEBHOOK_FIELD_MAX, WebhookEndpointFormSchema } from "~/forms/webhook-endpoint-form.ts";
import { listEndpoints } from "~/models/webhook-endpoint.server.ts";
import { createWebhookEndpoint } from "~/services/webhooks/endpoints.server.ts";
import { boundedReply } from "~/utils/forms.ts";
import { readForm } from "~/utils/http.server.ts";
import { requireRole, STAFF_ROLES } from "~/web/auth.server.ts";

export const meta: MetaFunction = () => [{ title: "Webhooks · Admin · Tierdesk" }];

export async function loader({ request }: LoaderFunctionArgs) {
  const user = await requireRole(request, STAFF_ROLES);
  const endpoints = await listEndpoints();
  return json({
    canEdit: user.role === "admin",
    endpoints: endpoints.map((endpoint) => ({
      ...endpoint,
      disabledAt: endpoint.disabledAt?.toISOString() ?? null,
      failingSince: endpoint.failingSince?.toISOString() ?? null,
      lastSuccessAt: endpoint.lastSuccessAt?.toISOString() ?? null,
      createdAt: endpoint.createdAt.toISOString(),
    })),
  });
}

export async function action({ request }: ActionFunctionArgs) {
  const user = await requireRole(request, ["admin"]);
  const formData = await readForm(request, { freeText: ["url"] });
  const submission = parseWithZod(formData, { schema: WebhookEndpointFormSchema });
  if (submission.status !== "success") {
    return json({ result: boundedReply(submission.reply(), WEBHOOK_FIELD_MAX), created: null }, { status: 400 });
  }
  const outcome = await createWebhookEndpoint({ id: user.id, email: user.email }, submission.value);
  if (!outcome.ok) {
    const reply = submission.reply({ fieldErrors: { [outcome.field]: [outcome.message] } });
    return json({ result: boundedReply(reply, WEBHOOK_FIELD_MAX), created: null }, { status: 400 });
  }
  // The secret is in this answer only: never stored in a URL, never shown again.
  return json(
    { result: null, created: { id: outcome.id, url: submission.value.url, secret: outcome.secret } },
    { headers: { "Cache-Control": "no-store" } },
  );
}

export default function AdminWebhooks() {
  const { endpoints, canEdit } = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  const failing = endpoints.filter((endpoint) => !endpoint.enabled && endpoint.disabledReason === "failing");
  return (
    <section>
      <h1>Webhooks</h1>
      <p className="hint">
        Tierdesk POSTs <code>account.entitlements.updated</code>, <code>account.seats.updated</code> and{" "}
        <code>account.created</code> to these URLs, signed per Standard Webhooks (<code>webhook-id</code>,{" "}
        <code>webhook-timestamp</code>, <code>webhook-signature</code>). A delivery that gets no 2xx within 10 s is
        retried with growing waits for 3 days.
      </p>
      {failing.length ? (
        <p className="warning" role="alert" data-testid="failing-banner">
          {failing.length === 1 ? "1 endpoint was" : `${failing.length} endpoints were`} disabled after every delivery
          failed for 3 days: {failing.map((endpoint) => endpoint.url).join(", ")}. Fix the receiver, then enable it on
          its page and replay its failed deliveries.
        </p>
      ) : null}
      {actionData?.created ? (
        <div className="notice" role="status" data-testid="new-secret">
          <p>
            Registered <code>{actionData.created.url}</code>. Its signing secret, shown this once (keep it in the
            receiving product&apos;s configuration):
          </p>
          <p>
            <code className="secret">{actionData.created.secret}</code>
          </p>
          <p>
            <Link to={`/admin/webhooks/${actionData.created.id}`}>Open its delivery log</Link>
          </p>
        </div>
      ) : null}

      {canEdit ? (
        <section className="panel" aria-labelledby="new-endpoint">
          <h2 id="new-endpoint">New endpoint</h2>
          <WebhookEndpointForm intent="create" submitLabel="Add endpoint" lastResult={actionData?.result} />
        </section>
      ) : null}

      {endpoints.length ? (
        <div className="table-scroll">
          <table data-testid="endpoints-table">
            <caption className="visually-hidden">Webhook endpoints</caption>
            <thead>
              <tr>
                <th scope="col">URL</th>
                <th scope="col">Events</th>
                <th scope="col">State</th>
                <th scope="col">Last success</th>
              </tr>
            </thead>
            <tbody>
              {endpoints.map((endpoint) => (
                <tr key={endpoint.id}>
                  <td>
                    <Link to={`/admin/webhooks/${endpoint.id}`} className="break">
                      {endpoint.url}
                    </Link>
                  </td>
                  <td>
                    {endpoint.eventTypes.map((type) => (
                      <code key={type} className="tag">
                        {type}
                      </code>
                    ))}
                  </td>
                  <td>{endpointState(endpoint)}</td>
                  <td>{endpoint.lastSuccessAt ? formatDate(endpoint.lastSuccessAt) : "never"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <p className="hint">No endpoints yet.</p>
      )}
    </section>
  );
}
