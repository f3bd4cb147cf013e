import "./setup/database.ts";
import type { AppLoadContext } from "@remix-run/node";
// Helpers for integration tests: real routes, real database, real cookies.
import { hashPassword } from "../app/models/user.server.ts";
import { useDatabase } from "../app/db/db.server.ts";
import { commitNewSession } from "../app/web/session.server.ts";
import { seed } from "../prisma/seed.ts";
import { testDb } from "./setup/database.ts";

export const BASE_URL = "http://localhost:3000";

export async function seedDemoData() {
  await seed(testDb().prisma, { hashPassword });
}

/** A Cookie header for a session signed in as the user with this email. */
export async function sessionCookieFor(email: string) {
  const user = await testDb().prisma.user.findUniqueOrThrow({ where: { email } });
  const setCookie = await commitNewSession(user.id);
  return setCookie.split(";")[0] ?? "";
}

export function formRequest(
  path: string,
  fields: Record<string, string>,
  init: { cookie?: string; headers?: Record<string, string> } = {},
) {
  return new Request(new URL(path, BASE_URL), {
    method: "POST",
    body: new URLSearchParams(fields),
    headers: {
      "Content-Type": "application/x-www-form-urlencoded",
      ...(init.cookie ? { Cookie: init.cookie } : {}),
      ...init.headers,
    },
  });
}

export function getRequest(path: string, cookie?: string) {
  return new Request(new URL(path, BASE_URL), { headers: cookie ? { Cookie: cookie } : {} });
}

/** Runs a loader or action and returns the Response it returned or threw. */
export async function settle(run: () => Promise<unknown>): Promise<Response> {
  try {
    const result = await run();
    if (result instanceof Response) return result;
    return new Response(JSON.stringify(result), { status: 200 });
  } catch (thrown) {
    if (thrown instanceof Response) return thrown;
    throw thrown;
  }
}

export const routeArgs = (
  request: Request,
  params: Record<string, string> = {},
  context: Partial<AppLoadContext> = {},
): { request: Request; params: Record<string, string>; context: AppLoadContext } => ({
  request,
  params,
  context: { clientIp: "127.0.0.1", cspNonce: "test-nonce", ...context },
});

/**
 * Runs `work` with the app's database client counting every query it sends (model operations and
 * raw SQL, through a Prisma query extension), and returns the count with the result.
 */
export async function countingQueries<T>(work: () => Promise<T>): Promise<{ queries: number; result: T }> {
  const database = testDb();
  let queries = 0;
  const counting = database.prisma.$extends({
    query: {
      async $allOperations({ args, query }) {
        queries++;
        return query(args);
      },
    },
  }) as unknown as typeof database.prisma;
  useDatabase({ ...database, prisma: counting });
  try {
    const result = await work();
    return { queries, result };
  } finally {
    useDatabase(database);
  }
}
