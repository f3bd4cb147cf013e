import type { ActionFunctionArgs, HeadersFunction, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json, redirect } from "@remix-run/node";
import { Form, Link, useActionData, useNavigation, useSearchParams } from "@remix-run/react";
import { z } from "zod";
import { Field, firstErrorPerField } from "~/components/forms.tsx";
import { authenticator, getOptionalUser, homeFor, InvalidCredentialsError } from "~/web/auth.server.ts";
import { parseForm } from "~/utils/forms.ts";
import { consumeSignInAttempt, signInSucceeded, type SignInCheck } from "~/web/rate-limit.server.ts";
import { authFormPath, safeRedirect } from "~/utils/safe-redirect.ts";
import { createUserSession } from "~/web/session.server.ts";
import { EMAIL_MAX_LENGTH, EmailSchema } from "~/utils/validation.ts";
import { readForm } from "~/utils/http.server.ts";

export const meta: MetaFunction = () => [{ title: "Sign in · Tierdesk" }];

// Remix sends a route's action headers on document responses only when the route passes them on.
export const headers: HeadersFunction = ({ actionHeaders }) => {
  const retryAfter = actionHeaders.get("Retry-After");
  return retryAfter ? { "Retry-After": retryAfter } : new Headers();
};

const LoginSchema = z.object({
  email: EmailSchema,
  password: z.string({ error: "Password is required." }).min(1, "Password is required."),
  next: z.string().optional(),
});

export async function loader({ request }: LoaderFunctionArgs) {
  const user = await getOptionalUser(request);
  if (user) {
    const next = new URL(request.url).searchParams.get("next");
    throw redirect(safeRedirect(next, homeFor(user)));
  }
  return null;
}

function tooManyAttempts({ retryAfterSeconds, reason }: Extract<SignInCheck, { allowed: false }>) {
  const minutes = Math.ceil(retryAfterSeconds / 60);
  const formError =
    reason === "slowed"
      ? `This account is getting many sign-in attempts. Try again in ${retryAfterSeconds} second${retryAfterSeconds === 1 ? "" : "s"}.`
      : `Too many failed sign-ins. Try again in ${minutes} minute${minutes === 1 ? "" : "s"}.`;
  return json(
    {
      formError,
      fieldErrors: {} as Record<string, string[]>,
      email: "",
    },
    { status: 429, headers: { "Retry-After": String(retryAfterSeconds) } },
  );
}

export async function action({ request, context }: ActionFunctionArgs) {
  const form = await readForm(request, { freeText: ["email", "password"] });
  const parsed = parseForm(LoginSchema, form, EMAIL_MAX_LENGTH);
  if (!parsed.success) {
    return json(
      { formError: null, fieldErrors: firstErrorPerField(parsed.fieldErrors), email: parsed.values.email ?? "" },
      { status: 400 },
    );
  }
  const { email, next } = parsed.data;
  const ip = context.clientIp;
  // Counted before the password is checked, atomically in the database: concurrent guesses
  // (or guesses spread over several app instances) cannot slip past the limit.
  const limit = await consumeSignInAttempt(email, ip);
  if (!limit.allowed) return tooManyAttempts(limit);

  try {
    // The strategy reads the form itself: hand it the one already read (within its limit).
    const posted = new Request(request.url, {
      method: "POST",
      headers: request.headers,
      body: new URLSearchParams(
        [...form].flatMap(([name, value]) => (typeof value === "string" ? [[name, value]] : [])),
      ),
    });
    const user = await authenticator.authenticate("email-password", posted);
    // Only failures count.
    await signInSucceeded(email, ip);
    return createUserSession(user.id, safeRedirect(next, homeFor(user)));
  } catch (error) {
    if (!(error instanceof InvalidCredentialsError)) throw error;
    return json({ formError: error.message, fieldErrors: {} as Record<string, string[]>, email }, { status: 401 });
  }
}

export default function Login() {
  const actionData = useActionData<typeof action>();
  const [searchParams] = useSearchParams();
  const navigation = useNavigation();
  const next = searchParams.get("next") ?? "";
  return (
    <section className="card narrow">
      <h1>Sign in</h1>
      {searchParams.get("password") === "reset" && !actionData ? (
        <p className="notice" role="status" data-testid="password-reset-notice">
          Your new password is set, and every session was signed out. Sign in with the new password.
        </p>
      ) : null}
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
          // An invitation's page sends the invited email along (a suggestion: any email may sign in).
          defaultValue={actionData?.email ?? searchParams.get("email") ?? undefined}
          errors={actionData?.fieldErrors.email}
        />
        <Field
          label="Password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          errors={actionData?.fieldErrors.password}
        />
        <button type="submit" disabled={navigation.state === "submitting"}>
          {navigation.state === "submitting" ? "Signing in…" : "Sign in"}
        </button>
      </Form>
      <p>
        <Link to="/forgot-password">Forgot password?</Link>
      </p>
      <p>
        New here? <Link to={authFormPath("/signup", next, searchParams.get("email"))}>Create an account</Link>
      </p>
    </section>
  );
}
