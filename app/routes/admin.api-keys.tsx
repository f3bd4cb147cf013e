// /admin/api-keys: the keys a product's backend uses for /api/v1. Admins create them (the secret is
// shown once, in the answer to the post: a reload shows only its prefix) and revoke them at once;
// support reads the list. Both changes are audited.
import { getFormProps, getInputProps, getSelectProps, type SubmissionResult, useForm } from "@conform-to/react";
import { getZodConstraint, parseWithZod } from "@conform-to/zod/v4";
import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json, redirect } from "@remix-run/node";
import { Form, useActionData, useLoaderData, useSearchParams } from "@remix-run/react";
import { FieldError } from "~/components/forms.tsx";
import { formatDate } from "~/components/dates.tsx";
import { API_KEY_FIELD_MAX, API_KEY_SCOPES, ApiKeyFormSchema } from "~/forms/api-key-form.ts";
import { createApiKey, listApiKeysForAdmin, revokeApiKey } from "~/services/api/keys.server.ts";
import { requireRole, STAFF_ROLES } from "~/web/auth.server.ts";
import { boundedReply } from "~/utils/forms.ts";
import { readForm } from "~/utils/http.server.ts";

export const meta: MetaFunction = () => [{ title: "API keys · Admin · Tierdesk" }];

export async function loader({ request }: LoaderFunctionArgs) {
  const user = await requireRole(request, STAFF_ROLES);
  return json({ canEdit: user.role === "admin", keys: await listApiKeysForAdmin() });
}

export async function action({ request }: ActionFunctionArgs) {
  const user = await requireRole(request, ["admin"]);
  const actor = { id: user.id, email: user.email };
  const formData = await readForm(request, { freeText: ["name"] });

  if (formData.get("intent") === "revoke") {
    const id = Number(formData.get("id"));
    const revoked = Number.isSafeInteger(id) && id > 0 ? await revokeApiKey(actor, id) : null;
    if (!revoked) {
      return json({ result: null, created: null, error: "This key does not exist or is already revoked." }, 404);
    }
    return redirect(`/admin/api-keys?revoked=${encodeURIComponent(revoked.name)}`);
  }

  const submission = parseWithZod(formData, { schema: ApiKeyFormSchema });
  if (submission.status !== "success") {
    return json(
      { result: boundedReply(submission.reply(), API_KEY_FIELD_MAX), created: null, error: null },
      { status: 400 },
    );
  }
  const { key, secret } = await createApiKey(actor, submission.value);
  // The only time the secret leaves the server: in this answer, never in a URL or a log.
  return json(
    {
      result: submission.reply({ resetForm: true }),
      created: { name: key.name, scope: key.scope, secret },
      error: null,
    },
    { headers: { "Cache-Control": "no-store" } },
  );
}

/** A date and its UTC time (several uses or revocations a day are told apart). */
function when(iso: string | null, none: string) {
  if (!iso) return <span className="hint">{none}</span>;
  return (
    <time dateTime={iso}>
      {formatDate(iso)}, {iso.slice(11, 16)} UTC
    </time>
  );
}

export default function AdminApiKeys() {
  const { keys, canEdit } = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  const [searchParams] = useSearchParams();
  const created = actionData?.created ?? null;
  return (
    <section>
      <h1>API keys</h1>
      <p className="hint">
        A product&apos;s backend sends a key as <code>Authorization: Bearer tdk_…</code> to <code>/api/v1</code>.{" "}
        <code>read</code> keys ask (entitlements, checks, tiers); <code>write</code> keys may also change accounts. Only
        a hash of each secret is kept: it is shown once, when the key is created.
      </p>
      {searchParams.get("revoked") ? (
        <p className="notice" role="status">
          Revoked <strong>{searchParams.get("revoked")}</strong>: every request with it is refused from now on.
        </p>
      ) : null}
      {actionData?.error ? (
        <p className="form-error" role="alert">
          {actionData.error}
        </p>
      ) : null}
      {created ? (
        <div className="panel notice" role="status" data-testid="new-api-key">
          <h2>Copy the secret of {created.name} now</h2>
          <p>It will not be shown again. Store it where your backend reads its secrets.</p>
          <p>
            <code className="secret" data-testid="api-key-secret">
              {created.secret}
            </code>
          </p>
        </div>
      ) : null}

      {canEdit ? (
        <section className="panel" aria-labelledby="new-api-key">
          <h2 id="new-api-key">New API key</h2>
          <ApiKeyForm lastResult={actionData?.result} />
        </section>
      ) : null}

      <div className="table-scroll">
        <table data-testid="api-keys-table" className="api-keys-table">
          <caption className="visually-hidden">API keys</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Scope</th>
              <th scope="col">Key</th>
              <th scope="col">Created by</th>
              <th scope="col">Created</th>
              <th scope="col">Last used</th>
              <th scope="col">Revoked</th>
              {canEdit ? <th scope="col">Actions</th> : null}
            </tr>
          </thead>
          <tbody>
            {keys.length === 0 ? (
              <tr>
                <td colSpan={canEdit ? 8 : 7} className="hint">
                  No API keys yet.
                </td>
              </tr>
            ) : null}
            {keys.map((key) => (
              <tr key={key.id} data-api-key={key.name}>
                <td data-label="Name">{key.name}</td>
                <td data-label="Scope">{key.scope}</td>
                <td data-label="Key">
                  <code>{key.prefix}…</code>
                </td>
                <td data-label="Created by">{key.creator ?? <span className="hint">deleted user</span>}</td>
                <td data-label="Created">{when(key.createdAt, "")}</td>
                <td data-label="Last used">{when(key.lastUsedAt, "never")}</td>
                <td data-label="Revoked">{when(key.revokedAt, "no")}</td>
                {canEdit ? (
                  <td data-label="Actions" className="row-actions">
                    {key.revokedAt ? (
                      <span className="hint">none</span>
                    ) : (
                      <Form method="post" className="inline">
                        <input type="hidden" name="intent" value="revoke" />
                        <input type="hidden" name="id" value={key.id} />
                        <button type="submit" className="link-button danger-link" aria-label={`Revoke ${key.name}`}>
                          Revoke
                        </button>
                      </Form>
                    )}
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function ApiKeyForm({ lastResult }: { lastResult: SubmissionResult<string[]> | null | undefined }) {
  const [form, fields] = useForm({
    id: "api-key-new",
    lastResult,
    defaultValue: { name: "", scope: "read" },
    constraint: getZodConstraint(ApiKeyFormSchema),
    shouldValidate: "onBlur",
    shouldRevalidate: "onInput",
    onValidate: ({ formData }) => parseWithZod(formData, { schema: ApiKeyFormSchema }),
  });
  return (
    <Form method="post" {...getFormProps(form)} className="inline-form">
      <input type="hidden" name="intent" value="create" />
      <div className="field">
        <label htmlFor={fields.name.id}>Name</label>
        <input
          {...getInputProps(fields.name, { type: "text" })}
          key={fields.name.key}
          placeholder="Production backend"
        />
        <FieldError id={fields.name.errorId} errors={fields.name.errors} />
      </div>
      <div className="field">
        <label htmlFor={fields.scope.id}>Scope</label>
        <select {...getSelectProps(fields.scope)} key={fields.scope.key}>
          {API_KEY_SCOPES.map((scope) => (
            <option key={scope} value={scope}>
              {scope}
            </option>
          ))}
        </select>
        <FieldError id={fields.scope.errorId} errors={fields.scope.errors} />
      </div>
      <div className="actions">
        <button type="submit">Create key</button>
      </div>
    </Form>
  );
}
