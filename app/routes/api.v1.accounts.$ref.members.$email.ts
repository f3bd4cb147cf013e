// DELETE /api/v1/accounts/{ref}/members/{email} (write scope): removes the member (never the last
// owner: 409 last_owner), or else revokes their pending invitation; 404 when they are neither.
import type { ActionFunctionArgs } from "@remix-run/node";
import { removeMemberByApi } from "~/services/api/accounts.server.ts";
import { MemberParamsSchema, parseAccountRef } from "~/services/api/schemas.ts";
import { methodNotAllowed } from "~/web/api-answers.server.ts";
import { answering, requireApiKey, validate } from "~/web/api-auth.server.ts";
import { problem } from "~/web/problem.server.ts";
import { jsonResponse } from "~/utils/http.server.ts";

export function action({ request, params }: ActionFunctionArgs) {
  if (request.method !== "DELETE") return methodNotAllowed("DELETE");
  return answering(async () => {
    await requireApiKey(request, "write");
    const { ref, email } = validate(MemberParamsSchema, params, "member reference");
    const outcome = await removeMemberByApi(parseAccountRef(ref), email);
    if (!outcome.ok) return problem(outcome.code, outcome.message);
    return jsonResponse({ removed: outcome.removed, seats: outcome.seats });
  });
}

export const loader = () => methodNotAllowed("DELETE");
