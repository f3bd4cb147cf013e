// /reset-password/<token>: a mailed link's form for a new password (sign-up's rules). Success ends
// every session of the user and sends them to sign in; a link that is unknown, expired or used gets a
// page saying so (and nothing is written).
import { getFormProps, getInputProps, type SubmissionResult, useForm } from "@conform-to/react";
import { getZodConstraint, parseWithZod } from "@conform-to/zod/v4";
import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json, redirect } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { FieldError } from "~/components/forms.tsx";
import { ResetPasswordSchema } from "~/forms/password-forms.ts";
import { resetLinkUsable, resetPassword } from "~/services/passwords/passwords.server.ts";
import { readForm } from "~/utils/http.server.ts";

export const meta: MetaFunction = () => [
  { title: "Choose a new password · Tierdesk" },
  // The token is in the URL: no referrer carries it to another site.
  { name: "referrer", content: "no-referrer" },
];

export async function loader({ params }: LoaderFunctionArgs) {
  const usable = await resetLinkUsable(params.token ?? "");
  return json({ usable }, { headers: { "Cache-Control": "no-store" } });
}

export async function action({ request, params }: ActionFunctionArgs) {
  const form = await readForm(request, { freeText: ["password", "confirmPassword"] });
  const submission = parseWithZod(form, { schema: ResetPasswordSchema });
  const hideFields = ["password", "confirmPassword"];
  if (submission.status !== "success") {
    return json({ result: submission.reply({ hideFields }), expired: false }, { status: 400 });
  }
  if (!(await resetPassword(params.token ?? "", submission.value.password))) {
    return json({ result: null, expired: true }, { status: 410 });
  }
  return redirect("/login?password=reset", 303);
}

export default function ResetPassword() {
  const { usable } = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  if (!usable || actionData?.expired) return <LinkExpired />;
  return <NewPasswordForm lastResult={actionData?.result} />;
}

function LinkExpired() {
  return (
    <section className="card narrow" data-testid="reset-link-expired">
      <h1>This link has expired or was already used</h1>
      <p>A reset link works once, within one hour of being sent.</p>
      <p>
        <Link className="button" to="/forgot-password">
          Ask for a new link
        </Link>
      </p>
    </section>
  );
}

function NewPasswordForm({ lastResult }: { lastResult: SubmissionResult<string[]> | null | undefined }) {
  const navigation = useNavigation();
  const [form, fields] = useForm({
    id: "reset-password",
    lastResult,
    constraint: getZodConstraint(ResetPasswordSchema),
    shouldValidate: "onBlur",
    shouldRevalidate: "onInput",
    onValidate: ({ formData }) => parseWithZod(formData, { schema: ResetPasswordSchema }),
  });
  return (
    <section className="card narrow">
      <h1>Choose a new password</h1>
      <Form method="post" {...getFormProps(form)}>
        <p>Signing in with it signs you out everywhere else.</p>
        <div className="field">
          <label htmlFor={fields.password.id}>New password</label>
          <input
            {...getInputProps(fields.password, { type: "password" })}
            key={fields.password.key}
            autoComplete="new-password"
          />
          <p className="hint">At least 10 characters.</p>
          <FieldError id={fields.password.errorId} errors={fields.password.errors} />
        </div>
        <div className="field">
          <label htmlFor={fields.confirmPassword.id}>Confirm new password</label>
          <input
            {...getInputProps(fields.confirmPassword, { type: "password" })}
            key={fields.confirmPassword.key}
            autoComplete="new-password"
          />
          <FieldError id={fields.confirmPassword.errorId} errors={fields.confirmPassword.errors} />
        </div>
        <button type="submit" disabled={navigation.state === "submitting"}>
          Set the new password
        </button>
      </Form>
    </section>
  );
}
