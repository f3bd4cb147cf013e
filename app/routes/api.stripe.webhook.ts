// POST /api/stripe/webhook: Stripe's deliveries. The service verifies, stores and processes
// (app/services/stripe/webhook.server.ts); this route decides the HTTP answer
// (app/web/webhook-answers.server.ts, shared with Whop's route).
import type { ActionFunctionArgs } from "@remix-run/node";
import { receiveStripeDelivery, receiveStripeWebhook, type StripeDelivery } from "~/services/stripe/webhook.server.ts";
import { jsonResponse } from "~/utils/http.server.ts";
import { STRIPE_WEBHOOKS, type WebhookAnswer, webhookAnswer, webhookResponse } from "~/web/webhook-answers.server.ts";

export type { WebhookAnswer };

export async function action({ request }: ActionFunctionArgs) {
  if (request.method !== "POST") return jsonResponse({ error: "Use POST." }, 405, { Allow: "POST" });
  return webhookResponse(await receiveStripeWebhook(request), STRIPE_WEBHOOKS);
}

/**
 * The same answers for a POST read straight off the socket by server/app.ts: Stripe delivers in
 * bursts, and Fetch's Request and Response cost more than the rest of the plumbing (bench/webhook.ts).
 */
export async function deliver(delivery: StripeDelivery): Promise<WebhookAnswer> {
  return webhookAnswer(await receiveStripeDelivery(delivery), STRIPE_WEBHOOKS);
}

export async function loader() {
  return jsonResponse({ error: "Stripe webhooks are POSTed here." }, 405, { Allow: "POST" });
}
