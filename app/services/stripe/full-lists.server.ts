// Paging through all of a Stripe account's customers and subscriptions (whole-account reconciliation):
// 100 a page, never one request per object, paced under Stripe's rate limit (25 requests/s in test
// mode, 100 live) and backing off when Stripe answers 429 anyway. Each page is handed over as it arrives.
import { setTimeout as sleep } from "node:timers/promises";
import Stripe from "stripe";
import { getStripe, idOf } from "./client.server.ts";

const PAGE_SIZE = 100;
// Under test mode's 25 requests/s, leaving room for the app's other calls.
const DEFAULT_REQUESTS_PER_SECOND = 20;
const RATE_LIMIT_RETRIES = 6;

/** Spaces requests at least 1/perSecond apart, and counts them (429s and their retries included). */
export class RequestPacer {
  requests = 0;
  private nextAt = 0;
  constructor(readonly perSecond: number = DEFAULT_REQUESTS_PER_SECOND) {}

  async send<T>(request: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const wait = this.nextAt - performance.now();
      if (wait > 0) await sleep(wait);
      this.nextAt = Math.max(performance.now(), this.nextAt) + 1000 / this.perSecond;
      this.requests++;
      try {
        return await request();
      } catch (error) {
        if (!(error instanceof Stripe.errors.StripeRateLimitError) || attempt >= RATE_LIMIT_RETRIES) throw error;
        // Stripe asked us to slow down: wait (its Retry-After, else doubling from half a second).
        const retryAfter = Number(error.headers?.["retry-after"]);
        await sleep(Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : 500 * 2 ** attempt);
      }
    }
  }
}

/** A customer as reconciliation needs it: its id and the account its metadata names. */
export type ListedCustomer = { id: string; metadata: Record<string, string> };

/** A subscription as reconciliation needs it: status, customer, metadata and each item's price. */
export type ListedSubscription = {
  id: string;
  status: string;
  created: number;
  customerId: string | null;
  metadata: Record<string, string>;
  items: Array<{ priceId: string | null; lookupKey: string | null; productId: string | null }>;
};

async function pageThrough<T extends { id: string }>(
  pacer: RequestPacer,
  fetchPage: (startingAfter: string | undefined) => Promise<Stripe.ApiList<T>>,
  onPage: (page: T[]) => Promise<void> | void,
): Promise<void> {
  let startingAfter: string | undefined;
  for (;;) {
    const page = await pacer.send(() => fetchPage(startingAfter));
    await onPage(page.data);
    const last = page.data.at(-1);
    if (!page.has_more || !last) return;
    startingAfter = last.id;
  }
}

/** Every customer Stripe has (deleted ones are not listed), a page at a time. */
export function listEveryCustomer(pacer: RequestPacer, onPage: (customers: ListedCustomer[]) => Promise<void> | void) {
  return pageThrough(
    pacer,
    (startingAfter) =>
      getStripe().customers.list({ limit: PAGE_SIZE, ...(startingAfter ? { starting_after: startingAfter } : {}) }),
    (customers) => onPage(customers.map((customer) => ({ id: customer.id, metadata: customer.metadata ?? {} }))),
  );
}

/** Every subscription, whatever its status, a page at a time (items and prices come with each). */
export function listEverySubscription(
  pacer: RequestPacer,
  onPage: (subscriptions: ListedSubscription[]) => Promise<void> | void,
) {
  return pageThrough(
    pacer,
    (startingAfter) =>
      getStripe().subscriptions.list({
        status: "all",
        limit: PAGE_SIZE,
        ...(startingAfter ? { starting_after: startingAfter } : {}),
      }),
    (subscriptions) =>
      onPage(
        subscriptions.map((subscription) => ({
          id: subscription.id,
          status: subscription.status,
          created: subscription.created,
          customerId: idOf(subscription.customer),
          metadata: subscription.metadata ?? {},
          items: (subscription.items?.data ?? []).map((item) => ({
            priceId: item.price?.id ?? null,
            lookupKey: item.price?.lookup_key ?? null,
            productId: idOf(item.price?.product),
          })),
        })),
      ),
  );
}
