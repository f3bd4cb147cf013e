// Whop's webhook signatures (Standard Webhooks): the three headers, the check, and signing as Whop
// does, through @whop/sdk's own `webhooks.unwrap` and the `standardwebhooks` library it verifies with.
import { Whop } from "@whop/sdk";
import { Webhook } from "standardwebhooks";
import { singleton } from "~/utils/singleton.server.ts";
import { sdkOptions } from "./client.server.ts";

/**
 * The SDK's `webhookKey` for a Whop secret, as Whop's documentation builds it (`btoa(secret)`): the
 * SDK hands the key to `standardwebhooks`, which base64-decodes it, and Whop keys its HMAC with the
 * `ws_…` secret's literal bytes. UTF-8 here (btoa would throw past Latin-1; Whop's secrets are ASCII,
 * where both are the same).
 */
export function standardWebhooksKey(secret: string): string {
  return Buffer.from(secret, "utf8").toString("base64");
}

export type WebhookHeaders = { "webhook-id": string; "webhook-timestamp": string; "webhook-signature": string };

/** The three Standard Webhooks headers, or null when one is missing. */
export function webhookHeadersOf(headers: Headers): WebhookHeaders | null {
  const id = headers.get("webhook-id");
  const timestamp = headers.get("webhook-timestamp");
  const signature = headers.get("webhook-signature");
  if (!id || !timestamp || !signature) return null;
  return { "webhook-id": id, "webhook-timestamp": timestamp, "webhook-signature": signature };
}

/** Only unwraps webhooks (no request is made with it), so it needs no API key of ours. */
const webhookVerifier = singleton(
  "whop-webhook-verifier",
  () => new Whop(sdkOptions("not-used: this client only verifies webhooks", null)),
);

/**
 * Whether any of `secrets` signed this payload (and its timestamp is within 5 minutes of now), checked
 * by the SDK's own `webhooks.unwrap`.
 */
export function hasValidWhopSignature(payload: string, headers: WebhookHeaders, secrets: readonly string[]): boolean {
  return secrets.some((secret) => {
    try {
      webhookVerifier.webhooks.unwrap(payload, { headers, key: standardWebhooksKey(secret) });
      return true;
    } catch (error) {
      // By name: the SDK may get its own copy of standardwebhooks, whose class is not ours.
      if (error instanceof Error && error.name === "WebhookVerificationError") return false;
      // unwrap parses only once the signature matched: signed but not JSON is the caller's 400, not a 401.
      if (error instanceof SyntaxError) return true;
      throw error;
    }
  });
}

/**
 * Signs like Whop does (for the emulator's tests and our own): `v1,<base64 HMAC-SHA256>`, with the
 * Standard Webhooks library the SDK verifies with, keyed as the SDK is.
 */
export function signWhopPayload(secret: string, id: string, timestampSeconds: number, payload: string): string {
  return new Webhook(standardWebhooksKey(secret)).sign(id, new Date(timestampSeconds * 1000), payload);
}
