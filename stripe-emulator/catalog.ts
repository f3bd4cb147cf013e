/**
 * The product catalogue the emulator serves. Real Stripe accounts are set up
 * in the dashboard; here the catalogue is a JSON file (or an object passed to
 * startStripeEmulator) so ids are stable across restarts and test runs.
 */
import { readFileSync } from 'node:fs';
import type { Interval, Metadata, Price, Product } from './types.ts';

export interface CatalogPrice {
  id: string;
  lookup_key?: string | null;
  nickname?: string | null;
  currency: string;
  /** Minor units (pence). */
  unit_amount: number;
  interval: Interval;
  interval_count?: number;
  active?: boolean;
  metadata?: Metadata;
}

export interface CatalogProduct {
  id: string;
  name: string;
  description?: string | null;
  active?: boolean;
  metadata?: Metadata;
  /** The first price becomes the product's `default_price`. */
  prices: CatalogPrice[];
}

export interface Catalog {
  products: CatalogProduct[];
}

/** Fixed creation time (2025-01-01T00:00:00Z) so catalogue objects are identical across runs. */
const CATALOG_CREATED = 1_735_689_600;

export function loadDefaultCatalog(): Catalog {
  const text = readFileSync(new URL('./catalog.json', import.meta.url), 'utf8');
  return JSON.parse(text) as Catalog;
}

/** Fails fast on catalogue mistakes that would otherwise surface as confusing API behaviour. */
export function validateCatalog(catalog: Catalog): void {
  const ids = new Set<string>();
  const lookupKeys = new Set<string>();
  const intervals: readonly string[] = ['day', 'week', 'month', 'year'];
  if (!catalog || !Array.isArray(catalog.products)) throw new Error('Catalog must have a "products" array');
  for (const product of catalog.products) {
    if (!product.id?.startsWith('prod_')) throw new Error(`Catalog product id must start with prod_: ${product.id}`);
    if (!product.name) throw new Error(`Catalog product ${product.id} needs a name`);
    if (ids.has(product.id)) throw new Error(`Duplicate catalog id ${product.id}`);
    ids.add(product.id);
    if (!Array.isArray(product.prices)) throw new Error(`Catalog product ${product.id} needs a "prices" array`);
    for (const price of product.prices) {
      if (!price.id?.startsWith('price_')) throw new Error(`Catalog price id must start with price_: ${price.id}`);
      if (ids.has(price.id)) throw new Error(`Duplicate catalog id ${price.id}`);
      ids.add(price.id);
      if (!Number.isInteger(price.unit_amount) || price.unit_amount < 0) {
        throw new Error(`Catalog price ${price.id} needs a non-negative integer unit_amount`);
      }
      if (!/^[a-z]{3}$/.test(price.currency ?? '')) throw new Error(`Catalog price ${price.id} needs a lowercase ISO currency`);
      if (!intervals.includes(price.interval)) throw new Error(`Catalog price ${price.id} has invalid interval ${price.interval}`);
      if (price.lookup_key) {
        if (lookupKeys.has(price.lookup_key)) throw new Error(`Duplicate lookup_key ${price.lookup_key}`);
        lookupKeys.add(price.lookup_key);
      }
    }
  }
}

export function buildCatalogObjects(catalog: Catalog): { products: Product[]; prices: Price[] } {
  validateCatalog(catalog);
  const products: Product[] = [];
  const prices: Price[] = [];
  for (const p of catalog.products) {
    products.push({
      id: p.id,
      object: 'product',
      active: p.active ?? true,
      created: CATALOG_CREATED,
      default_price: p.prices[0]?.id ?? null,
      description: p.description ?? null,
      images: [],
      livemode: false,
      marketing_features: [],
      metadata: { ...(p.metadata ?? {}) },
      name: p.name,
      package_dimensions: null,
      shippable: null,
      statement_descriptor: null,
      tax_code: null,
      type: 'service',
      unit_label: null,
      updated: CATALOG_CREATED,
      url: null,
    });
    for (const price of p.prices) {
      prices.push({
        id: price.id,
        object: 'price',
        active: price.active ?? true,
        billing_scheme: 'per_unit',
        created: CATALOG_CREATED,
        currency: price.currency,
        custom_unit_amount: null,
        livemode: false,
        lookup_key: price.lookup_key ?? null,
        metadata: { ...(price.metadata ?? {}) },
        nickname: price.nickname ?? null,
        product: p.id,
        recurring: {
          interval: price.interval,
          interval_count: price.interval_count ?? 1,
          meter: null,
          trial_period_days: null,
          usage_type: 'licensed',
        },
        tax_behavior: 'unspecified',
        tiers_mode: null,
        transform_quantity: null,
        type: 'recurring',
        unit_amount: price.unit_amount,
        unit_amount_decimal: String(price.unit_amount),
      });
    }
  }
  return { products, prices };
}
