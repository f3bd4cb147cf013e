// POST /api/stripe/webhook: Stripe's deliveries (see app/billing/webhook.server.ts).
import type { ActionFunctionArgs } from "@remix-run/node";
import { handleStripeWebhook } from "~/billing/webhook.server.ts";
import { jsonResponse } from "~/utils/http.server.ts";

export async function action({ request }: ActionFunctionArgs) {
  return handleStripeWebhook(request);
}

export async function loader() {
  return jsonResponse({ error: "Stripe webhooks are POSTed here." }, 405, { Allow: "POST" });
}
