// Customers, and the ids of deleted ones (Stripe still answers a retrieve with `{ id, deleted: true }`).
import type { Account } from "./account.ts";
import { noSuch } from "./errors.ts";
import { NO_REQUEST, newId, token } from "./objects.ts";
import type { Customer, DeletedCustomer, EventRecord, Metadata, Subscription } from "./types.ts";

export class Customers {
  private readonly byId = new Map<string, Customer>();
  private readonly deletedIds = new Set<string>();

  constructor(private readonly account: Account) {}

  get(id: string): Customer | undefined {
    return this.byId.get(id);
  }

  /** Oldest first (deleted customers are gone from it, as from Stripe's list). */
  all(): Customer[] {
    return [...this.byId.values()];
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  /** The customer a subscription belongs to. */
  of(sub: Subscription): Customer {
    const customer = this.byId.get(sub.customer);
    if (!customer) throw noSuch("customer", sub.customer, "customer");
    return customer;
  }

  /** What Stripe answers for a deleted customer, or undefined when the id was never deleted. */
  deleted(id: string): DeletedCustomer | undefined {
    return this.deletedIds.has(id) ? { id, object: "customer", deleted: true } : undefined;
  }

  create(input: { email: string | null; name?: string | null; metadata?: Metadata }): Customer {
    const customer: Customer = {
      id: newId("cus", 14),
      object: "customer",
      address: null,
      balance: 0,
      created: this.account.now(),
      currency: null,
      default_source: null,
      delinquent: false,
      description: null,
      discount: null,
      email: input.email,
      invoice_prefix: token(8).toUpperCase(),
      invoice_settings: { custom_fields: null, default_payment_method: null, footer: null, rendering_options: null },
      livemode: false,
      metadata: input.metadata ?? {},
      name: input.name ?? null,
      next_invoice_sequence: 1,
      phone: null,
      preferred_locales: [],
      shipping: null,
      tax_exempt: "none",
      test_clock: null,
    };
    this.byId.set(customer.id, customer);
    this.account.changed();
    return customer;
  }

  /**
   * Deletes a customer, as Stripe does: its subscriptions are canceled at once
   * (`customer.subscription.deleted` each), then `customer.deleted`. The id then answers as deleted.
   */
  delete(id: string, request = NO_REQUEST) {
    const customer = this.byId.get(id);
    if (!customer) throw noSuch("customer", id);
    const events: EventRecord[] = [];
    for (const sub of this.account.subscriptions.all()) {
      if (sub.customer !== id || sub.status === "canceled" || sub.status === "incomplete_expired") continue;
      events.push(this.account.subscriptions.endNow(sub, request));
    }
    this.byId.delete(id);
    this.deletedIds.add(id);
    events.push(this.account.events.create("customer.deleted", customer, { request }));
    return { deleted: this.deleted(id) ?? { id, object: "customer" as const, deleted: true as const }, events };
  }

  /** What a state file keeps. */
  state() {
    return { customers: [...this.byId.values()], deletedCustomers: [...this.deletedIds] };
  }

  restore(state: { customers: Customer[]; deletedCustomers: string[] }): void {
    for (const customer of state.customers) this.byId.set(customer.id, customer);
    for (const id of state.deletedCustomers) this.deletedIds.add(id);
  }

  clear(): void {
    this.byId.clear();
    this.deletedIds.clear();
  }
}
