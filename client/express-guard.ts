// Guarding a route of another Node app by a Tierdesk permission: Express middleware over the typed
// client's POST /api/v1/check (the README's example; tests/integration/api-client.test.ts runs it).
import type { Request, RequestHandler } from "express";
import type { TierdeskClient } from "./index.ts";

/**
 * Lets the request through when Tierdesk allows `permission` to the account `accountOf` names (its
 * Tierdesk id, or `ext:` + your own id); else 403 with Tierdesk's reason. A Tierdesk error (a bad key,
 * its rate limit, Tierdesk down) goes to Express's error handler: the route stays closed.
 */
export function requireTierdeskPermission(
  tierdesk: TierdeskClient,
  permission: string,
  accountOf: (req: Request) => string | undefined,
): RequestHandler {
  return async (req, res, next) => {
    const account = accountOf(req);
    if (!account) return void res.status(401).json({ error: "Sign in first." });
    try {
      const { data, error } = await tierdesk.POST("/api/v1/check", { body: { account, permission } });
      if (error) return next(new Error(`Tierdesk refused the check: ${error.code} (${error.detail})`));
      if (!data.allowed) return void res.status(403).json({ error: data.reason?.message, upgrade: "/pricing" });
      res.locals.tierdeskWarnings = data.warnings; // e.g. over_seat_limit: allowed, worth showing
      next();
    } catch (failure) {
      next(failure);
    }
  };
}
