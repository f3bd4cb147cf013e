// Runs the bundled Whop emulator in the test process and points the app's Whop connection at it.
// Its signed webhooks reach the app's real webhook route (/api/whop/webhook) through a tiny local
// HTTP receiver. Also: signed deliveries made by hand, for verification tests.
import { createHmac } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll } from "vitest";
import { invalidateWhopCatalog } from "../app/services/whop/catalog.server.ts";
import { useWhopConnection, type WhopConnection, whopConnection } from "../app/services/whop/client.server.ts";
import * as whopWebhookRoute from "../app/routes/api.whop.webhook.ts";
import { startWhopEmulator, type WhopEmulator } from "../whop-emulator/emulator.ts";

/** A Whop-style secret with a character outside ASCII: only its literal UTF-8 bytes verify. */
export const TEST_WHOP_SECRET = "ws_tierdesk_test_sécret_0123456789abcdef";
export const TEST_WHOP_API_KEY = "whop_test_key";

export type WhopHarness = { emulator: WhopEmulator; webhookUrl: string };

async function startWebhookReceiver() {
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) if (typeof value === "string") headers.set(name, value);
    const request = new Request(`http://localhost${req.url}`, { method: "POST", headers, body: Buffer.concat(chunks) });
    const response = await whopWebhookRoute.action({
      request,
      params: {},
      context: { clientIp: "127.0.0.1", cspNonce: "" },
    });
    res.writeHead(response.status, { "Content-Type": "application/json" });
    res.end(await response.text());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api/whop/webhook`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const DISABLED: WhopConnection = { mode: "disabled", apiKey: null, apiBase: null, webhookSecrets: [] };

/** Starts the Whop emulator and receiver for this test file; returns a handle filled in by beforeAll. */
export function useWhopEmulator(): WhopHarness {
  const harness = {} as WhopHarness;
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    harness.emulator = await startWhopEmulator({
      port: 0,
      webhookUrl: receiver.url,
      webhookSecret: TEST_WHOP_SECRET,
      apiKey: TEST_WHOP_API_KEY,
    });
    harness.webhookUrl = receiver.url;
    useWhopConnection({
      mode: "emulator",
      apiKey: TEST_WHOP_API_KEY,
      apiBase: harness.emulator.apiBase,
      webhookSecrets: [TEST_WHOP_SECRET],
    });
    invalidateWhopCatalog();
  });
  afterAll(async () => {
    await harness.emulator?.close();
    await receiver?.close();
    useWhopConnection(DISABLED);
    invalidateWhopCatalog();
  });
  return harness;
}

/** Runs `work` with parts of the Whop connection changed (a dead API base, no key, other secrets). */
export async function withWhopConnection<T>(change: Partial<WhopConnection>, work: () => Promise<T>): Promise<T> {
  const before = whopConnection();
  useWhopConnection({ ...before, ...change });
  try {
    return await work();
  } finally {
    useWhopConnection(before);
  }
}

/** Signs like Whop, independently of the app: HMAC-SHA256 keyed by the secret's UTF-8 bytes. */
export function whopSignatureHeader(secret: string, id: string, timestamp: number, body: string) {
  return `v1,${createHmac("sha256", Buffer.from(secret, "utf8")).update(`${id}.${timestamp}.${body}`).digest("base64")}`;
}

let deliveryCounter = 0;

/** A Whop event envelope around `data` (membership, payment…), as Whop's v1 webhooks carry it. */
export function whopEvent(type: string, data: object, { timestamp = new Date() }: { timestamp?: Date } = {}) {
  return {
    id: `msg_test_${Date.now()}_${deliveryCounter++}`,
    api_version: "v1",
    timestamp: timestamp.toISOString(),
    type,
    company_id: "biz_test",
    data,
  };
}

/** A POST to /api/whop/webhook signed with `secret` (null: no signature headers at all). */
export function whopWebhookRequest(
  body: string | object,
  {
    secret = TEST_WHOP_SECRET,
    id,
    timestamp = Math.floor(Date.now() / 1000),
  }: { secret?: string | null; id?: string; timestamp?: number } = {},
) {
  const payload = typeof body === "string" ? body : JSON.stringify(body);
  const messageId =
    id ??
    (typeof body === "object" && "id" in body && typeof body.id === "string"
      ? body.id
      : `msg_test_${deliveryCounter++}`);
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  if (secret !== null) {
    headers["webhook-id"] = messageId;
    headers["webhook-timestamp"] = String(timestamp);
    headers["webhook-signature"] = whopSignatureHeader(secret, messageId, timestamp, payload);
  }
  return new Request("http://localhost/api/whop/webhook", { method: "POST", headers, body: payload });
}
