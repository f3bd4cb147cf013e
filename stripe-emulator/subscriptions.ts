// Subscriptions and what changes them: plan switches and cancellations (API and portal), failed
// payments and renewals (control actions). Each operation returns the events it caused.
import type { Account } from "./account.ts";
import { invalid, missingParam, noSuch } from "./errors.ts";
import { NO_REQUEST, previousAttributes, snapshot } from "./objects.ts";
import { addInterval, periodEnd } from "./periods.ts";
import { buildItem, cancellation, planOf } from "./subscription-objects.ts";
import type { EventRecord, Invoice, Price, Subscription, SubscriptionItem } from "./types.ts";

export interface SubscriptionChanges {
  items?: Array<{ id?: string; price?: Price; quantity?: number; deleted?: boolean }>;
  cancelAtPeriodEnd?: boolean;
}

export class Subscriptions {
  private readonly byId = new Map<string, Subscription>();

  constructor(private readonly account: Account) {}

  get(id: string): Subscription | undefined {
    return this.byId.get(id);
  }

  /** Oldest first. */
  all(): Subscription[] {
    return [...this.byId.values()];
  }

  add(sub: Subscription): void {
    this.byId.set(sub.id, sub);
  }

  require(id: string): Subscription {
    const sub = this.byId.get(id);
    if (!sub) throw noSuch("subscription", id);
    return sub;
  }

  /** Plan switches, quantity changes and `cancel_at_period_end`. */
  update(id: string, changes: SubscriptionChanges, request = NO_REQUEST) {
    const original = this.require(id);
    if (original.status === "canceled") {
      throw invalid(undefined, "A canceled subscription can only update its cancellation_details and metadata.");
    }
    // Work on a copy so a change rejected halfway leaves the stored subscription untouched.
    const sub = snapshot(original);
    const now = this.account.now();
    const cycle = (p: Price) => `${p.recurring.interval}/${p.recurring.interval_count}`;
    const firstCycle = (s: Subscription) => (s.items.data[0] ? cycle(s.items.data[0].price) : "");
    const items = sub.items.data;
    changes.items?.forEach((change, i) => {
      const index = change.id ? items.findIndex((it) => it.id === change.id) : -1;
      const item = items[index];
      if (!item) {
        if (change.id) throw invalid(`items[${i}][id]`, `Invalid subscription item id: ${change.id}`);
        if (!change.price) throw missingParam(`items[${i}][price]`);
        items.push(buildItem(sub.id, change.price, change.quantity ?? 1, now, items[0]));
      } else if (change.deleted) {
        items.splice(index, 1);
      } else {
        if (change.price) {
          Object.assign(item, {
            price: snapshot(change.price),
            plan: planOf(change.price),
          } satisfies Partial<SubscriptionItem>);
        }
        if (change.quantity !== undefined) item.quantity = change.quantity;
      }
    });
    if (items.length === 0) {
      throw invalid("items", "A subscription must have at least one price. To cancel it, use DELETE.");
    }
    if (items.some((it) => cycle(it.price) !== firstCycle(sub) || it.price.currency !== sub.currency)) {
      throw invalid("items", "All prices on a subscription must have the same currency and recurring interval.");
    }

    let invoice: Invoice | undefined;
    if (firstCycle(sub) !== firstCycle(original)) {
      // A new billing interval restarts the cycle and bills now (Stripe's default proration behaviour).
      for (const item of items) {
        item.current_period_start = now;
        item.current_period_end = addInterval(now, item.price.recurring.interval, item.price.recurring.interval_count);
      }
      sub.billing_cycle_anchor = now;
      invoice = this.account.invoices.issue(sub, "subscription_update", true, { start: now, end: now });
    }
    if (changes.cancelAtPeriodEnd !== undefined) {
      sub.cancel_at_period_end = changes.cancelAtPeriodEnd;
      sub.canceled_at = changes.cancelAtPeriodEnd ? now : null;
      sub.cancellation_details = cancellation(changes.cancelAtPeriodEnd ? "cancellation_requested" : null);
    }
    if (sub.cancel_at_period_end) sub.cancel_at = periodEnd(sub);
    else if (changes.cancelAtPeriodEnd === false) sub.cancel_at = null;

    this.byId.set(sub.id, sub);
    const previous = previousAttributes(original, sub);
    const events: EventRecord[] = [];
    // Stripe only emits an update when something changed.
    if (Object.keys(previous).length > 0) {
      events.push(
        this.account.events.create("customer.subscription.updated", sub, { previousAttributes: previous, request }),
      );
    }
    if (invoice) events.push(this.account.events.create("invoice.paid", invoice, { request }));
    return { subscription: sub, events };
  }

  /** Cancels now (DELETE, or the portal's Cancel button). */
  cancel(id: string, request = NO_REQUEST) {
    const sub = this.require(id);
    if (sub.status === "canceled") throw invalid(undefined, `This subscription has already been canceled: ${id}`);
    return { subscription: sub, events: [this.endNow(sub, request)] };
  }

  /**
   * A failed renewal: the period moves on, its invoice stays open and the subscription becomes
   * `past_due`. Another failure only retries that invoice.
   */
  failPayment(id: string) {
    const sub = this.require(id);
    if (sub.status === "canceled") throw invalid(undefined, "Cannot fail a payment on a canceled subscription.");
    const before = snapshot(sub);
    let invoice = this.account.invoices.get(sub.latest_invoice ?? "");
    if (sub.status === "past_due" && invoice?.status === "open") {
      invoice.attempt_count += 1;
      invoice.next_payment_attempt = this.account.now() + 3 * 86_400;
    } else {
      invoice = this.account.invoices.issue(sub, "subscription_cycle", false, this.advancePeriod(sub));
      sub.status = "past_due";
      this.account.customers.of(sub).delinquent = true;
    }
    const events = [this.account.events.create("invoice.payment_failed", invoice)];
    const previous = previousAttributes(before, sub);
    if (Object.keys(previous).length > 0) {
      events.push(this.account.events.create("customer.subscription.updated", sub, { previousAttributes: previous }));
    }
    return { subscription: sub, invoice, events };
  }

  /** The end of the period: a subscription set to cancel ends; others renew and pay (recovering past_due). */
  renew(id: string) {
    const sub = this.require(id);
    if (sub.status === "canceled") throw invalid(undefined, "Cannot renew a canceled subscription.");
    if (sub.cancel_at_period_end) {
      this.end(sub);
      return {
        subscription: sub,
        invoice: null,
        events: [this.account.events.create("customer.subscription.deleted", sub)],
      };
    }
    const before = snapshot(sub);
    let invoice = this.account.invoices.get(sub.latest_invoice ?? "");
    if (sub.status === "past_due" && invoice?.status === "open") {
      this.account.invoices.pay(invoice);
      invoice.attempt_count += 1;
    } else {
      invoice = this.account.invoices.issue(sub, "subscription_cycle", true, this.advancePeriod(sub));
    }
    sub.status = "active";
    this.account.customers.of(sub).delinquent = false;
    const events: EventRecord[] = [];
    const previous = previousAttributes(before, sub);
    if (Object.keys(previous).length > 0) {
      events.push(this.account.events.create("customer.subscription.updated", sub, { previousAttributes: previous }));
    }
    events.push(this.account.events.create("invoice.paid", invoice));
    return { subscription: sub, invoice, events };
  }

  /** Ends a subscription at once, canceled on request: its `customer.subscription.deleted`. */
  endNow(sub: Subscription, request = NO_REQUEST): EventRecord {
    this.end(sub);
    sub.canceled_at = sub.ended_at;
    sub.cancellation_details = cancellation("cancellation_requested");
    return this.account.events.create("customer.subscription.deleted", sub, { request });
  }

  private end(sub: Subscription): void {
    sub.status = "canceled";
    sub.ended_at = this.account.now();
  }

  /** Moves every item to its next period, counted from the anchor; returns the period that ended. */
  private advancePeriod(sub: Subscription): { start: number; end: number } {
    const first = sub.items.data[0];
    const ended = { start: first?.current_period_start ?? sub.created, end: periodEnd(sub) };
    for (const item of sub.items.data) {
      const { interval, interval_count } = item.price.recurring;
      let n = 1;
      while (addInterval(sub.billing_cycle_anchor, interval, interval_count * n) <= item.current_period_end) n++;
      item.current_period_start = item.current_period_end;
      item.current_period_end = addInterval(sub.billing_cycle_anchor, interval, interval_count * n);
    }
    return ended;
  }

  restore(subscriptions: Subscription[]): void {
    for (const sub of subscriptions) this.byId.set(sub.id, sub);
  }

  clear(): void {
    this.byId.clear();
  }
}
