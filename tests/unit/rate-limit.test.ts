// The limiter rules themselves (attempt counting, retry time, forgiveness) on rate-limiter-flexible's
// memory store; the shared database store is tested in tests/integration/rate-limits.test.ts.
import { RateLimiterMemory } from "rate-limiter-flexible";
import { expect, it } from "vitest";
import {
  consumeAttempt,
  forgiveAttempt,
  RATE_LIMIT_RULES,
  type RateLimits,
} from "../../app/utils/rate-limit.server.ts";

function memoryLimits(): RateLimits {
  const entries = Object.entries(RATE_LIMIT_RULES).map(([name, rule]) => [
    name,
    new RateLimiterMemory({ keyPrefix: rule.keyPrefix, points: rule.points, duration: rule.durationSeconds }),
  ]);
  return Object.fromEntries(entries) as unknown as RateLimits;
}

it("allows 5 sign-in attempts per email, then refuses with the time left", async () => {
  const limits = memoryLimits();
  for (let i = 0; i < 5; i++)
    expect(await consumeAttempt([["signInPerEmail", "a@example.com"]], limits)).toEqual({ allowed: true });
  const refused = await consumeAttempt([["signInPerEmail", "a@example.com"]], limits);
  expect(refused.allowed).toBe(false);
  if (!refused.allowed) expect(refused.retryAfterSeconds).toBeGreaterThan(14 * 60);
  expect(await consumeAttempt([["signInPerEmail", "b@example.com"]], limits)).toEqual({ allowed: true });
});

it("refuses when any of several keys is over its limit", async () => {
  const limits = memoryLimits();
  for (let i = 0; i < 20; i++) await consumeAttempt([["signInPerIp", "10.0.0.1"]], limits);
  const refused = await consumeAttempt(
    [
      ["signInPerEmail", "fresh@example.com"],
      ["signInPerIp", "10.0.0.1"],
    ],
    limits,
  );
  expect(refused.allowed).toBe(false);
});

it("gives an attempt back when it turned out fine", async () => {
  const limits = memoryLimits();
  for (let i = 0; i < 20; i++) {
    expect((await consumeAttempt([["signInPerIp", "10.0.0.2"]], limits)).allowed).toBe(true);
    await forgiveAttempt("signInPerIp", "10.0.0.2", limits);
  }
  expect((await consumeAttempt([["signInPerIp", "10.0.0.2"]], limits)).allowed).toBe(true);
});
