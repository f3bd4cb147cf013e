// The webhook endpoint form's rules, shared by the browser and the server. Whether the URL's host may
// be reached (SSRF) is the server's check (app/services/webhooks/destination.server.ts).
import { z } from "zod";

export const WEBHOOK_EVENTS = [
  { type: "account.entitlements.updated", hint: "tier, status or permissions changed" },
  { type: "account.seats.updated", hint: "members or pending invitations changed" },
  { type: "account.created", hint: "a new account (a sign-up's personal one)" },
] as const;

export const WEBHOOK_FIELD_MAX = { url: 2048 } as const;

export const WebhookEndpointFormSchema = z.object({
  url: z
    .string({ error: "URL is required." })
    .trim()
    .min(1, "URL is required.")
    .max(WEBHOOK_FIELD_MAX.url, `Use at most ${WEBHOOK_FIELD_MAX.url} characters.`)
    .regex(/^https?:\/\/\S+$/i, "Enter a full http:// or https:// URL, such as https://example.com/webhooks."),
  eventTypes: z
    .array(z.enum(WEBHOOK_EVENTS.map((event) => event.type) as [string, ...string[]]), {
      error: "Choose at least one event.",
    })
    .min(1, "Choose at least one event."),
});
