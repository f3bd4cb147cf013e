// Checkout configurations: what the app creates for a purchase (plan, metadata, redirect), and paying
// on their hosted page.
import type { Account } from "./account.ts";
import { invalid, notFound } from "./errors.ts";
import { copy, newId } from "./objects.ts";
import type { CheckoutConfiguration } from "./types.ts";

export class CheckoutConfigurations {
  private readonly byId = new Map<string, CheckoutConfiguration>();

  constructor(private readonly account: Account) {}

  get(id: string): CheckoutConfiguration | undefined {
    return this.byId.get(id);
  }

  create(input: { planId: unknown; metadata: unknown; redirectUrl: unknown }): CheckoutConfiguration {
    if (typeof input.planId !== "string" || !input.planId) throw invalid("plan_id is required");
    const plan = this.account.catalog.plans.get(input.planId);
    if (!plan) throw invalid(`Plan ${input.planId} was not found`);
    const product = this.account.catalog.products.get(plan.product.id);
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
    const at = this.account.stamp();
    const configuration: CheckoutConfiguration = {
      id,
      account_id: this.account.company.id,
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
      purchase_url: `${this.account.publicUrl()}/checkout/${id}`,
      membership_id: null,
    };
    this.byId.set(id, configuration);
    return copy(configuration);
  }

  /** Paying on the hosted checkout page: a membership (trialing when the plan has a trial), a payment, their events. */
  complete(configurationId: string, { email }: { email?: string }) {
    const configuration = this.byId.get(configurationId);
    if (!configuration) throw notFound("Checkout configuration", configurationId);
    if (configuration.membership_id) throw invalid("This checkout is already complete");
    return this.account.memberships.purchase(
      configuration.plan.id,
      { email, metadata: configuration.metadata, checkoutConfigurationId: configuration.id },
      configuration,
    );
  }

  clear(): void {
    this.byId.clear();
  }
}
