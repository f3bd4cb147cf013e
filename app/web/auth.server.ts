// Sign-in (remix-auth + remix-auth-form) and the guards every protected route calls.
import { redirect } from "@remix-run/node";
import { Authenticator } from "remix-auth";
import { FormStrategy } from "remix-auth-form";
import { type Role, type User, verifyLogin } from "~/models/user.server.ts";
import { jsonResponse } from "~/utils/http.server.ts";
import type { SessionAccount } from "~/models/account.server.ts";
import { type AccountWithTier, getBillingAccount } from "~/models/billing-account.server.ts";
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

// The root, layout and page loaders of one request each ask who is signed in and for which account:
// each is asked of the database once per request.
function oncePerRequest<T>(load: (request: Request) => Promise<T>): (request: Request) => Promise<T> {
  const byRequest = new WeakMap<Request, Promise<T>>();
  return (request) => {
    let value = byRequest.get(request);
    if (!value) {
      value = load(request);
      byRequest.set(request, value);
    }
    return value;
  };
}

export const getOptionalUser: (request: Request) => Promise<User | null> = oncePerRequest(getSessionUserFrom);

export type AccountContext = {
  /** The account the session acts for: the one chosen in the switcher, else the first owned (else first). */
  current: SessionAccount | null;
  /** Every account the user belongs to, owned ones first. */
  all: SessionAccount[];
};

/** The session's accounts, asked of the database once per request (the root loader and the page's). */
export const getAccountContext: (request: Request) => Promise<AccountContext> = oncePerRequest(async (request) => {
  const all = await getSessionAccountsFrom(request);
  return { current: all.find((account) => account.chosen) ?? all[0] ?? null, all };
});

/**
 * The current account's billing row (its stored tier, Stripe and Whop state): what its entitlements,
 * /account and /pricing answer for. Once per request; null for a user without accounts.
 */
export const getCurrentBillingAccount: (request: Request) => Promise<AccountWithTier | null> = oncePerRequest(
  async (request) => {
    const { current } = await getAccountContext(request);
    return current ? getBillingAccount(current.id) : null;
  },
);

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
