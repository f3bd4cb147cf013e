// The emulated Whop company: its products and plans (catalog.json), and the users, memberships,
// payments, checkout configurations and webhook events made while it runs. Objects have the fields
// of Whop's REST API v1 (ISO 8601 times, prices in currency units, not cents). Their contract is the
// official @whop/sdk's response types: each type below must extend the SDK's (`Conforms`), so a field
// the SDK declares and the emulator lacks or mistypes fails the type check. Every state change returns
// the events it caused, oldest first; delivering them is emulator.ts's job.
import { randomBytes } from "node:crypto";
import type { Whop } from "@whop/sdk";
import catalog from "./catalog.json" with { type: "json" };

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

const VISIBILITIES = ["visible", "hidden", "archived", "quick_link"] as const satisfies readonly Whop.Visibility[];
const PLAN_TYPES = ["renewal", "one_time"] as const satisfies readonly Whop.PlanType[];
const RELEASE_METHODS = ["buy_now", "waitlist"] as const satisfies readonly Whop.ReleaseMethod[];
/** The currencies catalog.json may use (Whop's list is long; the catalogue needs few). */
const CATALOG_CURRENCIES = ["usd", "eur", "gbp"] as const satisfies readonly Whop.Currency[];

/** catalog.json's strings, checked against the SDK's enums when the emulator loads it. */
function oneOf<T extends string>(allowed: readonly T[], value: string, what: string): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new Error(`whop-emulator/catalog.json: ${what} "${value}" is not one of ${allowed.join(", ")}`);
  }
  return value as T;
}

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
type EmittedEvent =
  | {
      type: "membership.activated" | "membership.deactivated" | "membership.cancel_at_period_end_changed";
      data: Membership;
    }
  | { type: "payment.succeeded" | "payment.failed"; data: Payment };
// Used nowhere: it only makes tsc check the emitted events against the SDK's webhook event types.
type _EmittedEventsConform = Conforms<Omit<WhopEvent, "type" | "data"> & EmittedEvent, Whop.UnwrapWebhookEvent>;
export type DeliveryAttempt = {
  eventId: string;
  url: string;
  status: number;
  ok: boolean;
  body: string;
  error: string | null;
  at: number;
  durationMs: number;
};
export type EventRecord = { event: WhopEvent; deliveries: DeliveryAttempt[] };

export class WhopEmulatorError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
  toJSON() {
    return { error: { type: this.type, message: this.message } };
  }
}
export const notFound = (what: string, id: string) =>
  new WhopEmulatorError(404, "not_found", `${what} ${id} was not found`);
export const invalid = (message: string) => new WhopEmulatorError(400, "invalid_request_error", message);

const newId = (prefix: string) => `${prefix}_${randomBytes(9).toString("base64url").replace(/[-_]/g, "x")}`;
const DAY_MS = 86_400_000;
const copy = <T>(value: T): T => structuredClone(value);
const productRoute = (productId: string) => productId.replace(/^prod_/, "").replace(/_/g, "-");

export class Account {
  readonly company = { id: catalog.company.id, title: catalog.company.title, route: catalog.company.route };
  products = new Map<string, Product>();
  plans = new Map<string, Plan>();
  users = new Map<string, WhopUser>();
  memberships = new Map<string, Membership>();
  payments = new Map<string, Payment>();
  checkoutConfigurations = new Map<string, CheckoutConfiguration>();
  events: EventRecord[] = [];
  /** Milliseconds of the last `updated_at` handed out: each change is strictly later than the one before. */
  private lastStamp = 0;

  constructor(private readonly publicUrl: () => string) {
    this.reset();
  }

  /** Forgets everything but the catalogue. */
  reset() {
    const created = new Date(Date.UTC(2026, 0, 1)).toISOString();
    this.products.clear();
    this.plans.clear();
    for (const { plans, ...product } of catalog.products) {
      this.products.set(product.id, {
        id: product.id,
        title: product.title,
        visibility: oneOf(VISIBILITIES, product.visibility, `${product.id} visibility`),
        route: productRoute(product.id),
        description: null,
        headline: null,
        company: { ...this.company },
        owner_user: { id: "user_emulator_owner", name: "Emulator owner", username: this.company.route },
        custom_cta: "join",
        custom_cta_url: null,
        custom_statement_descriptor: null,
        external_identifier: null,
        gallery_images: [],
        global_affiliate_percentage: null,
        global_affiliate_status: "disabled",
        member_affiliate_percentage: null,
        member_affiliate_status: "disabled",
        product_tax_code: null,
        published_reviews_count: 0,
        verified: false,
        metadata: null,
        member_count: 0,
        created_at: created,
        updated_at: created,
      });
      for (const plan of plans) {
        this.plans.set(plan.id, {
          ...plan,
          visibility: oneOf(VISIBILITIES, plan.visibility, `${plan.id} visibility`),
          release_method: oneOf(RELEASE_METHODS, plan.release_method, `${plan.id} release_method`),
          plan_type: oneOf(PLAN_TYPES, plan.plan_type, `${plan.id} plan_type`),
          currency: oneOf(CATALOG_CURRENCIES, plan.currency, `${plan.id} currency`),
          description: null,
          expiration_days: null,
          purchase_url: "", // filled per request: the emulator's URL is known once it listens
          product: { id: product.id, title: product.title },
          account: { id: this.company.id, title: this.company.title },
          adaptive_pricing_enabled: false,
          collect_tax: false,
          custom_fields: [],
          internal_notes: null,
          invoice: null,
          metadata: null,
          payment_method_configuration: null,
          split_pay_required_payments: null,
          stock: null,
          tax_type: "unspecified",
          three_ds_level: null,
          unlimited_stock: true,
          member_count: 0,
          created_at: created,
          updated_at: created,
        });
      }
    }
    this.users.clear();
    this.memberships.clear();
    this.payments.clear();
    this.checkoutConfigurations.clear();
    this.events = [];
  }

  /** A strictly increasing ISO time, so a membership's `updated_at` orders its states. */
  stamp(): string {
    this.lastStamp = Math.max(Date.now(), this.lastStamp + 1);
    return new Date(this.lastStamp).toISOString();
  }

  plan(id: string): Plan {
    const plan = this.plans.get(id);
    if (!plan) throw notFound("Plan", id);
    return { ...copy(plan), purchase_url: `${this.publicUrl()}/checkout/plan/${encodeURIComponent(plan.id)}` };
  }

  createEvent(type: string, data: object, { timestamp }: { timestamp?: string } = {}): EventRecord {
    const record: EventRecord = {
      event: {
        id: newId("msg"),
        api_version: "v1",
        timestamp: timestamp ?? new Date().toISOString(),
        type,
        company_id: this.company.id,
        data: copy(data),
      },
      deliveries: [],
    };
    this.events.push(record);
    return record;
  }

  /** An event the emulator makes itself, typed as the SDK's webhook event for its type. */
  private emit({ type, data }: EmittedEvent): EventRecord {
    return this.createEvent(type, data);
  }

  event(id: string): EventRecord | undefined {
    return this.events.find((record) => record.event.id === id);
  }

  createCheckoutConfiguration(input: {
    planId: unknown;
    metadata: unknown;
    redirectUrl: unknown;
  }): CheckoutConfiguration {
    if (typeof input.planId !== "string" || !input.planId) throw invalid("plan_id is required");
    const plan = this.plans.get(input.planId);
    if (!plan) throw invalid(`Plan ${input.planId} was not found`);
    const product = this.products.get(plan.product.id);
    if (plan.visibility === "archived" || product?.visibility === "archived")
      throw invalid(`Plan ${plan.id} is not for sale`);
    if (
      input.metadata !== undefined &&
      input.metadata !== null &&
      (typeof input.metadata !== "object" || Array.isArray(input.metadata))
    ) {
      throw invalid("metadata must be an object");
    }
    if (
      input.redirectUrl !== undefined &&
      input.redirectUrl !== null &&
      (typeof input.redirectUrl !== "string" || !URL.canParse(input.redirectUrl))
    ) {
      throw invalid("redirect_url must be a URL");
    }
    const id = newId("ch");
    const at = this.stamp();
    const configuration: CheckoutConfiguration = {
      id,
      account_id: this.company.id,
      mode: "payment",
      created_at: at,
      updated_at: at,
      currency: plan.currency,
      three_ds_level: null,
      plan: {
        id: plan.id,
        visibility: plan.visibility,
        plan_type: plan.plan_type,
        release_method: plan.release_method,
        currency: plan.currency,
        billing_period: plan.billing_period,
        initial_price: plan.initial_price,
        renewal_price: plan.renewal_price,
        trial_period_days: plan.trial_period_days,
        expiration_days: null,
        adaptive_pricing_enabled: plan.adaptive_pricing_enabled,
        three_ds_level: plan.three_ds_level,
      },
      affiliate_code: null,
      metadata: copy((input.metadata as Record<string, unknown> | null | undefined) ?? {}),
      redirect_url: (input.redirectUrl as string | null | undefined) ?? null,
      purchase_url: `${this.publicUrl()}/checkout/${id}`,
      membership_id: null,
    };
    this.checkoutConfigurations.set(id, configuration);
    return copy(configuration);
  }

  private userByEmail(email: string): WhopUser {
    const normalized = email.trim().toLowerCase();
    if (!/^[^\s@]+@[^\s@]+$/.test(normalized)) throw invalid("Enter an email address");
    for (const user of this.users.values()) if (user.email === normalized) return user;
    const user: WhopUser = {
      id: newId("user"),
      email: normalized,
      name: null,
      username: normalized.split("@")[0] ?? "member",
    };
    this.users.set(user.id, user);
    return user;
  }

  private payment(membership: Membership, reason: Payment["billing_reason"], succeeded: boolean): Payment {
    const plan = this.plans.get(membership.plan.id);
    const at = this.stamp();
    const amount = reason === "subscription_create" ? (plan?.initial_price ?? 0) : (plan?.renewal_price ?? 0);
    const payment: Payment = {
      id: newId("pay"),
      status: succeeded ? "paid" : "open",
      substatus: succeeded ? "succeeded" : "failed",
      billing_reason: reason,
      created_at: at,
      updated_at: at,
      paid_at: succeeded ? at : null,
      currency: membership.currency,
      subtotal: amount,
      total: amount,
      usd_total: amount, // the catalogue's prices are in USD
      amount_after_fees: succeeded ? amount : 0,
      settlement_amount: succeeded ? amount : 0,
      settlement_currency: membership.currency,
      settlement_exchange_rate: null,
      failure_message: succeeded ? null : "Your card was declined (emulated).",
      checkout_configuration_id: membership.checkout_configuration_id,
      company: { ...this.company },
      member: { id: membership.member.id, phone: null },
      membership: { id: membership.id, phone_number: null, status: membership.status },
      metadata: copy(membership.metadata),
      plan: { id: membership.plan.id, internal_notes: null, metadata: null },
      product: {
        id: membership.product.id,
        title: membership.product.title,
        route: productRoute(membership.product.id),
        metadata: null,
      },
      user: copy(membership.user),
      application_fee: null,
      auto_refunded: false,
      billing_address: null,
      card_brand: null,
      card_last4: null,
      dispute_alerted_at: null,
      disputes: [],
      financing_installments_count: null,
      financing_transactions: [],
      last_payment_attempt: at,
      next_payment_attempt: null,
      payment_method: null,
      payment_method_type: null,
      payments_failed: succeeded ? 0 : 1,
      promo_code: null,
      refundable: succeeded,
      refunded_amount: null,
      refunded_at: null,
      refunds: [],
      resolutions: [],
      retryable: !succeeded,
      risk_score: null,
      risk_signals: null,
      shipping_address: null,
      tax_amount: null,
      tax_behavior: null,
      tax_refunded_amount: null,
      three_ds_verified: false,
      voidable: false,
    };
    this.payments.set(payment.id, payment);
    return payment;
  }

  /** Paying on the hosted checkout page: a membership (trialing when the plan has a trial), a payment, their events. */
  completeCheckout(configurationId: string, { email }: { email?: string }) {
    const configuration = this.checkoutConfigurations.get(configurationId);
    if (!configuration) throw notFound("Checkout configuration", configurationId);
    if (configuration.membership_id) throw invalid("This checkout is already complete");
    return this.purchase(
      configuration.plan.id,
      { email, metadata: configuration.metadata, checkoutConfigurationId: configuration.id },
      configuration,
    );
  }

  /** Buying a plan (through a checkout configuration, or the plan's own purchase link). */
  purchase(
    planId: string,
    {
      email,
      metadata = {},
      checkoutConfigurationId = null,
    }: { email?: string; metadata?: Record<string, unknown>; checkoutConfigurationId?: string | null },
    configuration?: CheckoutConfiguration,
  ) {
    if (!email) throw invalid("Enter an email address");
    const plan = this.plans.get(planId);
    if (!plan) throw notFound("Plan", planId);
    const user = this.userByEmail(email);
    const at = this.stamp();
    const now = Date.parse(at);
    const trial = plan.trial_period_days && plan.trial_period_days > 0 ? plan.trial_period_days : null;
    const periodDays = trial ?? plan.billing_period;
    const membership: Membership = {
      id: newId("mem"),
      status: trial ? "trialing" : "active",
      created_at: at,
      updated_at: at,
      joined_at: at,
      canceled_at: null,
      cancel_at_period_end: false,
      cancel_option: null,
      cancellation_reason: null,
      checkout_configuration_id: checkoutConfigurationId,
      company: { id: this.company.id, title: this.company.title },
      currency: plan.currency,
      custom_field_responses: [],
      license_key: null,
      manage_url: "",
      member: { id: newId("mber") },
      metadata: copy(metadata),
      payment_collection_paused: false,
      plan: { id: plan.id, metadata: null },
      product: { id: plan.product.id, title: plan.product.title, metadata: null },
      promo_code: null,
      renewal_period_start: plan.plan_type === "renewal" ? at : null,
      renewal_period_end:
        plan.plan_type === "renewal" && periodDays ? new Date(now + periodDays * DAY_MS).toISOString() : null,
      user: copy(user),
    };
    membership.manage_url = `${this.publicUrl()}/billing/manage/${membership.id}`;
    this.memberships.set(membership.id, membership);
    if (configuration) configuration.membership_id = membership.id;
    const payment = this.payment(membership, "subscription_create", true);
    const events = [
      this.emit({ type: "membership.activated", data: membership }),
      this.emit({ type: "payment.succeeded", data: payment }),
    ];
    return { membership: copy(membership), payment: copy(payment), events };
  }

  membership(id: string): Membership {
    const membership = this.memberships.get(id);
    if (!membership) throw notFound("Membership", id);
    return membership;
  }

  /**
   * Moves a membership to `status` with the event Whop sends: `membership.activated` when it becomes
   * valid, `membership.deactivated` when it stops being valid, `membership.cancel_at_period_end_changed`
   * for `canceling` and back, `payment.failed` for `past_due`.
   */
  setStatus(id: string, status: MembershipStatus) {
    if (!MEMBERSHIP_STATUSES.includes(status)) throw invalid(`Unknown membership status ${String(status)}`);
    const membership = this.membership(id);
    const valid = (s: MembershipStatus) => s === "active" || s === "trialing" || s === "past_due" || s === "canceling";
    const before = membership.status;
    membership.status = status;
    membership.updated_at = this.stamp();
    membership.cancel_at_period_end = status === "canceling";
    if (status === "canceled" || status === "canceling") membership.canceled_at ??= membership.updated_at;
    if (status === "active") membership.canceled_at = null;
    const events: EventRecord[] = [];
    if (status === "past_due") {
      const payment = this.payment(membership, "subscription_cycle", false);
      events.push(this.emit({ type: "payment.failed", data: payment }));
    } else if (status === "canceling" || (before === "canceling" && status === "active")) {
      events.push(this.emit({ type: "membership.cancel_at_period_end_changed", data: membership }));
    } else if (valid(status) && !valid(before)) {
      events.push(this.emit({ type: "membership.activated", data: membership }));
    } else if (!valid(status) && valid(before)) {
      events.push(this.emit({ type: "membership.deactivated", data: membership }));
    } else {
      events.push(
        this.emit({ type: valid(status) ? "membership.activated" : "membership.deactivated", data: membership }),
      );
    }
    return { membership: copy(membership), events };
  }

  /** The end of the period: a paid renewal (`payment.succeeded`), or the end of a membership set to cancel. */
  renew(id: string) {
    const membership = this.membership(id);
    if (membership.status === "canceling") return this.setStatus(id, "canceled");
    const plan = this.plans.get(membership.plan.id);
    const start = membership.renewal_period_end ?? this.stamp();
    membership.status = "active";
    membership.updated_at = this.stamp();
    membership.renewal_period_start = start;
    membership.renewal_period_end = new Date(Date.parse(start) + (plan?.billing_period ?? 30) * DAY_MS).toISOString();
    const payment = this.payment(membership, "subscription_cycle", true);
    const events = [this.emit({ type: "payment.succeeded", data: payment })];
    return { membership: copy(membership), events };
  }

  /** The member cancels on the manage page: at the end of the period (`canceling`) or at once (`canceled`). */
  cancel(id: string, { atPeriodEnd }: { atPeriodEnd: boolean }) {
    const membership = this.membership(id);
    if (membership.status !== "active" && membership.status !== "trialing" && membership.status !== "past_due") {
      throw invalid(`Membership ${id} is ${membership.status}: it cannot be canceled`);
    }
    return this.setStatus(id, atPeriodEnd && membership.renewal_period_end ? "canceling" : "canceled");
  }

  list<T extends { created_at: string }>(items: Iterable<T>): T[] {
    return [...items].sort((a, b) => b.created_at.localeCompare(a.created_at)).map(copy);
  }
}
