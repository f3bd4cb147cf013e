// A tier's prices in Stripe and changing one (the tier page, admins): the prices of each product the
// tier's lookup keys sell, current and legacy, with their live subscriptions; a new amount for a
// lookup key, previewed (before → after, subscribers on each) and then made in Stripe as a new price
// that takes the key. Stripe stays the source of truth: nothing here stores a price id or an amount.
import { recordAudit, type AuditActor } from "~/models/audit.server.ts";
import { listAccountsByStripeCustomers } from "~/models/billing-account.server.ts";
import { notifyStripeCatalogChanged } from "~/models/catalog-changes.server.ts";
import { listTiersForAdmin } from "~/models/tier.server.ts";
import { inTransaction } from "~/models/transaction.server.ts";
import { legacyPricesMovingTo, priceRole, type PriceRole } from "~/rules/prices.ts";
import { createPriceTakingLookupKey, type NewPrice } from "~/services/stripe/price-changes.server.ts";
import {
  formatAmount,
  formatInterval,
  invalidatePriceCache,
  productsOfLookupKeys,
} from "~/services/stripe/prices.server.ts";
import {
  liveSubscriptionCounts,
  productPrices,
  SAMPLE_SIZE,
  type StripePrice,
  type SubscriptionCounts,
} from "~/services/stripe/tier-prices.server.ts";

export type PriceView = {
  id: string;
  lookupKey: string | null;
  role: PriceRole;
  active: boolean;
  amount: string;
  interval: string;
  currency: string;
  /** Stripe's own values, for a form's defaults. */
  recurring: { interval: string | null; intervalCount: number };
  /** null: not counted yet (or Stripe could not be asked). */
  liveSubscriptions: number | null;
};

export type TierPricesView = {
  products: { id: string; prices: PriceView[] }[];
  /** Per lookup key: its current price and how many live subscriptions its legacy prices hold. */
  keys: { lookupKey: string; current: PriceView | null; legacySubscriptions: number | null }[];
  /** Why Stripe's prices could not be shown (down, billing disabled); null when they are. */
  error: string | null;
  counts: { pending: boolean; complete: boolean; countedAt: string | null; error: string | null };
};

function describePrice(price: StripePrice) {
  return {
    amount: price.unitAmount === null ? "—" : formatAmount(price.unitAmount, price.currency),
    interval: formatInterval(price),
  };
}

function priceView(price: StripePrice, lookupKeys: readonly string[], counts: SubscriptionCounts | null): PriceView {
  return {
    id: price.id,
    lookupKey: price.lookupKey,
    role: priceRole(price, lookupKeys),
    active: price.active,
    ...describePrice(price),
    currency: price.currency.toUpperCase(),
    recurring: { interval: price.interval, intervalCount: price.intervalCount },
    liveSubscriptions: counts ? (counts.byPrice.get(price.id)?.count ?? 0) : null,
  };
}

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

async function countsOrError() {
  try {
    return { counts: await liveSubscriptionCounts(), error: null };
  } catch (error) {
    return { counts: null, error: errorText(error) };
  }
}

/** The Stripe prices of the products the tier's lookup keys sell (a fixed few Stripe calls, cached). */
async function tierProductPrices(lookupKeys: readonly string[]) {
  const products = await productsOfLookupKeys(lookupKeys);
  const productIds = [...new Set([...products.values()].filter((id): id is string => id !== null))];
  return productPrices(productIds);
}

/** The tier page's "Prices in Stripe": never throws; Stripe down shows as `error`. */
export async function tierPricesView(lookupKeys: readonly string[]): Promise<TierPricesView> {
  const empty = { products: [], keys: [] };
  if (!lookupKeys.length) {
    return { ...empty, error: null, counts: { pending: false, complete: true, countedAt: null, error: null } };
  }
  let byProduct: Map<string, StripePrice[]>;
  try {
    byProduct = await tierProductPrices(lookupKeys);
  } catch (error) {
    return {
      ...empty,
      error: errorText(error),
      counts: { pending: false, complete: false, countedAt: null, error: null },
    };
  }
  const { counts, error } = await countsOrError();
  const products = [...byProduct].map(([id, prices]) => ({
    id,
    prices: prices.map((price) => priceView(price, lookupKeys, counts)),
  }));
  const all = [...byProduct.values()].flat();
  const keys = lookupKeys.map((lookupKey) => {
    const current = all.find((price) => price.lookupKey === lookupKey) ?? null;
    const legacy = current ? legacyPricesMovingTo(current, all) : [];
    return {
      lookupKey,
      current: current ? priceView(current, lookupKeys, counts) : null,
      legacySubscriptions: counts ? legacy.reduce((sum, p) => sum + (counts.byPrice.get(p.id)?.count ?? 0), 0) : null,
    };
  });
  return {
    products,
    keys,
    error: null,
    counts: {
      pending: counts === null && error === null,
      complete: counts?.complete ?? false,
      countedAt: counts?.countedAt ?? null,
      error,
    },
  };
}

/** The tier's lookup key's current price and its legacy prices, or why not. */
async function currentAndLegacy(tierKey: string, lookupKey: string) {
  const [tier] = await listTiersForAdmin(tierKey);
  if (!tier) return { ok: false, message: `There is no tier with key "${tierKey}".` } as const;
  const lookupKeys = tier.prices.map((p) => p.lookupKey);
  if (!lookupKeys.includes(lookupKey)) {
    return { ok: false, message: `The tier ${tier.name} has no lookup key "${lookupKey}".` } as const;
  }
  const byProduct = await tierProductPrices([lookupKey]);
  const all = [...byProduct.values()].flat();
  const current = all.find((price) => price.lookupKey === lookupKey);
  if (!current) return { ok: false, message: `Stripe has no price with the lookup key "${lookupKey}".` } as const;
  return { ok: true, tier, current, legacy: legacyPricesMovingTo(current, all) } as const;
}

export type RepriceInput = {
  lookupKey: string;
  unitAmount: number;
  interval: NewPrice["interval"];
  intervalCount: number;
  currency: string;
};

/** What confirming would do: the price now and the new one, and the live subscriptions on the current price. */
export async function previewReprice(tierKey: string, input: RepriceInput) {
  const found = await currentAndLegacy(tierKey, input.lookupKey);
  if (!found.ok) return found;
  const { counts } = await countsOrError();
  const after = {
    ...found.current,
    unitAmount: input.unitAmount,
    currency: input.currency,
    interval: input.interval,
    intervalCount: input.intervalCount,
  };
  const count = (price: StripePrice) => (counts ? (counts.byPrice.get(price.id)?.count ?? 0) : null);
  return {
    ok: true,
    lookupKey: input.lookupKey,
    before: {
      ...describePrice(found.current),
      currency: found.current.currency.toUpperCase(),
      liveSubscriptions: count(found.current),
    },
    after: { ...describePrice(after), currency: input.currency.toUpperCase(), liveSubscriptions: 0 },
    legacySubscriptions: counts
      ? found.legacy.reduce((sum, p) => sum + (counts.byPrice.get(p.id)?.count ?? 0), 0)
      : null,
    unchanged:
      found.current.unitAmount === input.unitAmount &&
      found.current.currency === input.currency &&
      found.current.interval === input.interval &&
      found.current.intervalCount === input.intervalCount,
  } as const;
}

/**
 * Creates the new price in Stripe (the lookup key moves to it; every subscription stays where it is),
 * audits it and drops every instance's cached prices. `requestId` (the form's nonce) is the
 * idempotency key: a double click or a retry makes one price and one audit entry.
 */
export async function repriceLookupKey(actor: AuditActor, tierKey: string, input: RepriceInput, requestId: string) {
  const found = await currentAndLegacy(tierKey, input.lookupKey);
  if (!found.ok) return found;
  const { tier, current } = found;
  const { price, replayed } = await createPriceTakingLookupKey(
    {
      productId: current.productId,
      lookupKey: input.lookupKey,
      currency: input.currency,
      unitAmount: input.unitAmount,
      interval: input.interval,
      intervalCount: input.intervalCount,
      nickname: null,
    },
    `tierdesk-reprice:${requestId}`,
  );
  invalidatePriceCache();
  if (!replayed) {
    await inTransaction(async (tx) => {
      await recordAudit(tx, {
        actor,
        action: "price_changed",
        entity: "tier",
        entityId: tier.id,
        entityLabel: tier.key,
        before: {
          lookupKey: input.lookupKey,
          price: current.id,
          ...describePrice(current),
          currency: current.currency,
        },
        after: { lookupKey: input.lookupKey, price: price.id, ...describePrice(price), currency: price.currency },
      });
      // Every other instance drops its cached prices when this commits (the webhook will say so too).
      await notifyStripeCatalogChanged(tx);
    });
  }
  return { ok: true, price, previous: current, replayed } as const;
}

/** "Move legacy subscribers" preview: how many, and the first few with their accounts. */
export async function previewPriceMove(tierKey: string, lookupKey: string) {
  const found = await currentAndLegacy(tierKey, lookupKey);
  if (!found.ok) return found;
  const counts = await liveSubscriptionCounts({ waitMs: 5_000 });
  if (!counts) return { ok: false, message: "Stripe is still counting subscriptions; try again in a moment." } as const;
  const entries = found.legacy.map((price) => ({ price, entry: counts.byPrice.get(price.id) }));
  const first = entries
    .flatMap(({ price, entry }) => (entry?.first ?? []).map((sub) => ({ sub, price })))
    .slice(0, SAMPLE_SIZE);
  const accounts = await listAccountsByStripeCustomers(
    first.flatMap(({ sub }) => (sub.customerId ? [sub.customerId] : [])),
  );
  return {
    ok: true,
    lookupKey,
    target: { id: found.current.id, ...describePrice(found.current) },
    count: entries.reduce((sum, { entry }) => sum + (entry?.count ?? 0), 0),
    complete: counts.complete,
    first: first.map(({ sub, price }) => {
      const account = accounts.find((a) => a.stripeCustomerId === sub.customerId);
      return {
        subscriptionId: sub.id,
        customerId: sub.customerId,
        account: account ? { id: account.id, name: account.name } : null,
        status: sub.status,
        price: { id: price.id, ...describePrice(price) },
      };
    }),
  } as const;
}
