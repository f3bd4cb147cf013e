// The Whop objects the emulator serves, with the fields of Whop's REST API v1 (ISO 8601 times, prices
// in currency units, not cents). Their contract is the official @whop/sdk's response types: each type
// below must extend the SDK's (`Conforms`), so a field the SDK declares and the emulator lacks or
// mistypes fails the type check.
import type { Whop } from "@whop/sdk";
import type { EventRecord as KitEventRecord } from "../emulator-kit/webhook-sender.ts";

/** `Actual`, when it is a value of the SDK's type `Expected` (a type error otherwise). */
type Conforms<Actual extends Expected, Expected> = Actual;

export const MEMBERSHIP_STATUSES = [
  "trialing",
  "active",
  "past_due",
  "canceling",
  "completed",
  "canceled",
  "expired",
  "unresolved",
  "drafted",
] as const satisfies readonly Whop.MembershipStatus[];
export type MembershipStatus = (typeof MEMBERSHIP_STATUSES)[number];

type Ref = { id: string; title: string };
export type Plan = Conforms<
  {
    id: string;
    title: string | null;
    description: string | null;
    visibility: Whop.Visibility;
    release_method: Whop.ReleaseMethod;
    plan_type: Whop.PlanType;
    currency: Whop.Currency;
    initial_price: number;
    renewal_price: number;
    billing_period: number | null;
    trial_period_days: number | null;
    expiration_days: null;
    purchase_url: string;
    /** Typed `unknown` by the SDK; Whop sends the product's id and title, which the app reads. */
    product: Ref;
    /** The company that sells it (`account` since API version 2026-07-20). */
    account: Ref;
    adaptive_pricing_enabled: boolean;
    collect_tax: boolean;
    custom_fields: [];
    internal_notes: null;
    invoice: null;
    metadata: null;
    payment_method_configuration: null;
    split_pay_required_payments: null;
    stock: null;
    tax_type: "unspecified";
    three_ds_level: null;
    unlimited_stock: true;
    member_count: number;
    created_at: string;
    updated_at: string;
  },
  Whop.Plan & Whop.PlanListResponse
>;
export type Product = Conforms<
  {
    id: string;
    title: string;
    visibility: Whop.Visibility;
    route: string;
    description: string | null;
    headline: string | null;
    company: Ref & { route: string };
    owner_user: { id: string; name: string | null; username: string };
    custom_cta: Whop.CustomCta;
    custom_cta_url: null;
    custom_statement_descriptor: null;
    external_identifier: null;
    gallery_images: [];
    global_affiliate_percentage: null;
    global_affiliate_status: Whop.GlobalAffiliateStatus;
    member_affiliate_percentage: null;
    member_affiliate_status: Whop.GlobalAffiliateStatus;
    product_tax_code: null;
    published_reviews_count: number;
    verified: boolean;
    metadata: null;
    member_count: number;
    created_at: string;
    updated_at: string;
  },
  Whop.Product
>;
export type WhopUser = { id: string; email: string; name: string | null; username: string };
export type Membership = Conforms<
  {
    id: string;
    status: MembershipStatus;
    created_at: string;
    updated_at: string;
    joined_at: string;
    canceled_at: string | null;
    cancel_at_period_end: boolean;
    cancel_option: null;
    cancellation_reason: null;
    checkout_configuration_id: string | null;
    company: Ref;
    currency: Whop.Currency;
    custom_field_responses: [];
    license_key: null;
    manage_url: string;
    member: { id: string };
    metadata: Record<string, unknown>;
    payment_collection_paused: boolean;
    plan: { id: string; metadata: null };
    product: Ref & { metadata: null };
    promo_code: null;
    renewal_period_start: string | null;
    renewal_period_end: string | null;
    user: WhopUser;
  },
  Whop.Membership & Whop.MembershipListResponse
>;
export type Payment = Conforms<
  {
    id: string;
    status: "paid" | "open";
    substatus: "succeeded" | "failed";
    billing_reason: "subscription_create" | "subscription_cycle";
    created_at: string;
    updated_at: string;
    paid_at: string | null;
    currency: Whop.Currency;
    subtotal: number;
    total: number;
    usd_total: number;
    amount_after_fees: number;
    settlement_amount: number;
    settlement_currency: Whop.Currency;
    settlement_exchange_rate: null;
    failure_message: string | null;
    checkout_configuration_id: string | null;
    company: Ref & { route: string };
    member: { id: string; phone: null };
    membership: { id: string; phone_number: null; status: MembershipStatus };
    metadata: Record<string, unknown>;
    plan: { id: string; internal_notes: null; metadata: null };
    product: Ref & { route: string; metadata: null };
    user: WhopUser;
    // What an emulated card payment does not have: no fees, disputes, refunds, addresses or tax.
    application_fee: null;
    auto_refunded: false;
    billing_address: null;
    card_brand: null;
    card_last4: null;
    dispute_alerted_at: null;
    disputes: [];
    financing_installments_count: null;
    financing_transactions: [];
    last_payment_attempt: string;
    next_payment_attempt: null;
    payment_method: null;
    payment_method_type: null;
    payments_failed: number;
    promo_code: null;
    refundable: boolean;
    refunded_amount: null;
    refunded_at: null;
    refunds: [];
    resolutions: [];
    retryable: boolean;
    risk_score: null;
    risk_signals: null;
    shipping_address: null;
    tax_amount: null;
    tax_behavior: null;
    tax_refunded_amount: null;
    three_ds_verified: false;
    voidable: false;
  },
  Whop.Payment
>;
type CheckoutPlan = Pick<
  Plan,
  | "id"
  | "visibility"
  | "plan_type"
  | "release_method"
  | "currency"
  | "billing_period"
  | "initial_price"
  | "renewal_price"
  | "trial_period_days"
  | "expiration_days"
  | "adaptive_pricing_enabled"
  | "three_ds_level"
>;
/** A checkout configuration as the API answers (`POST`/`GET /checkout_configurations`). */
type CheckoutConfigurationWire = Conforms<
  {
    id: string;
    account_id: string;
    mode: "payment";
    created_at: string;
    updated_at: string;
    plan: CheckoutPlan;
    currency: Whop.Currency;
    affiliate_code: null;
    metadata: Record<string, unknown>;
    redirect_url: string | null;
    purchase_url: string;
    three_ds_level: null;
  },
  Whop.CheckoutConfigurationCreateResponse & Whop.CheckoutConfigurationRetrieveResponse
>;
export type CheckoutConfiguration = CheckoutConfigurationWire & {
  /** Emulator bookkeeping (not Whop's): the membership a completed checkout made. */
  membership_id: string | null;
};
export type WhopEvent = {
  id: string;
  api_version: "v1";
  timestamp: string;
  type: string;
  company_id: string;
  data: object;
};
/** The events the emulator makes itself (each type with its data), as the SDK's webhook events describe them. */
export type EmittedEvent =
  | {
      type: "membership.activated" | "membership.deactivated" | "membership.cancel_at_period_end_changed";
      data: Membership;
    }
  | { type: "payment.succeeded" | "payment.failed"; data: Payment };
// A compile-time check only: the events the emulator emits are events of the SDK's webhook union.
type _EmittedEventsConform = Conforms<Omit<WhopEvent, "type" | "data"> & EmittedEvent, Whop.UnwrapWebhookEvent>;
export type EventRecord = KitEventRecord<WhopEvent>;
