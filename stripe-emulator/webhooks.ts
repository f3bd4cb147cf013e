/**
 * Signed webhook delivery.
 *
 * Automatic deliveries go through one serial queue, so the app receives events
 * in creation order and a test that awaits an operation can rely on its
 * webhooks having landed. Out-of-order, duplicate and concurrent deliveries
 * are opt-in through deliver()/deliverInOrder()/release({ order: 'reverse' }),
 * which is where apps need to prove their idempotency.
 *
 * Unlike Stripe, failed deliveries are not retried automatically: retries on a
 * backoff schedule would make tests slow and non-deterministic. Redeliver
 * explicitly instead.
 */
import { createHmac } from 'node:crypto';
import type { DeliveryAttempt, EventRecord } from './types.ts';

const BODY_SNIPPET_LENGTH = 500;

/** The `Stripe-Signature` header for `payload`, as `stripe.webhooks.constructEvent` expects it. */
export function signatureHeader(payload: string, secret: string, timestamp: number): string {
  const signature = createHmac('sha256', secret).update(`${timestamp}.${payload}`, 'utf8').digest('hex');
  return `t=${timestamp},v1=${signature}`;
}

export interface DispatcherOptions {
  url: string | null;
  secret: string;
  timeoutMs: number;
  log: (msg: string) => void;
}

export class WebhookDispatcher {
  url: string | null;
  private readonly secret: string;
  private readonly timeoutMs: number;
  private readonly log: (msg: string) => void;

  private queue: Promise<unknown> = Promise.resolve();
  private held: EventRecord[] = [];
  private holding = false;

  constructor(options: DispatcherOptions) {
    this.url = options.url;
    this.secret = options.secret;
    this.timeoutMs = options.timeoutMs;
    this.log = options.log;
  }

  get isHolding(): boolean {
    return this.holding;
  }

  get heldEvents(): readonly EventRecord[] {
    return this.held;
  }

  /**
   * Automatic delivery of newly created events: queued in order, or parked
   * while holding. Resolves when these events have been attempted.
   */
  enqueue(records: EventRecord[]): Promise<DeliveryAttempt[]> {
    if (!this.url || records.length === 0) return Promise.resolve([]);
    if (this.holding) {
      this.held.push(...records);
      return Promise.resolve([]);
    }
    return this.chain(records);
  }

  /** Resolves once every queued delivery has been attempted. */
  async settle(): Promise<void> {
    // The queue may grow while we wait (a delivery can trigger more events).
    let current: Promise<unknown>;
    do {
      current = this.queue;
      await current;
    } while (current !== this.queue);
  }

  hold(): void {
    this.holding = true;
  }

  /** Stops holding and sends what was held, oldest first unless `reverse`. */
  release(order: 'created' | 'reverse' = 'created'): Promise<DeliveryAttempt[]> {
    this.holding = false;
    const records = this.held;
    this.held = [];
    if (order === 'reverse') records.reverse();
    if (!this.url) return Promise.resolve([]);
    return this.chain(records);
  }

  reset(): void {
    this.held = [];
    this.holding = false;
  }

  private chain(records: EventRecord[]): Promise<DeliveryAttempt[]> {
    const run = this.queue.then(async () => {
      const attempts: DeliveryAttempt[] = [];
      for (const record of records) attempts.push(await this.send(record));
      return attempts;
    });
    // A rejected delivery must not poison the queue for later events.
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * One signed POST of the event's current state. Never throws for HTTP or
   * network failures: those are recorded as attempts (status 0 = no response).
   */
  async send(record: EventRecord): Promise<DeliveryAttempt> {
    const url = this.url;
    if (!url) throw new Error('No webhook URL is configured');
    const payload = JSON.stringify(record.event, null, 2);
    const timestamp = Math.floor(Date.now() / 1000);
    const started = Date.now();
    const attempt: DeliveryAttempt = {
      eventId: record.event.id,
      url,
      status: 0,
      ok: false,
      body: '',
      error: null,
      at: started,
      durationMs: 0,
    };
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json; charset=utf-8',
          'Stripe-Signature': signatureHeader(payload, this.secret, timestamp),
          'User-Agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
          Accept: '*/*; q=0.5, application/xml',
          'Cache-Control': 'no-cache',
        },
        body: payload,
        signal: AbortSignal.timeout(this.timeoutMs),
        redirect: 'manual',
      });
      attempt.status = response.status;
      attempt.ok = response.status >= 200 && response.status < 300;
      attempt.body = (await response.text()).slice(0, BODY_SNIPPET_LENGTH);
    } catch (error) {
      attempt.error = describeFetchError(error, this.timeoutMs);
    }
    attempt.durationMs = Date.now() - started;
    record.deliveries.push(attempt);
    if (attempt.ok) record.event.pending_webhooks = 0;
    this.log(
      `webhook ${record.event.type} ${record.event.id} → ${attempt.status || 'no response'}${attempt.error ? ` (${attempt.error})` : ''}`,
    );
    return attempt;
  }
}

function describeFetchError(error: unknown, timeoutMs: number): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError' || error.name === 'AbortError') return `timed out after ${timeoutMs}ms`;
    // undici hides the useful part (ECONNREFUSED, ENOTFOUND…) in `cause`.
    const cause = (error as Error & { cause?: { code?: string; message?: string } }).cause;
    if (cause?.code) return cause.code;
    if (cause?.message) return cause.message;
    return error.message;
  }
  return String(error);
}
