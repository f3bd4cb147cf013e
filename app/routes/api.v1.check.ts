// POST /api/v1/check { account, permission } → { allowed, reason, tier, warnings } (read scope).
// `reason` is null when allowed, else a stable code and words (docs/decisions/017). The server sends
// this exact path straight to `answer`, before Express and Remix (server/app.ts: the hot path).
import type { ActionFunctionArgs } from "@remix-run/node";
import { checkPermission } from "~/services/api/entitlements.server.ts";
import { CheckRequestSchema, parseAccountRef } from "~/services/api/schemas.ts";
import { answering, parseJsonBody, readApiBody, requireApiKeyOf } from "~/web/api-auth.server.ts";
import { problem } from "~/web/problem.server.ts";
import { jsonResponse } from "~/utils/http.server.ts";

const usePost = () => problem("method_not_allowed", "Use POST.", { headers: { Allow: "POST" } });

/** The answer to a POST, from its Authorization header and its body. */
export function answer(authorization: string | null, body: string): Promise<Response> {
  return answering(async () => {
    await requireApiKeyOf(authorization, "read");
    const { account, permission } = parseJsonBody(body, CheckRequestSchema);
    return jsonResponse(await checkPermission(parseAccountRef(account), permission));
  });
}

export async function action({ request }: ActionFunctionArgs) {
  if (request.method !== "POST") return usePost();
  return answer(request.headers.get("Authorization"), await readApiBody(request));
}

export const loader = usePost;
