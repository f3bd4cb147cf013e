// POST /api/v1/accounts/{ref}/members { email } (write scope): someone with a Tierdesk user joins (201);
// anyone else is invited by mail (202); already a member or invited: 200. Seat-checked as invitations are.
import type { ActionFunctionArgs } from "@remix-run/node";
import { addMemberByApi } from "~/services/api/accounts.server.ts";
import { AddMemberRequestSchema, MembersParamsSchema, parseAccountRef } from "~/services/api/schemas.ts";
import { methodNotAllowed } from "~/web/api-answers.server.ts";
import { answering, parseJsonBody, readApiBody, requireApiKey, validate } from "~/web/api-auth.server.ts";
import { problem } from "~/web/problem.server.ts";
import { jsonResponse } from "~/utils/http.server.ts";

export function action({ request, params }: ActionFunctionArgs) {
  if (request.method !== "POST") return methodNotAllowed("POST");
  return answering(async () => {
    await requireApiKey(request, "write");
    const { ref } = validate(MembersParamsSchema, { ref: params.ref }, "account reference");
    const { email } = parseJsonBody(await readApiBody(request), AddMemberRequestSchema);
    const outcome = await addMemberByApi(parseAccountRef(ref), email, request);
    if (!outcome.ok) return problem(outcome.code, outcome.message);
    return jsonResponse(outcome.body, outcome.status);
  });
}

export const loader = () => methodNotAllowed("POST");
