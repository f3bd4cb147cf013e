// The emulated Whop company: its products and plans (catalog.json), and the users, memberships,
// payments, checkout configurations and webhook events made while it runs. Objects have the fields
// of Whop's REST API v1 that apps read (ISO 8601 times, prices in currency units, not cents). Every
// state change returns the events it caused, oldest first; delivering them is emulator.ts's job.
import { randomBytes } from "node:crypto";
import catalog from "./catalog.json" with { type: "json" };

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
] as const;
export type MembershipStatus = (typeof MEMBERSHIP_STATUSES)[number];

export type Ref = { id: string; title: string };
export type Plan = {
  id: string;
  title: string | null;
  description: string | null;
  visibility: string;
  release_method: string;
  plan_type: string;
  currency: string;
  initial_price: number;
  renewal_price: number;
  billing_period: number | null;
  trial_period_days: number | null;
  expiration_days: null;
  purchase_url: string;
  product: Ref;
  company: Ref;
  metadata: null;
  stock: null;
  unlimited_stock: true;
  member_count: number;
  created_at: string;
  updated_at: string;
};
export type Product = {
  id: string;
  title: string;
  visibility: string;
  route: string;
  description: string | null;
  headline: string | null;
  company: Ref & { route: string };
  metadata: null;
  member_count: number;
  created_at: string;
  updated_at: string;
};
export type WhopUser = { id: string; email: string; name: string | null; username: string };
export type Membership = {
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
  currency: string;
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
};
export type Payment = {
  id: string;
  status: "paid" | "open";
  substatus: "succeeded" | "failed";
  billing_reason: "subscription_create" | "subscription_cycle";
  created_at: string;
  updated_at: string;
  paid_at: string | null;
  currency: string;
  subtotal: number;
  total: number;
  failure_message: string | null;
  checkout_configuration_id: string | null;
  company: Ref;
  membership: { id: string; status: MembershipStatus };
  metadata: Record<string, unknown>;
  plan: { id: string };
  product: Ref;
  user: WhopUser;
};
export type CheckoutConfiguration = {
  id: string;
  company_id: string;
  plan: Pick<
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
  >;
  affiliate_code: null;
  metadata: Record<string, unknown>;
  redirect_url: string | null;
  purchase_url: string;
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

export const newId = (prefix: string) => `${prefix}_${randomBytes(9).toString("base64url").replace(/[-_]/g, "x")}`;
const DAY_MS = 86_400_000;
const copy = <T>(value: T): T => structuredClone(value);

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
        ...product,
        route: product.id.replace(/^prod_/, "").replace(/_/g, "-"),
        description: null,
        headline: null,
        company: { ...this.company },
        metadata: null,
        member_count: 0,
        created_at: created,
        updated_at: created,
      });
      for (const plan of plans) {
        this.plans.set(plan.id, {
          ...plan,
          description: null,
          expiration_days: null,
          purchase_url: "", // filled per request: the emulator's URL is known once it listens
          product: { id: product.id, title: product.title },
          company: { id: this.company.id, title: this.company.title },
          metadata: null,
          stock: null,
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
    const configuration: CheckoutConfiguration = {
      id,
      company_id: this.company.id,
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
      failure_message: succeeded ? null : "Your card was declined (emulated).",
      checkout_configuration_id: membership.checkout_configuration_id,
      company: { id: this.company.id, title: this.company.title },
      membership: { id: membership.id, status: membership.status },
      metadata: copy(membership.metadata),
      plan: { id: membership.plan.id },
      product: { id: membership.product.id, title: membership.product.title },
      user: copy(membership.user),
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
      this.createEvent("membership.activated", membership),
      this.createEvent("payment.succeeded", payment),
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
      events.push(this.createEvent("payment.failed", payment));
    } else if (status === "canceling" || (before === "canceling" && status === "active")) {
      events.push(this.createEvent("membership.cancel_at_period_end_changed", membership));
    } else if (valid(status) && !valid(before)) {
      events.push(this.createEvent("membership.activated", membership));
    } else if (!valid(status) && valid(before)) {
      events.push(this.createEvent("membership.deactivated", membership));
    } else {
      events.push(this.createEvent(valid(status) ? "membership.activated" : "membership.deactivated", membership));
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
    const events = [this.createEvent("payment.succeeded", payment)];
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
