/**
 * Local Stripe emulator: a node:http server that speaks the subset of Stripe's
 * REST API Tierdesk uses, serves hosted Checkout / Customer Portal pages and
 * sends signed webhooks. State is in memory.
 *
 *   const emulator = await startStripeEmulator({ webhookUrl: 'http://127.0.0.1:3000/api/stripe/webhook' });
 *   const stripe = new Stripe('sk_test_x', emulator.stripeConfig);
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildApiRouter, type ApiContext } from './api.ts';
import { API_VERSION, BillingState } from './billing.ts';
import { loadDefaultCatalog, validateCatalog, type Catalog } from './catalog.ts';
import { buildControlRouter, ControlError } from './control.ts';
import { apiErrors, StripeApiError } from './errors.ts';
import { FormParseError, parseForm, type FormObject } from './form.ts';
import { buildHostedRouter } from './hosted.ts';
import { BodyTooLargeError, readBody, send, sendHtml, sendJson } from './http.ts';
import { renderNotFound } from './pages.ts';
import { Params } from './params.ts';
import type { CheckoutSession, DeliveryAttempt, EventRecord, Invoice, StripeEvent, Subscription } from './types.ts';
import { newId } from './util.ts';
import { WebhookDispatcher } from './webhooks.ts';

export type { Catalog } from './catalog.ts';
export type * from './types.ts';
export { API_VERSION } from './billing.ts';
export { signatureHeader } from './webhooks.ts';

export interface StripeEmulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Interface to bind, default 127.0.0.1. */
  host?: string;
  /** The app's webhook endpoint. Unset: events are recorded but not delivered. */
  webhookUrl?: string | null;
  /** Signing secret shared with the app, default `whsec_emulator`. */
  webhookSecret?: string;
  /** Products and prices; default stripe-emulator/catalog.json. */
  catalog?: Catalog;
  /** Deliver new events automatically (default true). When false, use deliver(). */
  autoDeliver?: boolean;
  log?: (msg: string) => void;
  /** Base URL for hosted page links when browsers reach the emulator by another name (e.g. in Docker). */
  publicUrl?: string;
  /** Per-delivery timeout, default 5000 ms. */
  webhookTimeoutMs?: number;
  /** Source of "now" for created timestamps and billing periods. */
  clock?: () => Date;
}

export interface StripeEmulator {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  readonly port: number;
  /** Spread into the SDK: `new Stripe(key, emulator.stripeConfig)`. */
  readonly stripeConfig: { host: string; port: number; protocol: 'http' };
  readonly webhookSecret: string;
  readonly webhookUrl: string | null;
  autoDeliver: boolean;
  /** Every event so far, oldest first, with its delivery attempts. */
  readonly events: EventRecord[];
  readonly heldEventIds: string[];
  /** The in-memory account, for assertions and custom setups. */
  readonly state: BillingState;

  close(): Promise<void>;
  /** Forgets customers, subscriptions, sessions, events and idempotency keys; keeps config and catalogue. */
  reset(): void;
  setWebhookUrl(url: string | null): void;

  /** Records an event around any object and (unless `deliver: false`) delivers it, resolving after delivery. */
  createEvent(
    type: string,
    object: object,
    opts?: { created?: number; deliver?: boolean; previousAttributes?: Record<string, unknown> },
  ): Promise<StripeEvent>;
  /** Sends an existing event again, `times` times, in sequence or all at once. Ignores hold. */
  deliver(eventId: string, opts?: { times?: number; concurrent?: boolean }): Promise<DeliveryAttempt[]>;
  /** Sends existing events one after another in exactly this order. Ignores hold. */
  deliverInOrder(eventIds: string[]): Promise<DeliveryAttempt[]>;

  /** Failed renewal: `past_due`, then `invoice.payment_failed` and `customer.subscription.updated`. */
  failPayment(subscriptionId: string): Promise<{ subscription: Subscription; invoice: Invoice; events: StripeEvent[] }>;
  /** End of period: renews and pays (or recovers past_due, or ends a subscription set to cancel). */
  renewSubscription(
    subscriptionId: string,
  ): Promise<{ subscription: Subscription; invoice: Invoice | null; events: StripeEvent[] }>;
  /** Same as pressing "Pay" on the hosted checkout page. */
  completeCheckout(
    sessionId: string,
    opts?: { email?: string },
  ): Promise<{ session: CheckoutSession; subscription: Subscription; invoice: Invoice; events: StripeEvent[] }>;

  /** Park automatic deliveries (events are still recorded). */
  holdWebhooks(): void;
  /** Stop holding and send the parked events, oldest first or reversed. */
  releaseWebhooks(opts?: { order?: 'created' | 'reverse' }): Promise<DeliveryAttempt[]>;
  /** Resolves when all automatic deliveries queued so far have been attempted. */
  settle(): Promise<void>;
}

interface StoredResponse {
  fingerprint: string;
  status: number;
  body: string;
  requestId: string;
}

const DEFAULT_SECRET = 'whsec_emulator';

export async function startStripeEmulator(options: StripeEmulatorOptions = {}): Promise<StripeEmulator> {
  const emulator = new EmulatorServer(options);
  await emulator.listen(options.port ?? 0, options.host ?? '127.0.0.1');
  return emulator;
}

class EmulatorServer implements StripeEmulator {
  readonly state: BillingState;
  readonly webhookSecret: string;
  autoDeliver: boolean;

  private readonly server: Server;
  private readonly dispatcher: WebhookDispatcher;
  private readonly log: (msg: string) => void;
  private readonly idempotency = new Map<string, StoredResponse>();
  private readonly apiRouter = buildApiRouter();
  private readonly hostedRouter = buildHostedRouter();
  private readonly controlRouter = buildControlRouter();
  private readonly explicitPublicUrl: string | undefined;
  private address: { host: string; port: number } | undefined;

  constructor(options: StripeEmulatorOptions) {
    const catalog = options.catalog ?? loadDefaultCatalog();
    validateCatalog(catalog);
    this.log = options.log ?? (() => {});
    this.webhookSecret = options.webhookSecret ?? DEFAULT_SECRET;
    this.autoDeliver = options.autoDeliver ?? true;
    this.explicitPublicUrl = options.publicUrl?.replace(/\/+$/, '');
    this.dispatcher = new WebhookDispatcher({
      url: options.webhookUrl ?? null,
      secret: this.webhookSecret,
      timeoutMs: options.webhookTimeoutMs ?? 5000,
      log: this.log,
    });
    const clock = options.clock ?? (() => new Date());
    this.state = new BillingState(catalog, clock, () => (this.dispatcher.url ? 1 : 0));
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        this.log(`internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        if (!res.headersSent) sendJson(res, 500, { error: { type: 'api_error', message: 'Internal emulator error' } });
        else res.end();
      });
    });
  }

  listen(port: number, host: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const address = this.server.address() as AddressInfo;
        // A wildcard bind is reachable on loopback; that is what clients should use.
        const reachable = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
        this.address = { host: reachable, port: address.port };
        this.log(`Stripe emulator listening on ${this.url}`);
        resolve();
      });
    });
  }

  // ------------------------------------------------------------------ handle

  get port(): number {
    return this.requireAddress().port;
  }

  get url(): string {
    const { host, port } = this.requireAddress();
    return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  }

  get stripeConfig(): { host: string; port: number; protocol: 'http' } {
    const { host, port } = this.requireAddress();
    return { host, port, protocol: 'http' };
  }

  get webhookUrl(): string | null {
    return this.dispatcher.url;
  }

  get events(): EventRecord[] {
    return [...this.state.events];
  }

  get heldEventIds(): string[] {
    return this.dispatcher.heldEvents.map((r) => r.event.id);
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.close((error) => (error ? reject(error) : resolve()));
      // Keep-alive sockets from the SDK's agent would otherwise hold close() open.
      this.server.closeAllConnections();
    });
  }

  reset(): void {
    this.state.reset();
    this.idempotency.clear();
    this.dispatcher.reset();
  }

  setWebhookUrl(url: string | null): void {
    if (url !== null) new URL(url); // throws on garbage, before anything is sent there
    this.dispatcher.url = url;
  }

  async createEvent(
    type: string,
    object: object,
    opts: { created?: number; deliver?: boolean; previousAttributes?: Record<string, unknown> } = {},
  ): Promise<StripeEvent> {
    const record = this.state.createEvent(type, object, {
      created: opts.created,
      previousAttributes: opts.previousAttributes,
    });
    if (opts.deliver ?? this.autoDeliver) await this.dispatcher.enqueue([record]);
    return record.event;
  }

  async deliver(eventId: string, opts: { times?: number; concurrent?: boolean } = {}): Promise<DeliveryAttempt[]> {
    const record = this.requireEvent(eventId);
    const times = opts.times ?? 1;
    if (!Number.isInteger(times) || times < 1 || times > 100) throw new ControlError('`times` must be between 1 and 100');
    this.requireWebhookUrl();
    if (opts.concurrent) {
      return Promise.all(Array.from({ length: times }, () => this.dispatcher.send(record)));
    }
    const attempts: DeliveryAttempt[] = [];
    for (let i = 0; i < times; i++) attempts.push(await this.dispatcher.send(record));
    return attempts;
  }

  async deliverInOrder(eventIds: string[]): Promise<DeliveryAttempt[]> {
    // Resolve every id first so a typo does not leave a half-delivered sequence.
    const records = eventIds.map((id) => this.requireEvent(id));
    this.requireWebhookUrl();
    const attempts: DeliveryAttempt[] = [];
    for (const record of records) attempts.push(await this.dispatcher.send(record));
    return attempts;
  }

  async failPayment(subscriptionId: string) {
    const { subscription, invoice, events } = this.state.failPayment(subscriptionId);
    await this.autoDeliverNow(events);
    return { subscription, invoice, events: events.map((r) => r.event) };
  }

  async renewSubscription(subscriptionId: string) {
    const { subscription, invoice, events } = this.state.renewSubscription(subscriptionId);
    await this.autoDeliverNow(events);
    return { subscription, invoice, events: events.map((r) => r.event) };
  }

  async completeCheckout(sessionId: string, opts: { email?: string } = {}) {
    const { session, subscription, invoice, events } = this.state.completeCheckout(sessionId, opts);
    await this.autoDeliverNow(events);
    return { session, subscription, invoice, events: events.map((r) => r.event) };
  }

  holdWebhooks(): void {
    this.dispatcher.hold();
  }

  releaseWebhooks(opts: { order?: 'created' | 'reverse' } = {}): Promise<DeliveryAttempt[]> {
    return this.dispatcher.release(opts.order ?? 'created');
  }

  settle(): Promise<void> {
    return this.dispatcher.settle();
  }

  // --------------------------------------------------------------- internals

  private requireAddress(): { host: string; port: number } {
    if (!this.address) throw new Error('Stripe emulator is not listening');
    return this.address;
  }

  private get publicUrl(): string {
    return this.explicitPublicUrl ?? this.url;
  }

  private requireEvent(id: string): EventRecord {
    const record = this.state.getEvent(id);
    if (!record) throw new ControlError(`No such event: '${id}'`, 404);
    return record;
  }

  private requireWebhookUrl(): void {
    if (!this.dispatcher.url) throw new ControlError('No webhook URL is configured; set one with setWebhookUrl()', 409);
  }

  private autoDeliverNow(records: EventRecord[]): Promise<unknown> {
    return this.autoDeliver ? this.dispatcher.enqueue(records) : Promise.resolve();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://emulator.invalid');
    const method = req.method ?? 'GET';
    if (url.pathname.startsWith('/v1/')) return this.handleApi(req, res, url, method);
    if (url.pathname.startsWith('/_emulator/')) return this.handleControl(req, res, url, method);

    const hosted = this.hostedRouter.match(method, url.pathname);
    if (hosted) {
      let form = new URLSearchParams();
      if (method === 'POST') {
        try {
          form = new URLSearchParams(await readBody(req, 64 * 1024));
        } catch (error) {
          if (error instanceof BodyTooLargeError) return sendHtml(res, 413, renderNotFound('Form too large.'));
          throw error;
        }
      }
      return hosted.handler(
        { state: this.state, form, query: url.searchParams, res, deliver: (records) => this.autoDeliverNow(records) },
        hosted.params,
      );
    }
    if (url.pathname === '/' && method === 'GET') {
      return sendJson(res, 200, {
        name: 'Stripe emulator',
        api_version: API_VERSION,
        docs: 'stripe-emulator/README.md',
        health: `${this.url}/_emulator/health`,
      });
    }
    sendHtml(res, 404, renderNotFound(`Nothing at ${url.pathname}.`));
  }

  private async handleApi(req: IncomingMessage, res: ServerResponse, url: URL, method: string): Promise<void> {
    const requestId = newId('req', 14);
    const headers: Record<string, string> = {
      'Request-Id': requestId,
      'Stripe-Version': header(req, 'stripe-version') ?? API_VERSION,
    };
    const idempotencyKey = method === 'POST' ? header(req, 'idempotency-key') : undefined;
    if (idempotencyKey) headers['Idempotency-Key'] = idempotencyKey;

    try {
      authenticate(req);
      let raw: FormObject;
      try {
        // Stripe reads params from the query string on every method, and from the body on POST.
        raw = { ...parseForm(url.search.slice(1)), ...parseForm(await readBody(req)) };
      } catch (error) {
        if (error instanceof FormParseError) throw apiErrors.invalidParam(error.param, error.message);
        if (error instanceof BodyTooLargeError) throw apiErrors.bodyTooLarge();
        throw error;
      }

      // Keys are scoped to the account; the emulator is a single account, so one map.
      const fingerprint = `${method} ${url.pathname}\n${canonicalJson(raw)}`;
      if (idempotencyKey) {
        if (idempotencyKey.length > 255) {
          throw apiErrors.invalidParam('Idempotency-Key', 'Idempotency keys can be at most 255 characters long.');
        }
        const stored = this.idempotency.get(idempotencyKey);
        if (stored) {
          if (stored.fingerprint !== fingerprint) throw apiErrors.idempotencyMismatch(idempotencyKey);
          return send(res, stored.status, stored.body, {
            ...headers,
            'Content-Type': 'application/json',
            'Request-Id': stored.requestId,
            'Idempotent-Replayed': 'true',
          });
        }
      }

      const route = this.apiRouter.match(method, url.pathname);
      if (!route) throw apiErrors.unrecognizedUrl(method, url.pathname);
      const params = new Params(raw);
      const ctx: ApiContext = {
        state: this.state,
        params,
        request: { id: requestId, idempotency_key: idempotencyKey ?? null },
        publicUrl: this.publicUrl,
        deliverInBackground: (records) => {
          void this.autoDeliverNow(records);
        },
      };
      const result = route.handler(ctx, route.params);
      const ignored = params.ignored();
      if (ignored.length) this.log(`${method} ${url.pathname}: ignored unsupported params ${ignored.join(', ')}`);

      const body = JSON.stringify(result, null, 2);
      // Only successful results are stored: like Stripe, a request rejected
      // by validation can be retried with the same key after fixing it.
      if (idempotencyKey) this.idempotency.set(idempotencyKey, { fingerprint, status: 200, body, requestId });
      send(res, 200, body, { ...headers, 'Content-Type': 'application/json' });
    } catch (error) {
      if (!(error instanceof StripeApiError)) throw error;
      sendJson(res, error.statusCode, error.toJSON(), headers);
    }
  }

  private async handleControl(req: IncomingMessage, res: ServerResponse, url: URL, method: string): Promise<void> {
    try {
      const route = this.controlRouter.match(method, url.pathname);
      if (!route) throw new ControlError(`Unknown control endpoint: ${method} ${url.pathname}`, 404);
      const text = method === 'GET' ? '' : await readBody(req);
      let body: unknown = {};
      if (text.trim()) {
        try {
          body = JSON.parse(text);
        } catch {
          throw new ControlError('Control endpoints take a JSON body');
        }
      }
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        throw new ControlError('Control endpoints take a JSON object body');
      }
      const result = await route.handler(this, body as Record<string, unknown>, route.params, url.searchParams);
      sendJson(res, 200, result);
    } catch (error) {
      if (error instanceof StripeApiError) return sendJson(res, error.statusCode, error.toJSON());
      if (error instanceof TypeError && /Invalid URL/.test(error.message)) {
        return sendJson(res, 400, new ControlError(error.message).toJSON());
      }
      throw error;
    }
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value || undefined;
}

/** Returns the API key; accepts Bearer (the SDK) and Basic with the key as username (curl -u). */
function authenticate(req: IncomingMessage): string {
  const authorization = header(req, 'authorization');
  if (!authorization) throw apiErrors.missingApiKey();
  let key: string;
  const [scheme, credentials = ''] = authorization.split(/\s+/, 2);
  if (/^bearer$/i.test(scheme)) key = credentials;
  else if (/^basic$/i.test(scheme)) key = Buffer.from(credentials, 'base64').toString('utf8').split(':')[0];
  else throw apiErrors.missingApiKey();
  if (!key) throw apiErrors.missingApiKey();
  if (!/^(sk|rk)_[A-Za-z0-9_]+$/.test(key)) throw apiErrors.invalidApiKey(key);
  return key;
}

/** JSON with sorted keys, so equivalent params compare equal regardless of order. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}
