// POST /api/stripe/checkout (field `lookup_key`): starts hosted Stripe Checkout for the signed-in user.
import type { ActionFunctionArgs } from "@remix-run/node";
import { redirect } from "@remix-run/node";
import { appOrigin, BillingRequestError, createCheckoutSession } from "~/billing/checkout.server.ts";
import { getOptionalUser } from "~/utils/auth.server.ts";
import { jsonResponse, readField, wantsJson } from "~/utils/http.server.ts";

export async function action({ request }: ActionFunctionArgs) {
  const json = wantsJson(request);
  const user = await getOptionalUser(request);
  // Anonymous callers get a 401 whatever they asked for: pages only show these buttons to signed-in users.
  if (!user) return jsonResponse({ error: "Sign in to subscribe." }, 401);
  try {
    const { url } = await createCheckoutSession(user, (await readField(request, "lookup_key")) ?? "", appOrigin(request));
    return json ? jsonResponse({ url }) : redirect(url, 303);
  } catch (error) {
    if (!(error instanceof BillingRequestError)) throw error;
    if (json) return jsonResponse({ error: error.message, ...error.extra }, error.status);
    // Without JavaScript: back to the pricing page, which shows the message.
    return redirect(`/pricing?${new URLSearchParams({ error: error.message })}`, 303);
  }
}

export async function loader() {
  return jsonResponse({ error: "POST a lookup_key to start checkout." }, 405, { Allow: "POST" });
}
