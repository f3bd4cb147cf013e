// POST /api/v1/accounts/{ref}/portal { returnUrl } (write scope): the account's Stripe Customer Portal
// URL (201 { url }); 409 no_billing_account before it has ever subscribed.
import type { ActionFunctionArgs } from "@remix-run/node";
import { portalByApi } from "~/services/api/accounts.server.ts";
import { MembersParamsSchema, parseAccountRef, PortalRequestSchema } from "~/services/api/schemas.ts";
import { methodNotAllowed, stripeUrlAnswer } from "~/web/api-answers.server.ts";
import { answering, parseJsonBody, readApiBody, requireApiKey, validate } from "~/web/api-auth.server.ts";

export function action({ request, params }: ActionFunctionArgs) {
  if (request.method !== "POST") return methodNotAllowed("POST");
  return answering(async () => {
    await requireApiKey(request, "write");
    const { ref } = validate(MembersParamsSchema, { ref: params.ref }, "account reference");
    const { returnUrl } = parseJsonBody(await readApiBody(request), PortalRequestSchema);
    return stripeUrlAnswer(await portalByApi(parseAccountRef(ref), returnUrl));
  });
}

export const loader = () => methodNotAllowed("POST");
