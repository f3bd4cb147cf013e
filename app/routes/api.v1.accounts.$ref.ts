// PUT /api/v1/accounts/ext:{externalId} { name, ownerEmail } (write scope): creates the account the
// product knows by its own id (201), or brings it up to date (200); idempotent. Answers its entitlements.
import type { ActionFunctionArgs } from "@remix-run/node";
import { upsertExternalAccount } from "~/services/api/accounts.server.ts";
import { UpsertAccountParamsSchema, UpsertAccountRequestSchema } from "~/services/api/schemas.ts";
import { methodNotAllowed } from "~/web/api-answers.server.ts";
import { answering, parseJsonBody, readApiBody, requireApiKey, validate } from "~/web/api-auth.server.ts";
import { problem } from "~/web/problem.server.ts";
import { jsonResponse } from "~/utils/http.server.ts";

export function action({ request, params }: ActionFunctionArgs) {
  if (request.method !== "PUT") return methodNotAllowed("PUT");
  return answering(async () => {
    await requireApiKey(request, "write");
    const { ref } = validate(UpsertAccountParamsSchema, { ref: params.ref }, "account reference");
    const body = parseJsonBody(await readApiBody(request), UpsertAccountRequestSchema);
    const outcome = await upsertExternalAccount(ref.slice("ext:".length), body);
    if (!outcome.ok) return problem("seat_limit_reached", outcome.message);
    return jsonResponse(outcome.entitlements, outcome.created ? 201 : 200);
  });
}

export const loader = () => methodNotAllowed("PUT");
