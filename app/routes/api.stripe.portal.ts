// POST /api/stripe/portal: opens the Stripe Customer Portal, returning to /account.
import type { ActionFunctionArgs } from "@remix-run/node";
import { redirect } from "@remix-run/node";
import { appOrigin, BillingRequestError, createPortalSession } from "~/billing/checkout.server.ts";
import { getOptionalUser } from "~/utils/auth.server.ts";
import { jsonResponse, wantsJson } from "~/utils/http.server.ts";

export async function action({ request }: ActionFunctionArgs) {
  const json = wantsJson(request);
  const user = await getOptionalUser(request);
  // Anonymous callers get a 401 whatever they asked for: pages only show these buttons to signed-in users.
  if (!user) return jsonResponse({ error: "Sign in to manage your subscription." }, 401);
  try {
    const { url } = await createPortalSession(user, appOrigin(request));
    return json ? jsonResponse({ url }) : redirect(url, 303);
  } catch (error) {
    if (!(error instanceof BillingRequestError)) throw error;
    if (json) return jsonResponse({ error: error.message }, error.status);
    return redirect(`/account?${new URLSearchParams({ error: error.message })}`, 303);
  }
}

export async function loader() {
  return jsonResponse({ error: "POST here to open the customer portal." }, 405, { Allow: "POST" });
}
