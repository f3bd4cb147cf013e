// Memberships and their users: buying a plan, status changes with the events Whop sends for them,
// renewals and cancellations. Each operation returns the events it caused, oldest first.
import type { Account } from "./account.ts";
import { invalid, notFound } from "./errors.ts";
import { copy, DAY_MS, newId } from "./objects.ts";
import {
  type CheckoutConfiguration,
  type EventRecord,
  type Membership,
  MEMBERSHIP_STATUSES,
  type MembershipStatus,
  type WhopUser,
} from "./types.ts";

export class Memberships {
  private readonly byId = new Map<string, Membership>();
  private readonly users = new Map<string, WhopUser>();

  constructor(private readonly account: Account) {}

  get(id: string): Membership | undefined {
    return this.byId.get(id);
  }

  /** Newest first, as Whop lists them. */
  all(): Membership[] {
    return [...this.byId.values()].sort((a, b) => b.created_at.localeCompare(a.created_at)).map(copy);
  }

  require(id: string): Membership {
    const membership = this.byId.get(id);
    if (!membership) throw notFound("Membership", id);
    return membership;
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
    const plan = this.account.catalog.plans.get(planId);
    if (!plan) throw notFound("Plan", planId);
    const user = this.userByEmail(email);
    const at = this.account.stamp();
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
      company: { id: this.account.company.id, title: this.account.company.title },
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
    membership.manage_url = `${this.account.publicUrl()}/billing/manage/${membership.id}`;
    this.byId.set(membership.id, membership);
    if (configuration) configuration.membership_id = membership.id;
    const payment = this.account.payments.create(membership, "subscription_create", true);
    const events = [
      this.account.events.emit({ type: "membership.activated", data: membership }),
      this.account.events.emit({ type: "payment.succeeded", data: payment }),
    ];
    return { membership: copy(membership), payment: copy(payment), events };
  }

  /**
   * Moves a membership to `status` with the event Whop sends: `membership.activated` when it becomes
   * valid, `membership.deactivated` when it stops being valid, `membership.cancel_at_period_end_changed`
   * for `canceling` and back, `payment.failed` for `past_due`.
   */
  setStatus(id: string, status: MembershipStatus) {
    if (!MEMBERSHIP_STATUSES.includes(status)) throw invalid(`Unknown membership status ${String(status)}`);
    const membership = this.require(id);
    const valid = (s: MembershipStatus) => s === "active" || s === "trialing" || s === "past_due" || s === "canceling";
    const before = membership.status;
    membership.status = status;
    membership.updated_at = this.account.stamp();
    membership.cancel_at_period_end = status === "canceling";
    if (status === "canceled" || status === "canceling") membership.canceled_at ??= membership.updated_at;
    if (status === "active") membership.canceled_at = null;
    const events: EventRecord[] = [];
    if (status === "past_due") {
      const payment = this.account.payments.create(membership, "subscription_cycle", false);
      events.push(this.account.events.emit({ type: "payment.failed", data: payment }));
    } else if (status === "canceling" || (before === "canceling" && status === "active")) {
      events.push(this.account.events.emit({ type: "membership.cancel_at_period_end_changed", data: membership }));
    } else if (valid(status) && !valid(before)) {
      events.push(this.account.events.emit({ type: "membership.activated", data: membership }));
    } else if (!valid(status) && valid(before)) {
      events.push(this.account.events.emit({ type: "membership.deactivated", data: membership }));
    } else {
      events.push(
        this.account.events.emit({
          type: valid(status) ? "membership.activated" : "membership.deactivated",
          data: membership,
        }),
      );
    }
    return { membership: copy(membership), events };
  }

  /** The end of the period: a paid renewal (`payment.succeeded`), or the end of a membership set to cancel. */
  renew(id: string) {
    const membership = this.require(id);
    if (membership.status === "canceling") return this.setStatus(id, "canceled");
    const plan = this.account.catalog.plans.get(membership.plan.id);
    const start = membership.renewal_period_end ?? this.account.stamp();
    membership.status = "active";
    membership.updated_at = this.account.stamp();
    membership.renewal_period_start = start;
    membership.renewal_period_end = new Date(Date.parse(start) + (plan?.billing_period ?? 30) * DAY_MS).toISOString();
    const payment = this.account.payments.create(membership, "subscription_cycle", true);
    const events = [this.account.events.emit({ type: "payment.succeeded", data: payment })];
    return { membership: copy(membership), events };
  }

  /** The member cancels on the manage page: at the end of the period (`canceling`) or at once (`canceled`). */
  cancel(id: string, { atPeriodEnd }: { atPeriodEnd: boolean }) {
    const membership = this.require(id);
    if (membership.status !== "active" && membership.status !== "trialing" && membership.status !== "past_due") {
      throw invalid(`Membership ${id} is ${membership.status}: it cannot be canceled`);
    }
    return this.setStatus(id, atPeriodEnd && membership.renewal_period_end ? "canceling" : "canceled");
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

  clear(): void {
    this.byId.clear();
    this.users.clear();
  }
}
