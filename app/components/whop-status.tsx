// How a Whop tier's product reads on the dashboard: found (with its plans, prices and periods),
// missing, archived, without a plan for sale, or could not verify.
import type { WhopProductStatus } from "~/services/whop/offers.server.ts";

const STATE_TEXT: Record<WhopProductStatus["state"], string> = {
  found: "found",
  missing: "missing in Whop",
  "archived-product": "archived in Whop",
  "no-plan": "no plan for sale",
  unverified: "could not verify",
};

export function WhopProductBadge({ status }: { status: WhopProductStatus }) {
  return (
    <span
      className={`key-status whop-product key-${status.state}`}
      data-whop-product={status.productId}
      data-state={status.state}
    >
      <code>{status.productId}</code>{" "}
      <span className="status-word">
        {status.state === "found" ? (status.title ?? "found") : STATE_TEXT[status.state]}
      </span>
      {status.visibility && status.visibility !== "visible" && status.state !== "archived-product" ? (
        <span className="hint"> ({status.visibility} on Whop's store)</span>
      ) : null}
      {status.plans.length ? (
        <ul className="key-list">
          {status.plans.map((plan) => (
            <li key={plan.id} data-whop-plan={plan.id} data-sellable={plan.sellable ? "yes" : "no"}>
              <code>{plan.id}</code> {plan.amount} / {plan.interval}
              {plan.sellable ? null : <span className="hint"> ({plan.visibility}: not sold)</span>}
            </li>
          ))}
        </ul>
      ) : null}
    </span>
  );
}
