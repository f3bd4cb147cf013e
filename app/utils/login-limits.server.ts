// Failed sign-ins are limited per email (guessing one account's password) and per IP (spraying many).
import { createRateLimiter } from "./rate-limit.server.ts";
import { singleton } from "./singleton.server.ts";

export const loginLimits = singleton("login-limits", () => ({
  byEmail: createRateLimiter({ limit: 5, windowMs: 15 * 60_000 }),
  byIp: createRateLimiter({ limit: 20, windowMs: 15 * 60_000 }),
}));

export function clientIpFrom(context: unknown): string {
  const ip = (context as { clientIp?: unknown } | undefined)?.clientIp;
  return typeof ip === "string" && ip ? ip : "unknown";
}
