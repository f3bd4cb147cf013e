// /account: the signed-in user's plan, subscription status and dates, permissions, and billing.
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { fetchSubscriptionDates } from "~/billing/subscription-details.server.ts";
import { billingMode } from "~/billing/stripe.server.ts";
import { BillingForm, ErrorAlert, useBillingRedirect } from "~/components/billing-forms.tsx";
import { formatDate } from "~/components/dates.tsx";
import { getEntitlements } from "~/billing/entitlements.server.ts";
import { requireUser } from "~/utils/auth.server.ts";

export const meta: MetaFunction = () => [{ title: "Your account · Tierdesk" }];

const STATUS_TEXT: Record<string, string> = {
  active: "Active",
  trialing: "On trial",
  past_due: "Payment overdue: Stripe is retrying your card. Update it in the billing portal.",
  incomplete: "Waiting for your first payment",
  canceled: "Canceled",
  unpaid: "Unpaid",
  incomplete_expired: "Expired before payment",
  paused: "Paused",
};

export async function loader({ request }: LoaderFunctionArgs) {
  const user = await requireUser(request);
  const entitlements = await getEntitlements(user);
  const dates =
    user.stripeSubscriptionId && billingMode() !== "disabled" ? await fetchSubscriptionDates(user.stripeSubscriptionId) : null;
  return json({
    email: user.email,
    entitlements,
    dates,
    canManageBilling: Boolean(user.stripeCustomerId),
  });
}

export default function Account() {
  const { email, entitlements, dates, canManageBilling } = useLoaderData<typeof loader>();
  const billing = useBillingRedirect();
  return (
    <section className="card">
      <h1>Your account</h1>
      <ErrorAlert message={billing.error} />
      <dl className="facts">
        <dt>Email</dt>
        <dd>{email}</dd>
        <dt>Plan</dt>
        <dd data-testid="current-tier">{entitlements.tier?.name ?? "Free"}</dd>
        {entitlements.status ? (
          <>
            <dt>Subscription</dt>
            <dd data-testid="subscription-status">{STATUS_TEXT[entitlements.status] ?? entitlements.status}</dd>
          </>
        ) : null}
        {dates?.renewsAt ? (
          <>
            <dt>Renews on</dt>
            <dd data-testid="renews-at">{formatDate(dates.renewsAt)}</dd>
          </>
        ) : null}
        {dates?.cancelsAt ? (
          <>
            <dt>Cancels on</dt>
            <dd data-testid="cancels-at">{formatDate(dates.cancelsAt)}</dd>
          </>
        ) : null}
      </dl>
      <h2>What your plan includes</h2>
      {entitlements.permissions.length ? (
        <ul data-testid="permissions">
          {entitlements.permissions.map((permission) => (
            <li key={permission}>
              <code>{permission}</code>
            </li>
          ))}
        </ul>
      ) : (
        <p>No extra permissions.</p>
      )}
      <div className="actions">
        {canManageBilling ? (
          <BillingForm action="/api/stripe/portal" id="portal" onSubmit={billing.onSubmit} pending={billing.pending === "portal"}>
            Manage subscription
          </BillingForm>
        ) : null}
        <Link className="button secondary" to="/pricing">
          Compare plans
        </Link>
      </div>
    </section>
  );
}
