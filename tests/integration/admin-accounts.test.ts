// Support's accounts console: /admin/accounts (search by name, slug, a member's email or a billing id;
// tier, status and over-seat-limit filters; keyset pages) and /admin/accounts/:accountId (seats,
// members, pending invitations, the plan and why, Stripe and Whop links, latest events). Who may read
// them, and that every page query is a range of an index at scale, whatever plan PostgreSQL caches.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, postgresDatabase, useDatabase } from "../../app/db/db.server.ts";
import { countAccountsOverSeatLimit } from "../../app/models/seats.server.ts";
import * as accountRoute from "../../app/routes/admin.accounts.$accountId/route.tsx";
import * as accountsRoute from "../../app/routes/admin.accounts._index.tsx";
import { requirePostgres, testDb } from "../setup/database.ts";
import { useStripeEmulator } from "../stripe-harness.ts";
import { getStripe } from "../../app/services/stripe/client.server.ts";
import { formRequest, getRequest, routeArgs, seedDemoData, sessionCookieFor, settle } from "../utils.ts";

useStripeEmulator();
const prisma = () => testDb().prisma;

type ListRow = {
  id: number;
  name: string;
  slug: string;
  tierKey: string | null;
  members: number;
  seatLimit: number | null;
  owners: string[];
  overLimitSince: string | null;
};
type ListPage = { accounts: ListRow[]; hasOlder: boolean; hasNewer: boolean };

let support: string;
let admin: string;
let customer: string;
const ids = { paging: [] as number[], billed: 0, whop: 0, crowded: 0 };

async function list(query = "", cookie = support): Promise<ListPage> {
  const response = await settle(() => accountsRoute.loader(routeArgs(getRequest(`/admin/accounts${query}`, cookie))));
  expect(response.status, query).toBe(200);
  return response.json();
}

async function accountPage(id: number, cookie = support) {
  return settle(() =>
    accountRoute.loader(routeArgs(getRequest(`/admin/accounts/${id}`, cookie), { accountId: String(id) })),
  );
}

const slugs = (page: ListPage) => page.accounts.map((account) => account.slug);

beforeAll(async () => {
  await seedDemoData();
  support = await sessionCookieFor("support@example.com");
  admin = await sessionCookieFor("admin@example.com");
  customer = await sessionCookieFor("customer@example.com");
  const db = prisma();
  const tiers = new Map((await db.subscriptionTier.findMany()).map((tier) => [tier.key, tier.id]));
  // 120 accounts to page through, each owned by its own user.
  for (let i = 0; i < 120; i++) {
    const n = String(i).padStart(3, "0");
    const account = await db.account.create({
      data: {
        name: `Paging Co ${n}`,
        slug: `paging-${n}`,
        memberships: {
          create: { role: "owner", user: { create: { email: `pager-${n}@paging.example`, passwordHash: "x" } } },
        },
      },
    });
    ids.paging.push(account.id);
  }
  // A Stripe customer on Pro, active, with two owners and a member; Stripe events of its own.
  const billed = await db.account.create({
    data: {
      name: "Zebra Works",
      slug: "zebra-works",
      tierId: tiers.get("pro")!,
      stripeCustomerId: "cus_zebra_1",
      stripeSubscriptionId: "sub_zebra_1",
      subscriptionStatus: "active",
      billingSource: "stripe",
      memberships: {
        create: [
          { role: "owner", user: { create: { email: "zed@zebra.example", passwordHash: "x" } } },
          { role: "owner", user: { create: { email: "zoe@zebra.example", passwordHash: "x" } } },
          { role: "member", user: { create: { email: "zara@zebra.example", passwordHash: "x" } } },
        ],
      },
    },
  });
  ids.billed = billed.id;
  // Paid through Whop: its membership and Whop user, and a past-due Stripe status that is not in force.
  const whop = await db.account.create({
    data: {
      name: "Whoopee Ltd",
      slug: "whoopee",
      tierId: tiers.get("pro")!,
      billingSource: "whop",
      whopUserId: "user_whoopee1",
      whopMembershipId: "mem_whoopee1",
      whopMembershipStatus: "active",
      whopLinkedBy: "metadata",
      memberships: {
        create: { role: "owner", user: { create: { email: "wendy@whoopee.example", passwordHash: "x" } } },
      },
    },
  });
  ids.whop = whop.id;
  // Three members on a lapsed Hobbyist subscription (limit 1): over the limit, marked so.
  const crowded = await db.account.create({
    data: {
      name: "crowded house",
      slug: "crowded-house",
      tierId: tiers.get("hobbyist")!,
      subscriptionStatus: "canceled",
      overSeatLimitSince: new Date("2026-12-01T10:00:00Z"),
      memberships: {
        create: [
          { role: "owner", user: { create: { email: "cora@crowded.example", passwordHash: "x" } } },
          { role: "member", user: { create: { email: "cal@crowded.example", passwordHash: "x" } } },
          { role: "member", user: { create: { email: "cy@crowded.example", passwordHash: "x" } } },
        ],
      },
    },
  });
  ids.crowded = crowded.id;
  const day = 86_400_000;
  await db.invitation.createMany({
    data: [
      {
        accountId: crowded.id,
        email: "pending@crowded.example",
        tokenHash: "a".repeat(64),
        expiresAt: new Date(Date.now() + 3 * day),
      },
      {
        accountId: crowded.id,
        email: "expired@crowded.example",
        tokenHash: "b".repeat(64),
        expiresAt: new Date(Date.now() - day),
      },
      {
        accountId: crowded.id,
        email: "accepted@crowded.example",
        tokenHash: "c".repeat(64),
        expiresAt: new Date(Date.now() + day),
        acceptedAt: new Date(),
      },
      {
        accountId: crowded.id,
        email: "revoked@crowded.example",
        tokenHash: "d".repeat(64),
        expiresAt: new Date(Date.now() + day),
        revokedAt: new Date(),
      },
    ],
  });
  const at = Date.UTC(2026, 11, 5, 12);
  await db.stripeEvent.createMany({
    data: [
      ...Array.from({ length: 25 }, (_, i) => ({
        eventId: `evt_zebra_${String(i).padStart(2, "0")}`,
        eventType: "customer.subscription.updated",
        status: "processed" as const,
        customerId: "cus_zebra_1",
        objectId: "sub_zebra_1",
        receivedAt: new Date(at + i * 1000),
        payload: '{"livemode": false}',
      })),
      {
        eventId: "evt_other",
        eventType: "invoice.paid",
        customerId: "cus_other",
        receivedAt: new Date(at),
        payload: "{}",
      },
      {
        eventId: "whop_evt_by_membership",
        provider: "whop" as const,
        eventType: "membership.went_valid",
        objectId: "mem_whoopee1",
        receivedAt: new Date(at),
        payload: "{}",
      },
      {
        eventId: "whop_evt_by_user",
        provider: "whop" as const,
        eventType: "payment.succeeded",
        customerId: "user_whoopee1",
        objectId: "pay_1",
        receivedAt: new Date(at + 1000),
        status: "failed" as const,
        error: "boom",
        payload: "{}",
      },
    ],
  });
}, 60_000);

describe("/admin/accounts", () => {
  it("pages newest first, 50 at a time, older and newer, with nothing skipped or repeated", async () => {
    const total = await prisma().account.count();
    const seen: number[] = [];
    let page = await list();
    const first = page;
    expect(page.hasNewer).toBe(false);
    for (;;) {
      expect(page.accounts.length).toBeLessThanOrEqual(50);
      seen.push(...page.accounts.map((account) => account.id));
      if (!page.hasOlder) break;
      page = await list(`?after=${page.accounts.at(-1)!.id}`);
      expect(page.hasNewer).toBe(true);
    }
    expect(seen.length).toBe(total);
    expect(seen).toEqual([...seen].sort((a, b) => b - a));
    expect(new Set(seen).size).toBe(total);
    expect(first.accounts).toHaveLength(50);
    // Back from the second page: the first page again.
    const second = await list(`?after=${first.accounts.at(-1)!.id}`);
    const back = await list(`?before=${second.accounts[0]!.id}`);
    expect(back.accounts.map((account) => account.id)).toEqual(first.accounts.map((account) => account.id));
    expect(back.hasNewer).toBe(false);
    expect(back.hasOlder).toBe(true);
  });

  it("shows seats, owners (first of them and how many more) and the stored tier", async () => {
    const [zebra] = (await list("?q=zebra")).accounts;
    expect(zebra).toMatchObject({ slug: "zebra-works", tierKey: "pro", members: 3, seatLimit: 5 });
    // Made in one transaction: which owner is "first" is the user id's tie-break.
    expect([...zebra!.owners].sort()).toEqual(["zed@zebra.example", "zoe@zebra.example"]);
    const [crowded] = (await list("?q=crowded")).accounts;
    // A lapsed subscription: the free tier's limit is in force.
    expect(crowded).toMatchObject({ members: 3, seatLimit: 1, overLimitSince: "2026-12-01T10:00:00.000Z" });
  });

  it("searches by name or slug prefix in any case, a member's email or its beginning, and billing ids", async () => {
    expect(slugs(await list("?q=ZEBRA%20w"))).toEqual(["zebra-works"]); // name, any case
    expect(slugs(await list("?q=Crowded"))).toEqual(["crowded-house"]); // a lower-case name
    expect(slugs(await list("?q=whoo"))).toEqual(["whoopee"]); // slug
    expect(slugs(await list("?q=paging-11"))).toEqual(
      [119, 118, 117, 116, 115, 114, 113, 112, 111, 110].map((n) => `paging-${n}`),
    );
    expect(slugs(await list("?q=zara%40zebra.example"))).toEqual(["zebra-works"]); // an exact email
    expect(slugs(await list("?q=ZOE%40"))).toEqual(["zebra-works"]); // an email's beginning
    expect(slugs(await list("?q=cal"))).toEqual(["crowded-house"]); // a member's email, without "@"
    expect(slugs(await list("?q=cus_zebra_1"))).toEqual(["zebra-works"]);
    expect(slugs(await list("?q=sub_zebra_1"))).toEqual(["zebra-works"]);
    expect(slugs(await list("?q=user_whoopee1"))).toEqual(["whoopee"]);
    expect(slugs(await list("?q=mem_whoopee1"))).toEqual(["whoopee"]);
    expect(slugs(await list("?q=cus_nobody"))).toEqual([]);
    expect(slugs(await list("?q=%25"))).toEqual([]); // no pattern characters: "%" is only itself
    // The demo team, by its owner: every account customer@ belongs to.
    const ofCustomer = slugs(await list("?q=customer%40example.com"));
    expect(ofCustomer).toHaveLength(2);
    expect(ofCustomer).toContain("acme-studio");
    expect(ofCustomer.find((slug) => slug !== "acme-studio")).toMatch(/^customer-\d+$/);
  });

  it("filters by tier (free includes no tier), status (or none) and over the seat limit", async () => {
    expect(slugs(await list("?tier=pro")).sort()).toEqual(["whoopee", "zebra-works"]);
    expect(slugs(await list("?tier=hobbyist"))).toEqual(["crowded-house"]);
    const free = await list("?tier=free&q=paging-00");
    expect(free.accounts).toHaveLength(10);
    expect(slugs(await list("?status=active"))).toEqual(["zebra-works"]);
    expect(slugs(await list("?status=canceled"))).toEqual(["crowded-house"]);
    expect(slugs(await list("?status=none&q=zebra"))).toEqual([]);
    expect(slugs(await list("?status=none&q=whoo"))).toEqual(["whoopee"]);
    expect(slugs(await list("?overLimit=1"))).toEqual(["crowded-house"]);
    expect(slugs(await list("?overLimit=1&tier=pro"))).toEqual([]);
  });

  it("counts the accounts over their seat limit for /admin, as many as the filter lists", async () => {
    // /admin's loader shows countAccountsOverSeatLimit(); it is asked directly here because that loader
    // also lists tiers through code the billing move is rewriting (app/models/tier.server.ts).
    expect(await countAccountsOverSeatLimit()).toBe((await list("?overLimit=1")).accounts.length);
    expect(await countAccountsOverSeatLimit()).toBe(1);
  });
});

describe("/admin/accounts/:accountId", () => {
  it("shows seats, members, pending invitations only, and the plan with why", async () => {
    const response = await accountPage(ids.crowded);
    expect(response.status).toBe(200);
    const data = await response.json();
    expect(data.account).toMatchObject({ name: "crowded house", slug: "crowded-house" });
    expect(data.seats).toEqual({ limit: 1, used: 3, pending: 1, overLimitSince: "2026-12-01T10:00:00.000Z" });
    // Owners first; the members were made together, so their order is their user ids'.
    const members = data.members.map((member: { email: string; role: string }) => `${member.email} ${member.role}`);
    expect(members[0]).toBe("cora@crowded.example owner");
    expect(members.slice(1).sort()).toEqual(["cal@crowded.example member", "cy@crowded.example member"]);
    expect(data.members[0].userId).toBeGreaterThan(0);
    expect(data.invitations.map((invitation: { email: string }) => invitation.email)).toEqual([
      "pending@crowded.example",
    ]);
    expect(data.plan.storedTier).toEqual({ key: "hobbyist", name: "Hobbyist" });
    expect(data.plan.inForce).toEqual({
      tierName: "Free",
      reason: "The stored tier Hobbyist is not in force: the subscription is canceled.",
    });
    expect(data.events).toEqual([]);
  });

  it("links the Stripe customer and subscription and lists the account's latest 20 events, newest first", async () => {
    const data = await (await accountPage(ids.billed)).json();
    expect(data.plan.inForce.tierName).toBe("Pro");
    expect(data.plan.links).toEqual({
      livemode: false,
      customer: "https://dashboard.stripe.com/test/customers/cus_zebra_1",
      subscription: "https://dashboard.stripe.com/test/subscriptions/sub_zebra_1",
    });
    expect(data.events).toHaveLength(20);
    expect(data.events[0].eventId).toBe("evt_zebra_24");
    expect(data.events.at(-1).eventId).toBe("evt_zebra_05");
  });

  it("shows a Whop membership and its events, by membership and by Whop user", async () => {
    const data = await (await accountPage(ids.whop)).json();
    expect(data.plan.whop).toMatchObject({ membershipId: "mem_whoopee1", status: "active", userId: "user_whoopee1" });
    expect(data.plan.inForce.tierName).toBe("Pro");
    expect(data.plan.links.customer).toBeNull();
    expect(
      data.events.map((event: { eventId: string; outcome: string | null }) => [event.eventId, event.outcome]),
    ).toEqual([
      ["whop_evt_by_user", "boom"],
      ["whop_evt_by_membership", null],
    ]);
  });

  it("answers 404 for an account that does not exist or an id that is not one", async () => {
    expect((await accountPage(999_999)).status).toBe(404);
    const response = await settle(() =>
      accountRoute.loader(routeArgs(getRequest("/admin/accounts/abc", support), { accountId: "abc" })),
    );
    expect(response.status).toBe(404);
  });
});

describe("/admin/accounts/:accountId actions", () => {
  const post = (id: number, fields: Record<string, string>, cookie: string) =>
    settle(() =>
      accountRoute.action(
        routeArgs(formRequest(`/admin/accounts/${id}`, fields, { cookie }), { accountId: String(id) }),
      ),
    );

  it("lets admins put an account on an exempt tier and take it off, audited on the account; support may not", async () => {
    const acme = await prisma().account.findUniqueOrThrow({ where: { slug: "acme-studio" } });
    const team = await prisma().account.create({ data: { name: "Exempt Me", slug: `exempt-me-${Date.now()}` } });
    const refused = await post(team.id, { intent: "tier", tier: "partner" }, support);
    expect(refused.status).toBe(403);
    expect((await prisma().account.findUniqueOrThrow({ where: { id: team.id } })).tierId).toBeNull();

    const given = await post(team.id, { intent: "tier", tier: "partner" }, admin);
    expect(given.status).toBe(200);
    expect(await given.json()).toMatchObject({ ok: true, message: "Tier changed." });
    const partner = await prisma().subscriptionTier.findUniqueOrThrow({ where: { key: "partner" } });
    expect((await prisma().account.findUniqueOrThrow({ where: { id: team.id } })).tierId).toBe(partner.id);
    const audit = await prisma().auditEntry.findFirstOrThrow({
      where: { entity: "account", entityId: String(team.id) },
      orderBy: { id: "desc" },
    });
    expect(audit).toMatchObject({ action: "tier changed", actorEmail: "admin@example.com", entityLabel: "Exempt Me" });
    expect(audit.after).toEqual({ tier: "partner" });

    // A paid tier cannot be given; an unknown one is named.
    const paid = await post(team.id, { intent: "tier", tier: "pro" }, admin);
    expect(paid.status).toBe(400);
    expect((await paid.json()).message).toMatch(/only exempt tiers/);
    expect((await post(team.id, { intent: "tier", tier: "" }, admin)).status).toBe(200);
    expect((await prisma().account.findUniqueOrThrow({ where: { id: team.id } })).tierId).toBeNull();
    // Acme (untouched) keeps its tier.
    expect((await prisma().account.findUniqueOrThrow({ where: { id: acme.id } })).tierId).toBe(partner.id);
  });

  it("lets admins change who owns an account, audited, never leaving it without an owner; support may not", async () => {
    const owner = await prisma().user.create({ data: { email: `own-${Date.now()}@example.com`, passwordHash: "x" } });
    const other = await prisma().user.create({ data: { email: `mem-${Date.now()}@example.com`, passwordHash: "x" } });
    const team = await prisma().account.create({
      data: {
        name: "Owner Change",
        slug: `owner-change-${Date.now()}`,
        memberships: {
          create: [
            { userId: owner.id, role: "owner" },
            { userId: other.id, role: "member" },
          ],
        },
      },
    });
    const roleOf = async (userId: number) =>
      (await prisma().membership.findUniqueOrThrow({ where: { accountId_userId: { accountId: team.id, userId } } }))
        .role;
    expect(
      (await post(team.id, { intent: "member-role", userId: String(other.id), role: "owner" }, support)).status,
    ).toBe(403);
    expect(await roleOf(other.id)).toBe("member");

    const promoted = await post(team.id, { intent: "member-role", userId: String(other.id), role: "owner" }, admin);
    expect(promoted.status).toBe(200);
    expect(await roleOf(other.id)).toBe("owner");
    // Two owners: the first may step down; then the last one may not.
    expect(
      (await post(team.id, { intent: "member-role", userId: String(owner.id), role: "member" }, admin)).status,
    ).toBe(200);
    const refused = await post(team.id, { intent: "member-role", userId: String(other.id), role: "member" }, admin);
    expect(refused.status).toBe(409);
    expect((await refused.json()).message).toMatch(/last owner/);
    expect(await roleOf(other.id)).toBe("owner");

    const entries = await prisma().auditEntry.findMany({
      where: { entity: "account", entityId: String(team.id), action: "member role changed" },
      orderBy: { id: "asc" },
    });
    expect(entries.map((entry) => entry.after)).toEqual([
      { member: other.email, role: "owner" },
      { member: owner.email, role: "member" },
    ]);
  });

  it("syncs an account from Stripe for support, and says when there is no customer to sync", async () => {
    const team = await prisma().account.create({ data: { name: "No Customer", slug: `no-customer-${Date.now()}` } });
    const none = await post(team.id, { intent: "sync" }, support);
    expect(none.status).toBe(409);
    expect((await none.json()).message).toMatch(/no Stripe customer yet/);

    const customer = await getStripe().customers.create({ email: "sync-team@example.com" });
    await prisma().account.update({ where: { id: team.id }, data: { stripeCustomerId: customer.id } });
    const synced = await post(team.id, { intent: "sync" }, support);
    expect(synced.status).toBe(200);
    expect(await synced.json()).toMatchObject({ kind: "sync", ok: true });
  });
});

describe("who may read them", () => {
  it("lets support and admins in, refuses customers (403) and sends visitors to sign in", async () => {
    for (const cookie of [support, admin]) {
      expect((await list("", cookie)).accounts.length).toBeGreaterThan(0);
      expect((await accountPage(ids.billed, cookie)).status).toBe(200);
    }
    const asCustomer = await settle(() => accountsRoute.loader(routeArgs(getRequest("/admin/accounts", customer))));
    expect(asCustomer.status).toBe(403);
    expect((await accountPage(ids.billed, customer)).status).toBe(403);
    const anonymous = await settle(() => accountsRoute.loader(routeArgs(getRequest("/admin/accounts"))));
    expect(anonymous.status).toBe(302);
    expect(anonymous.headers.get("location")).toMatch(/^\/login\?next=/);
  });
});

// ---------------------------------------------------------------------------------------------
// The plan guard: with 50,000 accounts (each with an owner), every statement the pages prepared is
// explained under plan_cache_mode = force_generic_plan; none may scan accounts, memberships, users or
// stripe_events (the approach of page-query-plans.test.ts).

type PlanNode = { "Node Type": string; "Relation Name"?: string; Plans?: PlanNode[] };
function sequentialScans(node: PlanNode, found: string[] = []): string[] {
  if (node["Node Type"] === "Seq Scan" && node["Relation Name"]) found.push(node["Relation Name"]);
  for (const child of node.Plans ?? []) sequentialScans(child, found);
  return found;
}

describe("the pages' queries at scale, on one connection", () => {
  let single: Database;
  afterAll(async () => {
    useDatabase(testDb());
    await single?.close();
  });

  it("never scan accounts, memberships, users or stripe_events, whatever plan PostgreSQL caches", async (ctx) => {
    const url = requirePostgres(ctx);
    const db = prisma();
    await db.$executeRawUnsafe(`
      WITH made AS (
        INSERT INTO accounts (name, slug, stripe_customer_id, subscription_status, tier_id, over_seat_limit_since)
        SELECT 'Scale ' || n, 'scale-' || n, 'cus_scale_' || n, CASE WHEN n % 3 = 0 THEN 'active' END,
               CASE WHEN n % 3 = 0 THEN (SELECT id FROM subscription_tier WHERE key = 'pro') END,
               CASE WHEN n % 5000 = 0 THEN now() END
          FROM generate_series(1, 50000) AS n
        RETURNING id, slug)
      , people AS (
        INSERT INTO users (email, password_hash) SELECT made.slug || '@scale.example', 'x' FROM made RETURNING id, email)
      INSERT INTO memberships (account_id, user_id, role)
      SELECT made.id, people.id, 'owner' FROM made JOIN people ON people.email = made.slug || '@scale.example'`);
    // And a log of 50,000 events over 5,000 customers, so its indexes matter too.
    await db.$executeRawUnsafe(`
      INSERT INTO stripe_events (event_id, event_type, received_at, status, customer_id, object_id, payload)
      SELECT 'evt_scale_' || n, 'invoice.paid', now() - make_interval(secs => n), 'processed',
             'cus_scale_' || (n % 5000), 'in_scale_' || n, '{}'
        FROM generate_series(1, 50000) AS n`);
    await db.$executeRawUnsafe(`ANALYZE stripe_events`);
    await db.$executeRawUnsafe(`ANALYZE accounts`);
    await db.$executeRawUnsafe(`ANALYZE memberships`);
    await db.$executeRawUnsafe(`ANALYZE users`);

    single = postgresDatabase(url, 1);
    useDatabase(single);
    const pages = [
      "",
      "?q=scale-4242%40scale.example",
      "?q=scale-42",
      "?q=Scale%204",
      "?q=cus_scale_4242",
      "?q=sub_nothing",
      "?q=mem_nothing",
      "?q=user_nothing",
      "?overLimit=1",
      "?tier=pro",
      "?tier=free",
      "?status=active",
      "?status=none",
      `?after=${ids.paging[60]}`,
    ];
    // Loaded several times each: PostgreSQL may switch a named statement to a generic plan after five runs.
    for (let run = 0; run < 6; run++) {
      for (const query of pages) await list(query);
      expect((await accountPage(ids.billed)).status).toBe(200);
      expect((await accountPage(ids.whop)).status).toBe(200);
    }

    const connection = await single.transactions!.pool.connect();
    try {
      const { rows: statements } = await connection.query<{ name: string; statement: string; parameter_types: string }>(
        `SELECT name, statement, parameter_types::text FROM pg_prepared_statements`,
      );
      const pageStatements = statements.filter((row) => /accounts|memberships|stripe_events/.test(row.statement));
      expect(pageStatements.length).toBeGreaterThan(8);
      await connection.query(`SET plan_cache_mode = force_generic_plan`);
      const scans: string[] = [];
      for (const row of pageStatements) {
        const parameters = row.parameter_types === "{}" ? 0 : row.parameter_types.split(",").length;
        const args = parameters ? `(${Array(parameters).fill("NULL").join(", ")})` : "";
        const { rows } = await connection.query<{ "QUERY PLAN": Array<{ Plan: PlanNode }> }>(
          `EXPLAIN (FORMAT JSON) EXECUTE ${row.name}${args}`,
        );
        const tables = sequentialScans(rows[0]!["QUERY PLAN"][0]!.Plan).filter((table) =>
          ["accounts", "memberships", "users", "stripe_events"].includes(table),
        );
        if (tables.length) scans.push(`${tables.join(", ")} scanned by: ${row.statement.replace(/\s+/g, " ")}`);
      }
      expect(scans).toEqual([]);
    } finally {
      await connection.query(`RESET plan_cache_mode`);
      connection.release();
    }
  }, 180_000);
});
