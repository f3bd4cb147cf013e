import type { ActionFunctionArgs, HeadersFunction, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json, redirect } from "@remix-run/node";
import { Form, Link, useActionData, useNavigation, useSearchParams } from "@remix-run/react";
import { z } from "zod";
import { Field, firstErrorPerField } from "~/components/forms.tsx";
import { kickWebhookDelivery } from "~/services/webhooks/outbox.server.ts";
import { createUser, getUserByEmail, isUniqueViolation } from "~/models/user.server.ts";
import { getOptionalUser, homeFor } from "~/web/auth.server.ts";
import { type FieldErrors, parseForm } from "~/utils/forms.ts";
import { authFormPath, safeRedirect } from "~/utils/safe-redirect.ts";
import { consumeAttempt } from "~/web/rate-limit.server.ts";
import { createUserSession } from "~/web/session.server.ts";
import { EMAIL_MAX_LENGTH, echoValue, EmailSchema, NewPasswordSchema } from "~/utils/validation.ts";
import { readForm } from "~/utils/http.server.ts";

export const meta: MetaFunction = () => [{ title: "Sign up · Tierdesk" }];

// Remix sends a route's action headers on document responses only when the route passes them on.
export const headers: HeadersFunction = ({ actionHeaders }) => {
  const retryAfter = actionHeaders.get("Retry-After");
  return retryAfter ? { "Retry-After": retryAfter } : new Headers();
};

const SignupSchema = z
  .object({
    email: EmailSchema,
    password: NewPasswordSchema,
    confirmPassword: z.string().optional(),
    next: z.string().optional(),
  })
  .refine((data) => data.confirmPassword === undefined || data.confirmPassword === data.password, {
    path: ["confirmPassword"],
    message: "Passwords do not match.",
  });

export async function loader({ request }: LoaderFunctionArgs) {
  const user = await getOptionalUser(request);
  if (user) throw redirect(homeFor(user));
  return null;
}

const emailTaken = (email: string) =>
  json(
    {
      formError: null,
      fieldErrors: { email: ["An account with this email already exists. Sign in instead."] } as FieldErrors,
      email,
    },
    { status: 409 },
  );

const tooManySignUps = (retryAfterSeconds: number, email: string) =>
  json(
    {
      formError: `Too many sign-ups from your network. Try again in ${Math.ceil(retryAfterSeconds / 60)} minute(s).`,
      fieldErrors: {} as FieldErrors,
      email,
    },
    { status: 429, headers: { "Retry-After": String(retryAfterSeconds) } },
  );

export async function action({ request, context }: ActionFunctionArgs) {
  const form = await readForm(request, { freeText: ["email", "password", "confirmPassword"] });
  // Every attempt counts, before anything is checked: sign-up must not become an oracle for which
  // emails have accounts, nor a way to create accounts in bulk.
  const limit = await consumeAttempt([["signUpPerIp", context.clientIp]]);
  if (!limit.allowed) {
    return tooManySignUps(limit.retryAfterSeconds, echoValue(String(form.get("email") ?? ""), EMAIL_MAX_LENGTH));
  }
  const parsed = parseForm(SignupSchema, form, EMAIL_MAX_LENGTH);
  if (!parsed.success) {
    return json(
      { formError: null, fieldErrors: firstErrorPerField(parsed.fieldErrors), email: parsed.values.email ?? "" },
      { status: 400 },
    );
  }
  const { email, password, next } = parsed.data;
  if (await getUserByEmail(email)) return emailTaken(email);
  try {
    // Sign-up only ever creates customers; staff roles are granted by an admin.
    const user = await createUser({ email, password, role: "customer", onAnnounced: kickWebhookDelivery });
    return createUserSession(user.id, safeRedirect(next, homeFor(user)));
  } catch (error) {
    // Two sign-ups racing for the same email: the unique index decides.
    if (isUniqueViolation(error)) return emailTaken(email);
    throw error;
  }
}

export default function Signup() {
  const actionData = useActionData<typeof action>();
  const [searchParams] = useSearchParams();
  const navigation = useNavigation();
  const next = searchParams.get("next") ?? "";
  return (
    <section className="card narrow">
      <h1>Create an account</h1>
      <Form method="post" noValidate>
        {actionData?.formError ? (
          <p className="form-error" role="alert">
            {actionData.formError}
          </p>
        ) : null}
        <input type="hidden" name="next" value={next} />
        <Field
          label="Email"
          name="email"
          type="email"
          autoComplete="email"
          required
          // An invitation's page sends the invited email along (a suggestion: any email may sign up).
          defaultValue={actionData?.email ?? searchParams.get("email") ?? undefined}
          errors={actionData?.fieldErrors.email}
        />
        <Field
          label="Password"
          name="password"
          type="password"
          autoComplete="new-password"
          required
          hint="At least 10 characters."
          errors={actionData?.fieldErrors.password}
        />
        <Field
          label="Confirm password"
          name="confirmPassword"
          type="password"
          autoComplete="new-password"
          required
          errors={actionData?.fieldErrors.confirmPassword}
        />
        <button type="submit" disabled={navigation.state === "submitting"}>
          Create account
        </button>
      </Form>
      <p>
        Already have an account? <Link to={authFormPath("/login", next, searchParams.get("email"))}>Sign in</Link>
      </p>
    </section>
  );
}
