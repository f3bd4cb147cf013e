// POST /api/whop/checkout (fields `tier` and, when the tier has several plans, `plan`): starts Whop's
// hosted checkout for the account the signed-in owner acts for. Answers like /api/stripe/checkout: `{ url }` to fetch()
// callers, a 303 to Whop's purchase page to plain form posts, the problem otherwise.
import type { ActionFunctionArgs } from "@remix-run/node";
import { appOrigin } from "~/services/stripe/checkout.server.ts";
import { startWhopCheckout } from "~/services/whop/offers.server.ts";
import { getOptionalUser } from "~/web/auth.server.ts";
import { billingActorFor, ownersOnlyRefusal } from "~/web/account-billing.server.ts";
import { respondWithStripeUrl } from "~/web/billing-responses.server.ts";
import { jsonResponse, readFields } from "~/utils/http.server.ts";
import { billingRateLimit } from "~/web/rate-limit.server.ts";

export async function action({ request }: ActionFunctionArgs) {
  // Anonymous callers get a 401: pages show them "Sign in to subscribe" instead of this button.
  const user = await getOptionalUser(request);
  if (!user) return jsonResponse({ error: "Sign in to subscribe." }, 401);
  const limited = await billingRateLimit(user.id);
  if (limited) return limited;
  const refusal = await ownersOnlyRefusal(request);
  if (refusal) return respondWithStripeUrl(request, refusal, { href: "/pricing", label: "Back to pricing" });
  const fields = await readFields(request, ["tier", "plan"]);
  const { account } = await billingActorFor(request, user);
  const outcome = await startWhopCheckout(
    account,
    { tierKey: fields.tier ?? "", planId: fields.plan },
    appOrigin(request),
  );
  return respondWithStripeUrl(request, outcome, { href: "/pricing", label: "Back to pricing" });
}

export async function loader() {
  return jsonResponse({ error: "POST a tier (and plan) to start a Whop checkout." }, 405, { Allow: "POST" });
}
