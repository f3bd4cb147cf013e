// Whop's webhook signatures (Standard Webhooks): HMAC-SHA256 of "{id}.{timestamp}.{body}", keyed by
// the LITERAL UTF-8 bytes of the `ws_…` secret, within 5 minutes, any of several secrets; checked by
// @whop/sdk's `webhooks.unwrap`, given the key as Whop's documentation says (`btoa(secret)`).
import { createHmac } from "node:crypto";
import { Whop } from "@whop/sdk";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import {
  hasValidWhopSignature,
  signWhopPayload,
  standardWebhooksKey,
  type WebhookHeaders,
  webhookHeadersOf,
} from "../../app/services/whop/signatures.server.ts";
import { whopSignature } from "../../whop-emulator/webhooks.ts";

const SECRET = "ws_3f1c9a7e5b2d4f60819a";
const body = JSON.stringify({ type: "membership.activated", data: { id: "mem_1" } });
const now = () => Math.floor(Date.now() / 1000);

/** Signed the way Whop's documentation describes, with node:crypto only. */
function signedByWhop(secret: string, { id = "msg_1", timestamp = now(), payload = body } = {}): WebhookHeaders {
  const signature = createHmac("sha256", Buffer.from(secret, "utf8"))
    .update(`${id}.${timestamp}.${payload}`)
    .digest("base64");
  return { "webhook-id": id, "webhook-timestamp": String(timestamp), "webhook-signature": `v1,${signature}` };
}

describe("hasValidWhopSignature", () => {
  it("accepts Whop's signature, keyed by the secret's literal bytes", () => {
    expect(hasValidWhopSignature(body, signedByWhop(SECRET), [SECRET])).toBe(true);
  });

  it("is not what standardwebhooks does with the secret as given (it base64-decodes its key)", () => {
    // The pitfall this module exists for: the library with the raw secret does not verify Whop's signature.
    expect(() => new Webhook(SECRET).verify(body, signedByWhop(SECRET))).toThrow();
    expect(() => new Webhook(standardWebhooksKey(SECRET)).verify(body, signedByWhop(SECRET))).not.toThrow();
  });

  it("gives the SDK the key Whop's documentation gives it: the secret in base64, not the secret itself", () => {
    expect(standardWebhooksKey(SECRET)).toBe(btoa(SECRET));
    const headers = signedByWhop(SECRET);
    const documented = new Whop({ apiKey: "unused", webhookKey: btoa(SECRET), logLevel: "off" });
    expect(documented.webhooks.unwrap(body, { headers })).toEqual(JSON.parse(body));
    // The SDK hands its key to standardwebhooks, which base64-decodes it: the raw `ws_…` secret does not verify.
    const raw = new Whop({ apiKey: "unused", webhookKey: SECRET, logLevel: "off" });
    expect(() => raw.webhooks.unwrap(body, { headers })).toThrow();
  });

  it("treats a signed body that is not JSON as signed (reading it is the caller's job: 400, not 401)", () => {
    const notJson = "not json";
    expect(hasValidWhopSignature(notJson, signedByWhop(SECRET, { payload: notJson }), [SECRET])).toBe(true);
    expect(hasValidWhopSignature(notJson, signedByWhop("ws_other", { payload: notJson }), [SECRET])).toBe(false);
  });

  it("uses UTF-8 for characters outside ASCII (not Latin-1)", () => {
    const secret = "ws_sécret_ünïcode_🔑";
    expect(hasValidWhopSignature(body, signedByWhop(secret), [secret])).toBe(true);
    const latin1 = Uint8Array.from(secret, (c) => c.charCodeAt(0) & 0xff);
    const wrongKey = createHmac("sha256", latin1).update(`msg_1.${now()}.${body}`).digest("base64");
    const headers = { ...signedByWhop(secret), "webhook-signature": `v1,${wrongKey}` };
    expect(hasValidWhopSignature(body, headers, [secret])).toBe(false);
  });

  it("refuses another secret, an altered body, another id and a bare signature", () => {
    expect(hasValidWhopSignature(body, signedByWhop("ws_other"), [SECRET])).toBe(false);
    expect(hasValidWhopSignature(`${body} `, signedByWhop(SECRET), [SECRET])).toBe(false);
    expect(hasValidWhopSignature(body, { ...signedByWhop(SECRET), "webhook-id": "msg_2" }, [SECRET])).toBe(false);
    const bare = signedByWhop(SECRET)["webhook-signature"].slice(3);
    expect(hasValidWhopSignature(body, { ...signedByWhop(SECRET), "webhook-signature": bare }, [SECRET])).toBe(false);
  });

  it("refuses timestamps more than 5 minutes away, either way", () => {
    expect(hasValidWhopSignature(body, signedByWhop(SECRET, { timestamp: now() - 290 }), [SECRET])).toBe(true);
    expect(hasValidWhopSignature(body, signedByWhop(SECRET, { timestamp: now() - 301 }), [SECRET])).toBe(false);
    expect(hasValidWhopSignature(body, signedByWhop(SECRET, { timestamp: now() + 301 }), [SECRET])).toBe(false);
  });

  it("accepts any secret of the list while rotating, and a header with several signatures", () => {
    expect(hasValidWhopSignature(body, signedByWhop("ws_old"), ["ws_new", "ws_old"])).toBe(true);
    const both = `${signedByWhop("ws_other")["webhook-signature"]} ${signedByWhop(SECRET)["webhook-signature"]}`;
    expect(hasValidWhopSignature(body, { ...signedByWhop(SECRET), "webhook-signature": both }, [SECRET])).toBe(true);
    expect(hasValidWhopSignature(body, signedByWhop(SECRET), [])).toBe(false);
  });

  it("signs what it verifies, and the emulator signs the same way", () => {
    const timestamp = now();
    const ours = signWhopPayload(SECRET, "msg_9", timestamp, body);
    expect(ours).toBe(whopSignature(SECRET, "msg_9", timestamp, body));
    expect(ours).toBe(signedByWhop(SECRET, { id: "msg_9", timestamp })["webhook-signature"]);
  });
});

describe("webhookHeadersOf", () => {
  it("needs all three Standard Webhooks headers", () => {
    const full = new Headers(signedByWhop(SECRET));
    expect(webhookHeadersOf(full)).toEqual(signedByWhop(SECRET, { timestamp: Number(full.get("webhook-timestamp")) }));
    for (const name of ["webhook-id", "webhook-timestamp", "webhook-signature"]) {
      const headers = new Headers(signedByWhop(SECRET));
      headers.delete(name);
      expect(webhookHeadersOf(headers), name).toBeNull();
    }
  });
});
