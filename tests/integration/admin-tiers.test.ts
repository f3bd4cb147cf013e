// The operator dashboard's tiers, permissions and audit log, through the real routes and database,
// with the Stripe emulator as Stripe.
import { beforeAll, describe, expect, it } from "vitest";
import { invalidatePriceCache } from "../../app/services/stripe/prices.server.ts";
import { listTiersForAdmin } from "../../app/models/tier.server.ts";
import * as auditRoute from "../../app/routes/admin.audit.tsx";
import * as overviewRoute from "../../app/routes/admin._index.tsx";
import * as permissionsRoute from "../../app/routes/admin.permissions.tsx";
import * as tierRoute from "../../app/routes/admin.tiers.$key/route.tsx";
import * as tiersRoute from "../../app/routes/admin.tiers._index.tsx";
import * as newTierRoute from "../../app/routes/admin.tiers.new.tsx";
import * as entitlementsRoute from "../../app/routes/api.me.entitlements.ts";
import { requirePermission } from "../../app/web/permissions.server.ts";
import { testDb } from "../setup/database.ts";
import { countingStripeProxy, useStripeEmulator, withStripeConnection } from "../stripe-harness.ts";
import {
  countingQueries,
  createBillingUser,
  getRequest,
  routeArgs,
  seedDemoData,
  sessionCookieFor,
  settle,
} from "../utils.ts";

useStripeEmulator();
const prisma = () => testDb().prisma;

let admin: string;
let support: string;
let customer: string;
beforeAll(async () => {
  await seedDemoData();
  [admin, support, customer] = await Promise.all([
    sessionCookieFor("admin@example.com"),
    sessionCookieFor("support@example.com"),
    sessionCookieFor("customer@example.com"),
  ]);
});

type Fields = Record<string, string | string[]>;

function post(path: string, fields: Fields, cookie: string) {
  const body = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) {
    for (const item of Array.isArray(value) ? value : [value]) body.append(name, item);
  }
  return new Request(new URL(path, "http://localhost:3000"), {
    method: "POST",
    body,
    headers: { "Content-Type": "application/x-www-form-urlencoded", Cookie: cookie },
  });
}

const tierFields = (overrides: Fields = {}): Fields => ({
  intent: "save",
  name: "Team",
  key: "team",
  description: "For small teams.",
  userLimit: "10",
  isCustomerFacing: "on",
  billingProvider: "stripe",
  fallbackPrice: "£49",
  lookupKeys: "team_monthly\nteam_yearly",
  permissions: ["export.csv", "api.access"],
  ...overrides,
});

const createTier = (fields: Fields, cookie = admin) =>
  settle(() => newTierRoute.action(routeArgs(post("/admin/tiers/new", fields, cookie))));
const editTier = (key: string, fields: Fields, cookie = admin) =>
  settle(() => tierRoute.action(routeArgs(post(`/admin/tiers/${key}`, fields, cookie), { key })));
const tierPage = async (key: string, cookie = admin) =>
  settle(() => tierRoute.loader(routeArgs(getRequest(`/admin/tiers/${key}`, cookie), { key })));

async function fieldErrors(response: Response) {
  const body = (await response.json()) as {
    result: { error?: Record<string, string[]>; initialValue?: Record<string, unknown> };
  };
  return { errors: body.result.error ?? {}, values: body.result.initialValue ?? {} };
}

describe("creating and editing a tier", () => {
  it("creates a tier with its lookup keys in order and its permissions, in one audited save", async () => {
    const response = await createTier(tierFields({ key: "team-a", lookupKeys: "team_a_monthly\n\n team_a_yearly " }));
    expect(response.status).toBe(302);
    expect(response.headers.get("Location")).toBe("/admin/tiers/team-a?saved=1");
    const tier = await prisma().subscriptionTier.findUniqueOrThrow({
      where: { key: "team-a" },
      include: { prices: { orderBy: { position: "asc" } }, permissions: { include: { permission: true } } },
    });
    expect(tier).toMatchObject({
      name: "Team",
      userLimit: 10,
      isCustomerFacing: true,
      billingProvider: "stripe",
      isBillingExempt: false,
    });
    expect(tier.prices.map((price) => price.lookupKey)).toEqual(["team_a_monthly", "team_a_yearly"]);
    expect(tier.permissions.map(({ permission }) => permission.name).sort()).toEqual(["api.access", "export.csv"]);
    const audit = await prisma().auditEntry.findFirstOrThrow({ where: { entity: "tier", entityId: String(tier.id) } });
    expect(audit).toMatchObject({
      action: "created",
      actorEmail: "admin@example.com",
      before: null,
      entityLabel: "team-a",
    });
    expect(audit.after).toMatchObject({ key: "team-a", lookupKeys: ["team_a_monthly", "team_a_yearly"] });
  });

  it("refuses a duplicate key at the field and keeps everything typed", async () => {
    const response = await createTier(tierFields({ key: "pro", name: "Another Pro", lookupKeys: "fresh_key_1" }));
    expect(response.status).toBe(400);
    const { errors, values } = await fieldErrors(response);
    expect(errors.key).toEqual(['A tier with key "pro" already exists.']);
    expect(values).toMatchObject({
      name: "Another Pro",
      key: "pro",
      lookupKeys: "fresh_key_1",
      description: "For small teams.",
    });
    expect(await prisma().subscriptionTier.count({ where: { name: "Another Pro" } })).toBe(0);
  });

  it("names the tier that already owns a lookup key", async () => {
    const response = await createTier(tierFields({ key: "team-b", lookupKeys: "team_b_monthly\npro_monthly" }));
    const { errors } = await fieldErrors(response);
    expect(errors.lookupKeys).toEqual(['"pro_monthly" belongs to tier Pro (pro).']);
    expect(await prisma().subscriptionTier.count({ where: { key: "team-b" } })).toBe(0);
  });

  it.each([
    [{ key: "Pro Plan!" }, "key", /lowercase/],
    [{ key: "k".repeat(33) }, "key", /at most 32/],
    [{ userLimit: "0" }, "userLimit", /at least 1/],
    [{ lookupKeys: "bad key!" }, "lookupKeys", /only letters, digits/],
    [{ lookupKeys: `${"x".repeat(201)}` }, "lookupKeys", /longer than 200/],
    [{ lookupKeys: "" }, "lookupKeys", /at least one lookup key/],
    [{ billingProvider: "whop", lookupKeys: "" }, "whopProductKey", /needs a Whop product key/],
    [{ name: "" }, "name", /Name is required/],
  ])("explains %o at the field %s", async (overrides, field, message) => {
    const response = await createTier(tierFields({ key: "team-invalid", ...overrides }));
    expect(response.status).toBe(400);
    const { errors } = await fieldErrors(response);
    expect(errors[field]?.join(" ")).toMatch(message);
  });

  it("edits a tier: replaces keys and permissions and records before/after", async () => {
    await createTier(tierFields({ key: "team-c", lookupKeys: "team_c_monthly" }));
    const response = await editTier(
      "team-c",
      tierFields({
        key: "team-c",
        name: "Team Plus",
        lookupKeys: "team_c_yearly\nteam_c_monthly",
        permissions: ["projects.create"],
      }),
    );
    expect(response.status).toBe(302);
    const tier = await prisma().subscriptionTier.findUniqueOrThrow({
      where: { key: "team-c" },
      include: { prices: { orderBy: { position: "asc" } }, permissions: { include: { permission: true } } },
    });
    expect(tier.name).toBe("Team Plus");
    expect(tier.prices.map((price) => price.lookupKey)).toEqual(["team_c_yearly", "team_c_monthly"]);
    expect(tier.permissions.map(({ permission }) => permission.name)).toEqual(["projects.create"]);
    const update = await prisma().auditEntry.findFirstOrThrow({
      where: { entityId: String(tier.id), action: "updated" },
    });
    expect(update.before).toMatchObject({
      name: "Team",
      lookupKeys: ["team_c_monthly"],
      permissions: ["api.access", "export.csv"],
    });
    expect(update.after).toMatchObject({
      name: "Team Plus",
      lookupKeys: ["team_c_yearly", "team_c_monthly"],
      permissions: ["projects.create"],
    });
  });

  it("changes nothing when the save fails, whatever was valid in it", async () => {
    await createTier(tierFields({ key: "team-d", lookupKeys: "team_d_monthly" }));
    const before = await prisma().subscriptionTier.findUniqueOrThrow({
      where: { key: "team-d" },
      include: { prices: true },
    });
    const response = await editTier(
      "team-d",
      tierFields({ key: "team-d", name: "Renamed", lookupKeys: "team_d_monthly\nhobbyist_yearly" }),
    );
    expect(response.status).toBe(400);
    const after = await prisma().subscriptionTier.findUniqueOrThrow({
      where: { key: "team-d" },
      include: { prices: true },
    });
    expect(after.name).toBe(before.name);
    expect(after.prices.map((price) => price.lookupKey)).toEqual(["team_d_monthly"]);
  });

  it("keeps the free tier exempt and its key fixed", async () => {
    const moved = await editTier(
      "free",
      tierFields({ key: "free", name: "Free", billingProvider: "stripe", lookupKeys: "free_monthly" }),
    );
    expect((await fieldErrors(moved)).errors.billingProvider?.[0]).toMatch(/must stay exempt/);
    const renamed = await editTier(
      "free",
      tierFields({ key: "basic", name: "Free", billingProvider: "exempt", lookupKeys: "" }),
    );
    expect((await fieldErrors(renamed)).errors.key?.[0]).toMatch(/cannot change/);
  });
});

describe("the tier list", () => {
  it("comes in one query, shaped as Prisma's include would (keys in order, permissions, account counts)", async () => {
    const hobbyist = await prisma().subscriptionTier.findUniqueOrThrow({ where: { key: "hobbyist" } });
    const counted = await createBillingUser({ email: `counted-${Date.now()}@example.com`, tierId: hobbyist.id });
    const viaInclude = await prisma().subscriptionTier.findMany({
      orderBy: { id: "asc" },
      include: {
        prices: { orderBy: [{ position: "asc" }, { id: "asc" }], select: { lookupKey: true } },
        permissions: { orderBy: { permissionId: "asc" }, select: { permission: { select: { id: true, name: true } } } },
        _count: { select: { accounts: true } },
      },
    });
    // The free tier's accounts include those without a tier, as /admin/accounts?tier=free lists them.
    const withoutTier = await prisma().account.count({ where: { tierId: null } });
    for (const tier of viaInclude) if (tier.key === "free") tier._count.accounts += withoutTier;
    const { queries, result: listed } = await countingQueries(() => listTiersForAdmin());
    expect(queries).toBe(1);
    expect(listed).toEqual(viaInclude);
    expect(listed.find((tier) => tier.key === "hobbyist")?._count.accounts).toBeGreaterThan(0);
    expect(listed.find((tier) => tier.key === "hobbyist")?.prices.length).toBeGreaterThan(1);
    await prisma().account.delete({ where: { id: counted.accountId } });
    await prisma().user.delete({ where: { id: counted.id } });
  });
});

describe("roles", () => {
  it("lets support read tiers but answers 403 to any change", async () => {
    expect((await settle(() => tiersRoute.loader(routeArgs(getRequest("/admin/tiers", support))))).status).toBe(200);
    expect((await tierPage("pro", support)).status).toBe(200);
    expect((await editTier("pro", tierFields({ key: "pro", name: "Hacked" }), support)).status).toBe(403);
    expect((await editTier("pro", { intent: "delete", confirm: "yes" }, support)).status).toBe(403);
    expect((await createTier(tierFields({ key: "by-support" }), support)).status).toBe(403);
    expect((await settle(() => newTierRoute.loader(routeArgs(getRequest("/admin/tiers/new", support))))).status).toBe(
      403,
    );
    const permissionPost = await settle(() =>
      permissionsRoute.action(routeArgs(post("/admin/permissions", { intent: "create", name: "by.support" }, support))),
    );
    expect(permissionPost.status).toBe(403);
    expect((await prisma().subscriptionTier.findUniqueOrThrow({ where: { key: "pro" } })).name).toBe("Pro");
  });

  it("gives customers 403 on every dashboard page", async () => {
    const pages = [
      () => overviewRoute.loader(routeArgs(getRequest("/admin", customer))),
      () => tiersRoute.loader(routeArgs(getRequest("/admin/tiers", customer))),
      () => newTierRoute.loader(routeArgs(getRequest("/admin/tiers/new", customer))),
      () => tierRoute.loader(routeArgs(getRequest("/admin/tiers/pro", customer), { key: "pro" })),
      () => permissionsRoute.loader(routeArgs(getRequest("/admin/permissions", customer))),
      () => auditRoute.loader(routeArgs(getRequest("/admin/audit", customer))),
    ];
    for (const page of pages) expect((await settle(page)).status).toBe(403);
  });
});

describe("live Stripe status", () => {
  it("shows each key's live price, flags keys Stripe does not know, and says which tiers are valid", async () => {
    invalidatePriceCache();
    await createTier(tierFields({ key: "team-e", lookupKeys: "pro_monthly_nope" }));
    const data = await (await settle(() => tiersRoute.loader(routeArgs(getRequest("/admin/tiers", admin))))).json();
    const pro = data.rows.find((row: { key: string }) => row.key === "pro");
    expect(pro.health).toEqual({ state: "valid" });
    expect(pro.keys[0]).toMatchObject({
      lookupKey: "pro_monthly",
      state: "found",
      price: { amount: "£29.00", interval: "month", productName: "Pro" },
    });
    const broken = data.rows.find((row: { key: string }) => row.key === "team-e");
    expect(broken.keys[0]).toMatchObject({ lookupKey: "pro_monthly_nope", state: "missing" });
    expect(broken.health.state).toBe("invalid");
    expect(broken.health.problems[0]).toMatch(/"pro_monthly_nope": missing in Stripe/);
    // Stripe's side: the active prices with a lookup key that no tier owns (the emulator's Team).
    expect(data.stripe.unlinked.map((status: { lookupKey: string }) => status.lookupKey).sort()).toEqual([
      "team_monthly",
      "team_yearly",
    ]);
  });

  it("says 'could not verify' when Stripe does not answer, and caches nothing", async () => {
    invalidatePriceCache();
    await withStripeConnection({ apiBase: "http://127.0.0.1:9", maxNetworkRetries: 0 }, async () => {
      const response = await settle(() => tiersRoute.loader(routeArgs(getRequest("/admin/tiers", admin))));
      expect(response.status).toBe(200);
      const data = await response.json();
      expect(data.stripe.unverified).toBeTruthy();
      const pro = data.rows.find((row: { key: string }) => row.key === "pro");
      expect(pro.health.state).toBe("unverified");
      expect(pro.keys[0].state).toBe("unverified");
    });
    const after = await (await settle(() => tiersRoute.loader(routeArgs(getRequest("/admin/tiers", admin))))).json();
    expect(after.rows.find((row: { key: string }) => row.key === "pro").health).toEqual({ state: "valid" });
  });

  it("warns after saving a lookup key Stripe does not know, and still saves it", async () => {
    const response = await createTier(tierFields({ key: "team-f", lookupKeys: "not_in_stripe_yet" }));
    expect(response.status).toBe(302);
    const data = await (await tierPage("team-f")).json();
    expect(data.keys).toEqual([expect.objectContaining({ lookupKey: "not_in_stripe_yet", state: "missing" })]);
  });

  it("filters and sorts by the URL", async () => {
    const data = await (
      await settle(() =>
        tiersRoute.loader(routeArgs(getRequest("/admin/tiers?provider=exempt&sort=name&dir=desc", admin))),
      )
    ).json();
    expect(data.rows.map((row: { key: string }) => row.key)).toEqual(["partner", "free"]);
  });
});

describe("deleting a tier", () => {
  it("refuses while accounts are on it, saying how many", async () => {
    const pro = await prisma().subscriptionTier.findUniqueOrThrow({ where: { key: "pro" } });
    await createBillingUser({ email: "on-pro@example.com", tierId: pro.id, subscriptionStatus: "active" });
    const response = await editTier("pro", { intent: "delete", confirm: "yes" });
    expect(response.status).toBe(409);
    expect((await response.json()).deleteError).toMatch(/1 account is on this tier/);
    expect(await prisma().subscriptionTier.count({ where: { key: "pro" } })).toBe(1);
  });

  it("asks for confirmation, then deletes and records it", async () => {
    await createTier(tierFields({ key: "team-g", lookupKeys: "team_g_monthly" }));
    const unconfirmed = await editTier("team-g", { intent: "delete" });
    expect(unconfirmed.headers.get("Location")).toBe("/admin/tiers/team-g?delete=confirm");
    expect(await prisma().subscriptionTier.count({ where: { key: "team-g" } })).toBe(1);
    const confirmed = await editTier("team-g", { intent: "delete", confirm: "yes" });
    expect(confirmed.headers.get("Location")).toBe("/admin/tiers?deleted=team-g");
    expect(await prisma().subscriptionTier.count({ where: { key: "team-g" } })).toBe(0);
    expect(await prisma().subscriptionTierPrice.count({ where: { lookupKey: "team_g_monthly" } })).toBe(0);
    expect(
      await prisma().auditEntry.count({ where: { entity: "tier", entityLabel: "team-g", action: "deleted" } }),
    ).toBe(1);
  });

  it("never deletes the free tier", async () => {
    const response = await editTier("free", { intent: "delete", confirm: "yes" });
    expect(response.status).toBe(409);
    expect(await prisma().subscriptionTier.count({ where: { key: "free" } })).toBe(1);
  });
});

describe("permissions", () => {
  const permissionAction = (fields: Fields, cookie = admin) =>
    settle(() => permissionsRoute.action(routeArgs(post("/admin/permissions", fields, cookie))));

  it("creates a dotted lowercase permission, refuses a bad or duplicate name at the field", async () => {
    expect(
      (await permissionAction({ intent: "create", name: "reports.export", description: "Export reports" })).status,
    ).toBe(302);
    const bad = await permissionAction({ intent: "create", name: "Reports Export" });
    expect((await fieldErrors(bad)).errors.name?.[0]).toMatch(/dotted lowercase/);
    const duplicate = await permissionAction({ intent: "create", name: "reports.export" });
    expect((await fieldErrors(duplicate)).errors.name).toEqual(['A permission named "reports.export" already exists.']);
  });

  it("renames with a warning about code that uses the old name, and records it", async () => {
    const permission = await prisma().permission.create({ data: { name: "old.name", description: "" } });
    const response = await permissionAction({
      intent: "update",
      id: String(permission.id),
      name: "new.name",
      description: "Renamed",
    });
    expect(response.headers.get("Location")).toBe("/admin/permissions?renamed=old.name&to=new.name");
    const audit = await prisma().auditEntry.findFirstOrThrow({
      where: { entity: "permission", entityId: String(permission.id) },
    });
    expect(audit).toMatchObject({ action: "renamed", before: { name: "old.name" }, after: { name: "new.name" } });
  });

  it("names the tiers that grant a permission before deleting it", async () => {
    const response = await permissionAction({
      intent: "delete",
      id: String((await prisma().permission.findUniqueOrThrow({ where: { name: "team.invite" } })).id),
    });
    expect(response.headers.get("Location")).toMatch(/\?delete=\d+$/);
    const page = await (
      await settle(() => permissionsRoute.loader(routeArgs(getRequest("/admin/permissions", admin))))
    ).json();
    expect(page.permissions.find((p: { name: string }) => p.name === "team.invite").tiers).toContainEqual({
      key: "pro",
      name: "Pro",
    });
    expect(await prisma().permission.count({ where: { name: "team.invite" } })).toBe(1);
  });

  it("changes what entitlements and requirePermission answer at once for every account on the tier", async () => {
    const hobbyist = await prisma().subscriptionTier.findUniqueOrThrow({ where: { key: "hobbyist" } });
    const user = await createBillingUser({
      email: "hobby@example.com",
      tierId: hobbyist.id,
      subscriptionStatus: "active",
    });
    const cookie = await sessionCookieFor(user.email);
    const ask = async () =>
      (
        await (
          await settle(() => entitlementsRoute.loader(routeArgs(getRequest("/api/me/entitlements", cookie))))
        ).json()
      ).permissions;
    expect(await ask()).not.toContain("api.access");
    expect((await settle(() => requirePermission(getRequest("/x", cookie), "api.access"))).status).toBe(403);

    const response = await editTier(
      "hobbyist",
      tierFields({
        key: "hobbyist",
        name: "Hobbyist",
        lookupKeys: "hobbyist_monthly\nhobbyist_yearly",
        permissions: ["projects.create", "export.csv", "api.access"],
      }),
    );
    expect(response.status).toBe(302);
    expect(await ask()).toContain("api.access");
    await expect(requirePermission(getRequest("/x", cookie), "api.access")).resolves.toMatchObject({
      user: { id: user.id },
    });
  });
});

describe("audit log", () => {
  it("lists changes newest first, filters by entity and person; nothing edits it", async () => {
    const data = await (
      await settle(() => auditRoute.loader(routeArgs(getRequest("/admin/audit?entity=permission", support))))
    ).json();
    expect(data.entries.length).toBeGreaterThan(0);
    expect(data.entries.every((entry: { entity: string }) => entry.entity === "permission")).toBe(true);
    const times = data.entries.map((entry: { createdAt: string }) => entry.createdAt);
    expect([...times].sort().reverse()).toEqual(times);
    const adminUser = await prisma().user.findUniqueOrThrow({ where: { email: "admin@example.com" } });
    const byAdmin = await (
      await settle(() => auditRoute.loader(routeArgs(getRequest(`/admin/audit?actor=${adminUser.id}`, admin))))
    ).json();
    expect(byAdmin.entries.every((entry: { actorEmail: string }) => entry.actorEmail === "admin@example.com")).toBe(
      true,
    );
    expect(byAdmin.actors).toContainEqual({ id: adminUser.id, email: "admin@example.com" });
    expect("action" in auditRoute).toBe(false);
  });

  it("shows a tier's own history on its page", async () => {
    const data = await (await tierPage("team-c")).json();
    expect(data.history.map((entry: { action: string }) => entry.action)).toEqual(["updated", "created"]);
    expect(data.history[0].changes).toContainEqual({ field: "name", before: '"Team"', after: '"Team Plus"' });
  });
});

describe("overview", () => {
  it("shows each tier's health and webhooks per day for 14 days", async () => {
    const failed = await prisma().stripeEvent.create({
      data: {
        eventId: "evt_overview_failed",
        eventType: "customer.subscription.updated",
        payload: "{}",
        status: "failed",
      },
    });
    const data = await (await settle(() => overviewRoute.loader(routeArgs(getRequest("/admin", support))))).json();
    expect(data.daily).toHaveLength(14);
    expect(data.daily.at(-1).day).toBe(new Date().toISOString().slice(0, 10));
    expect(data.daily.at(-1).failed).toBeGreaterThanOrEqual(1);
    expect(data.failedEvents).toBeGreaterThanOrEqual(1);
    expect(data.mode).toBe("emulator");
    expect(data.tiers.find((tier: { key: string }) => tier.key === "pro").health).toEqual({ state: "valid" });
    await prisma().stripeEvent.delete({ where: { id: failed.id } });
  });
});

describe("Stripe calls of /admin/tiers", () => {
  it("makes one Stripe call cold for the 4 demo keys (and the panel), none warm", async () => {
    // Only the demo's Stripe tiers: 4 lookup keys.
    await prisma().subscriptionTierPrice.deleteMany({ where: { tier: { key: { notIn: ["hobbyist", "pro"] } } } });
    await prisma().subscriptionTierPrice.deleteMany({ where: { lookupKey: "agency_monthly" } });
    const keys = await prisma().subscriptionTierPrice.findMany({ select: { lookupKey: true } });
    expect(keys.map((k) => k.lookupKey).sort()).toEqual([
      "hobbyist_monthly",
      "hobbyist_yearly",
      "pro_monthly",
      "pro_yearly",
    ]);
    const { stripeConnection } = await import("../../app/services/stripe/client.server.ts");
    const proxy = await countingStripeProxy(stripeConnection().apiBase ?? "");
    try {
      await withStripeConnection({ apiBase: proxy.url }, async () => {
        invalidatePriceCache();
        const cold = await settle(() => tiersRoute.loader(routeArgs(getRequest("/admin/tiers", admin))));
        expect(cold.status).toBe(200);
        const data = await cold.json();
        expect(data.rows.find((row: { key: string }) => row.key === "pro").health).toEqual({ state: "valid" });
        expect(proxy.calls).toEqual(["GET /v1/prices"]);
        const warm = await settle(() => tiersRoute.loader(routeArgs(getRequest("/admin/tiers", admin))));
        expect(warm.status).toBe(200);
        expect(proxy.calls).toHaveLength(1);
      });
    } finally {
      await proxy.close();
    }
  });
});
