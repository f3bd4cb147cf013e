// /account/password: a signed-in user changes their password. The current one is required; success
// ends every other session of the user (this one stays signed in) and any unused reset link.
import { getFormProps, getInputProps, useForm } from "@conform-to/react";
import { getZodConstraint, parseWithZod } from "@conform-to/zod/v4";
import type { ActionFunctionArgs, HeadersFunction, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json, redirect } from "@remix-run/node";
import { Form, Link, useActionData, useNavigation } from "@remix-run/react";
import { FieldError } from "~/components/forms.tsx";
import { ChangePasswordSchema } from "~/forms/password-forms.ts";
import { changePassword } from "~/services/passwords/passwords.server.ts";
import { requireUser } from "~/web/auth.server.ts";
import { consumeAttempt } from "~/web/rate-limit.server.ts";
import { sessionIdFrom } from "~/web/session.server.ts";
import { readForm } from "~/utils/http.server.ts";

export const meta: MetaFunction = () => [{ title: "Change password · Tierdesk" }];

export const headers: HeadersFunction = ({ actionHeaders }) => {
  const retryAfter = actionHeaders.get("Retry-After");
  return retryAfter ? { "Retry-After": retryAfter } : new Headers();
};

const HIDDEN = ["currentPassword", "password", "confirmPassword"];

export async function loader({ request }: LoaderFunctionArgs) {
  await requireUser(request);
  return null;
}

export async function action({ request }: ActionFunctionArgs) {
  const user = await requireUser(request);
  const form = await readForm(request, { freeText: HIDDEN });
  const submission = parseWithZod(form, { schema: ChangePasswordSchema });
  if (submission.status !== "success") {
    return json({ result: submission.reply({ hideFields: HIDDEN }) }, { status: 400 });
  }
  const limit = await consumeAttempt([["passwordChangePerUser", String(user.id)]]);
  if (!limit.allowed) {
    const minutes = Math.ceil(limit.retryAfterSeconds / 60);
    const formErrors = [`Too many attempts. Try again in ${minutes} minute${minutes === 1 ? "" : "s"}.`];
    return json(
      { result: submission.reply({ formErrors, hideFields: HIDDEN }) },
      { status: 429, headers: { "Retry-After": String(limit.retryAfterSeconds) } },
    );
  }
  // requireUser found a live session: the request has its id.
  const outcome = await changePassword(user.id, submission.value, (await sessionIdFrom(request)) ?? "");
  if (!outcome.ok) {
    return json(
      { result: submission.reply({ fieldErrors: outcome.fieldErrors, hideFields: HIDDEN }) },
      { status: 400 },
    );
  }
  return redirect("/account?password=changed", 303);
}

export default function ChangePassword() {
  const actionData = useActionData<typeof action>();
  const navigation = useNavigation();
  const [form, fields] = useForm({
    id: "change-password",
    lastResult: actionData?.result,
    constraint: getZodConstraint(ChangePasswordSchema),
    shouldValidate: "onBlur",
    shouldRevalidate: "onInput",
    onValidate: ({ formData }) => parseWithZod(formData, { schema: ChangePasswordSchema }),
  });
  const passwordField = (field: (typeof fields)["password"], label: string, autoComplete: string, hint?: string) => (
    <div className="field">
      <label htmlFor={field.id}>{label}</label>
      <input {...getInputProps(field, { type: "password" })} key={field.key} autoComplete={autoComplete} />
      {hint ? <p className="hint">{hint}</p> : null}
      <FieldError id={field.errorId} errors={field.errors} />
    </div>
  );
  return (
    <section className="card narrow">
      <h1>Change password</h1>
      <Form method="post" {...getFormProps(form)}>
        <p>Your other sessions are signed out; this one stays signed in.</p>
        {form.errors?.length ? (
          <p className="form-error" role="alert">
            {form.errors.join(" ")}
          </p>
        ) : null}
        {passwordField(fields.currentPassword, "Current password", "current-password")}
        {passwordField(fields.password, "New password", "new-password", "At least 10 characters.")}
        {passwordField(fields.confirmPassword, "Confirm new password", "new-password")}
        <div className="actions">
          <button type="submit" disabled={navigation.state === "submitting"}>
            Change password
          </button>
          <Link className="button secondary" to="/account">
            Cancel
          </Link>
        </div>
      </Form>
    </section>
  );
}
