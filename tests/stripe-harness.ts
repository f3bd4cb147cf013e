// Runs the bundled Stripe emulator in the test process and points the app's Stripe client at it.
// Its webhooks reach the app's real webhook route through a tiny local HTTP receiver.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll } from "vitest";
import { invalidatePriceCache } from "../app/services/stripe/prices.server.ts";
import { clearSubscriptionDetailsCache } from "../app/services/stripe/subscription-details.server.ts";
import { type StripeConnection, stripeConnection, useStripeConnection } from "../app/services/stripe/client.server.ts";
import * as webhookRoute from "../app/routes/api.stripe.webhook.ts";
import { startStripeEmulator, type StripeEmulator } from "../stripe-emulator/emulator.ts";
import { TEST_WEBHOOK_SECRET } from "./stripe-fixtures.ts";

export type StripeHarness = { emulator: StripeEmulator; webhookUrl: string };

async function startWebhookReceiver() {
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) if (typeof value === "string") headers.set(name, value);
    const request = new Request(`http://localhost${req.url}`, { method: "POST", headers, body: Buffer.concat(chunks) });
    const response = await webhookRoute.action({
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
    url: `http://127.0.0.1:${port}/api/stripe/webhook`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** Starts the emulator and receiver for this test file; returns a handle filled in by beforeAll. */
export function useStripeEmulator(): StripeHarness {
  const harness = {} as StripeHarness;
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    harness.emulator = await startStripeEmulator({
      port: 0,
      webhookUrl: receiver.url,
      webhookSecret: TEST_WEBHOOK_SECRET,
    });
    harness.webhookUrl = receiver.url;
    useStripeConnection({
      mode: "emulator",
      apiKey: "sk_test_tierdesk",
      apiBase: harness.emulator.url,
      webhookSecrets: [TEST_WEBHOOK_SECRET],
    });
    invalidatePriceCache();
    clearSubscriptionDetailsCache();
  });
  afterAll(async () => {
    await harness.emulator?.close();
    await receiver?.close();
    useStripeConnection({ mode: "disabled", apiKey: null, apiBase: null, webhookSecrets: [] });
  });
  return harness;
}

/** Runs `work` with parts of the Stripe connection changed (a dead API base, no key, other secrets). */
export async function withStripeConnection<T>(change: Partial<StripeConnection>, work: () => Promise<T>): Promise<T> {
  const before = stripeConnection();
  useStripeConnection({ ...before, ...change });
  try {
    return await work();
  } finally {
    useStripeConnection(before);
  }
}

/** A proxy in front of the emulator that records every request the app's Stripe client makes ("GET /v1/prices"). */
export async function countingStripeProxy(target: string) {
  const calls: string[] = [];
  const server = http.createServer((req, res) => {
    calls.push(`${req.method} ${req.url?.split("?")[0]}`);
    const upstream = http.request(
      new URL(req.url ?? "/", target),
      { method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** What a faulty Stripe does: answer, refuse every connection, or answer `delayMs` late. */
export type StripeFault = "up" | "down" | { delayMs: number };

/** A proxy in front of the emulator that can make Stripe refuse connections or answer late. */
export async function faultyStripeProxy(target: string) {
  let fault: StripeFault = "up";
  const server = http.createServer(async (req, res) => {
    if (fault === "down") {
      req.socket.destroy();
      return;
    }
    const body: Buffer[] = [];
    for await (const chunk of req) body.push(chunk as Buffer);
    if (fault !== "up") await new Promise((resolve) => setTimeout(resolve, (fault as { delayMs: number }).delayMs));
    const upstream = http.request(
      new URL(req.url ?? "/", target),
      { method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", () => res.destroy());
    upstream.end(Buffer.concat(body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    setFault(next: StripeFault) {
      fault = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
