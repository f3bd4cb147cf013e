// The accounts migrations on a database that holds users of every billing kind: free, paying (a Stripe
// customer and subscription), canceled, exempt, and Whop. 20261206191000_accounts_memberships gives each a
// personal account; 20261206200000_account_billing moves each user's billing state into it and drops the
// users' billing columns. Afterwards every billing field and every entitlement is what it was (now the
// account's), a team account one of them owns keeps no billing of its own, and webhooks for an existing
// subscription, an existing customer and a checkout started before accounts land on the right account.
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
import { checkoutSession, event, subscription, TEST_WEBHOOK_SECRET, webhookRequest } from "../stripe-fixtures.ts";
import { routeArgs } from "../utils.ts";

const all = readMigrations();
const indexOf = (suffix: string) => all.findIndex((migration) => migration.name.endsWith(suffix));
const accountsIndex = indexOf("_accounts_memberships");
const billingIndex = indexOf("_account_billing");
const beforeAccounts = all.slice(0, accountsIndex);
const beforeBilling = all.slice(0, billingIndex);

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

const BILLING_COLUMNS = [
  "tier_id",
  "stripe_customer_id",
  "stripe_subscription_id",
  "subscription_status",
  "subscription_synced_at",
  "billing_version",
  "billing_source",
  "billing_since",
  "whop_user_id",
  "whop_membership_id",
  "whop_membership_status",
  "whop_product_id",
  "whop_manage_url",
  "whop_linked_by",
  "whop_synced_at",
] as const;

const billingFields = (row: Record<string, unknown>) =>
  Object.fromEntries(BILLING_COLUMNS.map((column) => [column, row[column]]));

// The statement's text names the step: a pooled connection caches a prepared `SELECT *`, whose result
// type the migration changes.
async function usersOf(db: Database, step: string): Promise<UserRow[]> {
  return db.prisma.$queryRawUnsafe<UserRow[]>(`SELECT * FROM users /* ${step} */ ORDER BY id`);
}

/** Each user's billing as the app read it before: the users' own columns. */
async function entitlementsBefore(users: UserRow[]) {
  return Promise.all(
    users.map(async (user) => ({
      email: user.email,
      ...(await getEntitlements({
        tierId: user.tier_id as number | null,
        subscriptionStatus: user.subscription_status as string | null,
        billingSource: user.billing_source as "stripe" | "whop" | null,
        whopMembershipId: user.whop_membership_id as string | null,
        whopMembershipStatus: user.whop_membership_status as string | null,
        whopManageUrl: user.whop_manage_url as string | null,
        whopLinkedBy: user.whop_linked_by as string | null,
      })),
    })),
  );
}

/** The personal account (the oldest one owned) of each user, raw. */
async function personalAccountsOf(db: Database, users: UserRow[]) {
  const accounts = await db.prisma.$queryRawUnsafe<Array<Record<string, unknown> & { id: number; owner: number }>>(
    `SELECT DISTINCT ON (m.user_id) m.user_id AS owner, a.*
       FROM memberships m JOIN accounts a ON a.id = m.account_id
      WHERE m.role = 'owner' ORDER BY m.user_id, a.id`,
  );
  return users.map((user) => accounts.find((account) => account.owner === user.id)!);
}

/** Builds the old shape, checks both migrations against it, and delivers webhooks after them. */
async function checkMigration(runner: SqlRunner, db: Database) {
  expect(await applyMigrations(runner, beforeAccounts)).toHaveLength(beforeAccounts.length);
  useDatabase(db);
  // Tiers and permissions as the demo has them (no demo users: those get accounts from the new seed).
  await seed(db.prisma, { hashPassword: async () => "x", demoUsers: false });
  await runner.exec(USERS_SQL);
  const usersBefore = await usersOf(db, "before");
  const entitledBefore = await entitlementsBefore(usersBefore);

  // Step 1: personal accounts; billing stays on users.
  expect(await applyMigrations(runner, beforeBilling)).toEqual(
    beforeBilling.slice(accountsIndex).map((migration) => migration.name),
  );
  expect(await usersOf(db, "between")).toEqual(usersBefore);
  const accounts = await db.prisma.$queryRawUnsafe<Array<{ id: number; name: string; slug: string }>>(
    `SELECT id, name, slug FROM accounts ORDER BY id`,
  );
  expect(accounts).toHaveLength(usersBefore.length);
  const paying = usersBefore.find((user) => user.stripe_customer_id === "cus_migrated_paying")!;
  const free = usersBefore.find((user) => user.email === "free@example.com")!;
  const canceled = usersBefore.find((user) => user.stripe_customer_id === "cus_migrated_canceled")!;
  // The email's local part names it; the slug is URL-safe and ends in the user's id.
  expect(accounts).toContainEqual(
    expect.objectContaining({ name: "paying.person+x", slug: `paying-person-x-${paying.id}` }),
  );
  expect(new Set(accounts.map((account) => account.slug)).size).toBe(accounts.length);
  // Between the steps, the paying user also came to own a team account (newer than their personal one)
  // where the free user is a member: billing must go to the personal account, not the team.
  await runner.exec(`
    INSERT INTO accounts (name, slug) VALUES ('Team Between', 'team-between');
    INSERT INTO memberships (account_id, user_id, role)
      VALUES ((SELECT id FROM accounts WHERE slug = 'team-between'), ${paying.id}, 'owner'),
             ((SELECT id FROM accounts WHERE slug = 'team-between'), ${free.id}, 'member');`);

  // Step 2: billing moves to the personal accounts.
  expect(await applyMigrations(runner, all)).toEqual(all.slice(billingIndex).map((migration) => migration.name));

  const usersAfter = await usersOf(db, "after");
  // Users keep identity only, unchanged.
  expect(usersAfter).toEqual(
    usersBefore.map((user) => ({
      id: user.id,
      email: user.email,
      password_hash: user.password_hash,
      role: user.role,
      created_at: user.created_at,
    })),
  );
  const personal = await personalAccountsOf(db, usersBefore);
  usersBefore.forEach((user, i) => {
    expect(billingFields(personal[i]!), user.email).toEqual(billingFields(user));
  });
  const team = await db.prisma.account.findUniqueOrThrow({ where: { slug: "team-between" } });
  expect(team).toMatchObject({ tierId: null, stripeCustomerId: null, subscriptionStatus: null, billingVersion: 0 });
  // Entitlements: each user's personal account answers what the user did.
  const entitledAfter = await Promise.all(
    usersBefore.map(async (user, i) => ({
      email: user.email,
      ...(await getEntitlements((await db.prisma.account.findUniqueOrThrow({ where: { id: personal[i]!.id } }))!)),
    })),
  );
  expect(entitledAfter).toEqual(entitledBefore);

  // Webhooks after the migration land on the right account.
  const previous = stripeConnection();
  useStripeConnection({
    mode: "disabled",
    apiKey: null,
    apiBase: null,
    webhookSecrets: [TEST_WEBHOOK_SECRET],
  });
  const deliver = async (evt: unknown) => {
    const response = await webhookRoute.action(routeArgs(webhookRequest(evt)));
    expect(response.status).toBe(200);
  };
  const accountNow = (i: number) =>
    db.prisma.account.findUniqueOrThrow({ where: { id: personal[i]!.id }, include: { tier: true } });
  try {
    // An existing subscription (by its stored customer): the renewal goes past due.
    await deliver(
      event(
        "customer.subscription.updated",
        subscription({
          id: "sub_migrated_paying",
          customer: "cus_migrated_paying",
          lookupKey: "pro_monthly",
          status: "past_due",
          // As checkout wrote it before accounts: the user's id.
          metadata: { tierdesk_user_id: String(paying.id) },
        }),
      ),
    );
    const payingAfter = await accountNow(usersBefore.indexOf(paying));
    expect(payingAfter).toMatchObject({ subscriptionStatus: "past_due", stripeSubscriptionId: "sub_migrated_paying" });
    expect(payingAfter.tier?.key).toBe("pro");

    // An existing customer subscribing again (a new subscription, no metadata): found by the customer.
    await deliver(
      event(
        "customer.subscription.created",
        subscription({ id: "sub_migrated_again", customer: "cus_migrated_canceled", lookupKey: "hobbyist_monthly" }),
      ),
    );
    const canceledAfter = await accountNow(usersBefore.indexOf(canceled));
    expect(canceledAfter).toMatchObject({ subscriptionStatus: "active", stripeSubscriptionId: "sub_migrated_again" });
    expect(canceledAfter.tier?.key).toBe("hobbyist");

    // A checkout started before accounts (client_reference_id and metadata name the user), completed
    // after: it lands on the user's personal account, not on the team they are a member of.
    const sub = subscription({
      id: "sub_migrated_new",
      customer: "cus_migrated_new",
      lookupKey: "pro_monthly",
      metadata: { tierdesk_user_id: String(free.id) },
    });
    const session = Object.assign(
      checkoutSession({ clientReferenceId: String(free.id), customer: "cus_migrated_new", subscriptionId: sub }),
      { metadata: { tierdesk_user_id: String(free.id), lookup_key: "pro_monthly" } },
    );
    await deliver(event("checkout.session.completed", session));
    const freeAfter = await accountNow(usersBefore.indexOf(free));
    expect(freeAfter).toMatchObject({ stripeCustomerId: "cus_migrated_new", subscriptionStatus: "active" });
    expect(freeAfter.tier?.key).toBe("pro");
    expect(await db.prisma.account.findUniqueOrThrow({ where: { slug: "team-between" } })).toMatchObject({
      stripeCustomerId: null,
      tierId: null,
    });
  } finally {
    useStripeConnection(previous);
  }
}

afterEach(() => useDatabase(testDb()));

describe("the accounts migrations", () => {
  it("give every user a personal account that takes over their billing, losing nothing (embedded database)", async () => {
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
