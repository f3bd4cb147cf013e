// Webhook delivery for both emulators; only the signing differs (Stripe's `Stripe-Signature`,
// Whop's Standard Webhooks), so the sender takes the provider's signer. Automatic deliveries go
// through one serial queue, so the app receives events in creation order and an awaited operation
// has had its webhooks delivered. Duplicates, concurrent bursts and other orders are explicit
// (resend(), release("reverse")), or chosen for every operation's events (`order`). Failures are
// recorded, never retried automatically: a backoff schedule would make tests slow and flaky.
import { type DeliveryOrder, inDeliveryOrder, parseDeliveryOrder } from "./delivery-order.ts";

const TIMEOUT_MS = 5000;

/** One attempt to POST an event to the webhook URL. `status` is 0 when no HTTP response arrived. */
export interface DeliveryAttempt {
  eventId: string;
  url: string;
  status: number;
  ok: boolean;
  /** First 500 characters of the response body. */
  body: string;
  error: string | null;
  /** Unix milliseconds when the attempt started. */
  at: number;
  durationMs: number;
}

/** What every provider's event has. */
export type WebhookEvent = { id: string; type: string };

/** An event as the emulator recorded it, with every attempt to deliver it. */
export interface EventRecord<Event extends WebhookEvent> {
  event: Event;
  deliveries: DeliveryAttempt[];
}

/** A provider's request for one delivery of an event: the body and its headers, signature included. */
export type WebhookSigner<Event extends WebhookEvent> = (event: Event) => {
  body: string;
  headers: Record<string, string>;
};

export interface WebhookSenderOptions<Event extends WebhookEvent> {
  /** The app's webhook endpoint; null: events are recorded, never sent. */
  url: string | null;
  sign: WebhookSigner<Event>;
  log: (message: string) => void;
  /** Throws the provider's error for a request the sender cannot honour (HTTP status, message). */
  fail: (status: number, message: string) => never;
  /** The order each operation's events are sent in until changed; `reset()` returns to it. */
  order?: DeliveryOrder;
  /** Told after each attempt is recorded on its event. */
  onAttempt?: (record: EventRecord<Event>, attempt: DeliveryAttempt) => void;
}

export class WebhookSender<Event extends WebhookEvent> {
  readonly url: string | null;
  private queue: Promise<unknown> = Promise.resolve();
  private held: EventRecord<Event>[] | null = null;
  private current: DeliveryOrder;

  constructor(private readonly options: WebhookSenderOptions<Event>) {
    this.url = options.url;
    const order = options.order ?? "created";
    if (!parseDeliveryOrder(order)) throw new Error(`Unknown delivery order: ${String(order)}`);
    this.current = order;
  }

  /** The order of each operation's events; held events keep theirs until released. */
  get order(): DeliveryOrder {
    return this.current;
  }

  set order(value: unknown) {
    this.current = parseDeliveryOrder(value) ?? this.options.fail(400, `Unknown delivery order: ${String(value)}`);
  }

  /**
   * Queues one operation's newly created events in the delivery order (or parks them, as created,
   * while held); resolves once they have been attempted.
   */
  enqueue(records: EventRecord<Event>[]): Promise<DeliveryAttempt[]> {
    if (!this.url || records.length === 0) return Promise.resolve([]);
    if (this.held) {
      this.held.push(...records);
      return Promise.resolve([]);
    }
    return this.chain(inDeliveryOrder(records, this.current));
  }

  /** Resolves once every queued delivery has been attempted, including ones queued meanwhile. */
  async settle(): Promise<void> {
    let current: Promise<unknown>;
    do {
      current = this.queue;
      await current;
    } while (current !== this.queue);
  }

  /** Parks automatic deliveries (events are still recorded). */
  hold(): void {
    this.held ??= [];
  }

  /** Stops holding and sends what was held, as one batch in `order`. */
  release(order: DeliveryOrder): Promise<DeliveryAttempt[]> {
    const records = this.held ?? [];
    this.held = null;
    if (!this.url || records.length === 0) return Promise.resolve([]);
    return this.chain(inDeliveryOrder(records, order));
  }

  /** Forgets held events and returns to the first delivery order. */
  reset(): void {
    this.held = null;
    this.current = this.options.order ?? "created";
  }

  /** Sends a recorded event again, `times` times, one after another or all at once. Ignores hold. */
  async resend(
    record: EventRecord<Event>,
    { times = 1, concurrent = false }: { times?: number; concurrent?: boolean } = {},
  ): Promise<DeliveryAttempt[]> {
    if (!Number.isInteger(times) || times < 1 || times > 100) {
      this.options.fail(400, "`times` must be between 1 and 100");
    }
    this.requireUrl();
    if (concurrent) return Promise.all(Array.from({ length: times }, () => this.send(record)));
    const attempts: DeliveryAttempt[] = [];
    for (let i = 0; i < times; i++) attempts.push(await this.send(record));
    return attempts;
  }

  /** Sends recorded events one after another in exactly this order. Ignores hold. */
  async sendInOrder(records: EventRecord<Event>[]): Promise<DeliveryAttempt[]> {
    this.requireUrl();
    const attempts: DeliveryAttempt[] = [];
    for (const record of records) attempts.push(await this.send(record));
    return attempts;
  }

  private requireUrl(): string {
    return this.url ?? this.options.fail(409, "No webhook URL is configured");
  }

  private chain(records: EventRecord<Event>[]): Promise<DeliveryAttempt[]> {
    const run = this.queue.then(() => this.sendInOrder(records));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** One signed POST of the event; network failures are recorded (status 0), not thrown. */
  async send(record: EventRecord<Event>): Promise<DeliveryAttempt> {
    if (!this.url) throw new Error("No webhook URL is configured");
    const { body, headers } = this.options.sign(record.event);
    const attempt: DeliveryAttempt = {
      eventId: record.event.id,
      url: this.url,
      status: 0,
      ok: false,
      body: "",
      error: null,
      at: Date.now(),
      durationMs: 0,
    };
    try {
      const response = await fetch(this.url, {
        method: "POST",
        headers,
        body,
        signal: AbortSignal.timeout(TIMEOUT_MS),
        redirect: "manual",
      });
      attempt.status = response.status;
      attempt.ok = response.ok;
      attempt.body = (await response.text()).slice(0, 500);
    } catch (error) {
      // fetch hides the useful part (ECONNREFUSED…) in `cause`.
      const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
      if (error instanceof Error && error.name === "TimeoutError") attempt.error = `timed out after ${TIMEOUT_MS}ms`;
      else attempt.error = cause instanceof Error ? cause.message : String(cause);
    }
    attempt.durationMs = Date.now() - attempt.at;
    record.deliveries.push(attempt);
    this.options.onAttempt?.(record, attempt);
    this.options.log(`webhook ${record.event.type} ${record.event.id} → ${attempt.status || attempt.error}`);
    return attempt;
  }
}
