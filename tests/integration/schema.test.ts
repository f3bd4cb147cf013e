// The migrated database has exactly the tables and columns the design names.
import { expect, it } from "vitest";
import { testDb } from "../setup/database.ts";
import { seedDemoData } from "../utils.ts";

async function columns(table: string) {
  const rows = await testDb().prisma.$queryRawUnsafe<{ column_name: string }[]>(
    `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY column_name`,
    table,
  );
  return rows.map((row) => row.column_name);
}

it("names tables and columns in snake_case as designed", async () => {
  expect(await columns("subscription_tier")).toEqual(
    [
      "billing_provider", "created_at", "description", "fallback_price", "id", "is_billing_exempt",
      "is_customer_facing", "key", "name", "updated_at", "user_limit", "whop_product_key",
    ].sort(),
  );
  expect(await columns("subscription_tier_price")).toEqual(["id", "lookup_key", "position", "tier_id"]);
  expect(await columns("permission")).toEqual(["description", "id", "name"]);
  expect(await columns("subscription_tier_permission")).toEqual(["permission_id", "tier_id"]);
  expect(await columns("users")).toEqual(
    [
      "created_at", "email", "id", "password_hash", "role", "stripe_customer_id", "stripe_subscription_id",
      "subscription_status", "subscription_synced_at", "tier_id",
    ].sort(),
  );
  expect(await columns("stripe_events")).toEqual(
    expect.arrayContaining(["error", "event_id", "event_type", "id", "payload", "processed_at", "received_at"]),
  );
});

it("never stores a Stripe price id, amount, currency or interval", async () => {
  const rows = await testDb().prisma.$queryRawUnsafe<{ table_name: string; column_name: string }[]>(
    `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()`,
  );
  const suspicious = rows.filter((row) => /price_id|amount|currency|interval/.test(row.column_name));
  expect(suspicious).toEqual([]);
});

it("records the committed migrations in Prisma's own bookkeeping table", async () => {
  const rows = await testDb().prisma.$queryRawUnsafe<{ migration_name: string; finished_at: Date | null }[]>(
    `SELECT migration_name, finished_at FROM "_prisma_migrations"`,
  );
  expect(rows.length).toBeGreaterThan(0);
  expect(rows.every((row) => row.finished_at !== null)).toBe(true);
});

it("keeps a lookup key unique across all tiers", async () => {
  await seedDemoData();
  const pro = await testDb().prisma.subscriptionTier.findUniqueOrThrow({ where: { key: "pro" } });
  await expect(
    testDb().prisma.subscriptionTierPrice.create({ data: { tierId: pro.id, lookupKey: "hobbyist_monthly", position: 9 } }),
  ).rejects.toThrow();
});

it("deletes a tier's prices and permission links with the tier, and frees its users", async () => {
  await seedDemoData();
  const prisma = testDb().prisma;
  const tier = await prisma.subscriptionTier.create({
    data: {
      key: "temp", name: "Temp", billingProvider: "stripe",
      prices: { create: [{ lookupKey: "temp_monthly", position: 0 }] },
      permissions: { create: [{ permission: { connect: { name: "export.csv" } } }] },
    },
  });
  const user = await prisma.user.create({ data: { email: "temp@example.com", passwordHash: "x", tierId: tier.id } });
  await prisma.subscriptionTier.delete({ where: { id: tier.id } });
  expect(await prisma.subscriptionTierPrice.count({ where: { lookupKey: "temp_monthly" } })).toBe(0);
  expect(await prisma.subscriptionTierPermission.count({ where: { tierId: tier.id } })).toBe(0);
  expect((await prisma.user.findUniqueOrThrow({ where: { id: user.id } })).tierId).toBeNull();
});
