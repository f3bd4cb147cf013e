// /api/v1's answers to the write endpoints' outcomes (app/services/api/accounts.server.ts): each refusal
// as its problem code, each success as JSON with its status.
import type { BillingOutcome, BillingProblem } from "~/services/billing/outcomes.ts";
import { jsonResponse } from "~/utils/http.server.ts";
import { problem, type ProblemCode } from "./problem.server.ts";

/** 405 naming the one method the path takes. */
export function methodNotAllowed(allow: "GET" | "POST" | "PUT" | "DELETE") {
  return problem("method_not_allowed", `Use ${allow}.`, { headers: { Allow: allow } });
}

const BILLING_PROBLEMS: Record<BillingProblem, ProblemCode> = {
  "billing-disabled": "billing_disabled",
  "invalid-request": "invalid_request",
  "not-offered": "price_not_offered",
  "already-subscribed": "already_subscribed",
  "tier-unavailable": "tier_unavailable",
  "already-on-whop": "already_on_whop",
  "no-billing-account": "no_billing_account",
  // Not reachable through the API (a key acts for the product, not a member), kept total.
  "not-an-owner": "invalid_request",
  "stripe-unreachable": "stripe_unavailable",
};

/** A Checkout or portal outcome: 201 `{ url }`, or its problem; null (no such account) is a 404. */
export function stripeUrlAnswer(outcome: BillingOutcome | null) {
  if (!outcome) return problem("not_found", "No such account.");
  if (!outcome.ok) return problem(BILLING_PROBLEMS[outcome.problem], outcome.message);
  return jsonResponse({ url: outcome.url }, 201);
}
