// The catalogue (catalog.json's products and prices, the same on every run) and the prices created
// through the API. Prices are immutable in Stripe; only a moved lookup key changes one.
import type { Account } from "./account.ts";
import catalogJson from "./catalog.json" with { type: "json" };
import { invalid, noSuch } from "./errors.ts";
import { NO_REQUEST, newId } from "./objects.ts";
import type { Interval } from "./periods.ts";
import type { EventRecord, Metadata, Price, Product } from "./types.ts";

interface CatalogFile {
  products: Array<{
    id: string;
    name: string;
    description?: string;
    metadata?: Metadata;
    prices: Array<{
      id: string;
      lookup_key?: string;
      nickname?: string;
      currency: string;
      unit_amount: number;
      interval: Interval;
      interval_count?: number;
      active?: boolean;
    }>;
  }>;
}
const catalog = catalogJson as CatalogFile;
/** 2025-01-01T00:00:00Z, so catalogue objects are identical across runs. */
const CATALOG_CREATED = 1_735_689_600;

/** A licensed, per-unit recurring price as Stripe returns it (the seeded catalog's and created ones). */
function recurringPrice(fields: {
  id: string;
  active: boolean;
  created: number;
  currency: string;
  lookupKey: string | null;
  metadata: Price["metadata"];
  nickname: string | null;
  product: string;
  interval: Price["recurring"]["interval"];
  intervalCount: number;
  unitAmount: number;
}): Price {
  return {
    id: fields.id,
    object: "price",
    active: fields.active,
    billing_scheme: "per_unit",
    created: fields.created,
    currency: fields.currency,
    custom_unit_amount: null,
    livemode: false,
    lookup_key: fields.lookupKey,
    metadata: fields.metadata,
    nickname: fields.nickname,
    product: fields.product,
    recurring: {
      interval: fields.interval,
      interval_count: fields.intervalCount,
      meter: null,
      trial_period_days: null,
      usage_type: "licensed",
    },
    tax_behavior: "unspecified",
    tiers_mode: null,
    transform_quantity: null,
    type: "recurring",
    unit_amount: fields.unitAmount,
    unit_amount_decimal: String(fields.unitAmount),
  };
}

/** `POST /v1/prices` as the emulator supports it: a recurring per-unit price of a product. */
export interface PriceInput {
  product: string;
  currency: string;
  unitAmount: number;
  interval: Interval;
  intervalCount: number;
  lookupKey: string | null;
  transferLookupKey: boolean;
  nickname: string | null;
  active: boolean;
  metadata: Metadata;
}

export class Catalog {
  readonly products = new Map<string, Product>();
  readonly prices = new Map<string, Price>();
  /** Ids of prices that differ from the catalogue (created through the API, or their lookup key moved). */
  private readonly changedPrices = new Set<string>();

  constructor(private readonly account: Account) {}

  /**
   * `POST /v1/prices`. Prices are immutable in Stripe, so a new amount is a new price; with
   * `transfer_lookup_key` it takes the lookup key from the price that has it, which keeps every
   * subscription on it but without a lookup key from now on.
   */
  createPrice(input: PriceInput, request = NO_REQUEST) {
    const product = this.products.get(input.product);
    if (!product) throw noSuch("product", input.product, "product");
    const holder = input.lookupKey
      ? [...this.prices.values()].find((price) => price.lookup_key === input.lookupKey)
      : undefined;
    if (holder && !input.transferLookupKey) {
      throw invalid(
        "lookup_key",
        `A price (\`${holder.id}\`) already uses that lookup key. Set transfer_lookup_key to true to move it to this price.`,
      );
    }
    const now = this.account.now();
    const price = recurringPrice({
      id: newId("price"),
      active: input.active,
      created: now,
      currency: input.currency,
      lookupKey: input.lookupKey,
      metadata: input.metadata,
      nickname: input.nickname,
      product: product.id,
      interval: input.interval,
      intervalCount: input.intervalCount,
      unitAmount: input.unitAmount,
    });
    const events: EventRecord[] = [];
    if (holder) {
      holder.lookup_key = null;
      this.changedPrices.add(holder.id);
      // Subscription items embed their price: they show it as it is now, keyless.
      for (const sub of this.account.subscriptions.all()) {
        for (const item of sub.items.data) if (item.price.id === holder.id) item.price.lookup_key = null;
      }
      events.push(
        this.account.events.create("price.updated", holder, {
          previousAttributes: { lookup_key: input.lookupKey },
          request,
        }),
      );
    }
    this.prices.set(price.id, price);
    this.changedPrices.add(price.id);
    events.unshift(this.account.events.create("price.created", price, { request }));
    this.account.changed();
    return { price, events };
  }

  /** The prices that differ from the catalogue: what a state file keeps. */
  changed(): Price[] {
    return [...this.changedPrices].flatMap((id) => this.prices.get(id) ?? []);
  }

  /** Puts back prices a state file kept (over the catalogue's). */
  restore(prices: Price[]): void {
    for (const price of prices) {
      this.prices.set(price.id, price);
      this.changedPrices.add(price.id);
    }
  }

  /** Back to catalog.json, forgetting created prices. */
  load(): void {
    this.prices.clear();
    this.changedPrices.clear();
    for (const p of catalog.products) {
      this.products.set(p.id, {
        id: p.id,
        object: "product",
        active: true,
        created: CATALOG_CREATED,
        default_price: p.prices[0]?.id ?? null,
        description: p.description ?? null,
        images: [],
        livemode: false,
        marketing_features: [],
        metadata: { ...p.metadata },
        name: p.name,
        package_dimensions: null,
        shippable: null,
        statement_descriptor: null,
        tax_code: null,
        tax_details: null,
        type: "service",
        unit_label: null,
        updated: CATALOG_CREATED,
        url: null,
      });
      for (const price of p.prices) {
        this.prices.set(
          price.id,
          recurringPrice({
            id: price.id,
            active: price.active ?? true,
            created: CATALOG_CREATED,
            currency: price.currency,
            lookupKey: price.lookup_key ?? null,
            metadata: {},
            nickname: price.nickname ?? null,
            product: p.id,
            interval: price.interval,
            intervalCount: price.interval_count ?? 1,
            unitAmount: price.unit_amount,
          }),
        );
      }
    }
  }
}
