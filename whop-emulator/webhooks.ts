// Webhooks signed as Whop signs them, for the shared sender (emulator-kit/webhook-sender.ts): Standard
// Webhooks headers (`webhook-id`, the same on every delivery of an event; `webhook-timestamp`;
// `webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`), keyed by the literal
// UTF-8 bytes of the `ws_…` secret. Signed here with node:crypto, independently of the app's
// verifier (which is @whop/sdk's).
import { createHmac } from "node:crypto";
import type { WebhookSigner } from "../emulator-kit/webhook-sender.ts";
import type { WhopEvent } from "./types.ts";

/** `v1,<signature>` for a payload, as Whop signs it. */
export function whopSignature(secret: string, id: string, timestampSeconds: number, payload: string): string {
  const digest = createHmac("sha256", Buffer.from(secret, "utf8"))
    .update(`${id}.${timestampSeconds}.${payload}`)
    .digest("base64");
  return `v1,${digest}`;
}

/** One delivery of an event as Whop sends it: compact JSON, Standard Webhooks headers. */
export const whopSigner =
  (secret: string): WebhookSigner<WhopEvent> =>
  (event) => {
    const body = JSON.stringify(event);
    const timestamp = Math.floor(Date.now() / 1000);
    return {
      body,
      headers: {
        "Content-Type": "application/json",
        "webhook-id": event.id,
        "webhook-timestamp": String(timestamp),
        "webhook-signature": whopSignature(secret, event.id, timestamp, body),
        "User-Agent": "Whop-Webhooks (emulator)",
      },
    };
  };
