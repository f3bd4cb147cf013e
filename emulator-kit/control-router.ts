// `/_emulator/*`: JSON endpoints mirroring an emulator's handle, for tests in another process
// (Playwright) or curl. The webhook controls are the same for every provider; each adds its own
// billing events (a failed payment, a renewal, a membership's status) through `routes`.
import express, { type NextFunction, type Request, type Response } from "express";
import { parseDeliveryOrder } from "./delivery-order.ts";
import type { WebhookControls } from "./webhook-controls.ts";
import type { WebhookEvent } from "./webhook-sender.ts";

const ORDER_MESSAGE = "`order` must be 'created', 'reverse' or 'shuffle:<seed>' (a whole number)";

type Body = Record<string, unknown>;
type Handler = (req: Request, body: Body) => Promise<object> | object;

/** Adds a provider's own control endpoint; the handler's result is the JSON answer. */
export interface ControlRoutes {
  get(path: string, handler: Handler): void;
  post(path: string, handler: Handler): void;
}

export interface ControlRouterOptions<Event extends WebhookEvent> {
  emulator: WebhookControls<Event> & { reset(): void };
  /** Throws the provider's error (HTTP status, message). */
  fail: (status: number, message: string) => never;
  /** Answers an error in the provider's envelope. */
  sendError: (error: unknown, res: Response) => void;
}

/** The shared endpoints, then the provider's own (`routes`). */
export function controlRouter<Event extends WebhookEvent>(
  options: ControlRouterOptions<Event>,
  routes: (add: ControlRoutes) => void,
) {
  const { emulator, sendError } = options;
  // Annotated, so that TypeScript narrows after a call that throws.
  const fail: (status: number, message: string) => never = options.fail;
  const router = express.Router();
  router.use(express.json());
  const body = (req: Request): Body => {
    const value: unknown = req.body;
    return typeof value === "object" && value !== null && !Array.isArray(value) ? { ...value } : {};
  };
  const route = (handler: Handler) => (req: Request, res: Response, next: NextFunction) =>
    void Promise.resolve()
      .then(() => handler(req, body(req)))
      .then((result) => res.json(result), next);
  const add: ControlRoutes = {
    get: (path, handler) => void router.get(path, route(handler)),
    post: (path, handler) => void router.post(path, route(handler)),
  };

  add.get("/events", (req) => ({
    object: "list",
    data: emulator.events.filter((record) => !req.query.type || record.event.type === req.query.type),
  }));
  add.post("/events/:id/deliver", async (req, { times, concurrent }) => {
    if (times !== undefined && typeof times !== "number") fail(400, "`times` must be a number");
    if (concurrent !== undefined && typeof concurrent !== "boolean") fail(400, "`concurrent` must be a boolean");
    return { deliveries: await emulator.deliver(req.params.id ?? "", { times, concurrent }) };
  });
  add.post("/deliver", async (_req, { event_ids: ids }) => {
    if (!Array.isArray(ids) || !ids.every((id): id is string => typeof id === "string")) {
      fail(400, "`event_ids` must be a list of event ids");
    }
    return { deliveries: await emulator.deliverInOrder(ids) };
  });
  add.post("/webhooks/hold", () => {
    emulator.holdWebhooks();
    return { held: true };
  });
  add.post("/webhooks/release", async (_req, { order }) => ({
    deliveries: await emulator.releaseWebhooks({
      order: parseDeliveryOrder(order ?? "created") ?? fail(400, ORDER_MESSAGE),
    }),
  }));
  add.get("/webhooks/order", () => ({ order: emulator.deliveryOrder }));
  add.post("/webhooks/order", (_req, { order }) => {
    emulator.deliveryOrder = parseDeliveryOrder(order) ?? fail(400, ORDER_MESSAGE);
    return { order: emulator.deliveryOrder };
  });
  add.post("/reset", () => {
    emulator.reset();
    return { reset: true };
  });
  routes(add);
  router.use((req) => fail(404, `Unknown control endpoint: ${req.method} ${req.originalUrl}`));
  router.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => sendError(error, res));
  return router;
}
