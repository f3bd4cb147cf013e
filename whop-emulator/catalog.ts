// The catalogue: catalog.json's products and plans, the same on every run, their strings checked
// against the SDK's enums when the emulator loads them.
import type { Whop } from "@whop/sdk";
import type { Account } from "./account.ts";
import catalog from "./catalog.json" with { type: "json" };
import { notFound } from "./errors.ts";
import { copy, productRoute } from "./objects.ts";
import type { Plan, Product } from "./types.ts";

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

export class Catalog {
  readonly products = new Map<string, Product>();
  readonly plans = new Map<string, Plan>();

  constructor(private readonly account: Account) {}

  /** A plan as the API answers it, with its purchase link. */
  plan(id: string): Plan {
    const plan = this.plans.get(id);
    if (!plan) throw notFound("Plan", id);
    return { ...copy(plan), purchase_url: `${this.account.publicUrl()}/checkout/plan/${encodeURIComponent(plan.id)}` };
  }

  /** Back to catalog.json. */
  load(): void {
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
        company: { ...this.account.company },
        owner_user: { id: "user_emulator_owner", name: "Emulator owner", username: this.account.company.route },
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
          account: { id: this.account.company.id, title: this.account.company.title },
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
  }
}
