// /admin: the operator's overview. Tier health (provider, integration checked live against Stripe,
// customers), webhook health for the last 14 days as a server-rendered chart (readable without
// JavaScript), and a banner when Stripe is not configured, not reachable, or is the emulator.
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { billingMode } from "~/services/stripe/client.server.ts";
import { checkTiersAgainstStripe } from "~/services/tiers/tier-status.server.ts";
import { WebhookChart } from "~/components/webhook-chart.tsx";
import { IntegrationSummary } from "~/components/tier-status.tsx";
import { countEventsPerDay, countFailedEvents } from "~/models/event-counts.server.ts";
import { countAccountsOverSeatLimit } from "~/models/seats.server.ts";
import { listTiersForAdmin } from "~/models/tier.server.ts";
import { describeAsOf } from "~/utils/age.ts";
import { requireRole, STAFF_ROLES } from "~/web/auth.server.ts";

export const meta: MetaFunction = () => [{ title: "Overview · Admin · Tierdesk" }];

const CHART_DAYS = 14;

export async function loader({ request }: LoaderFunctionArgs) {
  await requireRole(request, STAFF_ROLES);
  const [tiers, daily, failedEvents, accountsOverSeatLimit] = await Promise.all([
    listTiersForAdmin(),
    countEventsPerDay(CHART_DAYS),
    countFailedEvents(),
    countAccountsOverSeatLimit(),
  ]);
  const withKeys = tiers.map((tier) => ({ ...tier, lookupKeys: tier.prices.map((price) => price.lookupKey) }));
  const check = await checkTiersAgainstStripe(withKeys);
  return json({
    mode: billingMode(),
    unverified: check.stripe.unverified,
    lastKnown: check.stripe.asOf ? describeAsOf(check.stripe.asOf) : null,
    failedEvents,
    accountsOverSeatLimit,
    daily,
    tiers: withKeys.map((tier) => ({
      key: tier.key,
      name: tier.name,
      provider: tier.billingProvider,
      customers: tier._count.accounts,
      health: check.byTier.get(tier.key)?.health ?? null,
    })),
  });
}

function StripeBanner({
  mode,
  unverified,
  lastKnown,
}: {
  mode: string;
  unverified: string | null;
  lastKnown: string | null;
}) {
  if (mode === "disabled") {
    return (
      <p className="banner-inline warning" role="alert" data-testid="stripe-banner">
        Stripe is not configured: set STRIPE_API_KEY. Customers cannot subscribe or manage their plans.
      </p>
    );
  }
  if (unverified) {
    return (
      <p className="banner-inline warning" role="alert" data-testid="stripe-banner">
        Stripe could not be reached: {unverified}.{" "}
        {lastKnown ? (
          <span data-testid="stripe-last-known">
            Prices shown are Stripe&apos;s last answer, {lastKnown}; tier checks could not be verified.
          </span>
        ) : (
          "Prices and tier checks may be out of date."
        )}
      </p>
    );
  }
  if (mode === "emulator") {
    return (
      <p className="banner-inline info" data-testid="stripe-banner">
        Stripe is the bundled emulator: no real payments.
      </p>
    );
  }
  return null;
}

export default function AdminOverview() {
  const { mode, unverified, lastKnown, failedEvents, accountsOverSeatLimit, daily, tiers } =
    useLoaderData<typeof loader>();
  const totals = daily.reduce(
    (sum, day) => ({
      processed: sum.processed + day.processed,
      failed: sum.failed + day.failed,
      stale: sum.stale + day.stale,
    }),
    { processed: 0, failed: 0, stale: 0 },
  );
  return (
    <section>
      <h1>Overview</h1>
      <StripeBanner mode={mode} unverified={unverified} lastKnown={lastKnown} />

      <section className="panel" aria-labelledby="tier-health">
        <h2 id="tier-health">Tier health</h2>
        <div className="table-scroll">
          <table data-testid="tier-health">
            <thead>
              <tr>
                <th scope="col">Tier</th>
                <th scope="col">Provider</th>
                <th scope="col">Integration</th>
                <th scope="col">Customers</th>
              </tr>
            </thead>
            <tbody>
              {tiers.map((tier) => (
                <tr key={tier.key} data-tier={tier.key}>
                  <td data-label="Tier">
                    <Link to={`/admin/tiers/${tier.key}`}>{tier.name}</Link>
                  </td>
                  <td data-label="Provider">{tier.provider}</td>
                  <td data-label="Integration">{tier.health ? <IntegrationSummary health={tier.health} /> : "—"}</td>
                  <td data-label="Customers">
                    <Link to={`/admin/accounts?tier=${encodeURIComponent(tier.key)}`}>{tier.customers}</Link>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>

      <section className="panel" aria-labelledby="seat-limits">
        <h2 id="seat-limits">Seats</h2>
        <p>
          <Link to="/admin/accounts?overLimit=1" data-testid="over-seat-limit-link">
            Accounts over their seat limit: {accountsOverSeatLimit} →
          </Link>
        </p>
      </section>

      <section className="panel" aria-labelledby="webhook-health">
        <h2 id="webhook-health">Webhooks, last {CHART_DAYS} days</h2>
        <p>
          {totals.processed} processed, {totals.failed} failed, {totals.stale} stale.{" "}
          <Link to="/admin/events?status=failed" data-testid="failed-events-link">
            {failedEvents} failed event{failedEvents === 1 ? "" : "s"} to look at →
          </Link>
        </p>
        <WebhookChart days={daily} />
      </section>
    </section>
  );
}
