// A tier edit announced through the outgoing webhooks (docs/decisions/018): an admin's change of what a
// tier grants reaches every account it moved as one account.entitlements.updated, through the real
// admin routes, a fan-out job expanding it in batches, and delivery to a local receiver. Never one to
// an account it did not move, never two, nothing for a rolled-back edit or one that grants nothing new,
// and a fan-out cut short resumes where it stopped.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Webhook } from "standardwebhooks";
import * as permissionsRoute from "../../app/routes/admin.permissions.tsx";
import * as tierRoute from "../../app/routes/admin.tiers.$key/route.tsx";
import { listTiersForAdmin } from "../../app/models/tier.server.ts";
import { inTransaction } from "../../app/models/transaction.server.ts";
import { stopJobQueue } from "../../app/services/jobs/queue.server.ts";
import { saveTier } from "../../app/services/tiers/tier-admin.server.ts";
import { deliverDueWebhooks } from "../../app/services/webhooks/delivery.server.ts";
import { createWebhookEndpoint, setWebhookEndpointEnabled } from "../../app/services/webhooks/endpoints.server.ts";
import { announceAccountChange } from "../../app/services/webhooks/outbox.server.ts";
import {
  announceTierChange,
  runWebhookFanoutStep,
  scheduleWebhookFanouts,
} from "../../app/services/webhooks/fanout.server.ts";
import { testDb } from "../setup/database.ts";
import { createBillingUser, routeArgs, seedDemoData, sessionCookieFor, settle } from "../utils.ts";

const prisma = () => testDb().prisma;
const ADMIN = { id: null, email: "test@example.com" } as const;

type Entitlements = { tier: string; status: string | null; permissions: string[]; seats: { limit: number } };
type Payload = { type: string; data: { account: { id: number }; entitlements: Entitlements } };

let received: Array<{ id: string; headers: http.IncomingHttpHeaders; body: string }> = [];
let server: http.Server;
let url: string;
let admin: string;
let secret: string;
let endpointId: number;

beforeAll(async () => {
  await seedDemoData();
  admin = await sessionCookieFor("admin@example.com");
  server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      received.push({
        id: String(request.headers["webhook-id"]),
        headers: request.headers,
        body: Buffer.concat(chunks).toString(),
      });
      response.writeHead(200).end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  const created = await createWebhookEndpoint(ADMIN, { url, eventTypes: ["account.entitlements.updated"] });
  if (!created.ok) throw new Error(created.message);
  ({ secret, id: endpointId } = created);
});
afterAll(async () => {
  await stopJobQueue();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(async () => {
  received = [];
  await prisma().webhookMessage.deleteMany();
});

let n = 0;
/** An account on `tierKey` (null: none) with this subscription status. */
async function account(tierKey: string | null, subscriptionStatus: string | null = "active") {
  n++;
  const tier = tierKey ? await prisma().subscriptionTier.findUniqueOrThrow({ where: { key: tierKey } }) : null;
  const user = await createBillingUser({
    email: `fanout-${n}-${Date.now()}@example.com`,
    tierId: tier?.id ?? null,
    subscriptionStatus,
  });
  return user.accountId;
}

/** The tier's form as the admin's page would post it, with `changes`. */
async function tierForm(key: string, changes: Record<string, string | string[]> = {}) {
  const [tier] = await listTiersForAdmin(key);
  if (!tier) throw new Error(`no tier ${key}`);
  const fields: Record<string, string | string[]> = {
    intent: "save",
    name: tier.name,
    key: tier.key,
    description: tier.description ?? "",
    userLimit: String(tier.userLimit),
    billingProvider: tier.billingProvider,
    whopProductKey: tier.whopProductKey ?? "",
    fallbackPrice: tier.fallbackPrice,
    lookupKeys: tier.prices.map((price) => price.lookupKey).join("\n"),
    permissions: tier.permissions.map(({ permission }) => permission.name),
    ...(tier.isCustomerFacing ? { isCustomerFacing: "on" } : {}),
    ...(tier.isBillingExempt ? { isBillingExempt: "on" } : {}),
    ...changes,
  };
  const body = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) {
    for (const item of Array.isArray(value) ? value : [value]) body.append(name, item);
  }
  return body;
}

function post(path: string, body: URLSearchParams) {
  return new Request(new URL(path, "http://localhost:3000"), {
    method: "POST",
    body,
    headers: { "Content-Type": "application/x-www-form-urlencoded", Cookie: admin },
  });
}

async function editTier(key: string, changes: Record<string, string | string[]>) {
  const response = await settle(async () =>
    tierRoute.action(routeArgs(post(`/admin/tiers/${key}`, await tierForm(key, changes)), { key })),
  );
  expect(response.status, await response.clone().text()).toBe(302);
}

const permissionsOf = async (key: string) =>
  (await listTiersForAdmin(key))[0]!.permissions.map(({ permission }) => permission.name).sort();

/** Runs fan-out steps until none is left (as the queue's worker would). */
async function fanOut(batchSize = 1_000) {
  for (let step = 0; step < 1_000; step++) {
    if ((await runWebhookFanoutStep({ batchSize })).finished) return;
  }
  throw new Error("the fan-out never finished");
}

/** Each account's messages (by account id), and the receiver's verified payloads once delivered. */
async function messagesByAccount() {
  const messages = await prisma().webhookMessage.findMany({ orderBy: { id: "asc" } });
  const byAccount = new Map<number, Payload[]>();
  for (const message of messages) {
    byAccount.set(message.accountId, [...(byAccount.get(message.accountId) ?? []), message.payload as Payload]);
  }
  return byAccount;
}

async function deliverAll() {
  for (let sent = await deliverDueWebhooks(); sent > 0; sent = await deliverDueWebhooks()) {
    // until nothing is due
  }
  const ids = received.map((request) => request.id);
  expect(new Set(ids).size, "a webhook-id received twice").toBe(ids.length);
  return received.map((request) => new Webhook(secret).verify(request.body, request.headers as never) as Payload);
}

const fanouts = () => prisma().webhookFanout.count();

describe("a tier's edit reaches the accounts it moved", () => {
  it("new permissions on a tier: one message to each account in force on it, none to others, with the new list", async () => {
    const onTier = [await account("hobbyist"), await account("hobbyist"), await account("hobbyist", "trialing")];
    const lapsed = await account("hobbyist", "canceled"); // on the free tier in force
    const others = [await account("pro"), await account(null), await account("partner", null)];

    await editTier("hobbyist", { permissions: ["projects.create", "export.csv", "api.access"] });
    // The admin's request recorded that a fan-out is due and did no per-account work.
    expect(await fanouts()).toBe(1);
    expect(await prisma().webhookMessage.count()).toBe(0);

    await fanOut(2); // several batches
    expect(await fanouts()).toBe(0);
    const byAccount = await messagesByAccount();
    expect([...byAccount.keys()].sort()).toEqual([...onTier].sort());
    for (const id of [lapsed, ...others]) expect(byAccount.get(id), `account ${id}`).toBeUndefined();

    const payloads = await deliverAll();
    expect(payloads).toHaveLength(3);
    for (const payload of payloads) {
      expect(payload.type).toBe("account.entitlements.updated");
      expect(payload.data.entitlements).toMatchObject({
        tier: "hobbyist",
        permissions: ["api.access", "export.csv", "projects.create"],
      });
    }
    expect(payloads.map((payload) => payload.data.account.id).sort()).toEqual([...onTier].sort());

    // Saving the same again (or the fan-out run twice) announces nothing more.
    await editTier("hobbyist", {});
    await fanOut();
    expect(await prisma().webhookMessage.count()).toBe(3);
  });

  it("the free tier's new permissions reach every account that falls back to it, and no other", async () => {
    const fallingBack = [await account(null, null), await account("free", null), await account("pro", "canceled")];
    const paying = [await account("pro"), await account("partner", null)];
    const before = await permissionsOf("free");

    await editTier("free", { permissions: [...before, "export.csv"] });
    await fanOut(3);
    const byAccount = await messagesByAccount();
    for (const id of fallingBack) expect(byAccount.get(id), `account ${id}`).toHaveLength(1);
    for (const id of paying) expect(byAccount.get(id), `account ${id}`).toBeUndefined();
    // Every account told anything here falls back to the free tier (the demo's included).
    for (const payloads of byAccount.values()) {
      expect(payloads).toHaveLength(1);
      expect(payloads[0]!.data.entitlements).toMatchObject({
        tier: "free",
        permissions: [...before, "export.csv"].sort(),
      });
    }
    await deliverAll();
    expect(received).toHaveLength(byAccount.size);

    await editTier("free", { permissions: before });
    await fanOut();
  });

  it("an exemption puts the tier in force for its lapsed accounts: they hear of it, those in force already of nothing", async () => {
    const lapsed = await account("pro", "canceled");
    const inForce = await account("pro");
    // What each was last told (as the webhook path announces a change): the free tier, and pro.
    await inTransaction((tx) => announceAccountChange(tx, [lapsed, inForce], "account.entitlements.updated"));
    expect((await messagesByAccount()).get(lapsed)?.[0]?.data.entitlements.tier).toBe("free");
    await prisma().webhookMessage.deleteMany();

    await editTier("pro", { isBillingExempt: "on" });
    expect(await prisma().webhookFanout.findFirstOrThrow()).toMatchObject({ includeLapsed: true });
    await fanOut();
    const byAccount = await messagesByAccount();
    expect(byAccount.get(lapsed)?.map((payload) => payload.data.entitlements.tier)).toEqual(["pro"]);
    expect(byAccount.get(inForce)).toBeUndefined();

    await editTier("pro", { isBillingExempt: [] });
    await fanOut();
    expect((await messagesByAccount()).get(lapsed)?.map((payload) => payload.data.entitlements.tier)).toEqual([
      "pro",
      "free",
    ]);
  });

  it("a renamed or deleted permission reaches the accounts of every tier that grants it", async () => {
    const hobbyist = await account("hobbyist");
    const pro = await account("pro");
    const free = await account(null, null);
    const permission = await prisma().permission.create({ data: { name: "reports.view", description: "Reports" } });
    for (const key of ["hobbyist", "pro"])
      await editTier(key, { permissions: [...(await permissionsOf(key)), "reports.view"] });
    await fanOut();
    await prisma().webhookMessage.deleteMany();

    const rename = new URLSearchParams({
      intent: "update",
      id: String(permission.id),
      name: "reports.read",
      description: "Reports",
    });
    expect((await settle(() => permissionsRoute.action(routeArgs(post("/admin/permissions", rename))))).status).toBe(
      302,
    );
    expect(await fanouts()).toBe(2);
    await fanOut();
    let byAccount = await messagesByAccount();
    expect(byAccount.get(hobbyist)?.[0]?.data.entitlements.permissions).toContain("reports.read");
    expect(byAccount.get(pro)?.[0]?.data.entitlements.permissions).toContain("reports.read");
    expect(byAccount.get(free)).toBeUndefined();
    await prisma().webhookMessage.deleteMany();

    const remove = new URLSearchParams({ intent: "delete", id: String(permission.id), confirm: "yes" });
    expect((await settle(() => permissionsRoute.action(routeArgs(post("/admin/permissions", remove))))).status).toBe(
      302,
    );
    await fanOut();
    byAccount = await messagesByAccount();
    for (const id of [hobbyist, pro]) {
      expect(byAccount.get(id), `account ${id}`).toHaveLength(1);
      expect(byAccount.get(id)?.[0]?.data.entitlements.permissions).not.toContain("reports.read");
    }
    expect(byAccount.get(free)).toBeUndefined();
  });
});

describe("what announces nothing", () => {
  it("an edit that changes no entitlement: name, description, lookup keys, a permission's description", async () => {
    await account("hobbyist");
    await editTier("hobbyist", { name: "Hobbyist plus", description: "Now with a longer description." });
    const permission = await prisma().permission.findUniqueOrThrow({ where: { name: "export.csv" } });
    const describe = new URLSearchParams({
      intent: "update",
      id: String(permission.id),
      name: "export.csv",
      description: "Download CSV files.",
    });
    expect((await settle(() => permissionsRoute.action(routeArgs(post("/admin/permissions", describe))))).status).toBe(
      302,
    );
    expect(await fanouts()).toBe(0);
    await fanOut();
    expect(await prisma().webhookMessage.count()).toBe(0);
  });

  it("an edit that rolls back (here, at its last statement) records no fan-out and sends nothing", async () => {
    const id = await account("hobbyist");
    const before = await permissionsOf("hobbyist");
    // The edit's audit entry, its last write, fails: the whole edit rolls back.
    await prisma().$executeRawUnsafe(`
      CREATE FUNCTION refuse_tier_audit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'audit refused'; END $$`);
    await prisma().$executeRawUnsafe(`
      CREATE TRIGGER refuse_tier_audit BEFORE INSERT ON audit_log FOR EACH ROW
      WHEN (NEW.entity = 'tier') EXECUTE FUNCTION refuse_tier_audit()`);
    try {
      const [tier] = await listTiersForAdmin("hobbyist");
      await expect(
        saveTier(ADMIN, "hobbyist", {
          name: tier!.name,
          key: tier!.key,
          description: tier!.description,
          userLimit: tier!.userLimit + 1,
          isCustomerFacing: tier!.isCustomerFacing,
          billingProvider: tier!.billingProvider,
          isBillingExempt: tier!.isBillingExempt,
          whopProductKey: tier!.whopProductKey,
          fallbackPrice: tier!.fallbackPrice,
          lookupKeys: tier!.prices.map((price) => price.lookupKey),
          permissions: [...before, "team.invite"],
        }),
      ).rejects.toThrow(/audit refused/);
    } finally {
      await prisma().$executeRawUnsafe(`DROP TRIGGER refuse_tier_audit ON audit_log`);
      await prisma().$executeRawUnsafe(`DROP FUNCTION refuse_tier_audit()`);
    }
    expect(await permissionsOf("hobbyist")).toEqual(before);
    expect(await fanouts()).toBe(0);
    await fanOut();
    expect(await deliverDueWebhooks()).toBe(0);
    expect((await messagesByAccount()).get(id)).toBeUndefined();
    expect(received).toHaveLength(0);
  });

  it("no fan-out is recorded while no enabled endpoint listens", async () => {
    await account("hobbyist");
    await setWebhookEndpointEnabled(ADMIN, endpointId, false);
    try {
      await editTier("hobbyist", { permissions: [...(await permissionsOf("hobbyist")), "team.invite"] });
      expect(await fanouts()).toBe(0);
      await editTier("hobbyist", { permissions: (await permissionsOf("hobbyist")).filter((p) => p !== "team.invite") });
    } finally {
      await setWebhookEndpointEnabled(ADMIN, endpointId, true);
    }
  });
});

describe("a fan-out cut short", () => {
  it("resumes at its cursor after a crash and completes with one message per account", async () => {
    // A tier of its own (exempt: in force for every account on it), so that batches hold only these.
    const created = await saveTier(ADMIN, null, {
      name: "Crash test",
      key: "crash-test",
      description: null,
      userLimit: 3,
      isCustomerFacing: false,
      billingProvider: "exempt",
      isBillingExempt: true,
      whopProductKey: null,
      fallbackPrice: "$0",
      lookupKeys: [],
      permissions: ["projects.create"],
    });
    expect(created.ok).toBe(true);
    const accounts: number[] = [];
    for (let i = 0; i < 7; i++) accounts.push(await account("crash-test", null));
    const limit = 3;
    // Each was told its entitlements already: only the new limit differs from what it knows.
    await inTransaction((tx) => announceAccountChange(tx, accounts, "account.entitlements.updated"));
    expect(await prisma().webhookMessage.count()).toBe(7);
    await prisma().webhookMessage.deleteMany();

    // A new user limit: the seats' limit is part of what entitlements announce.
    await editTier("crash-test", { userLimit: String(limit + 2) });
    // One step of one batch, then the worker is gone.
    expect(await runWebhookFanoutStep({ batchSize: 3, budgetMs: 0 })).toEqual({ batches: 1, finished: false });
    const afterFirst = await prisma().webhookFanout.findFirstOrThrow();
    expect(await prisma().webhookMessage.count()).toBe(3);

    // The next batch dies at its commit (here, the cursor's update fails): its messages go with it.
    await prisma().$executeRawUnsafe(`
      CREATE FUNCTION crash_fanout() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'crashed'; END $$`);
    await prisma().$executeRawUnsafe(`
      CREATE TRIGGER crash_fanout BEFORE UPDATE OR DELETE ON webhook_fanouts FOR EACH ROW EXECUTE FUNCTION crash_fanout()`);
    try {
      await expect(runWebhookFanoutStep({ batchSize: 3, budgetMs: 0 })).rejects.toThrow(/crashed/);
    } finally {
      await prisma().$executeRawUnsafe(`DROP TRIGGER crash_fanout ON webhook_fanouts`);
      await prisma().$executeRawUnsafe(`DROP FUNCTION crash_fanout()`);
    }
    expect(await prisma().webhookMessage.count()).toBe(3);
    expect(await prisma().webhookFanout.findFirstOrThrow()).toEqual(afterFirst);

    // The worker's periodic sweep finds the fan-out waiting and puts a step on the queue.
    await scheduleWebhookFanouts();
    const queued = await prisma().$queryRaw<Array<{ count: bigint }>>`
      SELECT count(*) AS count FROM pgboss.job WHERE name = 'webhook-fanout' AND state = 'created'`;
    expect(Number(queued[0]!.count)).toBeGreaterThan(0);
    await fanOut(3);

    // The same range expanded again (a step retried after it had committed) sends nothing twice.
    const [tier] = await listTiersForAdmin("crash-test");
    await inTransaction((tx) => announceTierChange(tx, [tier!]));
    await fanOut(3);

    const byAccount = await messagesByAccount();
    for (const id of accounts) {
      expect(byAccount.get(id), `account ${id}`).toHaveLength(1);
      expect(byAccount.get(id)?.[0]?.data.entitlements.seats.limit).toBe(limit + 2);
    }
    const payloads = await deliverAll();
    expect(payloads.length).toBe(byAccount.size);
    expect(await fanouts()).toBe(0);
  });
});
