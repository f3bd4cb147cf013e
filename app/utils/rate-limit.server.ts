// Counts failed sign-ins per key (an email, an IP) in a sliding window. In memory, per app
// instance: behind N instances an attacker gets at most N times the budget, which still stops
// brute force; a shared store can replace this map without changing callers.
export type RateLimiter = {
  isBlocked(key: string, now?: number): { blocked: boolean; retryAfterSeconds: number };
  recordFailure(key: string, now?: number): void;
  reset(key: string): void;
  clear(): void;
};

export function createRateLimiter({ limit, windowMs }: { limit: number; windowMs: number }): RateLimiter {
  const failures = new Map<string, number[]>();
  const recent = (key: string, now: number) => {
    const kept = (failures.get(key) ?? []).filter((at) => now - at < windowMs);
    if (kept.length) failures.set(key, kept);
    else failures.delete(key);
    return kept;
  };
  return {
    isBlocked(key, now = Date.now()) {
      const times = recent(key, now);
      if (times.length < limit) return { blocked: false, retryAfterSeconds: 0 };
      return { blocked: true, retryAfterSeconds: Math.max(1, Math.ceil((times[0]! + windowMs - now) / 1000)) };
    },
    recordFailure(key, now = Date.now()) {
      const times = recent(key, now);
      times.push(now);
      failures.set(key, times);
      // Bound memory under a spray of distinct keys.
      if (failures.size > 50_000) failures.delete(failures.keys().next().value!);
    },
    reset(key) {
      failures.delete(key);
    },
    clear() {
      failures.clear();
    },
  };
}
