// /api/v1's writes on the real server (issue 20): the write scope, `PUT /accounts/ext:{id}` (created,
// updated, idempotent, two at once make one account, its owner taking a seat), members added and
// removed through the API under the same seat rule as invitations (a full team refuses, a pending
// invitation's own seat, the last owner stays), and Checkout and the portal for an account, returning
// where the product asked. The production build on this file's PostgreSQL database: needs `npm run build`.
import type { Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey } from "../../app/services/api/keys.server.ts";
import { getStripe } from "../../app/services/stripe/client.server.ts";
import {
  EntitlementsResponseSchema,
  MemberResponseSchema,
  ProblemSchema,
  RemoveMemberResponseSchema,
  StripeUrlResponseSchema,
} from "../../app/services/api/schemas.ts";
import { parseConfig, useConfig } from "../../app/utils/config.server.ts";
import { startProductionServer } from "../production-server.ts";
import { testDb } from "../setup/database.ts";
import { useStripeEmulator } from "../stripe-harness.ts";
import { createBillingUser, seedDemoData } from "../utils.ts";

const prisma = () => testDb().prisma;
const stripe = useStripeEmulator();

let server: Server | undefined;
let origin = "";
const secrets = { read: "", write: "" };

type Method = "GET" | "POST" | "PUT" | "DELETE";

async function call(method: Method, pathname: string, body?: unknown, secret = secrets.write) {
  const response = await fetch(`${origin}${pathname}`, {
    method,
    headers: {
      Authorization: `Bearer ${secret}`,
      ...(body === undefined ? {} : { "Content-Type": "application/json" }),
    },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: response.status, response, json: (await response.json()) as Record<string, unknown> };
}

function expectProblem(result: Awaited<ReturnType<typeof call>>, status: number, code: string) {
  expect(result.response.headers.get("Content-Type")).toBe("application/problem+json");
  expect(ProblemSchema.parse(result.json)).toMatchObject({ status, code });
  expect(result.status).toBe(status);
}

const tierId = async (key: string) => (await prisma().subscriptionTier.findUniqueOrThrow({ where: { key } })).id;
const accountByExternalId = (externalId: string) =>
  prisma().account.findUniqueOrThrow({
    where: { externalId },
    include: { memberships: { include: { user: { select: { email: true } } } } },
  });

beforeAll(async () => {
  await seedDemoData();
  const admin = await prisma().user.findUniqueOrThrow({ where: { email: "admin@example.com" } });
  secrets.read = (await createApiKey(admin, { name: "Reader", scope: "read" })).secret;
  secrets.write = (await createApiKey(admin, { name: "Writer", scope: "write" })).secret;
  // Production without SMTP: invitations cannot be mailed, so the API gives their link back.
  const config = parseConfig({ NODE_ENV: "production", SESSION_SECRET: "api-v1-writes-".repeat(4) });
  useConfig(config);
  ({ server, origin } = await startProductionServer(config));
}, 60_000);

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
});

describe("the write scope", () => {
  it("a read key is refused every write with 403 insufficient_scope, and nothing is written", async () => {
    const attempts: Array<[Method, string, unknown]> = [
      ["PUT", "/api/v1/accounts/ext:scoped", { name: "Scoped", ownerEmail: "scoped@example.com" }],
      ["POST", "/api/v1/accounts/ext:scoped/members", { email: "x@example.com" }],
      ["DELETE", "/api/v1/accounts/ext:scoped/members/x@example.com", undefined],
      [
        "POST",
        "/api/v1/accounts/ext:scoped/checkout",
        { lookupKey: "pro_monthly", successUrl: "https://a.example/ok", cancelUrl: "https://a.example/no" },
      ],
      ["POST", "/api/v1/accounts/ext:scoped/portal", { returnUrl: "https://a.example/" }],
    ];
    for (const [method, pathname, body] of attempts) {
      expectProblem(await call(method, pathname, body, secrets.read), 403, "insufficient_scope");
    }
    expect(await prisma().account.count({ where: { externalId: "scoped" } })).toBe(0);
    expect(await prisma().user.count({ where: { email: "scoped@example.com" } })).toBe(0);
  });

  it("no key at all: 401; another method: 405 naming the one allowed", async () => {
    const anonymous = await fetch(`${origin}/api/v1/accounts/ext:x`, { method: "PUT", body: "{}" });
    expect(anonymous.status).toBe(401);
    const wrongMethod = await call("GET", "/api/v1/accounts/ext:x/members");
    expectProblem(wrongMethod, 405, "method_not_allowed");
    expect(wrongMethod.response.headers.get("Allow")).toBe("POST");
  });
});

describe("PUT /api/v1/accounts/ext:{id}", () => {
  it("creates the account with its owner (a new user, who signs in after setting a password), then is idempotent", async () => {
    const body = { name: "Globex", ownerEmail: "Hank@Globex.example" };
    const created = await call("PUT", "/api/v1/accounts/ext:globex_1", body);
    expect(created.status).toBe(201);
    const entitlements = EntitlementsResponseSchema.parse(created.json);
    expect(entitlements).toMatchObject({
      account: { externalId: "globex_1", name: "Globex" },
      tier: { key: "free" },
      seats: { used: 1, pending: 0 },
    });
    const account = await accountByExternalId("globex_1");
    expect(account.memberships.map((m) => [m.user.email, m.role])).toEqual([["hank@globex.example", "owner"]]);
    // Every user owns a personal account too.
    const hank = await prisma().user.findUniqueOrThrow({ where: { email: "hank@globex.example" } });
    expect(await prisma().membership.count({ where: { userId: hank.id } })).toBe(2);

    const again = await call("PUT", "/api/v1/accounts/ext:globex_1", body);
    expect(again.status).toBe(200);
    expect(again.json).toEqual(created.json);
    expect(await prisma().account.count({ where: { externalId: "globex_1" } })).toBe(1);
    expect(await prisma().user.count({ where: { email: "hank@globex.example" } })).toBe(1);

    // Readable at once by both refs, on the same instance (its cache was told).
    const read = await call("GET", `/api/v1/accounts/${account.id}/entitlements`, undefined, secrets.read);
    expect(read.json).toEqual(created.json);
  });

  it("renames, and makes another person an owner (taking a seat), answered from the new state", async () => {
    await call("PUT", "/api/v1/accounts/ext:initech", { name: "Initech", ownerEmail: "bill@initech.example" });
    const account = await accountByExternalId("initech");
    await prisma().account.update({ where: { id: account.id }, data: { tierId: await tierId("partner") } });
    const updated = await call("PUT", "/api/v1/accounts/ext:initech", {
      name: "Initech Corp",
      ownerEmail: "peter@initech.example",
    });
    expect(updated.status).toBe(200);
    expect(EntitlementsResponseSchema.parse(updated.json)).toMatchObject({
      account: { name: "Initech Corp" },
      seats: { used: 2 },
    });
    const after = await accountByExternalId("initech");
    expect(after.memberships.map((m) => [m.user.email, m.role]).sort()).toEqual([
      ["bill@initech.example", "owner"],
      ["peter@initech.example", "owner"],
    ]);
  });

  it("a full team cannot take a new owner: 409 seat_limit_reached, and nothing of the request is kept", async () => {
    // The free tier allows one seat: its owner holds it.
    await call("PUT", "/api/v1/accounts/ext:tiny", { name: "Tiny", ownerEmail: "one@tiny.example" });
    const refused = await call("PUT", "/api/v1/accounts/ext:tiny", { name: "Tiny", ownerEmail: "two@tiny.example" });
    expectProblem(refused, 409, "seat_limit_reached");
    const account = await accountByExternalId("tiny");
    expect(account.memberships.map((m) => m.user.email)).toEqual(["one@tiny.example"]);
    // A refused request writes nothing: not the new name, not the would-be owner's user.
    const renamed = await call("PUT", "/api/v1/accounts/ext:tiny", {
      name: "Renamed",
      ownerEmail: "three@tiny.example",
    });
    expectProblem(renamed, 409, "seat_limit_reached");
    expect((await accountByExternalId("tiny")).name).toBe("Tiny");
    expect(await prisma().user.count({ where: { email: { in: ["two@tiny.example", "three@tiny.example"] } } })).toBe(0);
  });

  it("ten identical requests at once make one account and one owner", async () => {
    const body = { name: "Race Inc", ownerEmail: "racer@race.example" };
    const results = await Promise.all(Array.from({ length: 10 }, () => call("PUT", "/api/v1/accounts/ext:race", body)));
    expect(results.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 201]);
    expect(await prisma().account.count({ where: { externalId: "race" } })).toBe(1);
    expect(await prisma().user.count({ where: { email: "racer@race.example" } })).toBe(1);
    const account = await accountByExternalId("race");
    expect(account.memberships).toHaveLength(1);
  });

  it("bad input: a clear problem naming the field, and nothing written", async () => {
    const notExt = await call("PUT", "/api/v1/accounts/42", { name: "X", ownerEmail: "x@example.com" });
    expectProblem(notExt, 400, "invalid_request");
    const bad = await call("PUT", "/api/v1/accounts/ext:bad", { name: " ", ownerEmail: "not an email" });
    expectProblem(bad, 400, "invalid_request");
    expect(Object.keys((bad.json as { errors: Record<string, string[]> }).errors).sort()).toEqual([
      "name",
      "ownerEmail",
    ]);
    expectProblem(await call("PUT", "/api/v1/accounts/ext:bad", "{not json"), 400, "invalid_request");
    const huge = await call("PUT", "/api/v1/accounts/ext:bad", { name: "x".repeat(200_000), ownerEmail: "a@b.co" });
    expectProblem(huge, 413, "payload_too_large");
    expect(await prisma().account.count({ where: { externalId: "bad" } })).toBe(0);
  });
});

describe("members through the API", () => {
  let teamId = 0;
  beforeAll(async () => {
    await call("PUT", "/api/v1/accounts/ext:team", { name: "Team", ownerEmail: "lead@team.example" });
    const account = await accountByExternalId("team");
    teamId = account.id;
    // Pro, paid: 5 seats (see the seed). Lead holds one.
    await prisma().account.update({
      where: { id: teamId },
      data: { tierId: await tierId("pro"), subscriptionStatus: "active", billingSource: "stripe" },
    });
    await prisma().user.createMany({
      data: ["known", "filler1", "filler2"].map((name) => ({ email: `${name}@team.example`, passwordHash: "x" })),
    });
  });
  const limitOf = async () => (await prisma().subscriptionTier.findUniqueOrThrow({ where: { key: "pro" } })).userLimit;

  it("someone with a Tierdesk user joins at once (201); again: 200, nothing new", async () => {
    const added = await call("POST", "/api/v1/accounts/ext:team/members", { email: "KNOWN@team.example" });
    expect(added.status).toBe(201);
    expect(MemberResponseSchema.parse(added.json)).toMatchObject({
      member: { email: "known@team.example", role: "member", status: "active" },
      seats: { limit: await limitOf(), used: 2, pending: 0 },
    });
    const again = await call("POST", `/api/v1/accounts/${teamId}/members`, { email: "known@team.example" });
    expect(again.status).toBe(200);
    expect(await prisma().membership.count({ where: { accountId: teamId } })).toBe(2);
  });

  it("anyone else is invited (202, the link given back when no mail can go out); again: 200", async () => {
    const invited = await call("POST", "/api/v1/accounts/ext:team/members", { email: "newbie@team.example" });
    expect(invited.status).toBe(202);
    const body = MemberResponseSchema.parse(invited.json);
    expect(body.member).toMatchObject({ email: "newbie@team.example", role: null, status: "invited" });
    expect(body.member.invitationUrl).toMatch(/\/invitations\/[A-Za-z0-9_-]{43}$/);
    expect(body.seats).toMatchObject({ used: 2, pending: 1 });
    const again = await call("POST", "/api/v1/accounts/ext:team/members", { email: "newbie@team.example" });
    expect(again.status).toBe(200);
    expect(await prisma().invitation.count({ where: { accountId: teamId, email: "newbie@team.example" } })).toBe(1);
  });

  it("a full team refuses one more, as an owner's invitation would be: 409 seat_limit_reached", async () => {
    for (const filler of ["filler1", "filler2"]) {
      const added = await call("POST", "/api/v1/accounts/ext:team/members", { email: `${filler}@team.example` });
      expect(added.status).toBe(201);
    }
    expect(await limitOf()).toBe(5); // lead, known, two fillers and newbie's invitation fill it
    const refused = await call("POST", "/api/v1/accounts/ext:team/members", { email: "extra@team.example" });
    expectProblem(refused, 409, "seat_limit_reached");
    expect(String(refused.json.detail)).toContain("5 seats");
    expect(await prisma().invitation.count({ where: { email: "extra@team.example" } })).toBe(0);
  });

  it("the invited person, once a user, takes their invitation's own seat when added", async () => {
    await prisma().user.create({ data: { email: "newbie@team.example", passwordHash: "x" } });
    const added = await call("POST", "/api/v1/accounts/ext:team/members", { email: "newbie@team.example" });
    expect(added.status).toBe(201);
    expect(MemberResponseSchema.parse(added.json).seats).toMatchObject({ used: 5, pending: 0 });
    const invitation = await prisma().invitation.findFirstOrThrow({ where: { email: "newbie@team.example" } });
    expect(invitation.acceptedAt).not.toBeNull();
  });

  it("DELETE removes a member, revokes a pending invitation, and never the last owner", async () => {
    const removed = await call("DELETE", "/api/v1/accounts/ext:team/members/known%40team.example");
    expect(removed.status).toBe(200);
    expect(RemoveMemberResponseSchema.parse(removed.json)).toMatchObject({ removed: "member", seats: { used: 4 } });

    await call("POST", "/api/v1/accounts/ext:team/members", { email: "later@team.example" });
    const revoked = await call("DELETE", "/api/v1/accounts/ext:team/members/later@team.example");
    expect(RemoveMemberResponseSchema.parse(revoked.json)).toMatchObject({
      removed: "invitation",
      seats: { pending: 0 },
    });

    expectProblem(await call("DELETE", "/api/v1/accounts/ext:team/members/later@team.example"), 404, "not_found");
    expectProblem(await call("DELETE", "/api/v1/accounts/ext:team/members/lead@team.example"), 409, "last_owner");
    expect(await prisma().membership.count({ where: { accountId: teamId, role: "owner" } })).toBe(1);
    expectProblem(await call("DELETE", "/api/v1/accounts/ext:nobody/members/a@b.co"), 404, "not_found");
  });

  it("two adds racing for the last seat: exactly one gets it", async () => {
    // used 4 (lead, two fillers, newbie) of 5: one seat left.
    await prisma().user.createMany({
      data: [
        { email: "r1@team.example", passwordHash: "x" },
        { email: "r2@team.example", passwordHash: "x" },
      ],
    });
    const [a, b] = await Promise.all([
      call("POST", "/api/v1/accounts/ext:team/members", { email: "r1@team.example" }),
      call("POST", "/api/v1/accounts/ext:team/members", { email: "r2@team.example" }),
    ]);
    expect([a.status, b.status].sort()).toEqual([201, 409]);
    expect(await prisma().membership.count({ where: { accountId: teamId } })).toBe(5);
  });
});

describe("checkout and the portal for an account", () => {
  it("Checkout for the account returns where the product asked, and the paid plan lands on the account", async () => {
    await call("PUT", "/api/v1/accounts/ext:buyer", { name: "Buyer", ownerEmail: "pay@buyer.example" });
    const successUrl = "https://product.example/billing/done?session={CHECKOUT_SESSION_ID}";
    const opened = await call("POST", "/api/v1/accounts/ext:buyer/checkout", {
      lookupKey: "pro_monthly",
      successUrl,
      cancelUrl: "https://product.example/pricing",
    });
    expect(opened.status).toBe(201);
    const { url } = StripeUrlResponseSchema.parse(opened.json);
    const sessionId = url.split("/").pop()!;
    const paid = await stripe.emulator.completeCheckout(sessionId);
    expect(paid.session).toMatchObject({ success_url: successUrl, cancel_url: "https://product.example/pricing" });
    const account = await accountByExternalId("buyer");
    expect(paid.session).toMatchObject({ client_reference_id: String(account.id) });
    await expect
      .poll(async () => (await call("GET", "/api/v1/accounts/ext:buyer/entitlements")).json.tier)
      .toMatchObject({ key: "pro" });

    // Subscribed: a second checkout is refused; the portal opens, returning where asked.
    const second = await call("POST", "/api/v1/accounts/ext:buyer/checkout", {
      lookupKey: "pro_monthly",
      successUrl,
      cancelUrl: "https://product.example/pricing",
    });
    expectProblem(second, 409, "already_subscribed");
    const portal = await call("POST", "/api/v1/accounts/ext:buyer/portal", { returnUrl: "https://product.example/" });
    expect(portal.status).toBe(201);
    expect(StripeUrlResponseSchema.parse(portal.json).url).toMatch(/^https?:\/\//);
  });

  it("refusals: a price not offered, no billing account yet, unknown account, bad return URLs", async () => {
    const urls = { successUrl: "https://a.example/ok", cancelUrl: "https://a.example/no" };
    await call("PUT", "/api/v1/accounts/ext:window", { name: "Window", ownerEmail: "shop@window.example" });
    expectProblem(
      await call("POST", "/api/v1/accounts/ext:window/checkout", { lookupKey: "no_such_price", ...urls }),
      422,
      "price_not_offered",
    );
    expectProblem(
      await call("POST", "/api/v1/accounts/ext:window/portal", { returnUrl: "https://a.example/" }),
      409,
      "no_billing_account",
    );
    expectProblem(
      await call("POST", "/api/v1/accounts/ext:ghost/checkout", { lookupKey: "pro_monthly", ...urls }),
      404,
      "not_found",
    );
    const badUrls = await call("POST", "/api/v1/accounts/ext:window/checkout", {
      lookupKey: "pro_monthly",
      successUrl: "javascript:alert(1)",
      cancelUrl: "/relative",
    });
    expectProblem(badUrls, 400, "invalid_request");
    expect(Object.keys((badUrls.json as { errors: object }).errors).sort()).toEqual(["cancelUrl", "successUrl"]);
  });

  it("an existing account by its Tierdesk id works the same", async () => {
    const owner = await createBillingUser({ email: "by-id@example.com" });
    const portal = await call("POST", `/api/v1/accounts/${owner.accountId}/portal`, {
      returnUrl: "https://a.example/",
    });
    expectProblem(portal, 409, "no_billing_account");
  });
});

describe("outgoing webhooks for the API's writes", () => {
  it("a new account announces account.created; a member added through the API, account.seats.updated", async () => {
    // An endpoint row of its own (production refuses a loopback URL at the form): only what is written is checked.
    const endpoint = await prisma().webhookEndpoint.create({
      data: {
        url: "https://hooks.product.example/tierdesk",
        eventTypes: ["account.created", "account.seats.updated", "account.entitlements.updated"],
        secret: `whsec_${"A".repeat(43)}`,
      },
    });
    try {
      await call("PUT", "/api/v1/accounts/ext:announced", { name: "Announced", ownerEmail: "boss@announced.example" });
      const account = await accountByExternalId("announced");
      await prisma().user.create({ data: { email: "hire@announced.example", passwordHash: "x" } });
      await prisma().account.update({
        where: { id: account.id },
        data: { tierId: await tierId("pro"), subscriptionStatus: "active", billingSource: "stripe" },
      });
      await call("POST", "/api/v1/accounts/ext:announced/members", { email: "hire@announced.example" });
      await call("PUT", "/api/v1/accounts/ext:announced", { name: "Announced", ownerEmail: "boss@announced.example" });
      const messages = await prisma().webhookMessage.findMany({
        where: { accountId: account.id },
        orderBy: { id: "asc" },
      });
      expect(messages.map((m) => m.eventType)).toEqual(["account.created", "account.seats.updated"]);
      expect(messages[0]!.payload).toMatchObject({
        type: "account.created",
        data: { account: { id: account.id, externalId: "announced", name: "Announced" } },
      });
      expect(messages[1]!.payload).toMatchObject({ data: { entitlements: { seats: { used: 2, limit: 5 } } } });
    } finally {
      await prisma().webhookEndpoint.delete({ where: { id: endpoint.id } });
    }
  });
});

describe("hostile input (the black-box review's findings)", () => {
  it("an id past PostgreSQL's integer, a NUL or a control character: 400 problem details, never a 500", async () => {
    for (const ref of ["2147483648", "9999999999", "ext:%00", "ext:a%01b", "ext:a%E2%80%AEb"]) {
      expectProblem(
        await call("GET", `/api/v1/accounts/${ref}/entitlements`, undefined, secrets.read),
        400,
        "invalid_request",
      );
      expectProblem(await call("POST", `/api/v1/accounts/${ref}/members`, { email: "a@b.co" }), 400, "invalid_request");
    }
    for (const account of ["2147483648", "ext:\u0000", "ext:a\u0001"]) {
      const check = await call("POST", "/api/v1/check", { account, permission: "x" }, secrets.read);
      expectProblem(check, 400, "invalid_request");
      expect(Object.keys((check.json as { errors: object }).errors)).toEqual(["account"]);
    }
    const nul = await call("PUT", "/api/v1/accounts/ext:nul", { name: "a\u0000b", ownerEmail: "nul@example.com" });
    expectProblem(nul, 400, "invalid_request");
    expect(Object.keys((nul.json as { errors: object }).errors)).toEqual(["name"]);
    expect(await prisma().user.count({ where: { email: "nul@example.com" } })).toBe(0);
    const override = await call("PUT", "/api/v1/accounts/ext:rlo", {
      name: "evil\u202Eexe",
      ownerEmail: "r@example.com",
    });
    expectProblem(override, 400, "invalid_request");
  });

  it("every error under /api/v1 is problem details: wrong methods, malformed escapes, big bodies on the hot path", async () => {
    const tiers = await call("POST", "/api/v1/tiers", {}, secrets.read);
    expectProblem(tiers, 405, "method_not_allowed");
    expect(tiers.response.headers.get("Allow")).toBe("GET");
    expectProblem(
      await call("DELETE", "/api/v1/accounts/1/entitlements", undefined, secrets.read),
      405,
      "method_not_allowed",
    );
    expectProblem(
      await call("GET", "/api/v1/accounts/ext:%/entitlements", undefined, secrets.read),
      400,
      "invalid_request",
    );
    const big = await fetch(`${origin}/api/v1/check`, {
      method: "POST",
      headers: { Authorization: `Bearer ${secrets.read}`, "Content-Type": "application/json" },
      body: JSON.stringify({ account: "1", permission: "x".repeat(70_000) }),
    });
    expect(big.status).toBe(413);
    expect(big.headers.get("Content-Type")).toBe("application/problem+json");
  });

  it("a server-to-server write carrying a browser's Origin or Referer is not refused as cross-site", async () => {
    const response = await fetch(`${origin}/api/v1/accounts/ext:with-origin`, {
      method: "PUT",
      headers: {
        Authorization: `Bearer ${secrets.write}`,
        "Content-Type": "application/json",
        Origin: "https://product.example",
        Referer: "https://product.example/admin",
      },
      body: JSON.stringify({ name: "With Origin", ownerEmail: "origin@example.com" }),
    });
    expect(response.status).toBe(201);
  });

  it("return URLs are sent as browsers read them; a URL Stripe refuses is the request's problem, not Stripe down", async () => {
    await call("PUT", "/api/v1/accounts/ext:urls", { name: "Urls", ownerEmail: "urls@example.com" });
    const opened = await call("POST", "/api/v1/accounts/ext:urls/checkout", {
      lookupKey: "hobbyist_monthly",
      successUrl: "HTTPS://Product.example/done?s={CHECKOUT_SESSION_ID}",
      cancelUrl: "http:/\\product.example/back",
    });
    expect(opened.status).toBe(201);
    const sessionId = StripeUrlResponseSchema.parse(opened.json).url.split("/").pop()!;
    const session = await stripe.emulator.completeCheckout(sessionId);
    expect(session.session).toMatchObject({
      success_url: "https://product.example/done?s={CHECKOUT_SESSION_ID}",
      cancel_url: "http://product.example/back",
    });
  });

  it("two checkouts for one account: the earlier one is expired, so only one can ever be paid", async () => {
    await call("PUT", "/api/v1/accounts/ext:twotabs", { name: "Two Tabs", ownerEmail: "tabs@example.com" });
    const urls = { successUrl: "https://a.example/ok", cancelUrl: "https://a.example/no" };
    const first = await call("POST", "/api/v1/accounts/ext:twotabs/checkout", { lookupKey: "pro_monthly", ...urls });
    const second = await call("POST", "/api/v1/accounts/ext:twotabs/checkout", {
      lookupKey: "hobbyist_monthly",
      ...urls,
    });
    const idOf = (result: typeof first) => StripeUrlResponseSchema.parse(result.json).url.split("/").pop()!;
    await expect(stripe.emulator.completeCheckout(idOf(first))).rejects.toThrow(/expired/);
    await stripe.emulator.completeCheckout(idOf(second));
    const account = await accountByExternalId("twotabs");
    const subscriptions = await getStripe().subscriptions.list({ customer: account.stripeCustomerId!, status: "all" });
    expect(subscriptions.data).toHaveLength(1);
  });
});
