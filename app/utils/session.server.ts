// Cookie session holding the signed-in user's id. remix-auth v4 keeps no session of its own.
import { randomBytes } from "node:crypto";
import { createCookieSessionStorage, redirect } from "@remix-run/node";
import { isProduction, parseSecrets } from "./env.server.ts";

const DEV_SECRET = "tierdesk-development-secret-not-for-production";

function sessionSecrets(): string[] {
  const configured = parseSecrets(process.env.SESSION_SECRET);
  if (configured.length) return configured;
  if (isProduction()) throw new Error("SESSION_SECRET is required in production.");
  return [DEV_SECRET];
}

type SessionData = { userId: number; sid: string };

let storage: ReturnType<typeof createStorage> | undefined;
function createStorage() {
  return createCookieSessionStorage<SessionData>({
    cookie: {
      name: "__session",
      httpOnly: true,
      sameSite: "lax",
      secure: isProduction(),
      path: "/",
      // Several secrets: the first signs, all verify, so SESSION_SECRET can be rotated.
      secrets: sessionSecrets(),
      maxAge: 60 * 60 * 24 * 30,
    },
  });
}
export function sessionStorage() {
  return (storage ??= createStorage());
}

export async function getSession(request: Request) {
  return sessionStorage().getSession(request.headers.get("Cookie"));
}

export async function getSessionUserId(request: Request): Promise<number | null> {
  const session = await getSession(request);
  const userId = session.get("userId");
  return typeof userId === "number" ? userId : null;
}

/** Starts a brand-new session for the user: nothing from the anonymous session carries over. */
export async function createUserSession(userId: number, redirectTo: string) {
  const session = await sessionStorage().getSession();
  session.set("userId", userId);
  session.set("sid", randomBytes(16).toString("hex"));
  return redirect(redirectTo, {
    headers: { "Set-Cookie": await sessionStorage().commitSession(session) },
  });
}

export async function destroyUserSession(request: Request, redirectTo = "/") {
  const session = await getSession(request);
  return redirect(redirectTo, {
    headers: { "Set-Cookie": await sessionStorage().destroySession(session) },
  });
}
