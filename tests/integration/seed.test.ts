import { expect, it } from "vitest";
import { hasValidIntegration } from "../../app/rules/tiers.ts";
import { testDb } from "../setup/database.ts";
import { hashPassword } from "../../app/models/user.server.ts";
import { seed } from "../../prisma/seed.ts";
import { seedDemoData } from "../utils.ts";

async function snapshot() {
  const prisma = testDb().prisma;
  return {
    permissions: await prisma.permission.count(),
    tiers: await prisma.subscriptionTier.findMany({
      orderBy: { key: "asc" },
      include: { prices: { orderBy: { position: "asc" } }, permissions: true },
    }),
    users: await prisma.user.findMany({ orderBy: { email: "asc" }, select: { email: true, role: true } }),
    accounts: await prisma.account.findMany({
      orderBy: { id: "asc" },
      select: {
        name: true,
        tier: { select: { key: true } },
        memberships: { orderBy: { userId: "asc" }, select: { role: true, user: { select: { email: true } } } },
      },
    }),
  };
}

it("seeds the demo data, and seeding again changes nothing", async () => {
  await seedDemoData();
  const first = await snapshot();
  await seedDemoData();
  expect(await snapshot()).toEqual(first);

  expect(first.permissions).toBe(5);
  expect(first.tiers.map((tier) => tier.key)).toEqual(["free", "hobbyist", "partner", "pro", "whop_basic"]);
  const byKey = Object.fromEntries(first.tiers.map((tier) => [tier.key, tier]));
  expect(byKey.pro!.prices.map((price) => price.lookupKey)).toEqual(["pro_monthly", "pro_yearly"]);
  expect(byKey.pro!.userLimit).toBe(5);
  expect(byKey.pro!.fallbackPrice).toBe("£29");
  expect(byKey.hobbyist!.prices.map((price) => price.lookupKey)).toEqual(["hobbyist_monthly", "hobbyist_yearly"]);
  expect(byKey.free!).toMatchObject({
    billingProvider: "exempt",
    isBillingExempt: true,
    isCustomerFacing: true,
    fallbackPrice: "$0",
  });
  expect(byKey.partner!).toMatchObject({ billingProvider: "exempt", isCustomerFacing: false });
  expect(byKey.whop_basic!).toMatchObject({ billingProvider: "whop", whopProductKey: "prod_whop_basic" });
  for (const tier of first.tiers) {
    expect(hasValidIntegration({ ...tier, lookupKeys: tier.prices.map((p) => p.lookupKey) }), tier.key).toBe(true);
    expect(tier.permissions.length, tier.key).toBeGreaterThan(0);
  }
  expect(first.users).toEqual([
    { email: "admin@example.com", role: "admin" },
    { email: "customer@example.com", role: "customer" },
    { email: "designer@example.com", role: "customer" },
    { email: "support@example.com", role: "support" },
    { email: "teammate@example.com", role: "customer" },
  ]);
  // Everyone owns a personal account (on no tier: Free); the team has its owner and two members, on
  // the exempt Partner tier.
  const owner = (email: string) => ({ role: "owner", user: { email } });
  const member = (email: string) => ({ role: "member", user: { email } });
  expect(first.accounts).toEqual([
    { name: "admin", tier: null, memberships: [owner("admin@example.com")] },
    { name: "support", tier: null, memberships: [owner("support@example.com")] },
    { name: "customer", tier: null, memberships: [owner("customer@example.com")] },
    { name: "teammate", tier: null, memberships: [owner("teammate@example.com")] },
    { name: "designer", tier: null, memberships: [owner("designer@example.com")] },
    {
      name: "Acme Studio",
      tier: { key: "partner" },
      memberships: [owner("customer@example.com"), member("teammate@example.com"), member("designer@example.com")],
    },
  ]);
});

it("does not overwrite an admin's edits to a demo tier when seeding again", async () => {
  await seedDemoData();
  await testDb().prisma.subscriptionTier.update({ where: { key: "pro" }, data: { name: "Pro Plus" } });
  await seedDemoData();
  expect((await testDb().prisma.subscriptionTier.findUniqueOrThrow({ where: { key: "pro" } })).name).toBe("Pro Plus");
});

it("creates no demo users (published passwords) when told so, as in production", async () => {
  const prisma = testDb().prisma;
  await prisma.user.deleteMany({});
  await prisma.account.deleteMany({});
  await seed(prisma, { hashPassword, demoUsers: false });
  expect(await prisma.user.count()).toBe(0);
  expect(await prisma.account.count()).toBe(0);
  expect(await prisma.subscriptionTier.count()).toBe(5);
});
