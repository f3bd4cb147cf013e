// POST /api/stripe/webhook: Stripe's deliveries. The service verifies, stores and processes
// (app/billing/webhook.server.ts); this route decides the HTTP answer. Stripe retries any non-2xx
// except that a 4xx tells it to stop, so only a failure worth retrying answers 500.
import type { ActionFunctionArgs } from "@remix-run/node";
import {
  receiveStripeDelivery,
  receiveStripeWebhook,
  type StripeDelivery,
  type WebhookOutcome,
} from "~/billing/webhook.server.ts";
import { jsonResponse } from "~/utils/http.server.ts";

export type WebhookAnswer = { status: number; headers: Record<string, string>; body: string };

const answer = (body: unknown, status: number, headers: Record<string, string> = {}): WebhookAnswer => ({
  status,
  headers: { "Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store", ...headers },
  body: JSON.stringify(body),
});

function answerFor(outcome: WebhookOutcome): WebhookAnswer {
  switch (outcome.kind) {
    // Refused before the body is read: close the connection rather than drain it.
    case "not-configured":
      return answer({ error: "Webhooks are not configured: STRIPE_WEBHOOK_SECRET is not set." }, 503, {
        Connection: "close",
      });
    case "missing-signature":
      return answer({ error: "Missing Stripe-Signature header." }, 400, { Connection: "close" });
    case "too-large":
      // The rest of the body is left unread: close the connection rather than drain it.
      return answer({ error: "Payload larger than 1 MiB." }, 413, { Connection: "close" });
    case "invalid-signature":
      return answer({ error: "Invalid Stripe signature." }, 401);
    case "malformed":
      return answer({ error: outcome.reason }, 400);
    case "unreadable":
      return answer({ received: true, error: `${outcome.reason} Stored for support; not retried.` }, 400);
    case "processed":
      return answer({ received: true }, 200);
    case "duplicate":
      return answer({ received: true, duplicate: true }, 200);
    case "failed":
      return answer({ received: true, error: outcome.publicError }, 500);
  }
}

export async function action({ request }: ActionFunctionArgs) {
  if (request.method !== "POST") return jsonResponse({ error: "Use POST." }, 405, { Allow: "POST" });
  const { status, headers, body } = answerFor(await receiveStripeWebhook(request));
  return new Response(body, { status, headers });
}

/**
 * The same answers for a POST read straight off the socket by server/app.ts: Stripe delivers in
 * bursts, and Fetch's Request and Response cost more than the rest of the plumbing (bench/webhook.ts).
 */
export async function deliver(delivery: StripeDelivery): Promise<WebhookAnswer> {
  return answerFor(await receiveStripeDelivery(delivery));
}

export async function loader() {
  return jsonResponse({ error: "Stripe webhooks are POSTed here." }, 405, { Allow: "POST" });
}
