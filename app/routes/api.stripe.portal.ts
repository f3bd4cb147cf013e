// POST /api/stripe/portal: opens the Stripe Customer Portal, returning to /account.
import type { ActionFunctionArgs } from "@remix-run/node";
import { appOrigin, createPortalSession } from "~/billing/checkout.server.ts";
import { respondWithStripeUrl } from "~/billing/responses.server.ts";
import { getOptionalUser } from "~/utils/auth.server.ts";
import { jsonResponse } from "~/utils/http.server.ts";

export async function action({ request }: ActionFunctionArgs) {
  const user = await getOptionalUser(request);
  if (!user) return jsonResponse({ error: "Sign in to manage your subscription." }, 401);
  return respondWithStripeUrl(request, () => createPortalSession(user, appOrigin(request)), {
    href: "/account",
    label: "Back to your account",
  });
}

export async function loader() {
  return jsonResponse({ error: "POST here to open the customer portal." }, 405, { Allow: "POST" });
}
