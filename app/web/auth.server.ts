// Sign-in (remix-auth + remix-auth-form) and the guards every protected route calls.
import { redirect } from "@remix-run/node";
import { Authenticator } from "remix-auth";
import { FormStrategy } from "remix-auth-form";
import { type Role, type User, verifyLogin } from "~/models/user.server.ts";
import { jsonResponse } from "~/utils/http.server.ts";
import type { SessionAccount } from "~/models/account.server.ts";
import { getSessionAccountsFrom, getSessionUserFrom } from "./session.server.ts";

export class InvalidCredentialsError extends Error {
  name = "InvalidCredentialsError";
}

export const authenticator = new Authenticator<User>();
authenticator.use(
  new FormStrategy(async ({ form }) => {
    const email = String(form.get("email") ?? "");
    const password = String(form.get("password") ?? "");
    const user = await verifyLogin(email, password);
    if (!user) throw new InvalidCredentialsError("Invalid email or password.");
    return user;
  }),
  "email-password",
);

// The root, layout and page loaders of one request each ask who is signed in: ask the database once.
const usersByRequest = new WeakMap<Request, Promise<User | null>>();

export function getOptionalUser(request: Request): Promise<User | null> {
  let user = usersByRequest.get(request);
  if (!user) {
    user = getSessionUserFrom(request);
    usersByRequest.set(request, user);
  }
  return user;
}

export type AccountContext = {
  /** The account the session acts for: the one chosen in the switcher, else the first owned (else first). */
  current: SessionAccount | null;
  /** Every account the user belongs to, owned ones first. */
  all: SessionAccount[];
};

const accountsByRequest = new WeakMap<Request, Promise<AccountContext>>();

/** The session's accounts, asked of the database once per request (the root loader and the page's). */
export function getAccountContext(request: Request): Promise<AccountContext> {
  let context = accountsByRequest.get(request);
  if (!context) {
    context = getSessionAccountsFrom(request).then((all) => ({
      current: all.find((account) => account.chosen) ?? all[0] ?? null,
      all,
    }));
    accountsByRequest.set(request, context);
  }
  return context;
}

function loginRedirect(request: Request) {
  const url = new URL(request.url);
  const next = `${url.pathname}${url.search}`;
  return redirect(`/login?${new URLSearchParams({ next })}`);
}

/** The signed-in user; anonymous visitors are sent to /login and brought back afterwards. */
export async function requireUser(request: Request): Promise<User> {
  const user = await getOptionalUser(request);
  if (!user) throw loginRedirect(request);
  return user;
}

export function forbidden(message = "You do not have access to this page.") {
  return jsonResponse({ error: message }, 403);
}

/** The signed-in user when their role is one of `roles`; otherwise a 403. */
export async function requireRole(request: Request, roles: readonly Role[]): Promise<User> {
  const user = await requireUser(request);
  if (!roles.includes(user.role)) throw forbidden();
  return user;
}

export const STAFF_ROLES = ["admin", "support"] as const satisfies readonly Role[];

/** Where a user goes after signing in when no `next` was asked for. */
export function homeFor(user: Pick<User, "role">) {
  return user.role === "customer" ? "/account" : "/admin";
}
