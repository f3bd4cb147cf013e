// The account's events, oldest first: each records its object as it was then, and the delivery
// attempts the webhook sender adds.
import Stripe from "stripe";
import type { Account } from "./account.ts";
import { NO_REQUEST, newId, snapshot } from "./objects.ts";
import type { EmulatorEvent, EventRecord, RequestInfo } from "./types.ts";

export type EventOptions = { created?: number; previousAttributes?: Record<string, unknown>; request?: RequestInfo };

export class EventLog {
  /** Oldest first. */
  readonly records: EventRecord[] = [];

  constructor(private readonly account: Account) {}

  find(id: string): EventRecord | undefined {
    return this.records.find((r) => r.event.id === id);
  }

  create(type: string, object: object, opts: EventOptions = {}): EventRecord {
    const event: EmulatorEvent = {
      id: newId("evt"),
      object: "event",
      api_version: Stripe.API_VERSION,
      created: opts.created ?? this.account.now(),
      data: { object: snapshot(object) },
      livemode: false,
      pending_webhooks: this.account.webhookEndpoints(),
      request: { ...(opts.request ?? NO_REQUEST) },
      type,
    };
    if (opts.previousAttributes) event.data.previous_attributes = snapshot(opts.previousAttributes);
    const record = { event, deliveries: [] };
    this.records.push(record);
    this.account.changed();
    return record;
  }

  /** The newest `created` among the events about a customer (0 when none): its later events never precede it. */
  lastAbout(customerId: string): number {
    let newest = 0;
    for (const { event } of this.records) {
      const object = event.data.object as { id?: unknown; object?: unknown; customer?: unknown };
      const about = object.object === "customer" ? object.id : object.customer;
      if (about === customerId && event.created > newest) newest = event.created;
    }
    return newest;
  }

  /** The newest `count` events, for the state file. */
  newest(count: number): EventRecord[] {
    return this.records.slice(-count);
  }

  restore(records: EventRecord[]): void {
    this.records.push(...records);
  }

  clear(): void {
    this.records.length = 0;
  }
}
