// An optional limit on /v1 requests per second, as Stripe's global rate limiter answers it: 429 with
// `{ error: { type: "invalid_request_error", code: "rate_limit", message } }` (the SDK raises
// StripeRateLimitError for any 429) and `Stripe-Rate-Limited-Reason: global-rate`. The window slides
// over the last second, so a client that paces itself under the limit is never refused. Refused
// requests do not count towards the limit, as Stripe's do not.
import type { RequestHandler } from "express";
import { StripeApiError } from "./errors.ts";

const WINDOW_MS = 1000;
const MESSAGE = "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.";

export interface RateLimiter {
  /** Requests per second allowed; null (default) or 0: no limit. */
  perSecond: number | null;
  /** How many requests were answered 429 since the start (or the last reset). */
  readonly refused: number;
  middleware: RequestHandler;
  reset(): void;
}

export function rateLimiter(perSecond: number | null | undefined): RateLimiter {
  let accepted: number[] = [];
  let refused = 0;
  const limiter: RateLimiter = {
    perSecond: perSecond || null,
    get refused() {
      return refused;
    },
    middleware: (_req, res, next) => {
      const limit = limiter.perSecond;
      if (!limit) return next();
      const now = Date.now();
      accepted = accepted.filter((at) => at > now - WINDOW_MS);
      if (accepted.length >= limit) {
        refused++;
        res.set("Stripe-Rate-Limited-Reason", "global-rate");
        throw new StripeApiError(429, "invalid_request_error", MESSAGE, "rate_limit");
      }
      accepted.push(now);
      next();
    },
    reset() {
      accepted = [];
      refused = 0;
    },
  };
  return limiter;
}

/** A limit from the CLI's environment or a control request: a whole number ≥ 1, or none. */
export function parseRateLimit(value: unknown): number | null {
  if (value === null || value === undefined || value === "" || value === 0 || value === "0") return null;
  const number = typeof value === "number" ? value : Number(value);
  if (!Number.isInteger(number) || number < 1) {
    throw new StripeApiError(400, "invalid_request_error", "`per_second` must be a whole number ≥ 1, or 0 for none");
  }
  return number;
}
