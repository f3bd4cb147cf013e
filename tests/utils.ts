import "./setup/database.ts";
import type { AppLoadContext } from "@remix-run/node";
// Helpers for integration tests: real routes, real database, real cookies.
import { hashPassword } from "../app/models/user.server.ts";
import { useDatabase } from "../app/db/db.server.ts";
import { commitNewSession } from "../app/web/session.server.ts";
import { seed } from "../prisma/seed.ts";
import { testDb } from "./setup/database.ts";
import type { Prisma } from "../app/generated/prisma/client.ts";
import { personalAccountName, personalSlug } from "../app/utils/account-names.ts";

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

// ---------------------------------------------------------------------------------------------
// Billing lives on accounts (issue 19): a test that gives a person a plan gives it to their personal
// account (the oldest one they own), as the migration and sign-up do.

/** The billing fields a test may set on an account. */
export type BillingFields = Partial<
  Pick<
    Prisma.AccountUncheckedCreateInput,
    | "tierId"
    | "stripeCustomerId"
    | "stripeSubscriptionId"
    | "subscriptionStatus"
    | "subscriptionSyncedAt"
    | "billingVersion"
    | "billingSource"
    | "billingSince"
    | "whopUserId"
    | "whopMembershipId"
    | "whopMembershipStatus"
    | "whopProductId"
    | "whopManageUrl"
    | "whopLinkedBy"
    | "whopSyncedAt"
  >
>;

/**
 * A user with a personal account holding `billing`, written straight to the database (no password
 * hashing: `passwordHash` as given). Returns the account's billing row with the user's id and email
 * (`id` is the user's, `accountId` the account's), so tests read it as they read a user before.
 */
export async function createBillingUser(
  data: { email: string; passwordHash?: string; role?: "admin" | "support" | "customer" } & BillingFields,
) {
  const { email, passwordHash = "x", role = "customer", ...billing } = data;
  const prisma = testDb().prisma;
  const user = await prisma.user.create({ data: { email: email.toLowerCase(), passwordHash, role } });
  await prisma.account.create({
    data: {
      name: personalAccountName(user.email),
      slug: personalSlug(user.email, user.id),
      ...billing,
      memberships: { create: { userId: user.id, role: "owner" } },
    },
  });
  return billingOf(user.id);
}

/** The user's personal account id. */
export async function personalAccountId(userId: number): Promise<number> {
  const membership = await testDb().prisma.membership.findFirstOrThrow({
    where: { userId, role: "owner" },
    orderBy: { accountId: "asc" },
    select: { accountId: true },
  });
  return membership.accountId;
}

/**
 * The billing state of the user's personal account with its tier, plus the user's id and email: what
 * `prisma.user.findUniqueOrThrow({ include: { tier: true } })` read when billing lived on users.
 */
export async function billingOf(userId: number) {
  const prisma = testDb().prisma;
  const accountId = await personalAccountId(userId);
  const [user, account] = await Promise.all([
    prisma.user.findUniqueOrThrow({ where: { id: userId } }),
    prisma.account.findUniqueOrThrow({ where: { id: accountId }, include: { tier: true } }),
  ]);
  return { ...account, accountId, id: user.id, email: user.email, role: user.role, passwordHash: user.passwordHash };
}

/** Sets billing fields on the user's personal account. */
export async function setBilling(userId: number, data: BillingFields) {
  await testDb().prisma.account.update({ where: { id: await personalAccountId(userId) }, data });
}
