// Webhooks signed as Stripe signs them (`Stripe-Signature`, by the SDK's own test helper), for the
// shared sender (emulator-kit/webhook-sender.ts), which queues, holds, orders and records them.
import Stripe from "stripe";
import type { WebhookSigner } from "../emulator-kit/webhook-sender.ts";
import type { EmulatorEvent } from "./types.ts";

export { type DeliveryOrder, inDeliveryOrder } from "../emulator-kit/delivery-order.ts";

/** One delivery of an event as Stripe sends it: pretty-printed JSON, signed with the endpoint's secret. */
export const stripeSigner =
  (secret: string): WebhookSigner<EmulatorEvent> =>
  (event) => {
    const body = JSON.stringify(event, null, 2);
    const timestamp = Math.floor(Date.now() / 1000);
    return {
      body,
      headers: {
        "Content-Type": "application/json; charset=utf-8",
        "Stripe-Signature": Stripe.webhooks.generateTestHeaderString({ payload: body, secret, timestamp }),
        "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
      },
    };
  };
