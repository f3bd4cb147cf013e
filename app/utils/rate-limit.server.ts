// Rate limits shared by every app instance, counted in the database with rate-limiter-flexible
// (atomic upserts; an in-memory limiter stands in while the database cannot be reached).
// Attempts are counted before the work they limit, so concurrent guesses cannot slip past.
import { RateLimiterMemory, RateLimiterPostgres, RateLimiterRes } from "rate-limiter-flexible";
import { RATE_LIMIT_TABLE, rateLimitStore } from "~/models/rate-limit.server.ts";
import type { Db } from "~/models/transaction.server.ts";
import { config } from "./config.server.ts";
import { jsonResponse } from "./http.server.ts";
import { singleton } from "./singleton.server.ts";

export type LimitCheck = { allowed: true } | { allowed: false; retryAfterSeconds: number };

type Rule = { keyPrefix: string; points: number; durationSeconds: number };

/** Each rule: at most `points` attempts per key in `durationSeconds`. */
export const RATE_LIMIT_RULES = {
  signInPerEmail: { keyPrefix: "signin-email", points: 5, durationSeconds: 15 * 60 },
  signInPerIp: { keyPrefix: "signin-ip", points: 20, durationSeconds: 15 * 60 },
  signUpPerIp: { keyPrefix: "signup-ip", points: 10, durationSeconds: 15 * 60 },
  billingPerUser: { keyPrefix: "billing-user", points: 20, durationSeconds: 10 * 60 },
} as const satisfies Record<string, Rule>;

export type RateLimitName = keyof typeof RATE_LIMIT_RULES;

function limiter(rule: Rule, db?: Db) {
  return new RateLimiterPostgres({
    storeClient: rateLimitStore(db),
    storeType: "pool",
    tableName: RATE_LIMIT_TABLE,
    tableCreated: true,
    keyPrefix: rule.keyPrefix,
    points: rule.points,
    duration: rule.durationSeconds,
    insuranceLimiter: new RateLimiterMemory({
      keyPrefix: rule.keyPrefix,
      points: rule.points,
      duration: rule.durationSeconds,
    }),
  });
}

export type RateLimits = Record<RateLimitName, RateLimiterPostgres>;

/** Limiters on a given database (tests make two "instances" on one database). */
export function createRateLimits(db?: Db): RateLimits {
  const rules: Record<RateLimitName, Rule> = {
    ...RATE_LIMIT_RULES,
    signUpPerIp: { ...RATE_LIMIT_RULES.signUpPerIp, points: config().signUpLimitPerIp },
  };
  const entries = Object.entries(rules).map(([name, rule]) => [name, limiter(rule, db)]);
  return Object.fromEntries(entries) as RateLimits;
}

const limits = singleton("rate-limits", () => ({ current: undefined as RateLimits | undefined }));
function appLimits(): RateLimits {
  return (limits.current ??= createRateLimits());
}

/** Counts one attempt for each key; refused when any key is over its limit. */
export async function consumeAttempt(
  checks: ReadonlyArray<readonly [RateLimitName, string]>,
  using: RateLimits = appLimits(),
): Promise<LimitCheck> {
  let retryAfterMs = 0;
  for (const [name, key] of checks) {
    try {
      await using[name].consume(key);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      retryAfterMs = Math.max(retryAfterMs, rejection.msBeforeNext);
    }
  }
  return retryAfterMs > 0
    ? { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)) }
    : { allowed: true };
}

/** Gives back an attempt that turned out fine (a successful sign-in does not count). */
export async function forgiveAttempt(name: RateLimitName, key: string, using: RateLimits = appLimits()) {
  await using[name].reward(key, 1);
}

/** Clears a key's count (a successful sign-in ends the guessing on that account). */
export async function resetAttempts(name: RateLimitName, key: string, using: RateLimits = appLimits()) {
  await using[name].delete(key);
}

/**
 * Counts one billing request (checkout, portal, plan switch, resume) for the user: null while
 * allowed, else the 429 to answer, with Retry-After.
 */
export async function billingRateLimit(userId: number): Promise<Response | null> {
  const limit = await consumeAttempt([["billingPerUser", String(userId)]]);
  if (limit.allowed) return null;
  return jsonResponse({ error: "Too many billing requests. Please wait a moment and try again." }, 429, {
    "Retry-After": String(limit.retryAfterSeconds),
  });
}
