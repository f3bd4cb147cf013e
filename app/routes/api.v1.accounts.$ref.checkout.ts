// POST /api/v1/accounts/{ref}/checkout { lookupKey, successUrl, cancelUrl } (write scope): a hosted
// Stripe Checkout URL for the account (201 { url }), refused as the pricing page's checkout is.
import type { ActionFunctionArgs } from "@remix-run/node";
import { checkoutByApi } from "~/services/api/accounts.server.ts";
import { CheckoutRequestSchema, MembersParamsSchema, parseAccountRef } from "~/services/api/schemas.ts";
import { methodNotAllowed, stripeUrlAnswer } from "~/web/api-answers.server.ts";
import { answering, parseJsonBody, readApiBody, requireApiKey, validate } from "~/web/api-auth.server.ts";

export function action({ request, params }: ActionFunctionArgs) {
  if (request.method !== "POST") return methodNotAllowed("POST");
  return answering(async () => {
    await requireApiKey(request, "write");
    const { ref } = validate(MembersParamsSchema, { ref: params.ref }, "account reference");
    const { lookupKey, successUrl, cancelUrl } = parseJsonBody(await readApiBody(request), CheckoutRequestSchema);
    return stripeUrlAnswer(await checkoutByApi(parseAccountRef(ref), lookupKey, { successUrl, cancelUrl }));
  });
}

export const loader = () => methodNotAllowed("POST");
