// /admin/permissions: the abilities tiers grant. Admins create, rename, describe and delete them;
// support reads. ?edit=ID opens a row's form, ?delete=ID asks for confirmation (no JavaScript needed).
import { getFormProps, getInputProps, type SubmissionResult, useForm } from "@conform-to/react";
import { getZodConstraint, parseWithZod } from "@conform-to/zod/v4";
import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json, redirect } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useSearchParams } from "@remix-run/react";
import { removePermission, savePermission } from "~/services/tiers/permission-admin.server.ts";
import { PERMISSION_FIELD_MAX, PermissionFormSchema } from "~/forms/permission-form.ts";
import { FieldError } from "~/components/forms.tsx";
import { listPermissionsWithTiers } from "~/models/permission.server.ts";
import { requireRole, STAFF_ROLES } from "~/web/auth.server.ts";
import { boundedReply } from "~/utils/forms.ts";
import { readForm } from "~/utils/http.server.ts";

export const meta: MetaFunction = () => [{ title: "Permissions · Admin · Tierdesk" }];

export async function loader({ request }: LoaderFunctionArgs) {
  const user = await requireRole(request, STAFF_ROLES);
  const permissions = await listPermissionsWithTiers();
  return json({
    canEdit: user.role === "admin",
    permissions: permissions.map((permission) => ({
      id: permission.id,
      name: permission.name,
      description: permission.description,
      tiers: permission.tiers.map(({ tier }) => ({ key: tier.key, name: tier.name })),
    })),
  });
}

const idFrom = (value: FormDataEntryValue | null) => {
  const id = Number(value);
  return Number.isSafeInteger(id) && id > 0 ? id : null;
};

export async function action({ request }: ActionFunctionArgs) {
  const user = await requireRole(request, ["admin"]);
  const actor = { id: user.id, email: user.email };
  const formData = await readForm(request, { freeText: ["name", "description"] });
  const intent = formData.get("intent");
  const id = idFrom(formData.get("id"));

  if (intent === "delete") {
    if (!id) return json({ form: "delete", result: null, error: "Choose a permission to delete." }, { status: 400 });
    const outcome = await removePermission(actor, id, formData.get("confirm") === "yes");
    if (outcome.ok) return redirect(`/admin/permissions?deleted=${encodeURIComponent(outcome.name)}`);
    if (outcome.reason === "needs-confirmation") return redirect(`/admin/permissions?delete=${id}`);
    return json({ form: "delete", result: null, error: outcome.message }, { status: 404 });
  }

  const submission = parseWithZod(formData, { schema: PermissionFormSchema });
  const form = id ? `edit-${id}` : "create";
  if (submission.status !== "success") {
    return json({ form, result: boundedReply(submission.reply(), PERMISSION_FIELD_MAX), error: null }, { status: 400 });
  }
  const outcome = await savePermission(actor, intent === "update" ? id : null, submission.value);
  if (!outcome.ok) {
    const reply = boundedReply(
      submission.reply({
        fieldErrors: outcome.fieldErrors,
        formErrors: outcome.formError ? [outcome.formError] : [],
      }),
      PERMISSION_FIELD_MAX,
    );
    return json({ form, result: reply, error: null }, { status: outcome.notFound ? 404 : 400 });
  }
  const notice = outcome.renamedFrom ? `renamed=${encodeURIComponent(outcome.renamedFrom)}&to=` : "saved=";
  return redirect(`/admin/permissions?${notice}${encodeURIComponent(outcome.name)}`);
}

export default function AdminPermissions() {
  const { permissions, canEdit } = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  const [searchParams] = useSearchParams();
  const editing = Number(searchParams.get("edit")) || null;
  const deleting = Number(searchParams.get("delete")) || null;
  const toDelete = permissions.find((permission) => permission.id === deleting);
  const renamedFrom = searchParams.get("renamed");
  return (
    <section>
      <h1>Permissions</h1>
      <p className="hint">
        What a tier lets its users do. Code asks <code>requirePermission(request, "name")</code> and{" "}
        <code>GET /api/me/entitlements</code> lists them; a change here applies at once to every user on a tier that
        grants it.
      </p>
      {renamedFrom ? (
        <p className="warning" role="alert">
          Renamed <code>{renamedFrom}</code> to <code>{searchParams.get("to")}</code>. Code that calls{" "}
          <code>requirePermission</code> with <code>{renamedFrom}</code> no longer matches: update it too.
        </p>
      ) : null}
      {searchParams.get("saved") ? (
        <p className="notice" role="status">
          Saved <code>{searchParams.get("saved")}</code>.
        </p>
      ) : null}
      {searchParams.get("deleted") ? (
        <p className="notice" role="status">
          Deleted <code>{searchParams.get("deleted")}</code>.
        </p>
      ) : null}
      {actionData?.error ? (
        <p className="form-error" role="alert">
          {actionData.error}
        </p>
      ) : null}

      {toDelete && canEdit ? (
        <Form method="post" className="panel danger-zone" aria-labelledby="confirm-delete">
          <h2 id="confirm-delete">Delete {toDelete.name}?</h2>
          {toDelete.tiers.length ? (
            <p role="alert">
              {toDelete.tiers.length === 1 ? "This tier grants it" : "These tiers grant it"}:{" "}
              {toDelete.tiers.map((tier) => tier.name).join(", ")}. Their users lose it at once.
            </p>
          ) : (
            <p>No tier grants it.</p>
          )}
          <input type="hidden" name="intent" value="delete" />
          <input type="hidden" name="id" value={toDelete.id} />
          <input type="hidden" name="confirm" value="yes" />
          <div className="actions">
            <button type="submit" className="danger">
              Yes, delete {toDelete.name}
            </button>
            <Link className="button secondary" to="/admin/permissions">
              Keep it
            </Link>
          </div>
        </Form>
      ) : null}

      {canEdit ? (
        <section className="panel" aria-labelledby="new-permission">
          <h2 id="new-permission">New permission</h2>
          <PermissionForm id={null} lastResult={actionData?.form === "create" ? actionData.result : null} />
        </section>
      ) : null}

      <div className="table-scroll">
        <table data-testid="permissions-table">
          <caption className="visually-hidden">Permissions</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Description</th>
              <th scope="col">Granted by</th>
              {canEdit ? <th scope="col">Actions</th> : null}
            </tr>
          </thead>
          <tbody>
            {permissions.map((permission) => (
              <tr key={permission.id} data-permission={permission.name}>
                {editing === permission.id && canEdit ? (
                  <td colSpan={4}>
                    <PermissionForm
                      id={permission.id}
                      defaults={{ name: permission.name, description: permission.description }}
                      lastResult={actionData?.form === `edit-${permission.id}` ? actionData.result : null}
                    />
                  </td>
                ) : (
                  <>
                    <td data-label="Name">
                      <code>{permission.name}</code>
                    </td>
                    <td data-label="Description">{permission.description}</td>
                    <td data-label="Granted by">
                      {permission.tiers.length ? (
                        // One element, however many tiers: on a phone each child of the cell gets its own line.
                        <ul className="inline-list">
                          {permission.tiers.map((tier) => (
                            <li key={tier.key}>
                              <Link to={`/admin/tiers/${tier.key}`}>{tier.name}</Link>
                            </li>
                          ))}
                        </ul>
                      ) : (
                        <span className="hint">no tier</span>
                      )}
                    </td>
                    {canEdit ? (
                      <td data-label="Actions" className="row-actions">
                        <Link to={`?edit=${permission.id}`} aria-label={`Edit ${permission.name}`}>
                          Edit
                        </Link>{" "}
                        <Form method="post" className="inline">
                          <input type="hidden" name="intent" value="delete" />
                          <input type="hidden" name="id" value={permission.id} />
                          <button
                            type="submit"
                            className="link-button danger-link"
                            aria-label={`Delete ${permission.name}`}
                          >
                            Delete
                          </button>
                        </Form>
                      </td>
                    ) : null}
                  </>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function PermissionForm({
  id,
  defaults = { name: "", description: "" },
  lastResult,
}: {
  id: number | null;
  defaults?: { name: string; description: string };
  lastResult: SubmissionResult<string[]> | null | undefined;
}) {
  const [form, fields] = useForm({
    id: id ? `permission-${id}` : "permission-new",
    lastResult,
    defaultValue: defaults,
    constraint: getZodConstraint(PermissionFormSchema),
    shouldValidate: "onBlur",
    shouldRevalidate: "onInput",
    onValidate: ({ formData }) => parseWithZod(formData, { schema: PermissionFormSchema }),
  });
  return (
    <Form method="post" {...getFormProps(form)} className="inline-form">
      <input type="hidden" name="intent" value={id ? "update" : "create"} />
      {id ? <input type="hidden" name="id" value={id} /> : null}
      {form.errors?.length ? (
        <p className="form-error" role="alert">
          {form.errors.join(" ")}
        </p>
      ) : null}
      <div className="field">
        <label htmlFor={fields.name.id}>Name</label>
        <input
          {...getInputProps(fields.name, { type: "text" })}
          key={fields.name.key}
          spellCheck={false}
          placeholder="export.csv"
        />
        {id ? (
          <p className="hint">Renaming: code that calls requirePermission with the old name will stop matching.</p>
        ) : null}
        <FieldError id={fields.name.errorId} errors={fields.name.errors} />
      </div>
      <div className="field">
        <label htmlFor={fields.description.id}>Description</label>
        <input
          {...getInputProps(fields.description, { type: "text" })}
          key={fields.description.key}
          placeholder="Export data as CSV"
        />
        <FieldError id={fields.description.errorId} errors={fields.description.errors} />
      </div>
      <div className="actions">
        <button type="submit">{id ? "Save" : "Create permission"}</button>
        {id ? (
          <Link className="button secondary" to="/admin/permissions">
            Cancel
          </Link>
        ) : null}
      </div>
    </Form>
  );
}
