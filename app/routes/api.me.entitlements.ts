// GET /api/me/entitlements → { tier, status, permissions }: what the rest of a product asks.
import type { LoaderFunctionArgs } from "@remix-run/node";
import { getEntitlements } from "~/services/customers/entitlements.server.ts";
import { getOptionalUser } from "~/web/auth.server.ts";
import { jsonResponse } from "~/utils/http.server.ts";

export async function loader({ request }: LoaderFunctionArgs) {
  const user = await getOptionalUser(request);
  if (!user) return jsonResponse({ error: "Sign in first." }, 401);
  const { tier, status, permissions } = await getEntitlements(user);
  return jsonResponse({ tier: tier?.key ?? null, status, permissions });
}
