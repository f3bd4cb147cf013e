// How a lookup key's live Stripe status and a tier's integration health read on the dashboard.
import type { KeyStatus } from "~/services/tiers/tier-status.server.ts";
import type { TierHealth } from "~/rules/tiers.ts";

const STATE_TEXT: Record<KeyStatus["state"], string> = {
  found: "found",
  missing: "missing in Stripe",
  "inactive-price": "inactive price",
  "archived-product": "archived product",
  unverified: "could not verify",
};

export function KeyStatusBadge({ status }: { status: KeyStatus }) {
  const { price } = status;
  return (
    <span className={`key-status key-${status.state}`} data-lookup-key={status.lookupKey} data-state={status.state}>
      <code>{status.lookupKey}</code>{" "}
      {status.state === "found" && price ? (
        <span>
          {price.amount ?? "custom amount"} / {price.interval}
          {price.productName ? ` · ${price.productName}` : ""}
        </span>
      ) : (
        <span className="status-word">{STATE_TEXT[status.state]}</span>
      )}
      {status.state !== "found" && price ? (
        <span className="hint">
          {" "}
          ({price.amount ?? "custom"} / {price.interval}
          {price.productName ? ` · ${price.productName}` : ""})
        </span>
      ) : null}
    </span>
  );
}

export function IntegrationSummary({ health }: { health: TierHealth }) {
  switch (health.state) {
    case "valid":
      return (
        <span className="status status-processed" data-integration="valid">
          valid
        </span>
      );
    case "not-applicable":
      return (
        <span className="status" data-integration="not-applicable">
          {health.reason}
        </span>
      );
    case "unverified":
      return (
        <span className="status status-stale" data-integration="unverified">
          {health.reason}
        </span>
      );
    case "invalid":
      return (
        <span data-integration="invalid">
          <span className="status status-failed">not valid</span>
          <ul className="problems">
            {health.problems.map((problem) => (
              <li key={problem}>{problem}</li>
            ))}
          </ul>
        </span>
      );
  }
}
