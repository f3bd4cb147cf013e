// The emulator's objects are the SDK's own types as JSON on the wire: fields the SDK types as "id or
// expanded object" hold ids (the emulator expands them per request), and `Decimal` fields are the
// strings Stripe sends.
import type Stripe from "stripe";
import type { EventRecord as KitEventRecord } from "../emulator-kit/webhook-sender.ts";

type Primitive = string | number | boolean | bigint | symbol | null | undefined;
type Unexpanded<V> = string extends V ? Exclude<V, object> : V;

type Wire<T> = T extends Stripe.Decimal
  ? string
  : T extends Primitive
    ? T
    : T extends readonly (infer U)[]
      ? Wire<Unexpanded<U>>[]
      : { [K in keyof T]: Wire<Unexpanded<T[K]>> };

export type List<T> = { object: "list"; data: T[]; has_more: boolean; url: string };
export type Metadata = Record<string, string>;

/** With exactly these fields replaced: the emulator's prices are recurring, its lists concrete. */
type With<T, Fields> = Omit<T, keyof Fields> & Fields;

export type Price = With<Wire<Stripe.Price>, { recurring: NonNullable<Wire<Stripe.Price>["recurring"]> }>;
export type Product = Wire<Stripe.Product>;
export type Customer = Wire<Stripe.Customer>;
export type DeletedCustomer = Wire<Stripe.DeletedCustomer>;
export type Plan = Wire<Stripe.Plan>;
export type SubscriptionItem = With<Wire<Stripe.SubscriptionItem>, { price: Price }>;
export type Subscription = With<Wire<Stripe.Subscription>, { items: List<SubscriptionItem> }>;
export type SubscriptionStatus = Stripe.Subscription.Status;
export type CheckoutSession = Wire<Stripe.Checkout.Session>;
export type CheckoutLineItem = With<Wire<Stripe.LineItem>, { price: Price }>;
export type PortalSession = Wire<Stripe.BillingPortal.Session>;
export type PortalFlow = NonNullable<PortalSession["flow"]>;

/** Invoices only travel inside `invoice.*` events (there is no `/v1/invoices`), with all of Stripe's fields. */
export type InvoiceLine = Wire<Stripe.InvoiceLineItem>;
export type Invoice = With<Wire<Stripe.Invoice>, { lines: List<InvoiceLine> }>;

/** The first payment of a subscription, as its events carry it (card payments that succeed at once). */
export type PaymentIntent = Pick<
  Wire<Stripe.PaymentIntent>,
  | "id"
  | "object"
  | "amount"
  | "amount_capturable"
  | "amount_details"
  | "amount_received"
  | "application"
  | "application_fee_amount"
  | "automatic_payment_methods"
  | "canceled_at"
  | "cancellation_reason"
  | "capture_method"
  | "client_secret"
  | "confirmation_method"
  | "created"
  | "currency"
  | "customer"
  | "description"
  | "excluded_payment_method_types"
  | "last_payment_error"
  | "latest_charge"
  | "livemode"
  | "metadata"
  | "next_action"
  | "on_behalf_of"
  | "payment_method"
  | "payment_method_configuration_details"
  | "payment_method_options"
  | "payment_method_types"
  | "processing"
  | "receipt_email"
  | "review"
  | "setup_future_usage"
  | "shipping"
  | "source"
  | "statement_descriptor"
  | "statement_descriptor_suffix"
  | "status"
  | "transfer_data"
  | "transfer_group"
>;
export type Charge = Pick<
  Wire<Stripe.Charge>,
  | "id"
  | "object"
  | "amount"
  | "amount_captured"
  | "amount_refunded"
  | "application"
  | "application_fee"
  | "application_fee_amount"
  | "balance_transaction"
  | "billing_details"
  | "calculated_statement_descriptor"
  | "captured"
  | "created"
  | "currency"
  | "customer"
  | "description"
  | "disputed"
  | "failure_balance_transaction"
  | "failure_code"
  | "failure_message"
  | "fraud_details"
  | "livemode"
  | "metadata"
  | "on_behalf_of"
  | "outcome"
  | "paid"
  | "payment_intent"
  | "payment_method"
  | "payment_method_details"
  | "receipt_email"
  | "receipt_number"
  | "receipt_url"
  | "refunded"
  | "refunds"
  | "review"
  | "shipping"
  | "source"
  | "source_transfer"
  | "statement_descriptor"
  | "statement_descriptor_suffix"
  | "status"
  | "transfer_data"
  | "transfer_group"
>;
/** How an invoice was paid (from API 2025-03-31 on, invoices no longer name their payment intent). */
export type InvoicePayment = Wire<Stripe.InvoicePayment>;

/** Any event type and payload: tests wrap hand-made objects too. */
export type EmulatorEvent = With<
  Wire<Stripe.EventBase>,
  { type: string; data: { object: object; previous_attributes?: Record<string, unknown> } }
>;

export type { DeliveryAttempt } from "../emulator-kit/webhook-sender.ts";
export type EventRecord = KitEventRecord<EmulatorEvent>;

/** The API request behind an event; null ids for page and control actions, like dashboard actions. */
export type RequestInfo = { id: string | null; idempotency_key: string | null };
