// What /pricing offers each viewer on each tier: the price shown (live from Stripe, "Free" for
// exempt tiers, never a stray fallback currency) and the one action that fits (sign in, subscribe,
// switch through the portal, a Whop product page). Pure functions of what the loader gathered.
import type { BillingProvider } from "~/generated/prisma/enums.ts";
import { formatAmount, formatInterval, type LivePrice } from "./prices.server.ts";

export type Viewer =
  | { kind: "anonymous" }
  /** Signed in without a live Stripe subscription. */
  | { kind: "free"; tierKey: string | null }
  /**
   * A live Stripe subscription: its tier, its price's lookup key and interval when Stripe said
   * (null when it could not be asked), and whether it is set to end.
   */
  | {
      kind: "subscriber";
      tierKey: string | null;
      lookupKey: string | null;
      interval: string | null;
      cancelAtPeriodEnd: boolean;
    };

export type PricingTier = {
  key: string;
  name: string;
  billingProvider: BillingProvider;
  isBillingExempt: boolean;
  whopProductKey: string | null;
  fallbackPrice: string;
  lookupKeys: readonly string[];
};

export type PriceView = {
  lookupKey: string;
  /** "£29.00" */
  amount: string;
  /** "month", "year", "3 months" */
  interval: string;
  /** The price of the viewer's own subscription. */
  current: boolean;
};

export type PriceDisplay =
  | { kind: "free" }
  | { kind: "prices"; prices: PriceView[] }
  /** Stripe could not be asked: the operator's indicative price. */
  | { kind: "indicative"; text: string }
  /** Priced on Whop's own page. */
  | { kind: "whop" }
  | { kind: "unavailable" };

export type PlanAction =
  | { kind: "sign-in" }
  | { kind: "sign-up" }
  | { kind: "current" }
  | { kind: "subscribe"; prices: Array<{ lookupKey: string; label: string }> }
  | { kind: "switch"; lookupKey: string; label: string }
  /** A subscription set to end changes plan only once resumed. */
  | { kind: "resume-first" }
  /** Bought through Tierdesk's Whop checkout; `url` is the product's own page on whop.com, when configured. */
  | { kind: "whop"; url: string | null }
  | { kind: "none" };

export const isExemptTier = (tier: Pick<PricingTier, "billingProvider" | "isBillingExempt">) =>
  tier.isBillingExempt || tier.billingProvider === "exempt";

/**
 * The public page of a Whop product, from the tier's Whop product key: a whop.com URL as it is,
 * a plan id (`plan_…`) as its checkout page, anything else as the product's route on whop.com
 * (`acme/basic` → https://whop.com/acme/basic/). No key, no link.
 */
export function whopProductUrl(productKey: string | null | undefined): string | null {
  const key = productKey?.trim();
  if (!key) return null;
  if (/^https:\/\/(www\.)?whop\.com\//.test(key)) return key;
  if (/^plan_[A-Za-z0-9]+$/.test(key)) return `https://whop.com/checkout/${key}/`;
  const route = key.split("/").filter(Boolean).map(encodeURIComponent).join("/");
  return route ? `https://whop.com/${route}/` : null;
}

const CADENCE: Record<string, string> = { day: "daily", week: "weekly", month: "monthly", year: "yearly" };

/** "monthly", "yearly", "every 3 months". */
function cadence(interval: string) {
  return CADENCE[interval] ?? `every ${interval}`;
}

/** The prices to show: Stripe's for Stripe tiers, "Free" for exempt ones. */
export function priceDisplay(
  tier: PricingTier,
  live: ReadonlyMap<string, LivePrice>,
  { unavailable, currentLookupKey }: { unavailable: boolean; currentLookupKey: string | null },
): PriceDisplay {
  if (isExemptTier(tier)) return { kind: "free" };
  if (tier.billingProvider === "whop") return { kind: "whop" };
  const prices = tier.lookupKeys.flatMap((lookupKey): PriceView[] => {
    const price = live.get(lookupKey);
    if (!price || price.unitAmount === null) return [];
    return [
      {
        lookupKey,
        amount: formatAmount(price.unitAmount, price.currency),
        interval: formatInterval(price),
        current: lookupKey === currentLookupKey,
      },
    ];
  });
  if (prices.length) return { kind: "prices", prices };
  return unavailable && tier.fallbackPrice.trim()
    ? { kind: "indicative", text: tier.fallbackPrice }
    : { kind: "unavailable" };
}

/** The one thing this viewer can do with this tier. `prices` are the tier's live prices (in its order). */
export function planAction(tier: PricingTier, viewer: Viewer, prices: readonly PriceView[]): PlanAction {
  const isCurrent = viewer.kind !== "anonymous" && viewer.tierKey === tier.key;
  if (tier.billingProvider === "whop" && !isExemptTier(tier)) {
    if (isCurrent) return { kind: "current" };
    return { kind: "whop", url: whopProductUrl(tier.whopProductKey) };
  }
  if (isExemptTier(tier)) {
    if (viewer.kind === "anonymous") return { kind: "sign-up" };
    return isCurrent ? { kind: "current" } : { kind: "none" };
  }
  if (tier.billingProvider !== "stripe") return { kind: "none" };
  if (viewer.kind === "anonymous") return { kind: "sign-in" };
  if (viewer.kind === "free") {
    if (!prices.length) return { kind: "none" };
    return {
      kind: "subscribe",
      prices: prices.map((price) => ({ lookupKey: price.lookupKey, label: `Subscribe ${cadence(price.interval)}` })),
    };
  }
  // A subscriber changes plan through the portal's confirmation page, one price at a time.
  const others = prices.filter((price) => price.lookupKey !== viewer.lookupKey);
  if (isCurrent) {
    // Another interval of the same plan, when the current one is known.
    const other = viewer.lookupKey ? others[0] : undefined;
    if (!other) return { kind: "current" };
    return viewer.cancelAtPeriodEnd
      ? { kind: "resume-first" }
      : { kind: "switch", lookupKey: other.lookupKey, label: `Switch to ${cadence(other.interval)} billing` };
  }
  // Keep the subscriber's billing interval when this plan has it.
  const target = others.find((price) => price.interval === viewer.interval) ?? others[0];
  if (!target) return { kind: "none" };
  if (viewer.cancelAtPeriodEnd) return { kind: "resume-first" };
  const sameInterval = viewer.interval === null || target.interval === viewer.interval;
  return {
    kind: "switch",
    lookupKey: target.lookupKey,
    label: sameInterval ? `Switch to ${tier.name}` : `Switch to ${tier.name} (${cadence(target.interval)})`,
  };
}
