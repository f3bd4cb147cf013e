// The webhook half of an emulator's handle, the same for every provider: the events so far, sending
// them again or in a chosen order, holding and releasing automatic deliveries, the delivery order.
// Tests drive it in-process; `/_emulator/*` (control-router.ts) mirrors it over HTTP.
import type { DeliveryOrder } from "./delivery-order.ts";
import type { DeliveryAttempt, EventRecord, WebhookEvent, WebhookSender } from "./webhook-sender.ts";

export interface WebhookControls<Event extends WebhookEvent> {
  /** Every event so far, oldest first, with its delivery attempts. */
  readonly events: EventRecord<Event>[];
  /** Sends an existing event again, `times` times, one after another or all at once. Ignores hold. */
  deliver(eventId: string, opts?: { times?: number; concurrent?: boolean }): Promise<DeliveryAttempt[]>;
  /** Sends existing events one after another in exactly this order. Ignores hold. */
  deliverInOrder(eventIds: string[]): Promise<DeliveryAttempt[]>;
  /** Parks automatic deliveries (events are still recorded). */
  holdWebhooks(): void;
  /** Stops holding and sends the parked events, oldest first, reversed or shuffled. */
  releaseWebhooks(opts?: { order?: DeliveryOrder }): Promise<DeliveryAttempt[]>;
  /** The order each operation's events are delivered in from now on (until `reset()`). */
  deliveryOrder: DeliveryOrder;
  /** Resolves when all automatic deliveries queued so far have been attempted. */
  settle(): Promise<void>;
}

/** The controls over a sender and an emulator's event log; `noSuchEvent` throws the provider's 404. */
export function webhookControls<Event extends WebhookEvent>(
  sender: WebhookSender<Event>,
  log: { events(): EventRecord<Event>[]; find(id: string): EventRecord<Event> | undefined },
  noSuchEvent: (id: string) => never,
): WebhookControls<Event> {
  const requireEvent = (id: string) => log.find(id) ?? noSuchEvent(id);
  return {
    get events() {
      return [...log.events()];
    },
    deliver: async (eventId, opts) => sender.resend(requireEvent(eventId), opts),
    // All ids first, so a typo sends nothing.
    deliverInOrder: async (eventIds) => sender.sendInOrder(eventIds.map(requireEvent)),
    holdWebhooks: () => sender.hold(),
    releaseWebhooks: ({ order = "created" } = {}) => sender.release(order),
    get deliveryOrder() {
      return sender.order;
    },
    set deliveryOrder(order) {
      sender.order = order;
    },
    settle: () => sender.settle(),
  };
}

type ControlKey = keyof WebhookControls<WebhookEvent>;

/**
 * An emulator's handle: its own members plus the shared controls, accessors kept live (a spread
 * would copy their current values once).
 */
export function withWebhookControls<Handle extends WebhookControls<WebhookEvent>>(
  own: Omit<Handle, ControlKey>,
  controls: Pick<Handle, ControlKey>,
): Handle {
  return Object.defineProperties(own, Object.getOwnPropertyDescriptors(controls)) as Handle;
}
