// /pricing: the customer-facing tiers with live Stripe prices, the viewer's plan and interval marked,
// and one action per tier (see app/services/stripe/customer-pricing.server.ts): sign in, subscribe, switch
// through the portal's confirmation page (this route's action), or a Whop product page.
import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json, redirect } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { appOrigin, createPlanSwitchSession } from "~/services/stripe/checkout.server.ts";
import {
  isExemptTier,
  type PlanAction,
  planAction,
  type PriceDisplay,
  priceDisplay,
  type Viewer,
} from "~/services/stripe/customer-pricing.server.ts";
import { getEntitlements } from "~/services/customers/entitlements.server.ts";
import { isLiveSubscriptionStatus } from "~/rules/stripe-subscriptions.ts";
import { hasValidIntegration } from "~/rules/tiers.ts";
import { isLiveWhopStatus } from "~/rules/whop-status.ts";
import { billingMode } from "~/services/stripe/client.server.ts";
import { subscriptionDetailsFor } from "~/services/stripe/subscription-details.server.ts";
import { checkSellableTiers } from "~/services/stripe/sellable-tiers.server.ts";
import { getWhopOffers } from "~/services/whop/offers.server.ts";
import {
  BillingErrorAlert,
  BillingForm,
  ResumeSubscriptionForm,
  useBillingRedirect,
} from "~/components/billing-forms.tsx";
import { WhopPriceList, WhopSubscribe } from "~/components/whop-offer.tsx";
import { listCustomerFacingTiers, listTierIntegrations } from "~/models/tier.server.ts";
import { getOptionalUser, requireUser } from "~/web/auth.server.ts";
import { billingRateLimit } from "~/web/rate-limit.server.ts";
import { readForm } from "~/utils/http.server.ts";

export const meta: MetaFunction = () => [{ title: "Pricing · Tierdesk" }];

export async function loader({ request }: LoaderFunctionArgs) {
  const [user, tiers, integrations] = await Promise.all([
    getOptionalUser(request),
    listCustomerFacingTiers(),
    listTierIntegrations(),
  ]);
  const configured = tiers
    .map((tier) => ({ ...tier, lookupKeys: tier.prices.map((p) => p.lookupKey) }))
    .filter((tier) => hasValidIntegration(tier));
  const subscribed = Boolean(user && isLiveSubscriptionStatus(user.subscriptionStatus));
  const subscriptionId = subscribed && billingMode() !== "disabled" ? user?.stripeSubscriptionId : null;
  // One price lookup (every Stripe tier's keys: validity is judged across tiers, as on the dashboard)
  // and, for subscribers, one subscription read (both cached): which price is theirs.
  const [{ lookup, invalid }, entitlements, subscription, whopOffers] = await Promise.all([
    checkSellableTiers(integrations),
    user ? getEntitlements(user) : Promise.resolve(null),
    user && subscriptionId ? subscriptionDetailsFor(user) : Promise.resolve(null),
    getWhopOffers(configured),
  ]);
  const tierKey = entitlements?.tier?.key ?? null;
  // A tier not valid in Stripe is off sale: left out, except as the viewer's own plan (shown, no action).
  const offered = configured.filter((tier) => !invalid.has(tier.key) || tier.key === tierKey);
  // A live Whop membership is a subscription too: it changes plan where it was bought.
  const whopMember = Boolean(user && isLiveWhopStatus(user.whopMembershipStatus));
  const currentPrice = subscription?.item?.lookupKey ? lookup.found.get(subscription.item.lookupKey) : undefined;
  const viewer: Viewer = !user
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
    pricesUnavailable: lookup.unavailable,
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
  const outcome = await createPlanSwitchSession(user, String(form.get("lookup_key") ?? ""), appOrigin(request));
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

type Tier = ReturnType<typeof useLoaderData<typeof loader>>["tiers"][number];
type Billing = ReturnType<typeof useBillingRedirect>;

export default function Pricing() {
  const data = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  const billing = useBillingRedirect();
  return (
    <section>
      <h1>Plans and pricing</h1>
      {data.checkoutCancelled ? (
        <p className="notice" role="status" data-testid="checkout-cancelled">
          Checkout was cancelled: you have not been charged, and your plan is unchanged.
        </p>
      ) : null}
      <BillingErrorAlert billing={billing} />
      {actionData?.error ? (
        <p className="form-error" role="alert" data-testid="billing-error">
          {actionData.error}
        </p>
      ) : null}
      {data.pricesUnavailable ? (
        <p className="notice" role="status">
          Live prices could not be loaded from Stripe just now; the prices shown are indicative.
        </p>
      ) : null}
      <div className="plans">
        {data.tiers.map((tier) => (
          <article
            key={tier.key}
            className={`plan${tier.current ? " current" : ""}`}
            data-testid={`plan-${tier.key}`}
            aria-labelledby={`plan-${tier.key}-name`}
          >
            <h2 id={`plan-${tier.key}-name`}>{tier.name}</h2>
            {tier.current ? (
              <p className="badge" data-testid="current-plan">
                Your current plan
              </p>
            ) : null}
            {tier.description ? <p>{tier.description}</p> : null}
            <Prices display={tier.display} tier={tier} />
            <p className="hint">
              Up to {tier.userLimit} user{tier.userLimit === 1 ? "" : "s"}
            </p>
            <ul className="includes">
              {tier.permissions.map((permission) => (
                <li key={permission}>{permission}</li>
              ))}
            </ul>
            <div className="plan-action">
              <CallToAction tier={tier} action={tier.action} billing={billing} viewer={data.viewer} />
            </div>
          </article>
        ))}
      </div>
    </section>
  );
}

function Prices({ display, tier }: { display: PriceDisplay; tier: Tier }) {
  switch (display.kind) {
    case "free":
      return <p className="price">Free</p>;
    case "prices":
      return (
        <ul className="prices">
          {display.prices.map((price) => (
            <li
              key={price.lookupKey}
              className={`price${price.current ? " current" : ""}`}
              data-testid={`price-${price.lookupKey}`}
            >
              {price.amount} <small>/ {price.interval}</small>
              {price.current ? <span className="badge small">Current</span> : null}
            </li>
          ))}
        </ul>
      );
    case "indicative":
      return (
        <p className="price">
          {display.text} <span className="fallback">(indicative)</span>
        </p>
      );
    case "whop":
      // Whop's own prices; when Whop cannot be asked, no made-up price in another currency.
      return tier.whop?.state === "available" ? (
        <WhopPriceList offer={tier.whop} fallbackPrice="" />
      ) : (
        <p className="hint">Priced on Whop.</p>
      );
    case "unavailable":
      return <p className="hint">Price not available just now.</p>;
  }
}

function CallToAction({
  tier,
  action,
  billing,
  viewer,
}: {
  tier: Tier;
  action: PlanAction;
  billing: Billing;
  viewer: "anonymous" | "free" | "subscriber";
}) {
  switch (action.kind) {
    case "sign-in":
      return (
        <Link className="button" to="/login?next=%2Fpricing">
          Sign in to subscribe
        </Link>
      );
    case "sign-up":
      return (
        <Link className="button secondary" to="/signup">
          Start for free
        </Link>
      );
    case "current":
      return null;
    case "subscribe":
      return (
        <div className="actions">
          {action.prices.map((price) => {
            const id = `checkout-${price.lookupKey}`;
            return (
              <BillingForm
                key={price.lookupKey}
                action="/api/stripe/checkout"
                id={id}
                fields={{ lookup_key: price.lookupKey }}
                onSubmit={billing.onSubmit}
                pending={billing.pending === id}
              >
                {price.label}
              </BillingForm>
            );
          })}
        </div>
      );
    case "switch":
      return <SwitchForm lookupKey={action.lookupKey} label={action.label} />;
    case "resume-first":
      return (
        <>
          <p className="hint">Your subscription is set to end: resume it to change plan.</p>
          <ResumeSubscriptionForm />
        </>
      );
    case "whop":
      return (
        <>
          <WhopSubscribe
            tierKey={tier.key}
            offer={tier.whop}
            viewer={viewer}
            onSubmit={billing.onSubmit}
            pendingId={billing.pending}
          />
          {action.url ? (
            <a className="link" href={action.url} rel="noopener noreferrer">
              See {tier.name} on Whop
            </a>
          ) : null}
        </>
      );
    case "none":
      return tier.exempt ? <p className="hint">Yours whenever you have no paid plan.</p> : null;
  }
}

/** A plain form: with JavaScript Remix follows the redirect to Stripe, without it the browser does. */
function SwitchForm({ lookupKey, label }: { lookupKey: string; label: string }) {
  const navigation = useNavigation();
  const pending = navigation.state !== "idle" && navigation.formData?.get("lookup_key") === lookupKey;
  return (
    <Form method="post">
      <input type="hidden" name="intent" value="switch" />
      <input type="hidden" name="lookup_key" value={lookupKey} />
      <button type="submit" disabled={pending}>
        {pending ? "Redirecting…" : label}
      </button>
    </Form>
  );
}
