// The one action a tier offers the viewer: sign in, sign up, subscribe, switch plan, resume first, or Whop.
import { Form, Link, useNavigation } from "@remix-run/react";
import type { PlanAction } from "~/services/stripe/customer-pricing.server.ts";
import { BillingForm, ResumeSubscriptionForm, type useBillingRedirect } from "~/components/billing-forms.tsx";
import { WhopSubscribe } from "~/components/whop-offer.tsx";
import type { PricingTier as Tier } from "./pricing.server.ts";

type Billing = ReturnType<typeof useBillingRedirect>;

export function CallToAction({
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
