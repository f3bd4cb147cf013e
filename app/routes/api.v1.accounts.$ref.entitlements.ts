// GET /api/v1/accounts/{ref}/entitlements (read scope): the account's tier, status, permissions, seats
// and where the tier comes from. {ref}: the account id, or `ext:` + the product's own id. The server
// sends GETs of this path straight to `answer`, before Express and Remix (server/app.ts: the hot path).
import type { LoaderFunctionArgs } from "@remix-run/node";
import { accountEntitlements } from "~/services/api/entitlements.server.ts";
import { EntitlementsParamsSchema, parseAccountRef } from "~/services/api/schemas.ts";
import { methodNotAllowed } from "~/web/api-answers.server.ts";
import { answering, requireApiKeyOf, validate } from "~/web/api-auth.server.ts";
import { problem } from "~/web/problem.server.ts";
import { jsonResponse } from "~/utils/http.server.ts";

/** The answer to a GET, from its Authorization header and the `{ref}` path segment (decoded). */
export function answer(authorization: string | null, ref: string | undefined): Promise<Response> {
  return answering(async () => {
    await requireApiKeyOf(authorization, "read");
    const params = validate(EntitlementsParamsSchema, { ref }, "account reference");
    const entitlements = await accountEntitlements(parseAccountRef(params.ref));
    if (!entitlements) return problem("not_found", `No account is ${params.ref}.`);
    return jsonResponse(entitlements);
  });
}

export function loader({ request, params }: LoaderFunctionArgs) {
  return answer(request.headers.get("Authorization"), params.ref);
}

export const action = () => methodNotAllowed("GET");
