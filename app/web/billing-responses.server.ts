// How the checkout and portal routes answer a billing outcome. fetch() callers (JSON body or
// Accept: application/json) get `{ url }` or `{ error }` with the status. Plain form posts get a 303
// to Stripe (with the same JSON body for API clients that do not follow redirects), and on error the
// status with a short HTML page for browsers without JavaScript, or JSON for anything else.
import type { BillingOutcome, BillingProblem } from "~/services/billing/outcomes.ts";
import { jsonResponse, wantsJson } from "~/utils/http.server.ts";

const STATUS: Record<BillingProblem, number> = {
  "invalid-request": 400,
  "not-offered": 400,
  "no-billing-account": 404,
  "already-subscribed": 409,
  "tier-unavailable": 409,
  "already-on-whop": 409,
  "not-an-owner": 403,
  "stripe-unreachable": 502,
  "billing-disabled": 503,
};

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c);

/** Already subscribed: the way forward is the portal, a plain form post that works without JavaScript. */
const PORTAL_FORM = `<form method="post" action="/api/stripe/portal" style="margin: 1rem 0">
<button type="submit" style="font: inherit; padding: 0.5rem 0.9rem; border-radius: 6px; border: 1px solid #1d4ed8; background: #1d4ed8; color: #fff; cursor: pointer">Open the customer portal</button></form>`;

function errorPage(
  status: number,
  message: string,
  backTo: { href: string; label: string },
  { portal }: { portal: boolean },
) {
  const body = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Billing · Tierdesk</title><link rel="icon" href="/favicon.svg" type="image/svg+xml"></head>
<body style="font-family: system-ui, sans-serif; max-width: 36rem; margin: 4rem auto; padding: 0 1rem; color: #1d2433">
<h1 style="font-size: 1.5rem">We could not do that</h1>
<p role="alert" data-testid="billing-error" style="background: #fef3f2; color: #b42318; border: 1px solid #fecdca; border-radius: 6px; padding: 0.6rem 0.8rem">${escapeHtml(message)}</p>
${portal ? PORTAL_FORM : ""}<p><a href="${backTo.href}">${escapeHtml(backTo.label)}</a></p></body></html>`;
  return new Response(body, {
    status,
    headers: { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store" },
  });
}

export function respondWithStripeUrl(
  request: Request,
  outcome: BillingOutcome,
  backTo: { href: string; label: string },
): Response {
  const json = wantsJson(request);
  if (outcome.ok) {
    if (json) return jsonResponse({ url: outcome.url });
    return jsonResponse({ url: outcome.url }, 303, { Location: outcome.url });
  }
  const status = STATUS[outcome.problem];
  const browser = (request.headers.get("Accept") ?? "").includes("text/html");
  const portal = outcome.problem === "already-subscribed";
  if (browser && !json) return errorPage(status, outcome.message, backTo, { portal });
  const extra = portal ? { portal: "/api/stripe/portal" } : {};
  return jsonResponse({ error: outcome.message, ...extra }, status);
}
