// Rate limits shared by every app instance, counted in the database with rate-limiter-flexible
// (atomic upserts; an in-memory limiter stands in while the database cannot be reached).
// Attempts are counted before the work they limit, so concurrent guesses cannot slip past.
import { createHash } from "node:crypto";
import { RateLimiterMemory, RateLimiterPostgres, RateLimiterRes } from "rate-limiter-flexible";
import { RATE_LIMIT_TABLE, rateLimitStore } from "~/models/rate-limit.server.ts";
import type { Db } from "~/models/transaction.server.ts";
import { config } from "~/utils/config.server.ts";
import { jsonResponse } from "~/utils/http.server.ts";
import { singleton } from "~/utils/singleton.server.ts";

export type LimitCheck = { allowed: true } | { allowed: false; retryAfterSeconds: number };

type Rule = { keyPrefix: string; points: number; durationSeconds: number };

/**
 * Each rule: at most `points` attempts per key in `durationSeconds`. Sign-in follows OWASP's advice:
 * strict per (email, client IP) and per IP, where a guesser is; per email only loose (after 10
 * attempts, one every 2 seconds from anywhere), so a guesser elsewhere slows the account's sign-ins
 * but never locks its owner out.
 */
export const RATE_LIMIT_RULES = {
  signInPerEmailAndIp: { keyPrefix: "signin-email-ip", points: 5, durationSeconds: 15 * 60 },
  signInPerIp: { keyPrefix: "signin-ip", points: 20, durationSeconds: 15 * 60 },
  signInPerEmail: { keyPrefix: "signin-email", points: 10, durationSeconds: 15 * 60 },
  signInPerEmailSlowed: { keyPrefix: "signin-email-slowed", points: 1, durationSeconds: 2 },
  signUpPerIp: { keyPrefix: "signup-ip", points: 10, durationSeconds: 15 * 60 },
  billingPerUser: { keyPrefix: "billing-user", points: 20, durationSeconds: 10 * 60 },
  // "Forgot password": a mailbox gets at most 3 links an hour, whoever asks; an address asks 10 times in 15 minutes.
  passwordResetPerIp: { keyPrefix: "reset-ip", points: 10, durationSeconds: 15 * 60 },
  passwordResetPerEmail: { keyPrefix: "reset-email", points: 3, durationSeconds: 60 * 60 },
  // Changing a password checks the current one: a borrowed session must not guess it at speed.
  passwordChangePerUser: { keyPrefix: "password-user", points: 10, durationSeconds: 15 * 60 },
  // /api/v1, per key; the points come from API_RATE_LIMIT_PER_MINUTE.
  apiPerKey: { keyPrefix: "api-key", points: 6000, durationSeconds: 60 },
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
    apiPerKey: { ...RATE_LIMIT_RULES.apiPerKey, points: config().apiRateLimitPerMinute },
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

export type SignInCheck =
  | { allowed: true }
  /** `locked`: too many from this IP (or this IP on this email); `slowed`: the email is being guessed at. */
  | { allowed: false; retryAfterSeconds: number; reason: "locked" | "slowed" };

/** The (email, IP) pair's key: hashed, as an email and an IPv6 address may outgrow the 255-character key. */
function emailAndIpKey(email: string, ip: string): string {
  return createHash("sha256").update(`${email}\n${ip}`).digest("base64url");
}

/**
 * Counts one sign-in attempt, before the password is checked. Strict per (email, IP) and per IP; per
 * email, past its allowance, one attempt per slot for everyone (the owner waits seconds, not minutes).
 */
export async function consumeSignInAttempt(
  email: string,
  ip: string,
  using: RateLimits = appLimits(),
): Promise<SignInCheck> {
  const strict = await consumeAttempt(
    [
      ["signInPerEmailAndIp", emailAndIpKey(email, ip)],
      ["signInPerIp", ip],
    ],
    using,
  );
  if (!strict.allowed) return { ...strict, reason: "locked" };
  if ((await consumeAttempt([["signInPerEmail", email]], using)).allowed) return { allowed: true };
  const slot = await consumeAttempt([["signInPerEmailSlowed", email]], using);
  return slot.allowed ? slot : { ...slot, reason: "slowed" };
}

/** A successful sign-in: ends the guessing from this IP on the account, and its attempts do not count. */
export async function signInSucceeded(email: string, ip: string, using: RateLimits = appLimits()) {
  await Promise.all([
    resetAttempts("signInPerEmailAndIp", emailAndIpKey(email, ip), using),
    forgiveAttempt("signInPerIp", ip, using),
    forgiveAttempt("signInPerEmail", email, using),
  ]);
}

/** Gives back an attempt that turned out fine (a successful sign-in does not count). */
export async function forgiveAttempt(name: RateLimitName, key: string, using: RateLimits = appLimits()) {
  await using[name].reward(key, 1);
}

/** Clears a key's count (a successful sign-in ends the guessing on that account). */
async function resetAttempts(name: RateLimitName, key: string, using: RateLimits = appLimits()) {
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

// ---------------------------------------------------------------------------------------------
// /api/v1, per key: the hot path must not wait for a database write per request. Each instance counts
// a key's requests in memory and adds them to the shared count (the same PostgreSQL store) every
// API_FLUSH_MS, deciding from the shared count it last read plus its own since: all instances together
// may overshoot the limit by what each admits within one flush interval, never more.

const API_FLUSH_MS = 50;

type ApiTally = {
  /** Requests admitted here and not yet added to the shared count, and those being added now. */
  pending: number;
  inFlight: number;
  /** The shared count after this instance's last addition, and when its window ends (epoch ms). */
  shared: number;
  resetAt: number;
  flushing: Promise<void> | null;
};

const apiTallies = singleton("api-rate-tallies", () => new Map<number, ApiTally>());

async function flushApiTally(keyId: number, tally: ApiTally, using: RateLimits): Promise<void> {
  const points = tally.pending;
  tally.pending = 0;
  tally.inFlight += points;
  try {
    // penalty(): adds the points whatever the count (the requests were answered already).
    const result = await using.apiPerKey.penalty(String(keyId), points);
    tally.shared = Math.max(tally.shared, result.consumedPoints);
    tally.resetAt = Date.now() + result.msBeforeNext;
  } finally {
    tally.inFlight -= points;
  }
}

function scheduleFlush(keyId: number, tally: ApiTally, using: RateLimits) {
  tally.flushing ??= new Promise<void>((resolve) => setTimeout(resolve, API_FLUSH_MS))
    .then(() => flushApiTally(keyId, tally, using))
    .catch(() => {}) // the next request's flush tries again (its pending points were lost: the limit errs open)
    .finally(() => {
      tally.flushing = null;
      if (tally.pending > 0) scheduleFlush(keyId, tally, using);
    });
}

/** Counts one /api/v1 request of the key: allowed, or refused with the seconds until its window resets. */
export async function consumeApiRequest(keyId: number, using: RateLimits = appLimits()): Promise<LimitCheck> {
  const points = config().apiRateLimitPerMinute;
  const now = Date.now();
  let tally = apiTallies.get(keyId);
  if (!tally || now >= tally.resetAt) {
    // First request of a window here: learn the shared count now (one write), then decide from it.
    tally ??= { pending: 0, inFlight: 0, shared: 0, resetAt: 0, flushing: null };
    if (now >= tally.resetAt) tally.shared = 0; // a new window (the store says how full it already is)
    apiTallies.set(keyId, tally);
    tally.pending += 1;
    await flushApiTally(keyId, tally, using);
    if (tally.shared > points) return refusedUntil(tally.resetAt);
    return { allowed: true };
  }
  if (tally.shared + tally.inFlight + tally.pending >= points) return refusedUntil(tally.resetAt);
  tally.pending += 1;
  scheduleFlush(keyId, tally, using);
  return { allowed: true };
}

function refusedUntil(resetAt: number): LimitCheck {
  return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((resetAt - Date.now()) / 1000)) };
}
