// POST /api/whop/checkout (fields `tier` and, when the tier has several plans, `plan`): starts Whop's
// hosted checkout for the signed-in user. Answers like /api/stripe/checkout: `{ url }` to fetch()
// callers, a 303 to Whop's purchase page to plain form posts, the problem otherwise.
import type { ActionFunctionArgs } from "@remix-run/node";
import { appOrigin } from "~/billing/checkout.server.ts";
import { startWhopCheckout } from "~/billing/whop-offers.server.ts";
import { getOptionalUser } from "~/utils/auth.server.ts";
import { respondWithStripeUrl } from "~/utils/billing-responses.server.ts";
import { jsonResponse } from "~/utils/http.server.ts";
import { consumeAttempt } from "~/utils/rate-limit.server.ts";

/** `tier` and `plan` from a form-encoded or JSON body; a body that is not JSON when it says so is a 400. */
async function readFields(request: Request): Promise<{ tier: string; plan: string | null }> {
  const pick = (value: unknown) => (typeof value === "string" ? value : null);
  if ((request.headers.get("Content-Type") ?? "").includes("application/json")) {
    const body = (await request.json().catch(() => {
      throw jsonResponse({ error: "The request body is not valid JSON." }, 400);
    })) as Record<string, unknown> | null;
    const fields = typeof body === "object" && body !== null ? body : {};
    return { tier: pick(fields.tier) ?? "", plan: pick(fields.plan) };
  }
  const form = await request.formData().catch(() => null);
  return { tier: pick(form?.get("tier")) ?? "", plan: pick(form?.get("plan")) };
}

export async function action({ request }: ActionFunctionArgs) {
  // Anonymous callers get a 401: pages show them "Sign in to subscribe" instead of this button.
  const user = await getOptionalUser(request);
  if (!user) return jsonResponse({ error: "Sign in to subscribe." }, 401);
  const limit = await consumeAttempt([["billingPerUser", String(user.id)]]);
  if (!limit.allowed) {
    const headers = { "Retry-After": String(limit.retryAfterSeconds) };
    return jsonResponse({ error: "Too many billing requests. Please wait a moment and try again." }, 429, headers);
  }
  const fields = await readFields(request);
  const outcome = await startWhopCheckout(user, { tierKey: fields.tier, planId: fields.plan }, appOrigin(request));
  return respondWithStripeUrl(request, outcome, { href: "/pricing", label: "Back to pricing" });
}

export async function loader() {
  return jsonResponse({ error: "POST a tier (and plan) to start a Whop checkout." }, 405, { Allow: "POST" });
}
