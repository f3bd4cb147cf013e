// What customers can buy through Whop, and buying it. /pricing shows a Whop tier's plans with their
// prices from Whop (getWhopOffers) and a "Subscribe with Whop" button that POSTs to /api/whop/checkout
// (startWhopCheckout): a checkout configuration carrying the user's id, and Whop's hosted purchase page.
// Without a Whop key (production) the tier is shown as not purchasable, with the reason; never faked.
import type { AccountWithTier } from "~/models/billing-account.server.ts";
import { getWhopTierByKey } from "~/models/whop.server.ts";
import { logger } from "~/utils/logger.server.ts";
import { type BillingOutcome, billingOutcomeOf, BillingRefusal } from "~/services/billing/outcomes.ts";
import { ACCOUNT_ID_METADATA_KEY } from "~/rules/stripe-events.ts";
import { isLiveSubscriptionStatus } from "~/rules/stripe-subscriptions.ts";
import { isSellableWhopPlan, type WhopProductFact, type WhopProductState, whopProductState } from "~/rules/whop.ts";
import { isLiveWhopStatus } from "~/rules/whop-status.ts";
import { checkWhopProducts, describeWhopPlan, WHOP_NOT_CONFIGURED, type WhopPlanView } from "./catalog.server.ts";
import { createCheckoutConfiguration, describeWhopError, WhopDisabledError, whopMode } from "./client.server.ts";

// ---------------------------------------------------------------------------------------------
// The dashboard's view of a Whop tier's product

export type WhopProductStatus = {
  productId: string;
  state: WhopProductState | "unverified";
  title: string | null;
  visibility: string | null;
  plans: Array<WhopPlanView & { visibility: string; sellable: boolean }>;
};

export function describeWhopProduct(
  productId: string,
  state: WhopProductState | "unverified",
  product: WhopProductFact,
): WhopProductStatus {
  return {
    productId,
    state,
    title: product?.title ?? null,
    visibility: product?.visibility ?? null,
    plans: (product?.plans ?? []).map((plan) => ({
      ...describeWhopPlan(plan),
      visibility: plan.visibility,
      sellable: isSellableWhopPlan(plan),
    })),
  };
}

// ---------------------------------------------------------------------------------------------
// /pricing

export type WhopOffer =
  | { state: "available"; productTitle: string; plans: WhopPlanView[] }
  /** Not purchasable now: Whop is not configured, did not answer, or the product is not for sale. */
  | { state: "unavailable"; reason: string };

export type WhopTierRef = {
  key: string;
  billingProvider: "stripe" | "whop" | "exempt";
  whopProductKey: string | null;
  isBillingExempt?: boolean;
};

const UNAVAILABLE_BECAUSE: Record<Exclude<WhopProductState, "found">, string> = {
  missing: "this plan is not on sale on Whop right now",
  "archived-product": "this plan is no longer sold on Whop",
  "no-plan": "this plan has no price on sale on Whop right now",
};

/**
 * Each Whop tier's offer by tier key: its plans for sale with prices from Whop (cached, bounded by
 * `deadlineMs`), or why it cannot be bought now. One call answers every tier of a page.
 */
export async function getWhopOffers(
  tiers: readonly WhopTierRef[],
  { deadlineMs }: { deadlineMs?: number } = {},
): Promise<Map<string, WhopOffer>> {
  const whopTiers = tiers.filter(
    (tier) => tier.billingProvider === "whop" && !tier.isBillingExempt && tier.whopProductKey?.trim(),
  );
  const check = await checkWhopProducts(
    whopTiers.map((tier) => tier.whopProductKey?.trim() ?? ""),
    deadlineMs ? { deadlineMs } : {},
  );
  const offers = new Map<string, WhopOffer>();
  for (const tier of whopTiers) {
    if (check.unavailable) {
      const reason =
        check.reason === WHOP_NOT_CONFIGURED
          ? "Whop purchases are not available on this Tierdesk (no Whop API key is configured)"
          : "Whop could not be reached just now; please try again in a moment";
      offers.set(tier.key, { state: "unavailable", reason });
      continue;
    }
    const product = check.products.get(tier.whopProductKey?.trim() ?? "") ?? null;
    const state = whopProductState(product);
    if (state !== "found" || !product) {
      offers.set(tier.key, {
        state: "unavailable",
        reason: UNAVAILABLE_BECAUSE[state === "found" ? "missing" : state],
      });
      continue;
    }
    offers.set(tier.key, {
      state: "available",
      productTitle: product.title,
      plans: product.plans.filter(isSellableWhopPlan).map(describeWhopPlan),
    });
  }
  return offers;
}

// ---------------------------------------------------------------------------------------------
// Buying: POST /api/whop/checkout

const TIER_KEY = /^[a-z0-9_-]{1,32}$/;
const PLAN_ID = /^plan_[A-Za-z0-9_-]{1,60}$/;

export type WhopCheckoutRequest = { tierKey: string; planId: string | null };

/**
 * A hosted Whop checkout for one of a Whop tier's plans (the tier's only plan when `planId` is
 * empty). The checkout configuration's metadata carries the buying account's id, which Whop copies
 * onto the membership: the webhook grants the tier to that account by it. Whop then sends the buyer back to `/api/whop/return`.
 */
/** The account buying through Whop (the session's current one): the membership is granted to it. */
export type WhopBuyer = Pick<AccountWithTier, "id" | "subscriptionStatus" | "whopMembershipStatus">;

export async function startWhopCheckout(
  user: WhopBuyer,
  request: WhopCheckoutRequest,
  origin: string,
): Promise<BillingOutcome> {
  return billingOutcomeOf(() => purchaseUrl(user, request, origin));
}

async function purchaseUrl(user: WhopBuyer, request: WhopCheckoutRequest, origin: string): Promise<string> {
  if (whopMode() === "disabled") throw new BillingRefusal("billing-disabled", new WhopDisabledError().message);
  const tierKey = request.tierKey.trim();
  if (!TIER_KEY.test(tierKey))
    throw new BillingRefusal("invalid-request", "tier is required: choose a plan on /pricing.");
  const planId = request.planId?.trim() || null;
  if (planId && !PLAN_ID.test(planId)) throw new BillingRefusal("invalid-request", "plan is not a Whop plan id.");
  const tier = await getWhopTierByKey(tierKey);
  if (!tier || tier.billingProvider !== "whop" || !tier.isCustomerFacing || !tier.whopProductKey) {
    throw new BillingRefusal("not-offered", `"${tierKey}" is not offered: it is not a customer-facing Whop tier.`);
  }
  if (isLiveSubscriptionStatus(user.subscriptionStatus)) {
    throw new BillingRefusal(
      "already-subscribed",
      "You already have a subscription. Change or cancel it in the customer portal.",
    );
  }
  if (isLiveWhopStatus(user.whopMembershipStatus)) {
    throw new BillingRefusal("already-on-whop", "You already have a plan through Whop. Change or cancel it on Whop.");
  }

  const offer = (await getWhopOffers([tier], { deadlineMs: 8_000 })).get(tier.key);
  if (!offer || offer.state === "unavailable") {
    const reason = offer?.reason ?? "Whop did not answer";
    throw new BillingRefusal(
      /could not be reached/.test(reason) ? "stripe-unreachable" : "not-offered",
      `${capitalize(reason)}.`,
    );
  }
  const plan = planId
    ? offer.plans.find((candidate) => candidate.id === planId)
    : offer.plans.length === 1
      ? offer.plans[0]
      : undefined;
  if (!plan) {
    throw new BillingRefusal(
      planId ? "not-offered" : "invalid-request",
      planId ? `Plan ${planId} is not on sale for ${tier.name}.` : "plan is required: this tier has several plans.",
    );
  }
  try {
    const configuration = await createCheckoutConfiguration({
      planId: plan.id,
      metadata: { [ACCOUNT_ID_METADATA_KEY]: String(user.id), tier: tier.key },
      redirectUrl: `${origin}/api/whop/return`,
    });
    return configuration.purchaseUrl;
  } catch (error) {
    logger.warn({ whop: describeWhopError(error) }, "Whop checkout configuration failed");
    throw new BillingRefusal("stripe-unreachable", "Whop could not be reached. Please try again in a moment.");
  }
}

const capitalize = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
