// Both webhook routes answer through one mapping, each in its provider's words (what the routes
// answered before they shared it).
import { describe, expect, it } from "vitest";
import { STRIPE_WEBHOOKS, webhookAnswer, WHOP_WEBHOOKS } from "../../app/web/webhook-answers.server.ts";

describe("webhook answers", () => {
  it("tells Whop its webhooks are not configured, keeping the connection (its route read the body)", () => {
    const answer = webhookAnswer({ kind: "not-configured" }, WHOP_WEBHOOKS);
    expect(answer.status).toBe(503);
    expect(JSON.parse(answer.body)).toEqual({
      error: "Whop webhooks are not configured: WHOP_WEBHOOK_SECRET is not set.",
    });
    expect(answer.headers.Connection).toBeUndefined();
    const missing = webhookAnswer({ kind: "missing-signature" }, WHOP_WEBHOOKS);
    expect([missing.status, JSON.parse(missing.body).error, missing.headers.Connection]).toEqual([
      400,
      "Missing webhook-id, webhook-timestamp or webhook-signature header.",
      undefined,
    ]);
  });

  it("closes Stripe's connection on a refusal sent before the body is read", () => {
    const answer = webhookAnswer({ kind: "missing-signature" }, STRIPE_WEBHOOKS);
    expect([answer.status, JSON.parse(answer.body).error, answer.headers.Connection]).toEqual([
      400,
      "Missing Stripe-Signature header.",
      "close",
    ]);
    expect(webhookAnswer({ kind: "not-configured" }, STRIPE_WEBHOOKS).headers.Connection).toBe("close");
  });

  it("answers a failure 500 so the provider retries, and a duplicate 200", () => {
    for (const wording of [STRIPE_WEBHOOKS, WHOP_WEBHOOKS]) {
      expect(webhookAnswer({ kind: "failed", eventId: "evt_1", publicError: "no" }, wording).status).toBe(500);
      expect(JSON.parse(webhookAnswer({ kind: "duplicate", eventId: "evt_1" }, wording).body)).toEqual({
        received: true,
        duplicate: true,
      });
      expect(webhookAnswer({ kind: "too-large" }, wording).headers.Connection).toBe("close");
    }
  });
});
