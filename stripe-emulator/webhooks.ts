// Signed webhook delivery. Automatic deliveries go through one serial queue, so the app receives
// events in creation order and an awaited operation has had its webhooks delivered. Duplicates,
// concurrent bursts and other orders are explicit (send(), release("reverse")), or chosen for every
// operation's events (`deliveryOrder`: Stripe promises no order). Failures are recorded, never
// retried automatically: a backoff schedule would make tests slow and flaky.
import Stripe from "stripe";
import type { DeliveryAttempt, EventRecord } from "./types.ts";

const TIMEOUT_MS = 5000;

/**
 * The order an operation's events (a checkout's whole sequence, a plan switch's two) are sent in:
 * as created, reversed, or shuffled by a seeded generator, so a failing order can be run again.
 */
export type DeliveryOrder = "created" | "reverse" | `shuffle:${number}`;

/** A delivery order from JSON or an option, or null when it is not one. */
export function parseDeliveryOrder(value: unknown): DeliveryOrder | null {
  if (value === "created" || value === "reverse") return value;
  if (typeof value === "string" && /^shuffle:\d{1,9}$/.test(value)) return value as DeliveryOrder;
  return null;
}

/** mulberry32: a tiny seeded generator; the same seed gives the same permutation on every run. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** The records in `order` (a new array; each batch of a seeded shuffle starts from its seed). */
export function inDeliveryOrder<T>(records: readonly T[], order: DeliveryOrder): T[] {
  const ordered = [...records];
  if (order === "reverse") return ordered.reverse();
  if (order === "created") return ordered;
  const random = seededRandom(Number(order.slice("shuffle:".length)));
  for (let i = ordered.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [ordered[i], ordered[j]] = [ordered[j]!, ordered[i]!];
  }
  return ordered;
}

export class WebhookDispatcher {
  private queue: Promise<unknown> = Promise.resolve();
  private held: EventRecord[] | null = null;
  /** The order of each operation's events; held events keep theirs until released. */
  order: DeliveryOrder = "created";

  constructor(
    readonly url: string | null,
    private readonly secret: string,
    private readonly log: (message: string) => void,
    /** Told after each attempt is recorded (the emulator's state file then saves it). */
    private readonly onAttempt: () => void = () => {},
  ) {}

  /**
   * Queues one operation's newly created events in the delivery order (or parks them, as created,
   * while held); resolves once they have been attempted.
   */
  enqueue(records: EventRecord[]): Promise<DeliveryAttempt[]> {
    if (!this.url || records.length === 0) return Promise.resolve([]);
    if (this.held) {
      this.held.push(...records);
      return Promise.resolve([]);
    }
    return this.chain(inDeliveryOrder(records, this.order));
  }

  /** Resolves once every queued delivery has been attempted, including ones queued meanwhile. */
  async settle(): Promise<void> {
    let current: Promise<unknown>;
    do {
      current = this.queue;
      await current;
    } while (current !== this.queue);
  }

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

  reset(order: DeliveryOrder): void {
    this.held = null;
    this.order = order;
  }

  private chain(records: EventRecord[]): Promise<DeliveryAttempt[]> {
    const run = this.queue.then(async () => {
      const attempts: DeliveryAttempt[] = [];
      for (const record of records) attempts.push(await this.send(record));
      return attempts;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** One signed POST of the event, as Stripe sends it; network failures are recorded (status 0), not thrown. */
  async send(record: EventRecord): Promise<DeliveryAttempt> {
    if (!this.url) throw new Error("No webhook URL is configured");
    const payload = JSON.stringify(record.event, null, 2);
    const timestamp = Math.floor(Date.now() / 1000);
    const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret: this.secret, timestamp });
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
        headers: {
          "Content-Type": "application/json; charset=utf-8",
          "Stripe-Signature": signature,
          "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        },
        body: payload,
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
    if (attempt.ok) record.event.pending_webhooks = 0;
    this.onAttempt();
    this.log(`webhook ${record.event.type} ${record.event.id} → ${attempt.status || attempt.error}`);
    return attempt;
  }
}
