// POST /api/whop/webhook: Whop's deliveries (Standard Webhooks). The service verifies, stores and
// processes (app/services/whop/webhook.server.ts); this route decides the HTTP answer
// (app/web/webhook-answers.server.ts, shared with Stripe's route). A lapsed membership falls back to
// the user's Stripe subscription.
import type { ActionFunctionArgs } from "@remix-run/node";
import { fallBackToStripe } from "~/services/stripe/fallback.server.ts";
import { receiveWhopWebhook } from "~/services/whop/webhook.server.ts";
import { jsonResponse } from "~/utils/http.server.ts";
import { webhookResponse, WHOP_WEBHOOKS } from "~/web/webhook-answers.server.ts";

export async function action({ request }: ActionFunctionArgs) {
  if (request.method !== "POST") return jsonResponse({ error: "Use POST." }, 405, { Allow: "POST" });
  return webhookResponse(await receiveWhopWebhook(request, fallBackToStripe), WHOP_WEBHOOKS);
}

export async function loader() {
  return jsonResponse({ error: "Whop webhooks are POSTed here." }, 405, { Allow: "POST" });
}
