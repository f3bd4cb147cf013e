// /pricing: the customer-facing tiers with live Stripe prices, the viewer's plan and interval marked,
// and one action per tier (see app/services/stripe/customer-pricing.server.ts): sign in, subscribe, switch
// through the portal's confirmation page (this route's action), or a Whop product page. The loader and
// action are in pricing.server.ts.
import type { MetaFunction } from "@remix-run/node";
import { useActionData, useLoaderData } from "@remix-run/react";
import { BillingErrorAlert, useBillingRedirect } from "~/components/billing-forms.tsx";
import { CallToAction } from "./call-to-action.tsx";
import { Prices } from "./prices.tsx";
import { action, loader } from "./pricing.server.ts";

export { action, loader };

export const meta: MetaFunction = () => [{ title: "Pricing · Tierdesk" }];

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
      {data.askOwners ? (
        <p className="notice" role="status" data-testid="ask-owner">
          {data.askOwners}
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
          Live prices could not be loaded from Stripe just now;{" "}
          {data.pricesAsOf ? (
            <span data-testid="prices-as-of">
              the prices shown are the last ones Stripe gave us, {data.pricesAsOf}.
            </span>
          ) : (
            "the prices shown are indicative."
          )}
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
            {tier.legacyPrice ? (
              <p className="hint" data-testid="legacy-price">
                You pay {tier.legacyPrice}, a price kept from when you subscribed.
              </p>
            ) : null}
            <p className="hint">
              Up to {tier.userLimit} user{tier.userLimit === 1 ? "" : "s"}
              {tier.current && data.account?.seats ? (
                <>
                  {" · "}
                  <span data-testid="seats-used">
                    {data.account.name}: {data.account.seats.used} of {data.account.seats.limit ?? tier.userLimit} seats
                    {data.account.seats.pending ? ` (${data.account.seats.pending} invited)` : ""}
                  </span>
                </>
              ) : null}
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
