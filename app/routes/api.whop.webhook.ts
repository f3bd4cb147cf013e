// POST /api/whop/webhook: Whop's deliveries (Standard Webhooks). The service verifies, stores and
// processes (app/billing/whop-webhook.server.ts); this route decides the HTTP answer. Whop retries
// any non-2xx, so only a failure worth retrying answers 500; a 4xx means "do not send this again".
import type { ActionFunctionArgs } from "@remix-run/node";
import type { WebhookOutcome } from "~/billing/webhook.server.ts";
import { receiveWhopWebhook } from "~/billing/whop-webhook.server.ts";
import { jsonResponse } from "~/utils/http.server.ts";

function respond(outcome: WebhookOutcome): Response {
  switch (outcome.kind) {
    case "not-configured":
      return jsonResponse({ error: "Whop webhooks are not configured: WHOP_WEBHOOK_SECRET is not set." }, 503);
    case "missing-signature":
      return jsonResponse({ error: "Missing webhook-id, webhook-timestamp or webhook-signature header." }, 400);
    case "too-large":
      // The rest of the body is left unread: close the connection rather than drain it.
      return jsonResponse({ error: "Payload larger than 1 MiB." }, 413, { Connection: "close" });
    case "invalid-signature":
      return jsonResponse({ error: "Invalid webhook signature." }, 401);
    case "malformed":
      return jsonResponse({ error: outcome.reason }, 400);
    case "unreadable":
      return jsonResponse({ received: true, error: `${outcome.reason} Stored for support; not retried.` }, 400);
    case "processed":
      return jsonResponse({ received: true }, 200);
    case "duplicate":
      return jsonResponse({ received: true, duplicate: true }, 200);
    case "failed":
      return jsonResponse({ received: true, error: outcome.publicError }, 500);
  }
}

export async function action({ request }: ActionFunctionArgs) {
  if (request.method !== "POST") return jsonResponse({ error: "Use POST." }, 405, { Allow: "POST" });
  return respond(await receiveWhopWebhook(request));
}

export async function loader() {
  return jsonResponse({ error: "Whop webhooks are POSTed here." }, 405, { Allow: "POST" });
}
