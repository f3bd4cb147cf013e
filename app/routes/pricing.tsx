// /pricing: the customer-facing tiers with live Stripe prices.
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { formatAmount, formatInterval, lookupPrices } from "~/billing/prices.server.ts";
import { hasValidIntegration, isLiveSubscriptionStatus } from "~/billing/rules.ts";
import { BillingForm, ErrorAlert, useBillingRedirect } from "~/components/billing-forms.tsx";
import { getEntitlements } from "~/billing/entitlements.server.ts";
import { listCustomerFacingTiers } from "~/models/tier.server.ts";
import { getOptionalUser } from "~/utils/auth.server.ts";

export const meta: MetaFunction = () => [{ title: "Pricing · Tierdesk" }];

type Viewer = "anonymous" | "free" | "subscriber";

export async function loader({ request }: LoaderFunctionArgs) {
  const [user, tiers] = await Promise.all([getOptionalUser(request), listCustomerFacingTiers()]);
  const offered = tiers.filter((tier) => hasValidIntegration({ ...tier, lookupKeys: tier.prices.map((p) => p.lookupKey) }));
  const stripeKeys = offered.filter((t) => t.billingProvider === "stripe").flatMap((t) => t.prices.map((p) => p.lookupKey));
  const lookup = await lookupPrices(stripeKeys);
  const entitlements = user ? await getEntitlements(user) : null;

  const viewer: Viewer = !user
    ? "anonymous"
    : isLiveSubscriptionStatus(user.subscriptionStatus)
      ? "subscriber"
      : "free";
  return json({
    viewer,
    currentTierKey: entitlements?.tier?.key ?? null,
    pricesUnavailable: lookup.unavailable,
    tiers: offered.map((tier) => ({
      key: tier.key,
      name: tier.name,
      description: tier.description,
      userLimit: tier.userLimit,
      billingProvider: tier.billingProvider,
      fallbackPrice: tier.fallbackPrice,
      permissions: tier.permissions.map((p) => p.permission.description || p.permission.name).sort(),
      prices: tier.prices.map(({ lookupKey }) => {
        const live = lookup.prices.get(lookupKey);
        return live?.unitAmount != null
          ? { lookupKey, amount: formatAmount(live.unitAmount, live.currency), interval: formatInterval(live) }
          : { lookupKey, amount: null, interval: null };
      }),
    })),
  });
}

type Tier = ReturnType<typeof useLoaderData<typeof loader>>["tiers"][number];

const INTERVAL_LABEL: Record<string, string> = { month: "monthly", year: "yearly", week: "weekly", day: "daily" };

export default function Pricing() {
  const data = useLoaderData<typeof loader>();
  const billing = useBillingRedirect();
  return (
    <section>
      <h1>Plans and pricing</h1>
      <ErrorAlert message={billing.error} />
      {data.pricesUnavailable ? (
        <p className="notice" role="status">
          Live prices could not be loaded from Stripe just now; the prices shown are indicative.
        </p>
      ) : null}
      <div className="plans">
        {data.tiers.map((tier) => (
          <article key={tier.key} className={`plan${tier.key === data.currentTierKey ? " current" : ""}`} data-testid={`plan-${tier.key}`}>
            <h2>{tier.name}</h2>
            {tier.description ? <p>{tier.description}</p> : null}
            <PriceList tier={tier} unavailable={data.pricesUnavailable} />
            <p className="hint">
              Up to {tier.userLimit} user{tier.userLimit === 1 ? "" : "s"}
            </p>
            <ul>
              {tier.permissions.map((permission) => (
                <li key={permission}>{permission}</li>
              ))}
            </ul>
            {tier.key === data.currentTierKey ? <p className="notice">Your current plan</p> : null}
            <CallToAction tier={tier} viewer={data.viewer} isCurrent={tier.key === data.currentTierKey} billing={billing} />
          </article>
        ))}
      </div>
    </section>
  );
}

function PriceList({ tier, unavailable }: { tier: Tier; unavailable: boolean }) {
  const live = tier.prices.filter((price) => price.amount);
  if (tier.billingProvider !== "stripe" || !live.length) {
    return (
      <p className="price">
        {tier.fallbackPrice}
        {tier.billingProvider === "stripe" && unavailable ? <span className="fallback"> (indicative)</span> : null}
      </p>
    );
  }
  return (
    <div>
      {live.map((price) => (
        <p key={price.lookupKey} className="price">
          {price.amount} <small>/ {price.interval}</small>
        </p>
      ))}
    </div>
  );
}

function CallToAction({
  tier,
  viewer,
  isCurrent,
  billing,
}: {
  tier: Tier;
  viewer: Viewer;
  isCurrent: boolean;
  billing: ReturnType<typeof useBillingRedirect>;
}) {
  if (tier.billingProvider === "whop") return <p className="hint">Available through Whop.</p>;
  if (tier.billingProvider !== "stripe") return null;
  if (viewer === "anonymous") {
    return (
      <Link className="button" to="/login?next=%2Fpricing">
        Sign in to subscribe
      </Link>
    );
  }
  if (viewer === "subscriber") {
    return (
      <BillingForm action="/api/stripe/portal" id={`portal-${tier.key}`} onSubmit={billing.onSubmit} pending={billing.pending === `portal-${tier.key}`} className={isCurrent ? "" : "secondary"}>
        Manage subscription
      </BillingForm>
    );
  }
  return (
    <div className="actions">
      {tier.prices.map((price) => {
        const id = `checkout-${price.lookupKey}`;
        const label = price.interval ? `Subscribe ${INTERVAL_LABEL[price.interval] ?? `every ${price.interval}`}` : `Subscribe (${price.lookupKey})`;
        return (
          <BillingForm
            key={price.lookupKey}
            action="/api/stripe/checkout"
            id={id}
            fields={{ lookup_key: price.lookupKey }}
            onSubmit={billing.onSubmit}
            pending={billing.pending === id}
          >
            {label}
          </BillingForm>
        );
      })}
    </div>
  );
}
