// POST /api/stripe/checkout (field `lookup_key`): starts hosted Stripe Checkout for the account the
// signed-in owner acts for (the header's switcher).
import type { ActionFunctionArgs } from "@remix-run/node";
import { appOrigin, createCheckoutSession } from "~/services/stripe/checkout.server.ts";
import { getOptionalUser } from "~/web/auth.server.ts";
import { billingActorFor, ownersOnlyRefusal } from "~/web/account-billing.server.ts";
import { respondWithStripeUrl } from "~/web/billing-responses.server.ts";
import { billingRateLimit } from "~/web/rate-limit.server.ts";
import { jsonResponse, readField } from "~/utils/http.server.ts";

export async function action({ request }: ActionFunctionArgs) {
  // Anonymous callers get a 401 whatever they asked for: pages only show this button to signed-in users.
  const user = await getOptionalUser(request);
  if (!user) return jsonResponse({ error: "Sign in to subscribe." }, 401);
  const limited = await billingRateLimit(user.id);
  if (limited) return limited;
  const refusal = await ownersOnlyRefusal(request);
  if (refusal) return respondWithStripeUrl(request, refusal, { href: "/pricing", label: "Back to pricing" });
  const lookupKey = (await readField(request, "lookup_key")) ?? "";
  const outcome = await createCheckoutSession(await billingActorFor(request, user), lookupKey, appOrigin(request));
  return respondWithStripeUrl(request, outcome, { href: "/pricing", label: "Back to pricing" });
}

export async function loader() {
  return jsonResponse({ error: "POST a lookup_key to start checkout." }, 405, { Allow: "POST" });
}
