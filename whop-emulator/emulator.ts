// Local Whop emulator: a small Express app that speaks the part of Whop's REST API v1 Tierdesk uses
// (products, plans, memberships, checkout configurations), serves a hosted checkout and a membership
// manage page, and sends Standard Webhooks signed like Whop's. State is in memory.
//
//   const whop = await startWhopEmulator({ webhookUrl: "http://127.0.0.1:3000/api/whop/webhook" });
//   useWhopConnection({ mode: "emulator", apiKey: "whop_emulator", apiBase: whop.apiBase, webhookSecrets: [whop.webhookSecret] });
import { randomBytes } from "node:crypto";
import { controlRouter } from "../emulator-kit/control-router.ts";
import { serveEmulator } from "../emulator-kit/server.ts";
import { webhookControls, type WebhookControls, withWebhookControls } from "../emulator-kit/webhook-controls.ts";
import { WebhookSender } from "../emulator-kit/webhook-sender.ts";
import { Account } from "./account.ts";
import { apiRouter } from "./api.ts";
import type { CheckoutConfigurations } from "./checkout.ts";
import { sendError, WhopEmulatorError } from "./errors.ts";
import type { Memberships } from "./memberships.ts";
import { pagesRouter } from "./pages.ts";
import type { EventRecord, MembershipStatus, WhopEvent } from "./types.ts";
import { whopSigner } from "./webhooks.ts";

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

export interface WhopEmulator extends WebhookControls<WhopEvent> {
  /** http://127.0.0.1:PORT: the hosted pages. */
  readonly url: string;
  /** `${url}/api/v1`, for WHOP_API_BASE. */
  readonly apiBase: string;
  readonly webhookSecret: string;
  readonly companyId: string;
  close(): Promise<void>;
  /** Forgets users, memberships, payments, checkouts, events and held webhooks. */
  reset(): void;
  /** Same as pressing "Pay" on a checkout configuration's page. */
  completeCheckout(
    checkoutConfigurationId: string,
    opts: { email: string },
  ): Promise<Outcome<ReturnType<CheckoutConfigurations["complete"]>>>;
  /** Buys a plan directly (its own purchase link: no Tierdesk metadata), as `email`. */
  purchase(
    planId: string,
    opts: { email: string; metadata?: Record<string, unknown> },
  ): Promise<Outcome<ReturnType<Memberships["purchase"]>>>;
  /** Moves a membership to a status with the event Whop sends for it. */
  setMembershipStatus(
    membershipId: string,
    status: MembershipStatus,
  ): Promise<Outcome<ReturnType<Memberships["setStatus"]>>>;
  /** The end of the period: renews and pays (`payment.succeeded`), or ends a membership set to cancel. */
  renewMembership(membershipId: string): Promise<Outcome<ReturnType<Memberships["renew"]>>>;
  /** Records an event around any data and (unless `deliver: false`) delivers it. */
  createEvent(type: string, data: object, opts?: { deliver?: boolean; timestamp?: string }): Promise<WhopEvent>;
}

export async function startWhopEmulator(options: WhopEmulatorOptions = {}): Promise<WhopEmulator> {
  const log = options.log ?? (() => {});
  // Never a published constant: whoever knows the secret can forge the app's billing events.
  const webhookSecret = options.webhookSecret ?? `ws_${randomBytes(32).toString("hex")}`;
  const sender = new WebhookSender<WhopEvent>({
    url: options.webhookUrl ?? null,
    sign: whopSigner(webhookSecret),
    log,
    fail: controlError,
  });
  let url = "";
  const account = new Account(() => url);
  const deliver = (records: EventRecord[]) => sender.enqueue(records);
  const delivered = async <T extends { events: EventRecord[] }>(result: T): Promise<Outcome<T>> => {
    await deliver(result.events);
    return { ...result, events: result.events.map((record) => record.event) };
  };
  const controls = webhookControls(
    sender,
    { events: () => account.events.records, find: (id) => account.events.find(id) },
    (id) => controlError(404, `No such event: ${id}`),
  );
  const emulator = withWebhookControls<WhopEmulator>(
    {
      get url() {
        return url;
      },
      get apiBase() {
        return `${url}/api/v1`;
      },
      webhookSecret,
      companyId: account.company.id,
      close: () => listening.close(),
      reset() {
        account.reset();
        sender.reset();
      },
      completeCheckout: async (id: string, { email }: { email: string }) =>
        delivered(account.checkoutConfigurations.complete(id, { email })),
      purchase: async (planId: string, { email, metadata }: { email: string; metadata?: Record<string, unknown> }) =>
        delivered(account.memberships.purchase(planId, { email, metadata })),
      setMembershipStatus: async (id: string, status: MembershipStatus) =>
        delivered(account.memberships.setStatus(id, status)),
      renewMembership: async (id: string) => delivered(account.memberships.renew(id)),
      async createEvent(
        type: string,
        data: object,
        { deliver: send = true, timestamp }: { deliver?: boolean; timestamp?: string } = {},
      ) {
        const record = account.events.create(type, data, { timestamp });
        if (send) await deliver([record]);
        return record.event;
      },
    },
    controls,
  );

  const api = apiRouter({ account, apiKey: options.apiKey ?? null, deliverLater: (records) => void deliver(records) });
  const control = controlRouter({ emulator, fail: controlError, sendError }, (add) => {
    add.post("/memberships/:id/status", (req, { status }) => {
      if (typeof status !== "string") controlError(400, "`status` must be a membership status");
      return emulator.setMembershipStatus(req.params.id ?? "", status as MembershipStatus);
    });
    add.post("/memberships/:id/renew", (req) => emulator.renewMembership(req.params.id ?? ""));
  });
  const routes = { api: ["/api/v1", api] as const, control, pages: pagesRouter(account, deliver) };
  const listening = await serveEmulator("Whop emulator", routes, { ...options, log });
  url = listening.url;
  return emulator;
}

function controlError(status: number, message: string): never {
  throw new WhopEmulatorError(status, status === 404 ? "not_found" : "invalid_request_error", message);
}
