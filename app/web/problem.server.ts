// RFC 9457 problem details: every /api/v1 error, with a stable `code` a program can switch on.
/** Each code's status and title (the OpenAPI document lists them per operation). */
export const PROBLEM_CODES = {
  missing_api_key: { status: 401, title: "API key required" },
  invalid_api_key: { status: 401, title: "Invalid API key" },
  revoked_api_key: { status: 401, title: "API key revoked" },
  insufficient_scope: { status: 403, title: "Insufficient scope" },
  not_found: { status: 404, title: "Not found" },
  method_not_allowed: { status: 405, title: "Method not allowed" },
  invalid_request: { status: 400, title: "Invalid request" },
  payload_too_large: { status: 413, title: "Payload too large" },
  rate_limited: { status: 429, title: "Too many requests" },
  // Writes refused by the account's state (issue 20's write endpoints).
  seat_limit_reached: { status: 409, title: "No seat left" },
  last_owner: { status: 409, title: "Last owner" },
  already_subscribed: { status: 409, title: "Already subscribed" },
  already_on_whop: { status: 409, title: "Billed through Whop" },
  no_billing_account: { status: 409, title: "No billing account" },
  price_not_offered: { status: 422, title: "Price not offered" },
  tier_unavailable: { status: 409, title: "Tier not on sale" },
  billing_disabled: { status: 503, title: "Billing disabled" },
  stripe_unavailable: { status: 503, title: "Stripe unavailable" },
  internal_error: { status: 500, title: "Internal error" },
} as const;

export type ProblemCode = keyof typeof PROBLEM_CODES;

/** `type` is a URN naming the code: stable, and no promise of a page behind it. */
function problemType(code: ProblemCode) {
  return `urn:tierdesk:problem:${code}`;
}

/** A problem-details response: `{ type, title, status, detail, code }` (plus `errors` for invalid requests). */
export function problem(
  code: ProblemCode,
  detail: string,
  options: { headers?: Record<string, string>; errors?: Record<string, string[]> } = {},
): Response {
  const { status, title } = PROBLEM_CODES[code];
  const body = {
    type: problemType(code),
    title,
    status,
    detail,
    code,
    ...(options.errors ? { errors: options.errors } : {}),
  };
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/problem+json", "Cache-Control": "no-store", ...options.headers },
  });
}
