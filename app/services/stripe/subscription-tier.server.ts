// Which tier a subscription's prices pay for, asked the one way on every path: the webhook, replays,
// support's sync (all through fulfilment.server.ts) and the pages that show a legacy price (support's
// explanation, /account, /pricing). The rule is tierForSubscription (app/rules/); this file gathers its
// facts: the lookup keys' owners from the database and, only for a price without a lookup key, every
// owned key's price as Stripe has it now (the cached catalog: a warm cache asks Stripe nothing).
import { findLookupKeyOwners, listLookupKeyOwners } from "~/models/tier.server.ts";
import type { Db } from "~/models/transaction.server.ts";
import {
  currentPriceForLegacy,
  type PlanPrice,
  type SubscriptionItemPrice,
  type TierRef,
  tierForSubscription,
  tiersByProduct,
} from "~/rules/stripe-subscriptions.ts";
import { PAGE_BUDGET_MS } from "./breaker.server.ts";
import {
  formatAmount,
  formatInterval,
  type LivePrice,
  PricesUnavailableError,
  pricesOfLookupKeys,
} from "./prices.server.ts";
import { billingMode } from "./client.server.ts";
import { fetchSubscriptionDetails, type SubscriptionDetails } from "./subscription-details.server.ts";

export type ResolvedTier =
  /** `tierPrices`: the tier's lookup keys' prices as Stripe has them, when a legacy price made us ask. */
  { tier: TierRef; tierPrices: LivePrice[] | null } | { error: string };

/**
 * The tier `items` pay for, by the one rule. `db` is the caller's transaction (the webhook's, whose
 * owner cache it keeps fresh); without one, one query of the tiers' keys. Throws when a legacy price
 * needs Stripe and Stripe cannot be asked within `deadlineMs` (a webhook then fails and is retried).
 */
export async function resolveSubscriptionTier(
  subscriptionId: string,
  items: readonly SubscriptionItemPrice[],
  { db, deadlineMs }: { db?: Db; deadlineMs: number },
): Promise<ResolvedTier> {
  const keys = items.map((item) => item.lookupKey).filter((key): key is string => Boolean(key));
  const known = db ? await findLookupKeyOwners(db, keys) : await listLookupKeyOwners();
  const first = tierForSubscription(subscriptionId, items, known);
  if (!("needsProducts" in first)) return "error" in first ? first : { tier: first.tier, tierPrices: null };
  // A legacy price (its lookup key moved to a new price): the tier selling its product.
  const owners = db ? await listLookupKeyOwners(db) : known;
  const prices = await pricesOfLookupKeys(
    owners.map((owner) => owner.lookupKey),
    { deadlineMs },
  );
  const products = new Map([...prices].map(([key, price]) => [key, price?.productId ?? null]));
  const resolution = tierForSubscription(subscriptionId, items, owners, tiersByProduct(owners, products));
  if ("needsProducts" in resolution) throw new Error("tierForSubscription asked for products twice");
  if ("error" in resolution) return resolution;
  const tierPrices = owners
    .filter((owner) => owner.tier.id === resolution.tier.id)
    .flatMap((owner) => prices.get(owner.lookupKey) ?? []);
  return { tier: resolution.tier, tierPrices };
}

const textOf = (price: Pick<LivePrice, "unitAmount" | "currency" | "interval" | "intervalCount">) =>
  price.unitAmount === null
    ? null
    : { amount: formatAmount(price.unitAmount, price.currency), interval: formatInterval(price) };

/**
 * What the subscription's plan costs, for people: the price it pays and, for a legacy price, the tier
 * the rule names and what that tier charges new subscribers for the same terms. Null without a price
 * (Stripe did not answer: `details` null). When Stripe cannot say more in time, what is known is shown
 * and `legacy.problem` says why the rest is missing. Costs nothing for a price with a lookup key; a
 * legacy one costs one query and the cached catalog.
 */
export async function planPriceOf(
  details: SubscriptionDetails | null,
  { deadlineMs = PAGE_BUDGET_MS }: { deadlineMs?: number } = {},
): Promise<PlanPrice | null> {
  const item = details?.item;
  const paying = item ? textOf(item) : null;
  if (!details || !item || !paying) return null;
  if (item.lookupKey) return { paying, legacy: null };
  let resolved: ResolvedTier;
  try {
    resolved = await resolveSubscriptionTier(details.id, details.prices, { deadlineMs });
  } catch (error) {
    if (!(error instanceof PricesUnavailableError)) throw error;
    // Stripe down or slow (the breaker, the deadline): what is known is shown, the rest said missing.
    const problem = "the current prices could not be read from Stripe just now.";
    return { paying, legacy: { tier: null, current: null, problem } };
  }
  if ("error" in resolved) return { paying, legacy: { tier: null, current: null, problem: resolved.error } };
  const onSale = (resolved.tierPrices ?? []).filter((price) => price.active && price.productActive);
  const current = currentPriceForLegacy(item, onSale);
  return { paying, legacy: { tier: resolved.tier, current: current && textOf(current), problem: null } };
}

/**
 * Support's look at a subscription: as Stripe has it now (one read, bounded like every page's) and
 * its price for the explanation. Nothing when billing is off or there is no subscription; `details`
 * null when Stripe did not answer in time (the page shows what the database knows).
 */
export async function subscriptionForSupport(
  subscriptionId: string | null,
): Promise<{ details: SubscriptionDetails | null; price: PlanPrice | null }> {
  if (!subscriptionId || billingMode() === "disabled") return { details: null, price: null };
  const details = await fetchSubscriptionDetails(subscriptionId);
  return { details, price: await planPriceOf(details) };
}
