// A Whop tier on /pricing (its plans' prices from Whop and a "Subscribe with Whop" button) and the
// link to Whop's own membership page on /account and support's user page. The button POSTs to
// /api/whop/checkout: with JavaScript through `useBillingRedirect().onSubmit` (errors shown on the
// page), without it as a plain form post that the server answers with a redirect to Whop.
import type { FormEvent } from "react";
import type { WhopOffer } from "~/services/whop/offers.server.ts";

type SerializedOffer = WhopOffer;

/** The plans' prices, or the tier's fallback price marked as such when Whop cannot sell it now. */
export function WhopPriceList({
  offer,
  fallbackPrice,
}: {
  offer: SerializedOffer | null | undefined;
  fallbackPrice: string;
}) {
  if (!offer || offer.state === "unavailable" || !offer.plans.length) {
    return (
      <p className="price">
        {fallbackPrice}
        <span className="fallback"> (indicative)</span>
      </p>
    );
  }
  return (
    <div data-testid="whop-prices">
      {offer.plans.map((plan) => (
        <p key={plan.id} className="price">
          {plan.amount} {plan.interval === "one-off" ? <small>one-off</small> : <small>/ {plan.interval}</small>}
          {plan.firstPayment ? <span className="hint"> ({plan.firstPayment} for the first payment)</span> : null}
          {plan.trialDays ? <span className="hint"> · {plan.trialDays}-day free trial</span> : null}
        </p>
      ))}
    </div>
  );
}

/**
 * What a viewer can do with a Whop tier: anonymous visitors sign in first; subscribers (through
 * Stripe or Whop) manage what they have; everyone else gets one "Subscribe with Whop" button per plan
 * for sale. When Whop cannot sell the tier now, says why instead, loudly.
 */
export function WhopSubscribe({
  tierKey,
  offer,
  viewer,
  onSubmit,
  pendingId,
}: {
  tierKey: string;
  offer: SerializedOffer | null | undefined;
  viewer: "anonymous" | "free" | "subscriber";
  /** `useBillingRedirect().onSubmit`. */
  onSubmit: (event: FormEvent<HTMLFormElement>) => void;
  /** `useBillingRedirect().pending`. */
  pendingId: string | null;
}) {
  if (!offer || offer.state === "unavailable") {
    return (
      <p className="form-error" role="status" data-testid={`whop-unavailable-${tierKey}`}>
        Not purchasable right now: {offer?.reason ?? "Whop did not answer"}.
      </p>
    );
  }
  if (viewer === "anonymous") {
    return (
      <a className="button" href="/login?next=%2Fpricing">
        Sign in to subscribe
      </a>
    );
  }
  if (viewer === "subscriber") return <p className="hint">You already have a plan: change it where you manage it.</p>;
  const several = offer.plans.length > 1;
  return (
    <div className="actions">
      {offer.plans.map((plan) => {
        const id = `whop-${tierKey}-${plan.id}`;
        return (
          <form key={plan.id} method="post" action="/api/whop/checkout" data-id={id} onSubmit={onSubmit}>
            <input type="hidden" name="tier" value={tierKey} />
            <input type="hidden" name="plan" value={plan.id} />
            <button type="submit" disabled={pendingId === id}>
              {pendingId === id
                ? "Redirecting…"
                : several
                  ? `Subscribe with Whop (${plan.cadence})`
                  : "Subscribe with Whop"}
            </button>
          </form>
        );
      })}
    </div>
  );
}
