// /admin/tiers/:key: one tier — its form (admins) or its settings (support), its lookup keys live
// in Stripe, its prices in Stripe (current and legacy, with their subscribers) and changing one
// (admins), its own audit history, and deletion (refused while accounts are on it). The loader and
// action are in tier.server.ts, the prices in prices-section.tsx.
import type { MetaFunction } from "@remix-run/node";
import { Link, useActionData, useLoaderData, useSearchParams } from "@remix-run/react";
import { AuditTrail } from "~/components/audit-trail.tsx";
import { TierForm } from "~/components/tier-form.tsx";
import { IntegrationSummary, KeyStatusBadge } from "~/components/tier-status.tsx";
import { WhopProductBadge } from "~/components/whop-status.tsx";
import { DeleteTier } from "./delete-section.tsx";
import { MoveSection, PricesSection, RepriceConfirmation, RepriceForm } from "./prices-section.tsx";
import { action, loader } from "./tier.server.ts";

export { action, loader };

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: `${data?.tier.name ?? "Tier"} · Admin · Tierdesk` },
];

export default function AdminTier() {
  const data = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  const [searchParams] = useSearchParams();
  const saved = searchParams.get("saved");
  const notInStripe = data.keys.filter((status) => status.state !== "found" && status.state !== "unverified");
  const confirmDelete = searchParams.get("delete") === "confirm";
  const repriceConfirmation = actionData && "reprice" in actionData ? actionData.reprice : null;
  return (
    <section>
      <p>
        <Link to="/admin/tiers">← All tiers</Link>
      </p>
      <h1>{data.tier.name}</h1>
      {saved === "1" || saved === "0" ? (
        <p className="notice" role="status">
          {saved === "1" ? "Saved." : "Saved: nothing had changed."}
        </p>
      ) : null}
      {saved && notInStripe.length ? (
        <p className="warning" role="alert" data-testid="lookup-key-warning">
          Saved, but Stripe does not sell {notInStripe.length === 1 ? "this lookup key" : "these lookup keys"} yet:{" "}
          {notInStripe.map((status) => status.lookupKey).join(", ")}. Customers cannot subscribe to this tier until the
          price exists and is active in Stripe.
        </p>
      ) : null}

      <section className="panel" aria-labelledby="live-status">
        <h2 id="live-status">{data.tier.billingProvider === "whop" ? "In Whop now" : "In Stripe now"}</h2>
        {data.unverified ? (
          <p className="form-error" role="alert">
            Could not verify with Stripe: {data.unverified}.
            {data.lastKnown ? (
              <span data-testid="stripe-last-known">
                {" "}
                Prices shown are Stripe&apos;s last answer, {data.lastKnown}.
              </span>
            ) : null}
          </p>
        ) : null}
        <dl className="facts">
          <dt>Integration</dt>
          <dd data-testid="tier-integration">{data.health ? <IntegrationSummary health={data.health} /> : "—"}</dd>
          <dt>Customers on this tier</dt>
          <dd>
            <Link to={`/admin/accounts?tier=${encodeURIComponent(data.tier.key)}`}>{data.users}</Link>
          </dd>
        </dl>
        {data.whopProduct ? (
          <p data-testid="tier-whop-product">
            Whop product: <WhopProductBadge status={data.whopProduct} />
          </p>
        ) : null}
        {data.keys.length ? (
          <ul className="key-list" data-testid="tier-keys">
            {data.keys.map((status) => (
              <li key={status.lookupKey}>
                <KeyStatusBadge status={status} />
              </li>
            ))}
          </ul>
        ) : null}
      </section>

      {data.prices ? (
        <PricesSection
          tierKey={data.tier.key}
          prices={data.prices}
          canEdit={data.canEdit}
          repriced={searchParams.get("repriced")}
        />
      ) : null}
      <MoveSection
        tierKey={data.tier.key}
        preview={data.movePreview}
        moves={data.moves}
        canEdit={data.canEdit}
        error={actionData && "moveError" in actionData ? actionData.moveError : null}
      />
      {repriceConfirmation ? (
        <RepriceConfirmation
          tierKey={data.tier.key}
          preview={repriceConfirmation.preview}
          values={repriceConfirmation.values}
        />
      ) : data.reprice ? (
        <RepriceForm
          key={data.reprice.lookupKey}
          tierKey={data.tier.key}
          lookupKey={data.reprice.lookupKey}
          nonce={data.reprice.nonce}
          current={data.prices?.keys.find((key) => key.lookupKey === data.reprice?.lookupKey)?.current ?? null}
          lastResult={actionData && "repriceResult" in actionData ? actionData.repriceResult : undefined}
        />
      ) : null}

      <h2>{data.canEdit ? "Edit" : "Settings"}</h2>
      {data.canEdit ? null : <p className="hint">Support can read tiers; only admins change them.</p>}
      <TierForm
        defaults={{ ...data.tier }}
        lastResult={actionData && "result" in actionData ? actionData.result : undefined}
        permissions={data.permissions}
        submitLabel="Save tier"
        readOnly={!data.canEdit}
      />

      {data.canEdit ? (
        <DeleteTier
          tierKey={data.tier.key}
          isFree={data.isFree}
          users={data.users}
          confirm={confirmDelete}
          error={actionData && "deleteError" in actionData ? actionData.deleteError : null}
        />
      ) : null}

      <section className="panel" aria-labelledby="history">
        <h2 id="history">History</h2>
        <AuditTrail entries={data.history} />
        {data.moreHistory ? (
          <p>
            <Link to={`/admin/audit?entity=tier&entityId=${data.tierId}`}>Full history →</Link>
          </p>
        ) : null}
      </section>
    </section>
  );
}
