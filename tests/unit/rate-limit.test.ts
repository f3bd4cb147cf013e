// The limiter rules themselves (attempt counting, retry time, forgiveness) on rate-limiter-flexible's
// memory store; the shared database store is tested in tests/integration/rate-limits.test.ts.
import { RateLimiterMemory } from "rate-limiter-flexible";
import { expect, it } from "vitest";
import {
  consumeAttempt,
  consumeSignInAttempt,
  forgiveAttempt,
  RATE_LIMIT_RULES,
  type RateLimits,
} from "../../app/web/rate-limit.server.ts";

function memoryLimits(): RateLimits {
  const entries = Object.entries(RATE_LIMIT_RULES).map(([name, rule]) => [
    name,
    new RateLimiterMemory({ keyPrefix: rule.keyPrefix, points: rule.points, duration: rule.durationSeconds }),
  ]);
  return Object.fromEntries(entries) as unknown as RateLimits;
}

it("allows 5 sign-in attempts per email from one IP, then refuses with the time left", async () => {
  const limits = memoryLimits();
  for (let i = 0; i < 5; i++)
    expect(await consumeSignInAttempt("a@example.com", "10.0.0.9", limits)).toEqual({ allowed: true });
  const refused = await consumeSignInAttempt("a@example.com", "10.0.0.9", limits);
  expect(refused).toMatchObject({ allowed: false, reason: "locked" });
  if (!refused.allowed) expect(refused.retryAfterSeconds).toBeGreaterThan(14 * 60);
  expect(await consumeSignInAttempt("b@example.com", "10.0.0.9", limits)).toEqual({ allowed: true });
  // The same email from another address is not locked.
  expect(await consumeSignInAttempt("a@example.com", "10.0.0.10", limits)).toEqual({ allowed: true });
});

it("slows, never locks, an email guessed at from many IPs: after 10 attempts, one every 2 seconds", async () => {
  const limits = memoryLimits();
  for (let i = 0; i < 10; i++)
    expect(await consumeSignInAttempt("victim@example.com", `198.51.100.${i}`, limits)).toEqual({ allowed: true });
  // Past the allowance, one attempt per 2-second slot, whoever makes it.
  expect(await consumeSignInAttempt("victim@example.com", "198.51.100.50", limits)).toEqual({ allowed: true });
  const slowed = await consumeSignInAttempt("victim@example.com", "203.0.113.1", limits);
  expect(slowed).toMatchObject({ allowed: false, reason: "slowed" });
  if (!slowed.allowed) expect(slowed.retryAfterSeconds).toBeLessThanOrEqual(2);
  // Another account is not slowed.
  expect(await consumeSignInAttempt("other@example.com", "198.51.100.60", limits)).toEqual({ allowed: true });
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
