// The company's webhook events, oldest first, each with the delivery attempts the sender adds.
import type { Account } from "./account.ts";
import { copy, newId } from "./objects.ts";
import type { EmittedEvent, EventRecord } from "./types.ts";

export class EventLog {
  /** Oldest first. */
  records: EventRecord[] = [];

  constructor(private readonly account: Account) {}

  create(type: string, data: object, { timestamp }: { timestamp?: string } = {}): EventRecord {
    const record: EventRecord = {
      event: {
        id: newId("msg"),
        api_version: "v1",
        timestamp: timestamp ?? new Date().toISOString(),
        type,
        company_id: this.account.company.id,
        data: copy(data),
      },
      deliveries: [],
    };
    this.records.push(record);
    return record;
  }

  /** An event the emulator makes itself, typed as the SDK's webhook event for its type. */
  emit({ type, data }: EmittedEvent): EventRecord {
    return this.create(type, data);
  }

  find(id: string): EventRecord | undefined {
    return this.records.find((record) => record.event.id === id);
  }

  clear(): void {
    this.records = [];
  }
}
