// A subscription and its items as Stripe builds them (with the legacy `plan` beside each price).
import { newId, list, snapshot } from "./objects.ts";
import { addInterval } from "./periods.ts";
import type { Customer, Metadata, Plan, Price, Subscription, SubscriptionItem } from "./types.ts";

export function buildItem(
  subscription: string,
  price: Price,
  quantity: number,
  now: number,
  sibling?: SubscriptionItem,
): SubscriptionItem {
  return {
    id: newId("si", 14),
    object: "subscription_item",
    billing_thresholds: null,
    created: now,
    current_period_end:
      sibling?.current_period_end ?? addInterval(now, price.recurring.interval, price.recurring.interval_count),
    current_period_start: sibling?.current_period_start ?? now,
    current_trial: null,
    discounts: [],
    metadata: {},
    plan: planOf(price),
    price: snapshot(price),
    quantity,
    subscription,
    tax_rates: [],
  };
}

export function buildSubscription(
  id: string,
  customer: Customer,
  items: SubscriptionItem[],
  metadata: Metadata,
  now: number,
): Subscription {
  return {
    id,
    object: "subscription",
    application: null,
    application_fee_percent: null,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null },
    billing_cycle_anchor: now,
    billing_cycle_anchor_config: null,
    billing_mode: { flexible: null, type: "classic" },
    billing_schedules: [],
    billing_thresholds: null,
    cancel_at: null,
    cancel_at_period_end: false,
    canceled_at: null,
    cancellation_details: cancellation(null),
    collection_method: "charge_automatically",
    created: now,
    currency: items[0]?.price.currency ?? "gbp",
    customer: customer.id,
    customer_account: null,
    days_until_due: null,
    default_payment_method: null,
    default_source: null,
    default_tax_rates: [],
    description: null,
    discounts: [],
    ended_at: null,
    invoice_settings: {
      account_tax_ids: null,
      custom_fields: null,
      description: null,
      footer: null,
      issuer: { type: "self" },
    },
    items: list(items, `/v1/subscription_items?subscription=${id}`),
    latest_invoice: null,
    livemode: false,
    managed_payments: null,
    metadata,
    next_pending_invoice_item_invoice: null,
    on_behalf_of: null,
    pause_collection: null,
    payment_settings: {
      payment_method_options: null,
      payment_method_types: null,
      save_default_payment_method: "off",
    },
    pending_invoice_item_interval: null,
    pending_setup_intent: null,
    pending_update: null,
    schedule: null,
    start_date: now,
    status: "active",
    test_clock: null,
    transfer_data: null,
    trial_end: null,
    trial_settings: { end_behavior: { billing_cycle_anchor: null, missing_payment_method: "create_invoice" } },
    trial_start: null,
  };
}

export function cancellation(reason: "cancellation_requested" | null): Subscription["cancellation_details"] {
  return { comment: null, feedback: null, feedback_option: null, reason };
}

/** The legacy `plan` Stripe still embeds next to each subscription item's price. */
export function planOf(price: Price): Plan {
  return {
    id: price.id,
    object: "plan",
    active: price.active,
    amount: price.unit_amount,
    amount_decimal: price.unit_amount_decimal,
    billing_scheme: "per_unit",
    created: price.created,
    currency: price.currency,
    interval: price.recurring.interval,
    interval_count: price.recurring.interval_count,
    livemode: false,
    metadata: { ...price.metadata },
    meter: null,
    nickname: price.nickname,
    product: price.product,
    tiers_mode: null,
    transform_usage: null,
    trial_period_days: null,
    usage_type: "licensed",
  };
}
