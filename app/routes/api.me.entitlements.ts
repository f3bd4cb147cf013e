// GET /api/me/entitlements → { tier, status, permissions, account, seats }: what the rest of a product
// asks. `account` is the one the session acts for (the header's switcher), with the user's role in it;
// `seats` is its tier's user limit, the members it has, and invitations pending (none until they exist).
import type { LoaderFunctionArgs } from "@remix-run/node";
import { accountSeats } from "~/services/customers/accounts.server.ts";
import { getEntitlements } from "~/services/customers/entitlements.server.ts";
import { getAccountContext, getCurrentBillingAccount, getOptionalUser } from "~/web/auth.server.ts";
import { jsonResponse } from "~/utils/http.server.ts";

export async function loader({ request }: LoaderFunctionArgs) {
  const user = await getOptionalUser(request);
  if (!user) return jsonResponse({ error: "Sign in first." }, 401);
  const [billing, { current }] = await Promise.all([getCurrentBillingAccount(request), getAccountContext(request)]);
  if (!billing) return jsonResponse({ error: "You belong to no account." }, 409);
  // The plan is the account's: every member gets the same answer.
  const { tier, status, permissions } = await getEntitlements(billing);
  const account = current ? { id: current.id, name: current.name, slug: current.slug, role: current.role } : null;
  const seats = current ? await accountSeats(current.id) : null;
  return jsonResponse({ tier: tier?.key ?? null, status, permissions, account, seats });
}
