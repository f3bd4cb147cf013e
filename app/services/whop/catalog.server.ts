// Whop products and their plans, live, for the dashboard (is each Whop tier's product there and
// for sale?) and /pricing (its prices). Whop is the source of truth: tiers store only a product id.
// One product request per uncached product (in parallel) and one plan listing per Whop company
// answer every tier; results are cached briefly in process and dropped when Whop reports a product
// or plan change (product.*, plan.* webhooks). When Whop cannot answer in time, callers get
// `unavailable` with the reason and nothing is cached.
import { withDeadline } from "~/utils/deadline.ts";
import { singleton } from "~/utils/singleton.server.ts";
import type { WhopCheck, WhopPlanFact, WhopProductFact } from "~/rules/whop.ts";
import { listPlans, retrieveProduct, toProductFact, plansOf, whopMode } from "./client.server.ts";

/** Short: a Whop company that does not send product webhooks still sees changes within minutes. */
const CACHE_TTL_MS = 2 * 60_000;
const DEFAULT_DEADLINE_MS = 2_500;

type CacheEntry = { product: WhopProductFact; expiresAt: number };
const cache = singleton("whop-catalog-cache", () => ({ entries: new Map<string, CacheEntry>(), generation: 0 }));

/** Drops every cached product (Whop reported a product or plan change). */
export function invalidateWhopCatalog() {
  cache.entries.clear();
  cache.generation++;
}

export const WHOP_NOT_CONFIGURED = "Whop is not configured (WHOP_API_KEY is not set)";

async function fetchProducts(productIds: readonly string[]): Promise<Map<string, WhopProductFact>> {
  const products = await Promise.all(productIds.map((id) => retrieveProduct(id)));
  const found = products.filter((product) => product !== null);
  // Whop lists plans per company: one listing per company (a Tierdesk usually sells one company's).
  const byCompany = new Map<string | null, string[]>();
  for (const product of found) {
    const company = product.company?.id ?? null;
    byCompany.set(company, [...(byCompany.get(company) ?? []), product.id]);
  }
  const listings = await Promise.all([...byCompany].map(([company, ids]) => listPlans(ids, company)));
  const plans = listings.flat();
  const facts = new Map<string, WhopProductFact>(productIds.map((id) => [id, null]));
  for (const product of found) facts.set(product.id, toProductFact(product, plansOf(plans, product.id)));
  return facts;
}

/**
 * Whop's products (with their plans) for these ids: cached ones from memory, the rest from Whop
 * within `deadlineMs`. A product Whop does not know is `null` in `products`.
 */
export async function checkWhopProducts(
  productIds: readonly string[],
  { deadlineMs = DEFAULT_DEADLINE_MS }: { deadlineMs?: number } = {},
): Promise<WhopCheck> {
  const ids = [...new Set(productIds.map((id) => id.trim()).filter(Boolean))];
  if (!ids.length) return { products: new Map(), unavailable: false };
  if (whopMode() === "disabled") return { products: new Map(), unavailable: true, reason: WHOP_NOT_CONFIGURED };
  const now = Date.now();
  const products = new Map<string, WhopProductFact>();
  const missing: string[] = [];
  for (const id of ids) {
    const entry = cache.entries.get(id);
    if (entry && entry.expiresAt > now) products.set(id, entry.product);
    else missing.push(id);
  }
  if (!missing.length) return { products, unavailable: false };
  try {
    const generation = cache.generation;
    const fetched = await withDeadline(fetchProducts(missing), deadlineMs, "Whop");
    // A webhook may have invalidated the cache while we waited: then do not cache what may be stale.
    const cacheable = generation === cache.generation;
    for (const [id, product] of fetched) {
      products.set(id, product);
      if (cacheable) cache.entries.set(id, { product, expiresAt: Date.now() + CACHE_TTL_MS });
    }
    return { products, unavailable: false };
  } catch (error) {
    return { products, unavailable: true, reason: error instanceof Error ? error.message : String(error) };
  }
}

// ---------------------------------------------------------------------------------------------
// How a plan's price reads

/** "$5.00", from Whop's price in the currency's units (not cents); odd currencies as "5 USDT". */
export function formatWhopPrice(amount: number, currency: string): string {
  try {
    // "$5.00", not "US$5.00": Whop's own pages show the narrow symbol.
    return new Intl.NumberFormat("en-GB", {
      style: "currency",
      currency: currency.toUpperCase(),
      currencyDisplay: "narrowSymbol",
    }).format(amount);
  } catch {
    return `${amount} ${currency.toUpperCase()}`;
  }
}

const PERIODS: Array<{ days: readonly number[]; interval: string; adverb: string }> = [
  { days: [1], interval: "day", adverb: "daily" },
  { days: [7], interval: "week", adverb: "weekly" },
  { days: [28, 29, 30, 31], interval: "month", adverb: "monthly" },
  { days: [90, 91, 92], interval: "3 months", adverb: "quarterly" },
  { days: [180, 181, 182, 183, 184], interval: "6 months", adverb: "every 6 months" },
  { days: [365, 366], interval: "year", adverb: "yearly" },
];

/** "month", "year", "3 months", "45 days"; "one-off" for a one-time plan. Whop counts periods in days. */
export function formatWhopInterval(plan: Pick<WhopPlanFact, "billingPeriod" | "planType">): string {
  if (plan.planType === "one_time" || !plan.billingPeriod) return "one-off";
  const known = PERIODS.find((period) => period.days.includes(plan.billingPeriod ?? 0));
  return known?.interval ?? `${plan.billingPeriod} days`;
}

/** "monthly", "yearly", "every 45 days", "one-off": for a button's label. */
function whopCadence(plan: Pick<WhopPlanFact, "billingPeriod" | "planType">): string {
  if (plan.planType === "one_time" || !plan.billingPeriod) return "one-off";
  return (
    PERIODS.find((period) => period.days.includes(plan.billingPeriod ?? 0))?.adverb ??
    `every ${plan.billingPeriod} days`
  );
}

export type WhopPlanView = {
  id: string;
  title: string | null;
  /** What each period costs ("£5.00"), or the one-off price. */
  amount: string;
  interval: string;
  cadence: string;
  /** The first payment when it differs from the renewal ("£1.00"), else null. */
  firstPayment: string | null;
  trialDays: number | null;
};

export function describeWhopPlan(plan: WhopPlanFact): WhopPlanView {
  const recurring = plan.planType !== "one_time" && Boolean(plan.billingPeriod);
  const amount = formatWhopPrice(recurring ? plan.renewalPrice : plan.initialPrice, plan.currency);
  const first =
    recurring && plan.initialPrice !== plan.renewalPrice ? formatWhopPrice(plan.initialPrice, plan.currency) : null;
  return {
    id: plan.id,
    title: plan.title,
    amount,
    interval: formatWhopInterval(plan),
    cadence: whopCadence(plan),
    firstPayment: first,
    trialDays: plan.trialPeriodDays && plan.trialPeriodDays > 0 ? plan.trialPeriodDays : null,
  };
}
