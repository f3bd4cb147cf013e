// What every /v1 request goes through: the API key, `Request-Id`, params parsed from the query and the
// form body, and idempotency keys (the same key and params replay the first success).
import type { RequestHandler } from "express";
import qs from "qs";
import Stripe from "stripe";
import { StripeApiError } from "./errors.ts";
import { newId } from "./objects.ts";
import { Params } from "./params.ts";
import type { RequestInfo } from "./types.ts";

const QS_OPTIONS = { depth: 5, arrayLimit: 100, parameterLimit: 1000 };

/** A secret or restricted key, as `Authorization: Bearer sk_…`; any such key works. */
export const requireApiKey: RequestHandler = (req, _res, next) => {
  const [scheme, apiKey] = (req.get("Authorization") ?? "").split(" ");
  if (scheme !== "Bearer" || !apiKey) {
    const message =
      "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').";
    throw new StripeApiError(401, "invalid_request_error", message);
  }
  if (!/^(sk|rk)_\w+$/.test(apiKey)) {
    throw new StripeApiError(
      401,
      "invalid_request_error",
      `Invalid API Key provided: ${apiKey.slice(0, 8)}***`,
      "api_key_invalid",
    );
  }
  next();
};

/** `handle` for the routes, and `reset`, which forgets the idempotency keys. */
export function requestHandling() {
  const idempotency = new Map<string, { fingerprint: string; body: string; requestId: string }>();
  /** Runs a handler and answers JSON; POSTs with an Idempotency-Key replay their first success. */
  const handle =
    (handler: (p: Params, path: Record<string, string>, request: RequestInfo) => object): RequestHandler =>
    (req, res) => {
      const requestId = newId("req", 14);
      res.set({ "Request-Id": requestId, "Stripe-Version": req.get("Stripe-Version") ?? Stripe.API_VERSION });
      const key = req.method === "POST" ? req.get("Idempotency-Key") : undefined;
      const raw = typeof req.body === "string" ? req.body : "";
      const fingerprint = `${req.method} ${req.originalUrl}\n${raw}`;
      const stored = key ? idempotency.get(key) : undefined;
      if (key && stored) {
        if (stored.fingerprint !== fingerprint) {
          const message = `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`;
          throw new StripeApiError(400, "idempotency_error", message);
        }
        res.set({ "Request-Id": stored.requestId, "Idempotent-Replayed": "true" }).type("json").send(stored.body);
        return;
      }
      const query = qs.parse(req.originalUrl.split("?")[1] ?? "", QS_OPTIONS);
      const params = new Params({ ...query, ...qs.parse(raw, QS_OPTIONS) });
      const body = JSON.stringify(
        handler(params, req.params, { id: requestId, idempotency_key: key ?? null }),
        null,
        2,
      );
      // Only successes are stored: a request rejected by validation can be fixed and retried.
      if (key) idempotency.set(key, { fingerprint, body, requestId });
      res.type("json").send(body);
    };
  return { handle, reset: () => idempotency.clear() };
}
