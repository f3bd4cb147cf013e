// Rate limits live in the database: two app instances on one database enforce one limit, not two.
import { afterAll, expect, it, type TestContext } from "vitest";
import { createRateLimits, consumeAttempt } from "../../app/web/rate-limit.server.ts";
import type { Database } from "../../app/db/db.server.ts";
import { postgresDatabase } from "../../app/db/db.server.ts";
import { requirePostgres, testDb } from "../setup/database.ts";

// A second client with its own connection pool stands for a second instance. The embedded database
// belongs to one process, so it has no second instance: these tests need PostgreSQL.
let second: Database | undefined;
function secondInstance(ctx: TestContext): Database {
  second ??= postgresDatabase(requirePostgres(ctx), 4);
  return second;
}
afterAll(async () => {
  await second?.close();
});

it("two instances share the sign-in allowance per email: 10 attempts in all, not 10 each", async (ctx) => {
  const first = createRateLimits(testDb().prisma);
  const other = createRateLimits(secondInstance(ctx).prisma);
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

it("counts concurrent attempts from two instances exactly", async (ctx) => {
  const first = createRateLimits(testDb().prisma);
  const other = createRateLimits(secondInstance(ctx).prisma);
  const results = await Promise.all(
    Array.from({ length: 40 }, (_, i) => consumeAttempt([["signInPerIp", "203.0.113.200"]], i % 2 ? first : other)),
  );
  expect(results.filter((result) => result.allowed)).toHaveLength(20);
});
