// The loader and action of /pricing (route.tsx): the tiers on sale with their prices and the viewer's
// action on each, and the plan switch through the portal's confirmation page. A signed-in viewer sees
// the plan and seats of the account they act for (the header's switcher).
import type { ActionFunctionArgs, LoaderFunctionArgs, SerializeFrom } from "@remix-run/node";
import { json, redirect } from "@remix-run/node";
import { appOrigin, createPlanSwitchSession } from "~/services/stripe/checkout.server.ts";
import { isExemptTier, planAction, priceDisplay, type Viewer } from "~/services/stripe/customer-pricing.server.ts";
import { getEntitlements } from "~/services/customers/entitlements.server.ts";
import { isLiveSubscriptionStatus, priceText } from "~/rules/stripe-subscriptions.ts";
import { hasValidIntegration } from "~/rules/tiers.ts";
import { isLiveWhopStatus } from "~/rules/whop-status.ts";
import { billingMode } from "~/services/stripe/client.server.ts";
import { subscriptionDetailsFor } from "~/services/stripe/subscription-details.server.ts";
import { planPriceOf } from "~/services/stripe/subscription-tier.server.ts";
import { checkSellableTiers } from "~/services/stripe/sellable-tiers.server.ts";
import { getWhopOffers } from "~/services/whop/offers.server.ts";
import { listCustomerFacingTiers, listTierIntegrations } from "~/models/tier.server.ts";
import { getSeats } from "~/models/seats.server.ts";
import { getCurrentBillingAccount, getOptionalUser, requireUser } from "~/web/auth.server.ts";
import { billingActorFor, ownersOnlyRefusal } from "~/web/account-billing.server.ts";
import { billingRateLimit } from "~/web/rate-limit.server.ts";
import { readForm } from "~/utils/http.server.ts";
import { describeAsOf } from "~/utils/age.ts";

export async function loader({ request }: LoaderFunctionArgs) {
  const [signedIn, tiers, integrations] = await Promise.all([
    getOptionalUser(request),
    listCustomerFacingTiers(),
    listTierIntegrations(),
  ]);
  // The plan shown as "yours" is the current account's.
  const user = signedIn ? await getCurrentBillingAccount(request) : null;
  const configured = tiers
    .map((tier) => ({ ...tier, lookupKeys: tier.prices.map((p) => p.lookupKey) }))
    .filter((tier) => hasValidIntegration(tier));
  const subscribed = Boolean(user && isLiveSubscriptionStatus(user.subscriptionStatus));
  const subscriptionId = subscribed && billingMode() !== "disabled" ? user?.stripeSubscriptionId : null;
  // One price lookup (every Stripe tier's keys: validity is judged across tiers, as on the dashboard)
  // and, for subscribers, one subscription read (both cached): which price is theirs. A legacy price
  // adds one read of the cached catalog (planPriceOf).
  const [{ lookup, invalid }, entitlements, subscription, whopOffers, ownersOnly, seats] = await Promise.all([
    checkSellableTiers(integrations),
    user ? getEntitlements(user) : Promise.resolve(null),
    user && subscriptionId ? subscriptionDetailsFor(user) : Promise.resolve(null),
    getWhopOffers(configured),
    user ? ownersOnlyRefusal(request) : Promise.resolve(null),
    user ? getSeats(user.id) : Promise.resolve(null),
  ]);
  const tierKey = entitlements?.tier?.key ?? null;
  // A legacy price (its lookup key moved on): none of the plan's prices is the viewer's, so theirs is said.
  const planPrice = await planPriceOf(subscription);
  // A tier not valid in Stripe is off sale: left out, except as the viewer's own plan (shown, no action).
  const offered = configured.filter((tier) => !invalid.has(tier.key) || tier.key === tierKey);
  // A live Whop membership is a subscription too: it changes plan where it was bought.
  const whopMember = Boolean(user && isLiveWhopStatus(user.whopMembershipStatus));
  const currentPrice = subscription?.item?.lookupKey ? lookup.found.get(subscription.item.lookupKey) : undefined;
  const viewer: Viewer = !signedIn
    ? { kind: "anonymous" }
    : subscribed || whopMember
      ? {
          kind: "subscriber",
          tierKey,
          lookupKey: subscription?.item?.lookupKey ?? null,
          interval: currentPrice?.interval ?? subscription?.item?.interval ?? null,
          cancelAtPeriodEnd: subscription?.cancelAtPeriodEnd ?? false,
        }
      : { kind: "free", tierKey };
  const currentLookupKey = viewer.kind === "subscriber" ? viewer.lookupKey : null;

  return json({
    viewer: viewer.kind,
    checkoutCancelled: new URL(request.url).searchParams.get("checkout") === "cancelled",
    // A member of the account the session acts for: its owners choose the plan (whom to ask).
    askOwners: ownersOnly?.message ?? null,
    // The current account and its seats: "3 of 5 seats" on its plan's card.
    account: user
      ? { name: user.name, seats: seats && { limit: seats.limit, used: seats.used, pending: seats.pending } }
      : null,
    pricesUnavailable: lookup.unavailable,
    // Stripe's last good answer, shown (marked) when it cannot be asked: better than no price.
    pricesAsOf: lookup.unavailable && lookup.asOf ? describeAsOf(lookup.asOf) : null,
    tiers: offered.map((tier) => {
      const display = priceDisplay(tier, lookup.prices, { unavailable: lookup.unavailable, currentLookupKey });
      return {
        key: tier.key,
        name: tier.name,
        description: tier.description,
        userLimit: tier.userLimit,
        exempt: isExemptTier(tier),
        permissions: tier.permissions.map((p) => p.permission.description || p.permission.name).sort(),
        current: tierKey === tier.key,
        legacyPrice: tierKey === tier.key && planPrice?.legacy ? priceText(planPrice.paying) : null,
        display,
        action: invalid.has(tier.key)
          ? ({ kind: "current" } as const)
          : planAction(tier, viewer, display.kind === "prices" ? display.prices : []),
        whop: whopOffers.get(tier.key) ?? null,
      };
    }),
  });
}

/** "switch": opens the portal's confirmation page for moving the subscription to `lookup_key`. */
export async function action({ request }: ActionFunctionArgs) {
  const user = await requireUser(request);
  const form = await readForm(request);
  if (form.get("intent") !== "switch") return json({ error: "Unknown action." }, { status: 400 });
  const limited = await billingRateLimit(user.id);
  if (limited) return limited;
  const refusal = await ownersOnlyRefusal(request);
  if (refusal) return json({ error: refusal.message }, { status: 403 });
  const outcome = await createPlanSwitchSession(
    await billingActorFor(request, user),
    String(form.get("lookup_key") ?? ""),
    appOrigin(request),
  );
  if (outcome.ok) return redirect(outcome.url, 303);
  const status =
    outcome.problem === "stripe-unreachable"
      ? 502
      : outcome.problem === "billing-disabled"
        ? 503
        : outcome.problem === "tier-unavailable"
          ? 409
          : 400;
  return json({ error: outcome.message }, { status });
}

/** One tier as the page shows it. */
export type PricingTier = SerializeFrom<typeof loader>["tiers"][number];
