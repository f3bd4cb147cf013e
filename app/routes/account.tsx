// /account: the plan of the account the signed-in person acts for (the header's switcher), with its price and interval, where the subscription stands (in
// words, with its date), what the plan includes, and the one next action that fits (see
// app/services/customers/account.server.ts). "Resume" is this route's action: it undoes a cancellation
// at period end in one click (subscriptions.update cancel_at_period_end=false), without the portal.
import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json, redirect } from "@remix-run/node";
import { Link, useActionData, useLoaderData, useSearchParams } from "@remix-run/react";
import { accountView, resumeSubscription, type SubscriptionState } from "~/services/customers/account.server.ts";
import {
  BillingErrorAlert,
  BillingForm,
  ResumeSubscriptionForm,
  useBillingRedirect,
} from "~/components/billing-forms.tsx";
import { formatDate } from "~/components/dates.tsx";
import { SeatLimitBanner } from "~/components/seat-limit-banner.tsx";
import { listAccountOwnerEmails } from "~/models/account.server.ts";
import { ownersOnlyRefusal } from "~/web/account-billing.server.ts";
import { accountSeats } from "~/services/customers/accounts.server.ts";
import { getAccountContext, getCurrentBillingAccount, requireUser } from "~/web/auth.server.ts";
import { billingRateLimit } from "~/web/rate-limit.server.ts";
import { readForm } from "~/utils/http.server.ts";

export const meta: MetaFunction = () => [{ title: "Your account · Tierdesk" }];

export async function loader({ request }: LoaderFunctionArgs) {
  const user = await requireUser(request);
  const [billing, { current }] = await Promise.all([getCurrentBillingAccount(request), getAccountContext(request)]);
  if (!billing) throw json({ error: "You belong to no account." }, { status: 409 });
  const view = await accountView(billing, user.email);
  const account = current
    ? {
        name: current.name,
        slug: current.slug,
        role: current.role,
        seats: await accountSeats(current.id),
        // A member changes nothing about billing: the owners do (checkout and the portal refuse with a 403).
        ownersToAsk: current.role === "owner" ? null : await listAccountOwnerEmails(current.id),
      }
    : null;
  return json({ ...view, account });
}

export async function action({ request }: ActionFunctionArgs) {
  const user = await requireUser(request);
  const form = await readForm(request);
  if (form.get("intent") !== "resume") return json({ error: "Unknown action." }, { status: 400 });
  const limited = await billingRateLimit(user.id);
  if (limited) return limited;
  const refusal = await ownersOnlyRefusal(request);
  if (refusal) return json({ error: refusal.message }, { status: 403 });
  const billing = await getCurrentBillingAccount(request);
  if (!billing) return json({ error: "You belong to no account." }, { status: 409 });
  const outcome = await resumeSubscription(billing);
  if (!outcome.ok) return json({ error: outcome.message }, { status: 409 });
  return redirect("/account?subscription=resumed", 303);
}

const NOTICES: Record<string, string> = {
  "plan=changed": "Your plan change is confirmed.",
  "subscription=resumed": "Your subscription will renew as usual.",
  "password=changed": "Your password is changed. Your other sessions were signed out.",
};

/** The subscription's state as a sentence, with the date that matters. */
function StateText({ state, planName }: { state: SubscriptionState; planName: string }) {
  switch (state.kind) {
    case "active":
      return state.renewsAt ? (
        <>
          Active. Renews on <time dateTime={state.renewsAt}>{formatDate(state.renewsAt)}</time>.
        </>
      ) : (
        <>Active.</>
      );
    case "trialing":
      return state.renewsAt ? (
        <>
          On trial. The first payment is due on <time dateTime={state.renewsAt}>{formatDate(state.renewsAt)}</time>.
        </>
      ) : (
        <>On trial.</>
      );
    case "ending":
      return (
        <>
          Cancelled. Your {planName} plan ends on <time dateTime={state.endsAt}>{formatDate(state.endsAt)}</time>; you
          keep it until then.
        </>
      );
    case "past-due":
      return (
        <>
          Payment overdue
          {state.since ? (
            <>
              {" "}
              since <time dateTime={state.since}>{formatDate(state.since)}</time>
            </>
          ) : null}
          . Stripe is retrying your card: update your payment method to keep your plan.
        </>
      );
    case "incomplete":
      return <>Waiting for your first payment.</>;
    case "ended":
      return <>Your previous subscription has ended.</>;
    case "none":
      return <>No subscription.</>;
  }
}

export default function Account() {
  const view = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  const [searchParams] = useSearchParams();
  const billing = useBillingRedirect();
  const notice = Object.entries(NOTICES).find(([query]) => {
    const [key, value] = query.split("=");
    return key !== undefined && searchParams.get(key) === value;
  })?.[1];
  return (
    <div className="account">
      <h1>Your account</h1>
      {notice ? (
        <p className="notice" role="status" data-testid="account-notice">
          {notice}
        </p>
      ) : null}
      {view.account?.role === "owner" &&
      view.account.seats.limit !== null &&
      view.account.seats.used > view.account.seats.limit ? (
        <SeatLimitBanner
          accountName={view.account.name}
          members={view.account.seats.used}
          limit={view.account.seats.limit}
          planName={view.plan.name}
        />
      ) : null}
      <BillingErrorAlert billing={billing} />
      {actionData?.error ? (
        <p className="form-error" role="alert" data-testid="billing-error">
          {actionData.error}
        </p>
      ) : null}

      <section className="card plan-summary" aria-labelledby="plan-heading">
        <p className="eyebrow" id="plan-heading">
          Your plan
        </p>
        <p className="plan-name" data-testid="current-tier">
          {view.plan.name}
        </p>
        {view.price ? (
          <p className="plan-price" data-testid="plan-price">
            {view.price.label}
          </p>
        ) : null}
        {view.price?.legacy ? (
          <p className="hint" data-testid="legacy-price">
            You pay {view.price.label}, a price kept from when you subscribed
            {view.price.legacy.current
              ? `; ${view.plan.name} is ${view.price.legacy.current.label} for new subscribers.`
              : "."}
          </p>
        ) : null}
        <p data-testid="subscription-status">
          <StateText state={view.state} planName={view.plan.name} />
        </p>
        {view.stripeUnavailable ? (
          <p className="hint">Billing details could not be loaded from Stripe just now.</p>
        ) : null}
        {view.account?.ownersToAsk ? (
          <p className="hint" data-testid="ask-owner">
            Only the owners of {view.account.name} change its plan or billing: ask{" "}
            {view.account.ownersToAsk.join(" or ")}.
          </p>
        ) : (
          <NextActions view={view} billing={billing} />
        )}
      </section>

      <section className="card" aria-labelledby="includes-heading">
        <h2 id="includes-heading">What your plan includes</h2>
        {view.includes.length ? (
          <ul className="includes" data-testid="permissions">
            {view.includes.map((permission) => (
              <li key={permission.name}>{permission.description}</li>
            ))}
          </ul>
        ) : (
          <p>No extra features.</p>
        )}
      </section>

      <section className="card" aria-labelledby="details-heading">
        <h2 id="details-heading">Account details</h2>
        <dl className="facts">
          <dt>Email</dt>
          <dd className="email">{view.email}</dd>
          {view.account ? (
            <>
              <dt>Account</dt>
              <dd data-testid="current-account">
                {view.account.name} ({view.account.role === "owner" ? "owner" : "member"})
              </dd>
              <dt>Seats</dt>
              <dd data-testid="account-seats">
                {view.account.seats.used}
                {view.account.seats.limit !== null ? ` of ${view.account.seats.limit}` : ""} in use
              </dd>
            </>
          ) : null}
          <dt>Password</dt>
          <dd>
            <Link to="/account/password">Change password</Link>
          </dd>
        </dl>
      </section>
    </div>
  );
}

type View = ReturnType<typeof useLoaderData<typeof loader>>;

/** The one action that fits the state first (primary), then managing billing when there is a customer. */
function NextActions({ view, billing }: { view: View; billing: ReturnType<typeof useBillingRedirect> }) {
  const portal = (label: string, primary: boolean) => (
    <BillingForm
      action="/api/stripe/portal"
      id={`portal-${label}`}
      onSubmit={billing.onSubmit}
      pending={billing.pending === `portal-${label}`}
      className={primary ? undefined : "secondary"}
    >
      {label}
    </BillingForm>
  );
  const manage = view.canManageBilling ? portal("Manage billing", false) : null;
  switch (view.nextAction.kind) {
    case "resume":
      return (
        <div className="actions" data-testid="next-action" data-action="resume">
          <ResumeSubscriptionForm />
          {manage}
        </div>
      );
    case "update-payment":
      return (
        <div className="actions" data-testid="next-action" data-action="update-payment">
          {view.canManageBilling ? portal("Update payment method", true) : null}
        </div>
      );
    case "change-plan":
      return (
        <div className="actions" data-testid="next-action" data-action="change-plan">
          <Link className="button" to="/pricing">
            Change plan
          </Link>
          {manage}
        </div>
      );
    case "subscribe":
      return (
        <div className="actions" data-testid="next-action" data-action="subscribe">
          <Link className="button" to="/pricing">
            Choose a plan
          </Link>
          {manage}
        </div>
      );
    case "none":
      return manage ? <div className="actions">{manage}</div> : null;
  }
}
