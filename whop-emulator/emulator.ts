// Local Whop emulator: a small Express app that speaks the part of Whop's REST API v1 Tierdesk uses
// (products, plans, memberships, checkout configurations), serves a hosted checkout and a membership
// manage page, and sends Standard Webhooks signed like Whop's. State is in memory.
//
//   const whop = await startWhopEmulator({ webhookUrl: "http://127.0.0.1:3000/api/whop/webhook" });
//   useWhopConnection({ mode: "emulator", apiKey: "whop_emulator", apiBase: whop.apiBase, webhookSecrets: [whop.webhookSecret] });
import { randomBytes } from "node:crypto";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import express, { type NextFunction, type Request, type Response } from "express";
import {
  Account,
  type DeliveryAttempt,
  type EventRecord,
  type MembershipStatus,
  type WhopEvent,
  WhopEmulatorError,
} from "./account.ts";
import { apiRouter, sendError } from "./api.ts";
import { pagesRouter } from "./pages.ts";
import { WebhookDispatcher } from "./webhooks.ts";

export interface WhopEmulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Interface to bind, default 127.0.0.1. */
  host?: string;
  /** The app's webhook endpoint; without one, events are recorded but not delivered. */
  webhookUrl?: string | null;
  /** The `ws_…` signing secret shared with the app; unset: a random one (read it from `emulator.webhookSecret`). */
  webhookSecret?: string;
  /** When set, the only API key accepted; otherwise any Bearer token works. */
  apiKey?: string | null;
  log?: (message: string) => void;
}

type Outcome<T extends { events: EventRecord[] }> = Omit<T, "events"> & { events: WhopEvent[] };

export interface WhopEmulator {
  /** http://127.0.0.1:PORT: the hosted pages. */
  readonly url: string;
  /** `${url}/api/v1`, for WHOP_API_BASE. */
  readonly apiBase: string;
  readonly webhookSecret: string;
  readonly companyId: string;
  /** Every event so far, oldest first, with its delivery attempts. */
  readonly events: EventRecord[];
  close(): Promise<void>;
  /** Forgets users, memberships, payments, checkouts, events and held webhooks. */
  reset(): void;
  /** Same as pressing "Pay" on a checkout configuration's page. */
  completeCheckout(
    checkoutConfigurationId: string,
    opts: { email: string },
  ): Promise<Outcome<ReturnType<Account["completeCheckout"]>>>;
  /** Buys a plan directly (its own purchase link: no Tierdesk metadata), as `email`. */
  purchase(
    planId: string,
    opts: { email: string; metadata?: Record<string, unknown> },
  ): Promise<Outcome<ReturnType<Account["purchase"]>>>;
  /** Moves a membership to a status with the event Whop sends for it. */
  setMembershipStatus(
    membershipId: string,
    status: MembershipStatus,
  ): Promise<Outcome<ReturnType<Account["setStatus"]>>>;
  /** The end of the period: renews and pays (`payment.succeeded`), or ends a membership set to cancel. */
  renewMembership(membershipId: string): Promise<Outcome<ReturnType<Account["renew"]>>>;
  /** Records an event around any data and (unless `deliver: false`) delivers it. */
  createEvent(type: string, data: object, opts?: { deliver?: boolean; timestamp?: string }): Promise<WhopEvent>;
  /** Sends an existing event again, `times` times, one after another or all at once. Ignores hold. */
  deliver(eventId: string, opts?: { times?: number; concurrent?: boolean }): Promise<DeliveryAttempt[]>;
  /** Sends existing events one after another in exactly this order. Ignores hold. */
  deliverInOrder(eventIds: string[]): Promise<DeliveryAttempt[]>;
  holdWebhooks(): void;
  releaseWebhooks(opts?: { order?: "created" | "reverse" }): Promise<DeliveryAttempt[]>;
  /** Resolves when all automatic deliveries queued so far have been attempted. */
  settle(): Promise<void>;
}

export async function startWhopEmulator(options: WhopEmulatorOptions = {}): Promise<WhopEmulator> {
  const log = options.log ?? (() => {});
  // Never a published constant: whoever knows the secret can forge the app's billing events.
  const webhookSecret = options.webhookSecret ?? `ws_${randomBytes(32).toString("hex")}`;
  const dispatcher = new WebhookDispatcher(options.webhookUrl ?? null, webhookSecret, log);
  let url = "";
  const account = new Account(() => url);
  const deliver = (records: EventRecord[]) => dispatcher.enqueue(records);
  const delivered = async <T extends { events: EventRecord[] }>(result: T): Promise<Outcome<T>> => {
    await deliver(result.events);
    return { ...result, events: result.events.map((record) => record.event) };
  };
  const requireEvent = (id: string) => account.event(id) ?? controlError(404, `No such event: ${id}`);
  const requireWebhookUrl = () => dispatcher.url ?? controlError(409, "No webhook URL is configured");

  const emulator: WhopEmulator = {
    get url() {
      return url;
    },
    get apiBase() {
      return `${url}/api/v1`;
    },
    webhookSecret,
    companyId: account.company.id,
    get events() {
      return [...account.events];
    },
    close: () =>
      new Promise((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
    reset() {
      account.reset();
      dispatcher.reset();
    },
    completeCheckout: async (id, { email }) => delivered(account.completeCheckout(id, { email })),
    purchase: async (planId, { email, metadata }) => delivered(account.purchase(planId, { email, metadata })),
    setMembershipStatus: async (id, status) => delivered(account.setStatus(id, status)),
    renewMembership: async (id) => delivered(account.renew(id)),
    async createEvent(type, data, { deliver: send = true, timestamp } = {}) {
      const record = account.createEvent(type, data, { timestamp });
      if (send) await deliver([record]);
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
    holdWebhooks: () => dispatcher.hold(),
    releaseWebhooks: ({ order = "created" } = {}) => dispatcher.release(order),
    settle: () => dispatcher.settle(),
  };

  const app = express();
  app.disable("x-powered-by");
  app.disable("etag");
  app.use(
    "/api/v1",
    apiRouter({ account, apiKey: options.apiKey ?? null, deliverLater: (records) => void deliver(records) }),
  );
  app.use("/_emulator", controlRouter(emulator));
  app.use(pagesRouter(account, deliver));
  const server = await new Promise<Server>((resolve, reject) => {
    const listening = app.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve(listening));
    listening.once("error", reject);
  });
  const { address, port } = server.address() as AddressInfo;
  const host = address === "0.0.0.0" || address === "::" ? "127.0.0.1" : address;
  url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  log(`Whop emulator listening on ${url}`);
  return emulator;
}

function controlError(status: number, message: string): never {
  throw new WhopEmulatorError(status, status === 404 ? "not_found" : "invalid_request_error", message);
}

/** `/_emulator/*`: JSON endpoints mirroring the handle, for tests in another process (Playwright) or curl. */
function controlRouter(emulator: WhopEmulator) {
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
      data: emulator.events.filter((record) => !req.query.type || record.event.type === req.query.type),
    })),
  );
  router.post(
    "/events/:id/deliver",
    route(async (req) => {
      const { times, concurrent } = body(req);
      if (times !== undefined && typeof times !== "number") controlError(400, "`times` must be a number");
      if (concurrent !== undefined && typeof concurrent !== "boolean")
        controlError(400, "`concurrent` must be a boolean");
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
    "/memberships/:id/status",
    route((req) => {
      const status = body(req).status;
      if (typeof status !== "string") controlError(400, "`status` must be a membership status");
      return emulator.setMembershipStatus(req.params.id ?? "", status as MembershipStatus);
    }),
  );
  router.post(
    "/memberships/:id/renew",
    route((req) => emulator.renewMembership(req.params.id ?? "")),
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
      const order = body(req).order ?? "created";
      if (order !== "created" && order !== "reverse") controlError(400, "`order` must be 'created' or 'reverse'");
      return { deliveries: await emulator.releaseWebhooks({ order }) };
    }),
  );
  router.post(
    "/reset",
    route(() => {
      emulator.reset();
      return { reset: true };
    }),
  );
  router.use((req) => controlError(404, `Unknown control endpoint: ${req.method} ${req.originalUrl}`));
  router.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => sendError(error, res));
  return router;
}
