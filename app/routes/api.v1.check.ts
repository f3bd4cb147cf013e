// POST /api/v1/check { account, permission } → { allowed, reason, tier, warnings } (read scope).
// `reason` is null when allowed, else a stable code and words (docs/decisions/017).
import type { ActionFunctionArgs } from "@remix-run/node";
import { checkPermission } from "~/services/api/entitlements.server.ts";
import { CheckRequestSchema, parseAccountRef } from "~/services/api/schemas.ts";
import { readJsonBody, requireApiKey } from "~/web/api-auth.server.ts";
import { problem } from "~/web/problem.server.ts";
import { jsonResponse } from "~/utils/http.server.ts";

export async function action({ request }: ActionFunctionArgs) {
  if (request.method !== "POST") {
    return problem("method_not_allowed", "Use POST.", { headers: { Allow: "POST" } });
  }
  await requireApiKey(request, "read");
  const { account, permission } = await readJsonBody(request, CheckRequestSchema);
  return jsonResponse(await checkPermission(parseAccountRef(account), permission));
}

export function loader() {
  return problem("method_not_allowed", "Use POST.", { headers: { Allow: "POST" } });
}
