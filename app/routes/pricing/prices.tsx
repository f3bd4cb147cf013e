// A tier's prices: Stripe's live prices (the viewer's own marked), an indicative text, or Whop's.
import type { PriceDisplay } from "~/services/stripe/customer-pricing.server.ts";
import { WhopPriceList } from "~/components/whop-offer.tsx";
import type { PricingTier as Tier } from "./pricing.server.ts";

export function Prices({ display, tier }: { display: PriceDisplay; tier: Tier }) {
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
