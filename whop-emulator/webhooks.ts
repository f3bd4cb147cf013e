// Signed webhook delivery, as Whop sends it: Standard Webhooks headers (`webhook-id`, the same on
// every delivery of an event; `webhook-timestamp`; `webhook-signature: v1,<base64 HMAC-SHA256 of
// "{id}.{timestamp}.{body}">`), keyed by the literal UTF-8 bytes of the `ws_…` secret. Signed here
// with node:crypto, independently of the app's verifier (which is @whop/sdk's). Automatic deliveries
// go through one serial queue (creation order); duplicates, bursts and other orders are explicit.
// Failures are recorded, never retried automatically.
import { createHmac } from "node:crypto";
import type { DeliveryAttempt, EventRecord } from "./account.ts";

const TIMEOUT_MS = 5000;

/** `v1,<signature>` for a payload, as Whop signs it. */
export function whopSignature(secret: string, id: string, timestampSeconds: number, payload: string): string {
  const digest = createHmac("sha256", Buffer.from(secret, "utf8"))
    .update(`${id}.${timestampSeconds}.${payload}`)
    .digest("base64");
  return `v1,${digest}`;
}

export class WebhookDispatcher {
  private queue: Promise<unknown> = Promise.resolve();
  private held: EventRecord[] | null = null;

  constructor(
    readonly url: string | null,
    private readonly secret: string,
    private readonly log: (message: string) => void,
  ) {}

  /** Queues new events (or parks them while held); resolves once they have been attempted. */
  enqueue(records: EventRecord[]): Promise<DeliveryAttempt[]> {
    if (!this.url || records.length === 0) return Promise.resolve([]);
    if (this.held) {
      this.held.push(...records);
      return Promise.resolve([]);
    }
    const run = this.queue.then(async () => {
      const attempts: DeliveryAttempt[] = [];
      for (const record of records) attempts.push(await this.send(record));
      return attempts;
    });
    this.queue = run.catch(() => undefined);
    return run;
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

  release(order: "created" | "reverse"): Promise<DeliveryAttempt[]> {
    const records = this.held ?? [];
    this.held = null;
    if (order === "reverse") records.reverse();
    return this.enqueue(records);
  }

  reset(): void {
    this.held = null;
  }

  /** One signed POST of the event; network failures are recorded (status 0), not thrown. */
  async send(record: EventRecord): Promise<DeliveryAttempt> {
    if (!this.url) throw new Error("No webhook URL is configured");
    const payload = JSON.stringify(record.event);
    const timestamp = Math.floor(Date.now() / 1000);
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
          "Content-Type": "application/json",
          "webhook-id": record.event.id,
          "webhook-timestamp": String(timestamp),
          "webhook-signature": whopSignature(this.secret, record.event.id, timestamp, payload),
          "User-Agent": "Whop-Webhooks (emulator)",
        },
        body: payload,
        signal: AbortSignal.timeout(TIMEOUT_MS),
        redirect: "manual",
      });
      attempt.status = response.status;
      attempt.ok = response.ok;
      attempt.body = (await response.text()).slice(0, 500);
    } catch (error) {
      const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
      if (error instanceof Error && error.name === "TimeoutError") attempt.error = `timed out after ${TIMEOUT_MS}ms`;
      else attempt.error = cause instanceof Error ? cause.message : String(cause);
    }
    attempt.durationMs = Date.now() - attempt.at;
    record.deliveries.push(attempt);
    this.log(`webhook ${record.event.type} ${record.event.id} → ${attempt.status || attempt.error}`);
    return attempt;
  }
}
