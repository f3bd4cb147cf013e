// What a webhook route answers for each outcome of the pipeline, whichever provider sent it. Stripe
// and Whop both retry any non-2xx and treat a 4xx as "do not send this again", so only a failure worth
// retrying answers 500. Both webhook routes answer through this one mapping.
import type { WebhookOutcome } from "~/services/billing/outcomes.ts";

export type WebhookAnswer = { status: number; headers: Record<string, string>; body: string };

/**
 * Where the providers' answers differ: their words, and whether a refusal sent before the body is
 * read closes the connection (Stripe's fast path leaves the body unread; Whop's route has read it).
 */
export type WebhookWording = {
  what: string;
  secretVariable: string;
  signatureHeaders: string;
  signatureName: string;
  closeBeforeBody: boolean;
};

export const STRIPE_WEBHOOKS: WebhookWording = {
  what: "Webhooks",
  secretVariable: "STRIPE_WEBHOOK_SECRET",
  signatureHeaders: "Stripe-Signature header",
  signatureName: "Stripe signature",
  closeBeforeBody: true,
};
export const WHOP_WEBHOOKS: WebhookWording = {
  what: "Whop webhooks",
  secretVariable: "WHOP_WEBHOOK_SECRET",
  signatureHeaders: "webhook-id, webhook-timestamp or webhook-signature header",
  signatureName: "webhook signature",
  closeBeforeBody: false,
};

const answer = (body: unknown, status: number, headers: Record<string, string> = {}): WebhookAnswer => ({
  status,
  headers: { "Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store", ...headers },
  body: JSON.stringify(body),
});

export function webhookAnswer(outcome: WebhookOutcome, wording: WebhookWording): WebhookAnswer {
  // Refused before the body is read: close the connection rather than drain it.
  const beforeBody: Record<string, string> = wording.closeBeforeBody ? { Connection: "close" } : {};
  switch (outcome.kind) {
    case "not-configured":
      return answer(
        { error: `${wording.what} are not configured: ${wording.secretVariable} is not set.` },
        503,
        beforeBody,
      );
    case "missing-signature":
      return answer({ error: `Missing ${wording.signatureHeaders}.` }, 400, beforeBody);
    case "too-large":
      // The rest of the body is left unread: close the connection rather than drain it.
      return answer({ error: "Payload larger than 1 MiB." }, 413, { Connection: "close" });
    case "invalid-signature":
      return answer({ error: `Invalid ${wording.signatureName}.` }, 401);
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

/** The same answer as a Fetch Response, for a route's action. */
export function webhookResponse(outcome: WebhookOutcome, wording: WebhookWording): Response {
  const { status, headers, body } = webhookAnswer(outcome, wording);
  return new Response(body, { status, headers });
}
