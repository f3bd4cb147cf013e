// The accounts migration (20261206191000_accounts_memberships) on a database that holds users of
// every billing kind: free, paying (a Stripe customer and subscription), canceled, exempt, and Whop.
// Afterwards each owns exactly one personal account, their billing state and entitlements are what
// they were, and a webhook for an existing subscription still lands on its user.
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { type Database, pgliteDatabase, postgresDatabase, useDatabase } from "../../app/db/db.server.ts";
import { applyMigrations, readMigrations, type SqlRunner } from "../../app/db/migrations.server.ts";
import * as webhookRoute from "../../app/routes/api.stripe.webhook.ts";
import { getEntitlements } from "../../app/services/customers/entitlements.server.ts";
import { stripeConnection, useStripeConnection } from "../../app/services/stripe/client.server.ts";
import { seed } from "../../prisma/seed.ts";
import { requirePostgres, testDb } from "../setup/database.ts";
import { withDatabase } from "../setup/global-setup.ts";
import { event, subscription, TEST_WEBHOOK_SECRET, webhookRequest } from "../stripe-fixtures.ts";
import { routeArgs } from "../utils.ts";

const MIGRATION = "_accounts_memberships";
const all = readMigrations();
const index = all.findIndex((migration) => migration.name.endsWith(MIGRATION));
const before = all.slice(0, index);

// Each kind of user a database held before accounts, with its billing columns as the app wrote them.
const USERS_SQL = `
  INSERT INTO users (email, password_hash, role, tier_id, stripe_customer_id, stripe_subscription_id,
                     subscription_status, subscription_synced_at, billing_version, billing_source, billing_since,
                     whop_user_id, whop_membership_id, whop_membership_status, whop_product_id, whop_manage_url,
                     whop_linked_by, whop_synced_at)
  VALUES
    ('free@example.com', 'x', 'customer', NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('paying.person+x@example.com', 'x', 'customer', (SELECT id FROM subscription_tier WHERE key = 'pro'),
      'cus_migrated_paying', 'sub_migrated_paying', 'active', '2026-12-01T10:00:00Z', 7, 'stripe', '2026-11-01T10:00:00Z',
      NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('canceled@example.com', 'x', 'customer', NULL, 'cus_migrated_canceled', 'sub_migrated_canceled', 'canceled',
      '2026-12-02T10:00:00Z', 3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('partner@example.com', 'x', 'customer', (SELECT id FROM subscription_tier WHERE key = 'partner'),
      NULL, NULL, NULL, NULL, 1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('whop@example.com', 'x', 'customer', (SELECT id FROM subscription_tier WHERE key = 'whop_basic'),
      NULL, NULL, NULL, NULL, 2, 'whop', '2026-11-15T10:00:00Z', 'user_migrated', 'mem_migrated', 'active',
      'prod_whop_basic', 'https://whop.com/manage/mem_migrated', 'metadata', '2026-11-15T10:00:00Z'),
    ('admin@example.com', 'x', 'admin', NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`;

type UserRow = Record<string, unknown> & { id: number; email: string };

async function usersOf(db: Database): Promise<UserRow[]> {
  return db.prisma.$queryRawUnsafe<UserRow[]>(`SELECT * FROM users ORDER BY id`);
}

async function entitlementsOf(db: Database) {
  const users = await db.prisma.user.findMany({ orderBy: { id: "asc" } });
  return Promise.all(users.map(async (user) => ({ email: user.email, ...(await getEntitlements(user)) })));
}

/** Builds the old shape, checks the migration against it, and delivers a webhook after it. */
async function checkMigration(runner: SqlRunner, db: Database) {
  expect(await applyMigrations(runner, before)).toHaveLength(before.length);
  useDatabase(db);
  // Tiers and permissions as the demo has them (no demo users: those get accounts from the new seed).
  await seed(db.prisma, { hashPassword: async () => "x", demoUsers: false });
  await runner.exec(USERS_SQL);
  const usersBefore = await usersOf(db);
  const entitlementsBefore = await entitlementsOf(db);

  expect(await applyMigrations(runner, all)).toEqual(all.slice(index).map((migration) => migration.name));

  // Users keep every billing column, value for value (billing moves to accounts in a later step).
  expect(await usersOf(db)).toEqual(usersBefore);
  expect(await entitlementsOf(db)).toEqual(entitlementsBefore);
  const accounts = await db.prisma.account.findMany({
    orderBy: { id: "asc" },
    include: { memberships: { select: { userId: true, role: true } } },
  });
  expect(accounts).toHaveLength(usersBefore.length);
  for (const user of usersBefore) {
    const owned = accounts.filter((account) => account.memberships.some((m) => m.userId === user.id));
    expect(owned, user.email).toHaveLength(1);
    expect(owned[0]!.memberships).toEqual([{ userId: user.id, role: "owner" }]);
  }
  const paying = usersBefore.find((user) => user.stripe_customer_id === "cus_migrated_paying")!;
  const payingAccount = accounts.find((account) => account.memberships[0]!.userId === paying.id)!;
  // The email's local part names it; the slug is URL-safe and ends in the user's id.
  expect(payingAccount).toMatchObject({ name: "paying.person+x", slug: `paying-person-x-${paying.id}` });
  expect(new Set(accounts.map((account) => account.slug)).size).toBe(accounts.length);

  // A webhook for the existing subscription still finds its customer: the renewal goes past due.
  const previous = stripeConnection();
  useStripeConnection({
    mode: "disabled",
    apiKey: null,
    apiBase: null,
    webhookSecrets: [TEST_WEBHOOK_SECRET],
  });
  try {
    const sub = subscription({
      id: "sub_migrated_paying",
      customer: "cus_migrated_paying",
      lookupKey: "pro_monthly",
      status: "past_due",
    });
    const response = await webhookRoute.action(routeArgs(webhookRequest(event("customer.subscription.updated", sub))));
    expect(response.status).toBe(200);
    const after = await db.prisma.user.findUniqueOrThrow({ where: { id: paying.id }, include: { tier: true } });
    expect(after).toMatchObject({ subscriptionStatus: "past_due", stripeSubscriptionId: "sub_migrated_paying" });
    expect(after.tier?.key).toBe("pro");
  } finally {
    useStripeConnection(previous);
  }
}

afterEach(() => useDatabase(testDb()));

describe("the accounts migration", () => {
  it("gives every user a personal account they own, losing nothing (embedded database)", async () => {
    const pglite = await PGlite.create();
    const db = pgliteDatabase(pglite);
    try {
      await checkMigration(
        {
          exec: (sql) => pglite.exec(sql),
          query: <T>(sql: string, params?: unknown[]) => pglite.query<T>(sql, params),
        },
        db,
      );
    } finally {
      useDatabase(testDb());
      await db.close();
    }
  });

  it("does the same on PostgreSQL", async (ctx) => {
    const url = requirePostgres(ctx);
    const name = `tierdesk_migration_${randomBytes(6).toString("hex")}`;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${name}"`);
    const client = new pg.Client({ connectionString: withDatabase(url, name) });
    await client.connect();
    const db = postgresDatabase(withDatabase(url, name), 2);
    try {
      const runner: SqlRunner = {
        exec: (sql) => client.query(sql),
        query: async <T>(sql: string, params?: unknown[]) => ({ rows: (await client.query(sql, params)).rows as T[] }),
      };
      await checkMigration(runner, db);
    } finally {
      useDatabase(testDb());
      await db.close();
      await client.end();
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin.end();
    }
  });
});
