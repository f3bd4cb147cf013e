// Signed webhook delivery. Automatic deliveries go through one serial queue, so the app receives
// events in creation order and an awaited operation has had its webhooks delivered. Duplicates,
// concurrent bursts and other orders are explicit (send(), release("reverse")). Failures are
// recorded, never retried automatically: a backoff schedule would make tests slow and flaky.
import Stripe from "stripe";
import type { DeliveryAttempt, EventRecord } from "./types.ts";

const TIMEOUT_MS = 5000;

export class WebhookDispatcher {
  private queue: Promise<unknown> = Promise.resolve();
  private held: EventRecord[] | null = null;

  constructor(
    readonly url: string | null,
    private readonly secret: string,
    private readonly log: (message: string) => void,
    /** Told after each attempt is recorded (the emulator's state file then saves it). */
    private readonly onAttempt: () => void = () => {},
  ) {}

  /** Queues newly created events (or parks them while held); resolves once they have been attempted. */
  enqueue(records: EventRecord[]): Promise<DeliveryAttempt[]> {
    if (!this.url || records.length === 0) return Promise.resolve([]);
    if (this.held) {
      this.held.push(...records);
      return Promise.resolve([]);
    }
    return this.chain(records);
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

  /** Stops holding and sends what was held, oldest first or reversed. */
  release(order: "created" | "reverse"): Promise<DeliveryAttempt[]> {
    const records = this.held ?? [];
    this.held = null;
    if (order === "reverse") records.reverse();
    return this.enqueue(records);
  }

  reset(): void {
    this.held = null;
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
