// Local Stripe emulator: a small Express app that speaks the part of Stripe's API Tierdesk uses,
// serves hosted Checkout / Customer Portal pages and sends signed webhooks. State is in memory, and
// also in a JSON file when `stateFile` is given (the quick start), so a restart forgets nothing.
//
//   const emulator = await startStripeEmulator({ webhookUrl: "http://127.0.0.1:3000/api/stripe/webhook" });
//   process.env.STRIPE_API_BASE = emulator.url; // the app's Stripe client then talks to it
import { randomBytes } from "node:crypto";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import express, { type NextFunction, type Request, type Response } from "express";
import { Account } from "./account.ts";
import { apiRouter } from "./api.ts";
import { sendError, StripeApiError } from "./errors.ts";
import { pagesRouter } from "./pages.ts";
import { StateFile } from "./state.ts";
import type { DeliveryAttempt, EmulatorEvent, EventRecord } from "./types.ts";
import { type DeliveryOrder, parseDeliveryOrder, WebhookDispatcher } from "./webhooks.ts";

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
  log?: (message: string) => void;
}

type EventOptions = { created?: number; deliver?: boolean; previousAttributes?: Record<string, unknown> };
/** An operation's result, with the events it emitted (not their delivery records). */
type Outcome<T extends { events: EventRecord[] }> = Omit<T, "events"> & { events: EmulatorEvent[] };

export interface StripeEmulator {
  /** http://127.0.0.1:PORT, for STRIPE_API_BASE. */
  readonly url: string;
  readonly webhookSecret: string;
  /** Every event so far, oldest first, with its delivery attempts. */
  readonly events: EventRecord[];
  close(): Promise<void>;
  /** Forgets customers, subscriptions, sessions, events, idempotency keys and held webhooks. */
  reset(): void;
  /** Records an event around any object and (unless `deliver: false`) delivers it, resolving after delivery. */
  createEvent(type: string, object: object, opts?: EventOptions): Promise<EmulatorEvent>;
  /** Sends an existing event again, `times` times, one after another or all at once. Ignores hold. */
  deliver(eventId: string, opts?: { times?: number; concurrent?: boolean }): Promise<DeliveryAttempt[]>;
  /** Sends existing events one after another in exactly this order. Ignores hold. */
  deliverInOrder(eventIds: string[]): Promise<DeliveryAttempt[]>;
  /** Same as pressing "Pay" on the hosted checkout page. */
  completeCheckout(
    sessionId: string,
    opts?: { email?: string },
  ): Promise<Outcome<ReturnType<Account["completeCheckout"]>>>;
  /** A failed renewal: `invoice.payment_failed`, then `customer.subscription.updated` (→ past_due). */
  failPayment(subscriptionId: string): Promise<Outcome<ReturnType<Account["failPayment"]>>>;
  /** The end of the current period: renews and pays, or ends a subscription set to cancel at period end. */
  renewSubscription(subscriptionId: string): Promise<Outcome<ReturnType<Account["renewSubscription"]>>>;
  /** Parks automatic deliveries (events are still recorded). */
  holdWebhooks(): void;
  /** Stops holding and sends the parked events, oldest first, reversed or shuffled. */
  releaseWebhooks(opts?: { order?: DeliveryOrder }): Promise<DeliveryAttempt[]>;
  /** The order each operation's events are delivered in from now on (until `reset()`). */
  deliveryOrder: DeliveryOrder;
  /** Resolves when all automatic deliveries queued so far have been attempted. */
  settle(): Promise<void>;
}

export async function startStripeEmulator(options: StripeEmulatorOptions = {}): Promise<StripeEmulator> {
  const log = options.log ?? (() => {});
  // Never a published constant: whoever knows the secret can forge the app's billing events.
  const webhookSecret = options.webhookSecret ?? `whsec_${randomBytes(32).toString("hex")}`;
  let stateFile: StateFile | undefined;
  const saveState = () => stateFile?.scheduleSave();
  const dispatcher = new WebhookDispatcher(options.webhookUrl ?? null, webhookSecret, log, saveState);
  const initialOrder = options.deliveryOrder ?? "created";
  if (!parseDeliveryOrder(initialOrder)) throw new Error(`Unknown delivery order: ${String(initialOrder)}`);
  dispatcher.order = initialOrder;
  const account = new Account(() => (dispatcher.url ? 1 : 0), saveState);
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
  const deliver = (records: EventRecord[]) => dispatcher.enqueue(records);
  /** Control actions wait for their webhooks, like the hosted pages. */
  const delivered = async <T extends { events: EventRecord[] }>(result: T): Promise<Outcome<T>> => {
    await deliver(result.events);
    return { ...result, events: result.events.map((r) => r.event) };
  };
  let url = "";

  const requireEvent = (id: string) => account.event(id) ?? controlError(404, `No such event: '${id}'`);
  const requireWebhookUrl = () => dispatcher.url ?? controlError(409, "No webhook URL is configured");

  const api = apiRouter({ account, publicUrl: () => url, deliverLater: (records) => void deliver(records) });
  const emulator: StripeEmulator = {
    get url() {
      return url;
    },
    webhookSecret,
    get events() {
      return [...account.events];
    },
    close: () =>
      new Promise((resolve, reject) => {
        stateFile?.close();
        server.close((error) => (error ? reject(error) : resolve()));
        // Keep-alive sockets from the SDK's agent would otherwise hold close() open.
        server.closeAllConnections();
      }),
    reset() {
      account.reset();
      api.reset();
      dispatcher.reset(initialOrder);
    },
    async createEvent(type, object, opts = {}) {
      const record = account.createEvent(type, object, opts);
      if (opts.deliver ?? true) await deliver([record]);
      return record.event;
    },
    async deliver(eventId, { times = 1, concurrent = false } = {}) {
      const record = requireEvent(eventId);
      if (!Number.isInteger(times) || times < 1 || times > 100) controlError(400, "`times` must be between 1 and 100");
      requireWebhookUrl();
      if (concurrent) return Promise.all(Array.from({ length: times }, () => dispatcher.send(record)));
      const attempts: DeliveryAttempt[] = [];
      for (let i = 0; i < times; i++) attempts.push(await dispatcher.send(record));
      return attempts;
    },
    async deliverInOrder(eventIds) {
      const records = eventIds.map(requireEvent); // all ids first, so a typo sends nothing
      requireWebhookUrl();
      const attempts: DeliveryAttempt[] = [];
      for (const record of records) attempts.push(await dispatcher.send(record));
      return attempts;
    },
    completeCheckout: async (sessionId, opts = {}) => delivered(account.completeCheckout(sessionId, opts)),
    failPayment: async (subscriptionId) => delivered(account.failPayment(subscriptionId)),
    renewSubscription: async (subscriptionId) => delivered(account.renewSubscription(subscriptionId)),
    holdWebhooks: () => dispatcher.hold(),
    releaseWebhooks: ({ order = "created" } = {}) => dispatcher.release(order),
    get deliveryOrder() {
      return dispatcher.order;
    },
    set deliveryOrder(order) {
      dispatcher.order = parseDeliveryOrder(order) ?? controlError(400, `Unknown delivery order: ${String(order)}`);
    },
    settle: () => dispatcher.settle(),
  };

  const app = express();
  app.disable("x-powered-by");
  app.disable("etag");
  app.use("/v1", api.router);
  app.use("/_emulator", controlRouter(emulator));
  app.use(pagesRouter(account, deliver));
  const server = await new Promise<Server>((resolve, reject) => {
    const listening = app.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve(listening));
    listening.once("error", reject);
  });
  const { address, port } = server.address() as AddressInfo;
  // A wildcard bind is reachable on loopback; that is what clients should use.
  const host = address === "0.0.0.0" || address === "::" ? "127.0.0.1" : address;
  url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  log(`Stripe emulator listening on ${url}`);
  return emulator;
}

const ORDER_MESSAGE = "`order` must be 'created', 'reverse' or 'shuffle:<seed>' (a whole number)";

function controlError(status: number, message: string): never {
  throw new StripeApiError(status, "invalid_request_error", message);
}

/** `/_emulator/*`: JSON endpoints mirroring the handle, for tests in another process (Playwright) or curl. */
function controlRouter(emulator: StripeEmulator) {
  const router = express.Router();
  router.use(express.json());
  const body = (req: Request): Record<string, unknown> => {
    const value: unknown = req.body;
    return typeof value === "object" && value !== null && !Array.isArray(value) ? { ...value } : {};
  };
  const route =
    (handler: (req: Request) => Promise<object> | object) => (req: Request, res: Response, next: NextFunction) =>
      void Promise.resolve()
        .then(() => handler(req))
        .then((result) => res.json(result), next);

  router.get(
    "/events",
    route((req) => ({
      object: "list",
      data: emulator.events.filter((r) => !req.query.type || r.event.type === req.query.type),
    })),
  );
  router.post(
    "/events/:id/deliver",
    route(async (req) => {
      const { times, concurrent } = body(req);
      if (times !== undefined && typeof times !== "number") controlError(400, "`times` must be a number");
      if (concurrent !== undefined && typeof concurrent !== "boolean") {
        controlError(400, "`concurrent` must be a boolean");
      }
      return { deliveries: await emulator.deliver(req.params.id ?? "", { times, concurrent }) };
    }),
  );
  router.post(
    "/deliver",
    route(async (req) => {
      const ids = body(req).event_ids;
      if (!Array.isArray(ids) || !ids.every((id): id is string => typeof id === "string")) {
        controlError(400, "`event_ids` must be a list of event ids");
      }
      return { deliveries: await emulator.deliverInOrder(ids) };
    }),
  );
  router.post(
    "/webhooks/hold",
    route(() => {
      emulator.holdWebhooks();
      return { held: true };
    }),
  );
  router.post(
    "/webhooks/release",
    route(async (req) => {
      const order = parseDeliveryOrder(body(req).order ?? "created") ?? controlError(400, ORDER_MESSAGE);
      return { deliveries: await emulator.releaseWebhooks({ order }) };
    }),
  );
  router.get(
    "/webhooks/order",
    route(() => ({ order: emulator.deliveryOrder })),
  );
  router.post(
    "/webhooks/order",
    route((req) => {
      emulator.deliveryOrder = parseDeliveryOrder(body(req).order) ?? controlError(400, ORDER_MESSAGE);
      return { order: emulator.deliveryOrder };
    }),
  );
  router.post(
    "/subscriptions/:id/fail_payment",
    route((req) => emulator.failPayment(req.params.id ?? "")),
  );
  router.post(
    "/subscriptions/:id/renew",
    route((req) => emulator.renewSubscription(req.params.id ?? "")),
  );
  router.use((req) => controlError(404, `Unknown control endpoint: ${req.method} ${req.originalUrl}`));
  router.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => sendError(error, res));
  return router;
}
