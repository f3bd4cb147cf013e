// Local Stripe emulator: a small Express app that speaks the part of Stripe's API Tierdesk uses,
// serves hosted Checkout / Customer Portal pages and sends signed webhooks. State is in memory, and
// also in a JSON file when `stateFile` is given (the quick start), so a restart forgets nothing.
//
//   const emulator = await startStripeEmulator({ webhookUrl: "http://127.0.0.1:3000/api/stripe/webhook" });
//   process.env.STRIPE_API_BASE = emulator.url; // the app's Stripe client then talks to it
import { randomBytes } from "node:crypto";
import { controlRouter } from "../emulator-kit/control-router.ts";
import { serveEmulator } from "../emulator-kit/server.ts";
import { webhookControls, type WebhookControls, withWebhookControls } from "../emulator-kit/webhook-controls.ts";
import { WebhookSender } from "../emulator-kit/webhook-sender.ts";
import { Account } from "./account.ts";
import { type ApiRequestRecord, apiRouter } from "./api.ts";
import type { CheckoutSessions } from "./checkout.ts";
import { sendError, StripeApiError } from "./errors.ts";
import { pagesRouter } from "./pages.ts";
import { parseRateLimit, rateLimiter } from "./rate-limit.ts";
import { StateFile } from "./state.ts";
import type { Subscriptions } from "./subscriptions.ts";
import { newId } from "./objects.ts";
import { buildItem, buildSubscription } from "./subscription-objects.ts";
import type { Customer, EmulatorEvent, EventRecord, Metadata, Subscription } from "./types.ts";
import { type DeliveryOrder, stripeSigner } from "./webhooks.ts";

export type * from "./types.ts";
export type { DeliveryOrder } from "./webhooks.ts";

export interface StripeEmulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Interface to bind, default 127.0.0.1. */
  host?: string;
  /** The app's webhook endpoint; without one, events are recorded but not delivered. */
  webhookUrl?: string | null;
  /** Signing secret shared with the app; unset: a random one (read it from `emulator.webhookSecret`). */
  webhookSecret?: string;
  /**
   * A JSON file holding the account's state (customers, subscriptions, sessions, events): loaded at
   * start, written after every change. Unset (tests): memory only.
   */
  stateFile?: string | null;
  /**
   * The order each operation's events are delivered in (a checkout's whole sequence): `created`
   * (default), `reverse`, or `shuffle:<seed>` (the same seed, the same order). Stripe promises none.
   */
  deliveryOrder?: DeliveryOrder;
  /**
   * At most this many /v1 requests per second (a sliding second); more are answered 429 with Stripe's
   * `rate_limit` error, so a client's back-off can be tested. Unset or 0: no limit.
   */
  rateLimitPerSecond?: number | null;
  log?: (message: string) => void;
}

type EventOptions = { created?: number; deliver?: boolean; previousAttributes?: Record<string, unknown> };
/** An operation's result, with the events it emitted (not their delivery records). */
type Outcome<T extends { events: EventRecord[] }> = Omit<T, "events"> & { events: EmulatorEvent[] };

export interface StripeEmulator extends WebhookControls<EmulatorEvent> {
  /** http://127.0.0.1:PORT, for STRIPE_API_BASE. */
  readonly url: string;
  readonly webhookSecret: string;
  close(): Promise<void>;
  /** Forgets customers, subscriptions, sessions, events, idempotency keys and held webhooks. */
  reset(): void;
  /** Records an event around any object and (unless `deliver: false`) delivers it, resolving after delivery. */
  createEvent(type: string, object: object, opts?: EventOptions): Promise<EmulatorEvent>;
  /** Same as pressing "Pay" on the hosted checkout page. */
  completeCheckout(
    sessionId: string,
    opts?: { email?: string },
  ): Promise<Outcome<ReturnType<CheckoutSessions["complete"]>>>;
  /** A failed renewal: `invoice.payment_failed`, then `customer.subscription.updated` (→ past_due). */
  failPayment(subscriptionId: string): Promise<Outcome<ReturnType<Subscriptions["failPayment"]>>>;
  /** The end of the current period: renews and pays, or ends a subscription set to cancel at period end. */
  renewSubscription(subscriptionId: string): Promise<Outcome<ReturnType<Subscriptions["renew"]>>>;
  /**
   * A customer with one subscription to `priceId` (active unless `status` says), made at once: no
   * checkout, no invoice, no events. For benches that need thousands of subscribers quickly.
   */
  seedSubscriber(input: SeedSubscriber): { customer: Customer; subscription: Subscription };
  /** Requests per second allowed on /v1 (null: no limit); settable at any time. */
  rateLimitPerSecond: number | null;
  /** How many /v1 requests were answered 429 by the rate limit. */
  readonly rateLimited: number;
  /** Every /v1 request answered (newest last, at most 100,000), for counting what a client asked. */
  readonly apiRequests: readonly ApiRequestRecord[];
}

type SeedSubscriber = {
  email: string;
  priceId: string;
  status?: Subscription["status"];
  customerMetadata?: Metadata;
  subscriptionMetadata?: Metadata;
};

export async function startStripeEmulator(options: StripeEmulatorOptions = {}): Promise<StripeEmulator> {
  const log = options.log ?? (() => {});
  // Never a published constant: whoever knows the secret can forge the app's billing events.
  const webhookSecret = options.webhookSecret ?? `whsec_${randomBytes(32).toString("hex")}`;
  let stateFile: StateFile | undefined;
  const saveState = () => stateFile?.scheduleSave();
  const sender = new WebhookSender<EmulatorEvent>({
    url: options.webhookUrl ?? null,
    sign: stripeSigner(webhookSecret),
    log,
    fail: controlError,
    order: options.deliveryOrder,
    onAttempt: (record, attempt) => {
      if (attempt.ok) record.event.pending_webhooks = 0;
      saveState();
    },
  });
  const account = new Account(() => (sender.url ? 1 : 0), saveState);
  if (options.stateFile) {
    stateFile = new StateFile(options.stateFile, () => account.state(), log);
    const saved = stateFile.load();
    if (saved) {
      account.restore(saved);
      log(
        `restored ${saved.customers.length} customer(s) and ${saved.subscriptions.length} subscription(s) from ${options.stateFile}`,
      );
    }
  }
  const deliver = (records: EventRecord[]) => sender.enqueue(records);
  /** Control actions wait for their webhooks, like the hosted pages. */
  const delivered = async <T extends { events: EventRecord[] }>(result: T): Promise<Outcome<T>> => {
    await deliver(result.events);
    return { ...result, events: result.events.map((r) => r.event) };
  };
  let url = "";

  const rateLimit = rateLimiter(options.rateLimitPerSecond);
  const api = apiRouter({
    account,
    publicUrl: () => url,
    deliverLater: (records) => void deliver(records),
    rateLimit,
  });
  const controls = webhookControls(
    sender,
    { events: () => account.events.records, find: (id) => account.events.find(id) },
    (id) => controlError(404, `No such event: '${id}'`),
  );
  const emulator = withWebhookControls<StripeEmulator>(
    {
      get url() {
        return url;
      },
      webhookSecret,
      get rateLimitPerSecond() {
        return rateLimit.perSecond;
      },
      set rateLimitPerSecond(value: number | null) {
        rateLimit.perSecond = parseRateLimit(value);
      },
      get rateLimited() {
        return rateLimit.refused;
      },
      get apiRequests() {
        return api.requests;
      },
      close: async () => {
        stateFile?.close();
        await listening.close();
      },
      reset() {
        account.reset();
        api.reset();
        sender.reset();
        rateLimit.reset();
        rateLimit.perSecond = options.rateLimitPerSecond || null;
      },
      async createEvent(type: string, object: object, opts: EventOptions = {}) {
        const record = account.events.create(type, object, opts);
        if (opts.deliver ?? true) await deliver([record]);
        return record.event;
      },
      completeCheckout: async (sessionId: string, opts: { email?: string } = {}) =>
        delivered(account.checkoutSessions.complete(sessionId, opts)),
      failPayment: async (subscriptionId: string) => delivered(account.subscriptions.failPayment(subscriptionId)),
      renewSubscription: async (subscriptionId: string) => delivered(account.subscriptions.renew(subscriptionId)),
      seedSubscriber(input: SeedSubscriber) {
        const price = account.catalog.prices.get(input.priceId);
        if (!price) throw controlError(404, `No such price: '${input.priceId}'`);
        const customer = account.customers.create({ email: input.email, metadata: input.customerMetadata });
        const id = newId("sub");
        const now = account.now();
        const subscription = buildSubscription(
          id,
          customer,
          [buildItem(id, price, 1, now)],
          { ...input.subscriptionMetadata },
          now,
        );
        subscription.status = input.status ?? "active";
        account.subscriptions.add(subscription);
        account.changed();
        return { customer, subscription };
      },
    },
    controls,
  );

  const control = controlRouter({ emulator, fail: controlError, sendError }, (add) => {
    add.post("/subscriptions/:id/fail_payment", (req) => emulator.failPayment(req.params.id ?? ""));
    add.post("/subscriptions/:id/renew", (req) => emulator.renewSubscription(req.params.id ?? ""));
    add.get("/rate-limit", () => ({ per_second: emulator.rateLimitPerSecond, refused: emulator.rateLimited }));
    add.post("/rate-limit", (_req, { per_second: perSecond }) => {
      emulator.rateLimitPerSecond = parseRateLimit(perSecond);
      return { per_second: emulator.rateLimitPerSecond, refused: emulator.rateLimited };
    });
  });
  const routes = { api: ["/v1", api.router] as const, control, pages: pagesRouter(account, deliver) };
  const listening = await serveEmulator("Stripe emulator", routes, { ...options, log });
  url = listening.url;
  return emulator;
}

function controlError(status: number, message: string): never {
  throw new StripeApiError(status, "invalid_request_error", message);
}
