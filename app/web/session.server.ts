// The session cookie. It holds only a server-side session id (app/models/session.server.ts): the
// server decides whether it is still valid, so sign-out really ends it. remix-auth v4 keeps no
// session of its own.
import { createCookieSessionStorage, redirect } from "@remix-run/node";
import { chooseSessionAccount, listSessionAccounts, type SessionAccount } from "~/models/account.server.ts";
import { createSession, deleteSession, getSessionUser, SESSION_LIFETIME_MS } from "~/models/session.server.ts";
import { config } from "~/utils/config.server.ts";
import { localSecret } from "~/utils/local-secret.server.ts";
import { singleton } from "~/utils/singleton.server.ts";

const DEV_SECRET_FILE = "dev-session-secret";

/**
 * The configured secrets, or in development a random secret generated on first start and kept in
 * the git-ignored data folder: a published default secret would let anyone forge a cookie.
 */
function sessionSecrets(): string[] {
  const { sessionSecrets: configured, production, dataDir } = config();
  if (configured) return [...configured];
  if (production) throw new Error("SESSION_SECRET is required in production.");
  return [localSecret(dataDir, DEV_SECRET_FILE)];
}

type CookieData = { sessionId: string };

const storage = singleton("session-storage", () => ({
  current: undefined as ReturnType<typeof createStorage> | undefined,
}));

function createStorage() {
  return createCookieSessionStorage<CookieData>({
    cookie: {
      name: "__session",
      httpOnly: true,
      sameSite: "lax",
      secure: config().production,
      path: "/",
      // Several secrets: the first signs, all verify, so SESSION_SECRET can be rotated.
      secrets: sessionSecrets(),
      maxAge: SESSION_LIFETIME_MS / 1000,
    },
  });
}

function sessionStorage() {
  return (storage.current ??= createStorage());
}

/** The id of the request's server-side session (whether or not it is still live), or null. */
export async function sessionIdFrom(request: Request): Promise<string | null> {
  const cookie = await sessionStorage().getSession(request.headers.get("Cookie"));
  const sessionId = cookie.get("sessionId");
  return typeof sessionId === "string" && sessionId ? sessionId : null;
}

/** The signed-in user, or null when the cookie names no live session. */
export async function getSessionUserFrom(request: Request) {
  const sessionId = await sessionIdFrom(request);
  return sessionId ? getSessionUser(sessionId) : null;
}

/** The signed-in user's accounts (owned first), the one the session acts for marked; [] when signed out. */
export async function getSessionAccountsFrom(request: Request): Promise<SessionAccount[]> {
  const sessionId = await sessionIdFrom(request);
  return sessionId ? listSessionAccounts(sessionId) : [];
}

/** Makes the session act for `accountId`; false when signed out or not a member of it. */
export async function chooseAccountFor(request: Request, accountId: number): Promise<boolean> {
  const sessionId = await sessionIdFrom(request);
  return sessionId ? chooseSessionAccount(sessionId, accountId) : false;
}

/** A Set-Cookie value for a brand-new server-side session of the user. */
export async function commitNewSession(userId: number) {
  const session = await createSession(userId);
  const cookie = await sessionStorage().getSession();
  cookie.set("sessionId", session.id);
  return sessionStorage().commitSession(cookie, { expires: session.expiresAt });
}

/** Starts a brand-new session for the user: nothing from the anonymous session carries over. */
export async function createUserSession(userId: number, redirectTo: string) {
  return redirect(redirectTo, { headers: { "Set-Cookie": await commitNewSession(userId) } });
}

/** Ends the session on the server and clears the cookie. */
export async function destroyUserSession(request: Request, redirectTo = "/") {
  const sessionId = await sessionIdFrom(request);
  if (sessionId) await deleteSession(sessionId);
  const cookie = await sessionStorage().getSession(request.headers.get("Cookie"));
  return redirect(redirectTo, { headers: { "Set-Cookie": await sessionStorage().destroySession(cookie) } });
}
