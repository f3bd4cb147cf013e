import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { startStripeEmulator, type StripeEmulator, type StripeEmulatorOptions } from '../../stripe-emulator/emulator.ts';

export const WEBHOOK_SECRET = 'whsec_test_emulator_secret';

/** Verifies signatures with the real SDK, exactly as the app's webhook route would. */
const verifier = new Stripe('sk_test_verifier');

export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  rawBody: string;
  /** Parsed by stripe.webhooks.constructEvent, so its presence proves the signature was valid. */
  event: Stripe.Event | null;
  signatureError: string | null;
}

/**
 * A tiny stand-in for the app's POST /api/stripe/webhook. Each request is
 * verified with `stripe.webhooks.constructEvent` and stored; the response
 * status and delay can be changed per test.
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  status = 200;
  delayMs = 0;
  private server: Server | undefined;
  private waiters: Array<() => void> = [];
  url = '';

  constructor(private readonly secret = WEBHOOK_SECRET) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        const rawBody = Buffer.concat(chunks).toString('utf8');
        let event: Stripe.Event | null = null;
        let signatureError: string | null = null;
        try {
          event = verifier.webhooks.constructEvent(rawBody, req.headers['stripe-signature'] as string, this.secret);
        } catch (error) {
          signatureError = (error as Error).message;
        }
        this.received.push({ headers: req.headers, rawBody, event, signatureError });
        this.waiters.splice(0).forEach((wake) => wake());
        if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
        const status = signatureError ? 400 : this.status;
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ received: !signatureError, status }));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/api/stripe/webhook`;
    return this;
  }

  get events(): Stripe.Event[] {
    return this.received.map((r) => r.event).filter((e): e is Stripe.Event => e !== null);
  }

  get types(): string[] {
    return this.events.map((e) => e.type);
  }

  clear(): void {
    this.received.length = 0;
    this.status = 200;
    this.delayMs = 0;
  }

  /** Resolves once `count` webhooks have arrived (for background deliveries). */
  async waitFor(count: number, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < count) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`Expected ${count} webhooks, got ${this.received.length}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async close(): Promise<void> {
    if (!this.server) return;
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server.closeAllConnections();
  }
}

export interface Harness {
  emulator: StripeEmulator;
  stripe: Stripe;
  receiver: WebhookReceiver;
  close(): Promise<void>;
}

export async function startHarness(options: StripeEmulatorOptions = {}): Promise<Harness> {
  const receiver = await new WebhookReceiver().start();
  const emulator = await startStripeEmulator({ webhookUrl: receiver.url, webhookSecret: WEBHOOK_SECRET, ...options });
  // Exactly how the app builds its client: only host/port/protocol differ from production.
  const stripe = new Stripe('sk_test_emulator', {
    host: emulator.stripeConfig.host,
    port: emulator.stripeConfig.port,
    protocol: 'http',
    maxNetworkRetries: 0,
  });
  return {
    emulator,
    stripe,
    receiver,
    async close() {
      await emulator.close();
      await receiver.close();
    },
  };
}

/**
 * One harness per test file, started once and reset before each test: a fresh account, deliveries
 * to the receiver again, nothing received yet. Read `harness.current` inside tests.
 */
export function useHarness(options: StripeEmulatorOptions = {}): { readonly current: Harness } {
  let harness: Harness | undefined;
  beforeAll(async () => {
    harness = await startHarness(options);
  });
  afterAll(async () => {
    await harness?.close();
  });
  beforeEach(() => {
    harness!.emulator.reset();
    harness!.emulator.setWebhookUrl(harness!.receiver.url);
    harness!.receiver.clear();
  });
  return {
    get current() {
      if (!harness) throw new Error('The harness starts in beforeAll');
      return harness;
    },
  };
}

/** Creates an open checkout session the way the app does. */
export function createCheckout(
  stripe: Stripe,
  overrides: Partial<Stripe.Checkout.SessionCreateParams> = {},
): Promise<Stripe.Checkout.Session> {
  return stripe.checkout.sessions.create({
    mode: 'subscription',
    line_items: [{ price: 'price_emu_pro_monthly', quantity: 1 }],
    customer_email: 'ada@example.com',
    client_reference_id: 'org_123',
    success_url: 'http://app.test/billing/success?session_id={CHECKOUT_SESSION_ID}',
    cancel_url: 'http://app.test/billing',
    metadata: { org_id: 'org_123' },
    subscription_data: { metadata: { org_id: 'org_123' } },
    ...overrides,
  });
}

/** Presses "Pay" on the hosted page, like a browser would. */
export async function payCheckout(emulator: StripeEmulator, sessionId: string, form: Record<string, string> = {}) {
  return fetch(`${emulator.url}/checkout/${sessionId}/pay`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
    redirect: 'manual',
  });
}

/** Calls a control endpoint with a JSON body. */
export async function control(
  emulator: StripeEmulator,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  const res = await fetch(`${emulator.url}/_emulator/${path}`, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}
