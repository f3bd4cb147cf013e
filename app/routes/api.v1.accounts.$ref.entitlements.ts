// GET /api/v1/accounts/{ref}/entitlements (read scope): the account's tier, status, permissions, seats
// and where the tier comes from. {ref}: the account id, or `ext:` + the product's own id.
import type { LoaderFunctionArgs } from "@remix-run/node";
import { accountEntitlements } from "~/services/api/entitlements.server.ts";
import { EntitlementsParamsSchema, parseAccountRef } from "~/services/api/schemas.ts";
import { requireApiKey, validate } from "~/web/api-auth.server.ts";
import { problem } from "~/web/problem.server.ts";
import { jsonResponse } from "~/utils/http.server.ts";

export async function loader({ request, params }: LoaderFunctionArgs) {
  await requireApiKey(request, "read");
  const { ref } = validate(EntitlementsParamsSchema, params, "account reference");
  const entitlements = await accountEntitlements(parseAccountRef(ref));
  if (!entitlements) return problem("not_found", `No account is ${ref}.`);
  return jsonResponse(entitlements);
}
