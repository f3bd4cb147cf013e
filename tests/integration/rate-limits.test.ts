// Rate limits live in the database: two app instances on one database enforce one limit, not two.
import { afterAll, beforeAll, expect, it } from "vitest";
import { createRateLimits, consumeAttempt } from "../../app/utils/rate-limit.server.ts";
import type { Database } from "../../app/utils/db.server.ts";
import { postgresDatabase } from "../../app/utils/db.server.ts";
import { testDatabaseUrl, testDb } from "../setup/database.ts";

// On PostgreSQL, a second client with its own connection pool stands for a second instance;
// the embedded database is one process's, so there the second "instance" shares its client.
let second: Database | undefined;
beforeAll(() => {
  const url = testDatabaseUrl();
  second = url ? postgresDatabase(url, 4) : undefined;
});
afterAll(async () => {
  await second?.close();
});

it("two instances share the sign-in allowance per email: 10 attempts in all, not 10 each", async () => {
  const first = createRateLimits(testDb().prisma);
  const other = createRateLimits((second ?? testDb()).prisma);
  const results: boolean[] = [];
  for (let i = 0; i < 20; i++) {
    const instance = i % 2 === 0 ? first : other;
    results.push((await consumeAttempt([["signInPerEmail", "shared@example.com"]], instance)).allowed);
  }
  expect(results.filter(Boolean)).toHaveLength(10);
  expect(results.slice(10).every((allowed) => !allowed)).toBe(true);
  const stored = await testDb().prisma.rateLimit.findUniqueOrThrow({
    where: { key: "signin-email:shared@example.com" },
  });
  expect(stored.points).toBe(20);
});

it("counts concurrent attempts from two instances exactly", async () => {
  const first = createRateLimits(testDb().prisma);
  const other = createRateLimits((second ?? testDb()).prisma);
  const results = await Promise.all(
    Array.from({ length: 40 }, (_, i) => consumeAttempt([["signInPerIp", "203.0.113.200"]], i % 2 ? first : other)),
  );
  expect(results.filter((result) => result.allowed)).toHaveLength(20);
});
