// What the migrated database guarantees: Stripe stays the source of truth for prices, lookup keys
// are unique, deleting a tier cleans up after it, and Prisma agrees on the migrations applied.
import { expect, it } from "vitest";
import { testDb } from "../setup/database.ts";
import { billingOf, createBillingUser, seedDemoData } from "../utils.ts";

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
    testDb().prisma.subscriptionTierPrice.create({
      data: { tierId: pro.id, lookupKey: "hobbyist_monthly", position: 9 },
    }),
  ).rejects.toThrow();
});

it("deletes a tier's prices and permission links with the tier, and frees its accounts", async () => {
  await seedDemoData();
  const prisma = testDb().prisma;
  const tier = await prisma.subscriptionTier.create({
    data: {
      key: "temp",
      name: "Temp",
      billingProvider: "stripe",
      prices: { create: [{ lookupKey: "temp_monthly", position: 0 }] },
      permissions: { create: [{ permission: { connect: { name: "export.csv" } } }] },
    },
  });
  const user = await createBillingUser({ email: "temp@example.com", tierId: tier.id });
  await prisma.subscriptionTier.delete({ where: { id: tier.id } });
  expect(await prisma.subscriptionTierPrice.count({ where: { lookupKey: "temp_monthly" } })).toBe(0);
  expect(await prisma.subscriptionTierPermission.count({ where: { tierId: tier.id } })).toBe(0);
  expect((await billingOf(user.id)).tierId).toBeNull();
});
