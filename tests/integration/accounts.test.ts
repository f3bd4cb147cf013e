// Accounts as people meet them (issue 19): sign-up gives a personal account, the session acts for one
// account at a time (the header's switcher), and /api/me/entitlements says which, with its seats. The
// plan is the account's: whoever acts for it gets its tier's permissions, and its owners pay for it.
import { beforeAll, describe, expect, it } from "vitest";
import * as accountRoute from "../../app/routes/account.tsx";
import * as switchRoute from "../../app/routes/account.switch.ts";
import * as checkoutRoute from "../../app/routes/api.stripe.checkout.ts";
import * as portalRoute from "../../app/routes/api.stripe.portal.ts";
import * as whopCheckoutRoute from "../../app/routes/api.whop.checkout.ts";
import * as pricingRoute from "../../app/routes/pricing/route.tsx";
import * as adminUserRoute from "../../app/routes/admin.users.$userId/route.tsx";
import * as entitlementsRoute from "../../app/routes/api.me.entitlements.ts";
import * as signupRoute from "../../app/routes/signup.tsx";
import * as root from "../../app/root.tsx";
import { getStripe } from "../../app/services/stripe/client.server.ts";
import { requirePermission } from "../../app/web/permissions.server.ts";
import { testDb } from "../setup/database.ts";
import { useStripeEmulator } from "../stripe-harness.ts";
import { formRequest, getRequest, routeArgs, seedDemoData, sessionCookieFor, settle } from "../utils.ts";

useStripeEmulator();
beforeAll(seedDemoData);

const prisma = () => testDb().prisma;
const entitlements = async (cookie: string) =>
  (await settle(() => entitlementsRoute.loader(routeArgs(getRequest("/api/me/entitlements", cookie))))).json();
const switchTo = (cookie: string, accountId: number, next = "/pricing") =>
  settle(() =>
    switchRoute.action(routeArgs(formRequest("/account/switch", { accountId: String(accountId), next }, { cookie }))),
  );
const rootData = async (cookie: string) =>
  (await settle(() => root.loader(routeArgs(getRequest("/", cookie))))).json() as Promise<{
    accounts: { currentId: number | null; all: Array<{ id: number; name: string; role: string }> } | null;
  }>;

describe("sign-up", () => {
  it("creates a personal account the new user owns, which their session acts for", async () => {
    const response = await settle(() =>
      signupRoute.action(
        routeArgs(
          formRequest("/signup", { email: "Grace.Hopper@Example.com", password: "a long enough password" }),
          {},
          {
            clientIp: "198.51.100.77",
          },
        ),
      ),
    );
    expect(response.status).toBe(302);
    const user = await prisma().user.findUniqueOrThrow({
      where: { email: "grace.hopper@example.com" },
      include: { memberships: { include: { account: true } } },
    });
    expect(user.memberships).toHaveLength(1);
    expect(user.memberships[0]).toMatchObject({
      role: "owner",
      account: { name: "grace.hopper", slug: `grace-hopper-${user.id}` },
    });
    const cookie = response.headers.get("Set-Cookie")!.split(";")[0]!;
    expect(await entitlements(cookie)).toEqual({
      tier: "free",
      status: null,
      permissions: ["projects.create"],
      account: {
        id: user.memberships[0]!.accountId,
        name: "grace.hopper",
        slug: `grace-hopper-${user.id}`,
        role: "owner",
      },
      seats: { limit: 1, used: 1, pending: 0 },
    });
    // One account: no switcher in the header.
    expect((await rootData(cookie)).accounts).toBeNull();
  });
});

describe("the account switcher", () => {
  it("starts on the user's own account, and switches to a team they belong to", async () => {
    const team = await prisma().account.findUniqueOrThrow({ where: { slug: "acme-studio" } });
    const cookie = await sessionCookieFor("customer@example.com");
    const first = await entitlements(cookie);
    expect(first.account).toMatchObject({ name: "customer", role: "owner" });
    expect(first.seats).toEqual({ limit: 1, used: 1, pending: 0 });
    const header = await rootData(cookie);
    expect(header.accounts?.all.map((account) => account.name)).toEqual(["customer", "Acme Studio"]);
    expect(header.accounts?.currentId).toBe(first.account.id);

    const switched = await switchTo(cookie, team.id, "/pricing?x=1");
    expect(switched.status).toBe(303);
    expect(switched.headers.get("Location")).toBe("/pricing?x=1");
    const now = await entitlements(cookie);
    expect(now.account).toEqual({ id: team.id, name: "Acme Studio", slug: "acme-studio", role: "owner" });
    // The team's plan (the seed's exempt Partner tier, 25 seats), not the owner's own Free one; the
    // seeded invitation (to newhire@example.com) holds a seat.
    expect(now.tier).toBe("partner");
    expect(now.seats).toEqual({ limit: 25, used: 3, pending: 1 });
    expect((await rootData(cookie)).accounts?.currentId).toBe(team.id);
  });

  it("shows a member as a member, and refuses an account the user does not belong to", async () => {
    const team = await prisma().account.findUniqueOrThrow({ where: { slug: "acme-studio" } });
    const cookie = await sessionCookieFor("teammate@example.com");
    const own = (await entitlements(cookie)).account;
    expect(own).toMatchObject({ name: "teammate", role: "owner" });
    expect((await switchTo(cookie, team.id)).status).toBe(303);
    expect((await entitlements(cookie)).account).toMatchObject({ id: team.id, role: "member" });

    const stranger = await prisma().account.findFirstOrThrow({ where: { slug: { startsWith: "admin-" } } });
    const refused = await switchTo(cookie, stranger.id);
    expect(refused.status).toBe(403);
    expect((await refused.json()).error).toBe("You are not a member of that account.");
    expect((await switchTo(cookie, Number.NaN)).status).toBe(403);
    expect((await entitlements(cookie)).account).toMatchObject({ id: team.id });
  });

  it("sends a signed-out visitor to sign in", async () => {
    const response = await settle(() =>
      switchRoute.action(routeArgs(formRequest("/account/switch", { accountId: "1" }))),
    );
    expect(response.status).toBe(302);
    expect(response.headers.get("Location")).toMatch(/^\/login/);
  });
});

describe("the plan is the account's", () => {
  it("a member acting for the team gets the team's tier; acting for their own account, their own plan", async () => {
    const team = await prisma().account.findUniqueOrThrow({ where: { slug: "acme-studio" } });
    const cookie = await sessionCookieFor("teammate@example.com");
    const own = await entitlements(cookie);
    expect(own).toMatchObject({ tier: "free", status: null, permissions: ["projects.create"] });
    expect(own.account).toMatchObject({ name: "teammate", role: "owner" });
    const refused = await settle(() => requirePermission(getRequest("/export", cookie), "api.access"));
    expect(refused.status).toBe(403);

    expect((await switchTo(cookie, team.id)).status).toBe(303);
    const forTeam = await entitlements(cookie);
    expect(forTeam).toMatchObject({
      tier: "partner",
      status: null,
      account: { id: team.id, name: "Acme Studio", role: "member" },
      seats: { limit: 25, used: 3, pending: 1 },
    });
    expect([...forTeam.permissions].sort()).toEqual([
      "api.access",
      "export.csv",
      "projects.create",
      "support.priority",
      "team.invite",
    ]);
    await expect(requirePermission(getRequest("/export", cookie), "api.access")).resolves.toMatchObject({
      user: { email: "teammate@example.com" },
    });

    const ownId = own.account.id as number;
    expect((await switchTo(cookie, ownId)).status).toBe(303);
    expect(await entitlements(cookie)).toMatchObject({
      tier: "free",
      permissions: ["projects.create"],
      account: { id: ownId },
    });
    expect((await settle(() => requirePermission(getRequest("/export", cookie), "api.access"))).status).toBe(403);
  });
});

describe("billing for a team", () => {
  it("is the owners' to change: a member is told whom to ask, with a 403 from every billing action", async () => {
    const team = await prisma().account.findUniqueOrThrow({ where: { slug: "acme-studio" } });
    const cookie = await sessionCookieFor("designer@example.com");
    expect((await switchTo(cookie, team.id)).status).toBe(303);
    const ask = "Only the owners of Acme Studio can change its plan or billing: ask customer@example.com.";
    const post = (path: string, fields: Record<string, string>) =>
      formRequest(path, fields, { cookie, headers: { Accept: "application/json" } });
    const refusals = [
      await settle(() => checkoutRoute.action(routeArgs(post("/api/stripe/checkout", { lookup_key: "pro_monthly" })))),
      await settle(() => portalRoute.action(routeArgs(post("/api/stripe/portal", {})))),
      await settle(() => whopCheckoutRoute.action(routeArgs(post("/api/whop/checkout", { tier: "whop_basic" })))),
      await settle(() =>
        pricingRoute.action(routeArgs(post("/pricing", { intent: "switch", lookup_key: "pro_monthly" }))),
      ),
      await settle(() => accountRoute.action(routeArgs(post("/account", { intent: "resume" })))),
    ];
    for (const refused of refusals) {
      expect(refused.status).toBe(403);
      expect((await refused.json()).error).toBe(ask);
    }
    // /account says the same instead of offering billing actions.
    const page = await (await settle(() => accountRoute.loader(routeArgs(getRequest("/account", cookie))))).json();
    expect(page.account).toMatchObject({ name: "Acme Studio", role: "member", ownersToAsk: ["customer@example.com"] });
    const pricing = await (await settle(() => pricingRoute.loader(routeArgs(getRequest("/pricing", cookie))))).json();
    expect(pricing.askOwners).toBe(ask);

    // Acting for their own account, the same person is its owner and gets past the check.
    const own = (await prisma().account.findFirstOrThrow({ where: { slug: { startsWith: "designer-" } } })).id;
    expect((await switchTo(cookie, own)).status).toBe(303);
    const portal = await settle(() => portalRoute.action(routeArgs(post("/api/stripe/portal", {}))));
    expect(portal.status).not.toBe(403);
  });
});

describe("the support console", () => {
  it("lists a user's accounts with their role, owners and members", async () => {
    const customer = await prisma().user.findUniqueOrThrow({ where: { email: "customer@example.com" } });
    const cookie = await sessionCookieFor("support@example.com");
    const response = await settle(() =>
      adminUserRoute.loader(
        routeArgs(getRequest(`/admin/users/${customer.id}`, cookie), { userId: String(customer.id) }),
      ),
    );
    const data = (await response.json()) as { accounts: Array<Record<string, unknown>> };
    expect(data.accounts.map(({ name, role, members, owners }) => ({ name, role, members, owners }))).toEqual([
      { name: "customer", role: "owner", members: 1, owners: [{ id: customer.id, email: "customer@example.com" }] },
      { name: "Acme Studio", role: "owner", members: 3, owners: [{ id: customer.id, email: "customer@example.com" }] },
    ]);
  });
});

describe("checkout for a team", () => {
  // Last: it gives the seed's team a Stripe customer.
  it("an owner acting for the team checks out for the team: Checkout and its customer name the team's account", async () => {
    const team = await prisma().account.findUniqueOrThrow({ where: { slug: "acme-studio" } });
    const cookie = await sessionCookieFor("customer@example.com");
    expect((await switchTo(cookie, team.id)).status).toBe(303);
    const response = await settle(() =>
      checkoutRoute.action(
        routeArgs(
          formRequest(
            "/api/stripe/checkout",
            { lookup_key: "pro_monthly" },
            { cookie, headers: { Accept: "application/json" } },
          ),
        ),
      ),
    );
    expect(response.status).toBe(200);
    const { url } = (await response.json()) as { url: string };
    const session = await getStripe().checkout.sessions.retrieve(url.split("/").pop()!);
    const teamCustomer = (await prisma().account.findUniqueOrThrow({ where: { id: team.id } })).stripeCustomerId;
    expect(teamCustomer).toMatch(/^cus_/);
    expect(session).toMatchObject({
      client_reference_id: String(team.id),
      customer: teamCustomer,
      metadata: { tierdesk_account_id: String(team.id) },
    });
    expect(await getStripe().customers.retrieve(teamCustomer!)).toMatchObject({
      email: "customer@example.com",
      name: "Acme Studio",
      metadata: { tierdesk_account_id: String(team.id) },
    });
    // The owner's own account was not given a customer.
    const own = await prisma().account.findFirstOrThrow({ where: { slug: { startsWith: "customer-" } } });
    expect(own.stripeCustomerId).toBeNull();
  });
});
