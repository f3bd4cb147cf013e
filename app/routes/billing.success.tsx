// /billing/success?session_id=…: Stripe Checkout returns here. Applies the same fulfilment as the
// webhook (idempotently), so the customer sees the new plan at once even when the webhook is late.
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json, redirect } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { findCheckoutSession, fulfilCheckoutSession } from "~/services/stripe/fulfilment.server.ts";
import { FulfilmentError } from "~/services/billing/outcomes.ts";
import { getEntitlements } from "~/services/customers/entitlements.server.ts";
import { inTransaction } from "~/models/transaction.server.ts";
import { forbidden, requireUser } from "~/web/auth.server.ts";
import { getBillingAccount, personalAccountIdOf } from "~/models/billing-account.server.ts";
import { findMembershipRole } from "~/models/account.server.ts";
import { namedAccount } from "~/rules/stripe-events.ts";
import { logger } from "~/utils/logger.server.ts";

export const meta: MetaFunction = () => [{ title: "Thank you · Tierdesk" }];

function checkoutNotFound() {
  return json(
    {
      error:
        "We could not find that checkout session, so nothing was bought with it. Your plan is on your account page; plans and prices are on the pricing page.",
    },
    { status: 404 },
  );
}

export async function loader({ request }: LoaderFunctionArgs) {
  const user = await requireUser(request);
  const sessionId = new URL(request.url).searchParams.get("session_id");
  if (!sessionId || !/^cs_[A-Za-z0-9_]+$/.test(sessionId)) throw redirect("/account");

  let message: string | null = null;
  let accountId: number | null = null;
  try {
    const session = await findCheckoutSession(sessionId);
    // Nothing to thank anyone for: a mistyped or made-up link, or a session from another Stripe account.
    if (!session) throw checkoutNotFound();
    // The checkout names the account it pays for (before accounts: the buyer's user, whose personal
    // account took over their billing); only its members may see it through.
    const named = namedAccount(session.metadata, session.client_reference_id);
    accountId = !named
      ? null
      : "accountId" in named
        ? named.accountId
        : named.legacyUserId === user.id
          ? await personalAccountIdOf(user.id)
          : null;
    if (!accountId || !(await findMembershipRole(accountId, user.id)))
      throw forbidden("This checkout belongs to another account.");
    if (session.status === "complete") {
      // The session's creation precedes every event about its subscription, so a webhook that
      // already applied a later state is never overwritten from here.
      await inTransaction((tx) => fulfilCheckoutSession(tx, session, { observedAt: new Date(session.created * 1000) }));
    } else {
      message = "Your payment has not completed yet. Your plan will update as soon as it does.";
    }
  } catch (error) {
    if (error instanceof Response) throw error;
    logger.warn(
      { sessionId, reason: error instanceof Error ? error.message : String(error) },
      "billing/success could not confirm the checkout",
    );
    message =
      error instanceof FulfilmentError
        ? "Thank you! Your payment went through; your plan will update in a moment."
        : "Thank you! We could not confirm your payment with Stripe just now; your plan will update in a moment.";
  }
  const fresh = accountId ? await getBillingAccount(accountId) : null;
  if (!fresh) throw forbidden("This checkout belongs to another account.");
  return json({ entitlements: await getEntitlements(fresh), message });
}

export default function BillingSuccess() {
  const { entitlements, message } = useLoaderData<typeof loader>();
  return (
    <section className="card narrow">
      <h1>Thank you!</h1>
      {message ? <p className="notice">{message}</p> : null}
      <p>
        You are on the <strong data-testid="current-tier">{entitlements.tier?.name ?? "Free"}</strong> plan.
      </p>
      <p>
        <Link className="button" to="/account">
          Go to your account
        </Link>
      </p>
    </section>
  );
}
