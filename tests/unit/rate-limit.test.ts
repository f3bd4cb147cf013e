import { expect, it } from "vitest";
import { createRateLimiter } from "../../app/utils/rate-limit.server.ts";

it("blocks after the limit within the window and frees up when it slides past", () => {
  const limiter = createRateLimiter({ limit: 3, windowMs: 60_000 });
  const t0 = 1_000_000;
  for (let i = 0; i < 3; i++) {
    expect(limiter.isBlocked("a", t0 + i).blocked).toBe(false);
    limiter.recordFailure("a", t0 + i);
  }
  const blocked = limiter.isBlocked("a", t0 + 10);
  expect(blocked).toEqual({ blocked: true, retryAfterSeconds: 60 });
  expect(limiter.isBlocked("b", t0 + 10).blocked).toBe(false);
  expect(limiter.isBlocked("a", t0 + 60_001).blocked).toBe(false);
});

it("reset clears a key", () => {
  const limiter = createRateLimiter({ limit: 1, windowMs: 60_000 });
  limiter.recordFailure("a");
  expect(limiter.isBlocked("a").blocked).toBe(true);
  limiter.reset("a");
  expect(limiter.isBlocked("a").blocked).toBe(false);
});
