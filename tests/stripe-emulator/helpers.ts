import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import Stripe from "stripe";
import { afterAll, beforeAll, beforeEach } from "vitest";
import { startStripeEmulator, type StripeEmulator } from "../../stripe-emulator/emulator.ts";

export const WEBHOOK_SECRET = "whsec_test_emulator_secret";

/** Verifies signatures with the real SDK, exactly as the app's webhook route does. */
const verifier = new Stripe("sk_test_verifier");

export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  rawBody: string;
  /** Set by stripe.webhooks.constructEvent, so its presence proves the signature valid. */
  event: Stripe.Event | null;
  signatureError: string | null;
}

/**
 * A stand-in for the app's webhook route: verifies and records every delivery. `status` sets the
 * answer; `gate = n` holds each answer until n deliveries are in flight at once.
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  status = 200;
  gate = 0;
  url = "";
  private server: Server | undefined;
  private waiters: Array<() => void> = [];
  private inFlight = 0;

  async start(): Promise<this> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", async () => {
        const rawBody = Buffer.concat(chunks).toString("utf8");
        let event: Stripe.Event | null = null;
        let signatureError: string | null = null;
        try {
          event = verifier.webhooks.constructEvent(rawBody, String(req.headers["stripe-signature"]), WEBHOOK_SECRET);
        } catch (error) {
          signatureError = error instanceof Error ? error.message : String(error);
        }
        this.received.push({ headers: req.headers, rawBody, event, signatureError });
        this.inFlight++;
        this.wake();
        if (this.gate) await this.until(() => this.inFlight >= this.gate);
        this.inFlight--;
        res.writeHead(signatureError ? 400 : this.status, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ received: !signatureError }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    this.server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/stripe/webhook`;
    return this;
  }

  get events(): Stripe.Event[] {
    return this.received.flatMap((r) => (r.event ? [r.event] : []));
  }

  get types(): string[] {
    return this.events.map((e) => e.type);
  }

  clear(): void {
    this.received.length = 0;
    this.status = 200;
    this.gate = 0;
  }

  /** Resolves once `count` deliveries have arrived (for background deliveries). */
  waitFor(count: number): Promise<void> {
    return this.until(() => this.received.length >= count);
  }

  private until(condition: () => boolean): Promise<void> {
    return new Promise((resolve) => {
      const check = () => (condition() ? resolve() : this.waiters.push(check));
      check();
    });
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** An SDK client for the emulator, built the way the app builds it from STRIPE_API_BASE. */
export function clientFor(emulator: StripeEmulator, key = "sk_test_emulator"): Stripe {
  const { hostname, port } = new URL(emulator.url);
  return new Stripe(key, { host: hostname, port: Number(port), protocol: "http", maxNetworkRetries: 0 });
}

export interface Harness {
  emulator: StripeEmulator;
  stripe: Stripe;
  receiver: WebhookReceiver;
}

/** One emulator and receiver per test file, reset before each test. */
export function useHarness(): Harness {
  const harness = {} as Harness;
  beforeAll(async () => {
    harness.receiver = await new WebhookReceiver().start();
    harness.emulator = await startStripeEmulator({ webhookUrl: harness.receiver.url, webhookSecret: WEBHOOK_SECRET });
    harness.stripe = clientFor(harness.emulator);
  });
  afterAll(async () => {
    await harness.emulator.close();
    await harness.receiver.close();
  });
  beforeEach(() => {
    harness.emulator.reset();
    harness.receiver.clear();
  });
  return harness;
}

/** Creates an open checkout session the way the app does. */
export function createCheckout(
  stripe: Stripe,
  overrides: Partial<Stripe.Checkout.SessionCreateParams> = {},
): Promise<Stripe.Checkout.Session> {
  return stripe.checkout.sessions.create({
    mode: "subscription",
    line_items: [{ price: "price_emu_pro_monthly", quantity: 1 }],
    customer_email: "ada@example.com",
    client_reference_id: "user_123",
    success_url: "http://app.test/billing/success?session_id={CHECKOUT_SESSION_ID}",
    cancel_url: "http://app.test/pricing",
    allow_promotion_codes: true,
    metadata: { user_id: "123" },
    subscription_data: { metadata: { user_id: "123" } },
    ...overrides,
  });
}

/** Presses "Pay" on the hosted checkout page, like a browser. */
export function payCheckout(emulator: StripeEmulator, sessionId: string, form: Record<string, string> = {}) {
  return fetch(`${emulator.url}/checkout/${sessionId}/pay`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(form),
    redirect: "manual",
  });
}

/** A paid subscription, with its webhooks delivered and then forgotten by the receiver. */
export async function subscribe(h: Harness, price = "price_emu_pro_monthly") {
  const session = await createCheckout(h.stripe, { line_items: [{ price, quantity: 1 }] });
  const result = await h.emulator.completeCheckout(session.id);
  h.receiver.clear();
  return result;
}

/** Calls a control endpoint with a JSON body; `T` is the answer the test expects. */
export async function control<T = Record<string, unknown>>(
  emulator: StripeEmulator,
  method: "GET" | "POST",
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${emulator.url}/_emulator/${path}`, {
    method,
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as T };
}
