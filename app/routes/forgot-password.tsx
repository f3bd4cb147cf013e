// /forgot-password: asks for an email and mails a reset link when it has an account. The answer is the
// same whether or not it does; only a server that sends no mail answers differently (for everyone).
import { getFormProps, getInputProps, useForm } from "@conform-to/react";
import { getZodConstraint, parseWithZod } from "@conform-to/zod/v4";
import type { ActionFunctionArgs, HeadersFunction, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json, redirect } from "@remix-run/node";
import { Form, Link, useActionData, useNavigation } from "@remix-run/react";
import { FieldError } from "~/components/forms.tsx";
import { ForgotPasswordSchema, PASSWORD_FORM_MAX } from "~/forms/password-forms.ts";
import { mailLinkOrigin } from "~/services/mail/mail.server.ts";
import { requestPasswordReset } from "~/services/passwords/passwords.server.ts";
import { getOptionalUser, homeFor } from "~/web/auth.server.ts";
import { consumeAttempt } from "~/web/rate-limit.server.ts";
import { boundedReply } from "~/utils/forms.ts";
import { readForm } from "~/utils/http.server.ts";

export const meta: MetaFunction = () => [{ title: "Forgot password · Tierdesk" }];

export const headers: HeadersFunction = ({ actionHeaders }) => {
  const retryAfter = actionHeaders.get("Retry-After");
  return retryAfter ? { "Retry-After": retryAfter } : new Headers();
};

const SENT_MESSAGE = "If an account exists for that email, we sent a link; it is valid for one hour.";
const UNAVAILABLE_MESSAGE =
  "Password reset by email is not available on this server; ask an administrator to reset your password.";

export async function loader({ request }: LoaderFunctionArgs) {
  const user = await getOptionalUser(request);
  if (user) throw redirect(homeFor(user));
  return null;
}

export async function action({ request, context }: ActionFunctionArgs) {
  const form = await readForm(request, { freeText: ["email"] });
  const submission = parseWithZod(form, { schema: ForgotPasswordSchema });
  if (submission.status !== "success") {
    return json({ result: boundedReply(submission.reply(), PASSWORD_FORM_MAX), sent: null }, { status: 400 });
  }
  const { email } = submission.value;
  // Counted for every email alike, known or not, before anything is looked up.
  const limit = await consumeAttempt([
    ["passwordResetPerIp", context.clientIp],
    ["passwordResetPerEmail", email],
  ]);
  if (!limit.allowed) {
    const minutes = Math.ceil(limit.retryAfterSeconds / 60);
    const formErrors = [`Too many reset requests. Try again in ${minutes} minute${minutes === 1 ? "" : "s"}.`];
    return json(
      { result: boundedReply(submission.reply({ formErrors }), PASSWORD_FORM_MAX), sent: null },
      { status: 429, headers: { "Retry-After": String(limit.retryAfterSeconds) } },
    );
  }
  const outcome = await requestPasswordReset(email, mailLinkOrigin(request));
  return json({ result: null, sent: outcome === "sent" ? SENT_MESSAGE : UNAVAILABLE_MESSAGE });
}

export default function ForgotPassword() {
  const actionData = useActionData<typeof action>();
  const navigation = useNavigation();
  const [form, fields] = useForm({
    id: "forgot-password",
    lastResult: actionData?.result,
    constraint: getZodConstraint(ForgotPasswordSchema),
    shouldValidate: "onBlur",
    shouldRevalidate: "onInput",
    onValidate: ({ formData }) => parseWithZod(formData, { schema: ForgotPasswordSchema }),
  });
  return (
    <section className="card narrow">
      <h1>Forgot your password?</h1>
      {actionData?.sent ? (
        <p className="notice" role="status" data-testid="reset-answer">
          {actionData.sent}
        </p>
      ) : (
        <Form method="post" {...getFormProps(form)}>
          <p>Enter the email you sign in with. We will mail you a link to choose a new password.</p>
          {form.errors?.length ? (
            <p className="form-error" role="alert">
              {form.errors.join(" ")}
            </p>
          ) : null}
          <div className="field">
            <label htmlFor={fields.email.id}>Email</label>
            <input {...getInputProps(fields.email, { type: "email" })} key={fields.email.key} autoComplete="email" />
            <FieldError id={fields.email.errorId} errors={fields.email.errors} />
          </div>
          <button type="submit" disabled={navigation.state === "submitting"}>
            Send the link
          </button>
        </Form>
      )}
      <p>
        <Link to="/login">Back to sign in</Link>
      </p>
    </section>
  );
}
