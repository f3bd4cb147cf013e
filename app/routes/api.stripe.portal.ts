// POST /api/stripe/portal: opens the Stripe Customer Portal of the current account, returning to /account.
import type { ActionFunctionArgs } from "@remix-run/node";
import { appOrigin, createPortalSession } from "~/services/stripe/checkout.server.ts";
import { getOptionalUser } from "~/web/auth.server.ts";
import { billingActorFor, ownersOnlyRefusal } from "~/web/account-billing.server.ts";
import { respondWithStripeUrl } from "~/web/billing-responses.server.ts";
import { billingRateLimit } from "~/web/rate-limit.server.ts";
import { jsonResponse } from "~/utils/http.server.ts";

export async function action({ request }: ActionFunctionArgs) {
  const user = await getOptionalUser(request);
  if (!user) return jsonResponse({ error: "Sign in to manage your subscription." }, 401);
  const limited = await billingRateLimit(user.id);
  if (limited) return limited;
  const refusal = await ownersOnlyRefusal(request);
  if (refusal) return respondWithStripeUrl(request, refusal, { href: "/account", label: "Back to your account" });
  const outcome = await createPortalSession(await billingActorFor(request, user), appOrigin(request));
  return respondWithStripeUrl(request, outcome, { href: "/account", label: "Back to your account" });
}

export async function loader() {
  return jsonResponse({ error: "POST here to open the customer portal." }, 405, { Allow: "POST" });
}
