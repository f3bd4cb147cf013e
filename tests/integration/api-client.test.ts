// The typed client (client/) and the real server agree, and the OpenAPI document says what the server
// does: each case in CASES (reads and writes) calls the production build through createTierdeskClient, and its answer must
// have a status the document lists for that operation, a body its zod schema accepts (success) or a
// problem whose code the document lists under that status. The document itself: served without a key,
// valid OpenAPI 3.1 (Redocly's recommended rules, no errors), and listing every /api/v1 route file in
// app/routes with the methods the route handles. Last, the README's Express guard runs against it.
// Needs `npm run build` (the production build on this file's PostgreSQL database).
import fs from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { createConfig, lintFromString } from "@redocly/openapi-core";
import type { ServerBuild } from "@remix-run/node";
import express from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { z } from "zod";
import { createTierdeskClient, type TierdeskClient } from "../../client/index.ts";
import { requireTierdeskPermission } from "../../client/express-guard.ts";
import { createApiKey } from "../../app/services/api/keys.server.ts";
import {
  CheckResponseSchema,
  EntitlementsResponseSchema,
  MemberResponseSchema,
  ProblemSchema,
  RemoveMemberResponseSchema,
  StripeUrlResponseSchema,
  TiersResponseSchema,
} from "../../app/services/api/schemas.ts";
import { parseConfig, useConfig } from "../../app/utils/config.server.ts";
import { openApiDocument, PROBLEM_CODES_EXTENSION } from "../../app/web/openapi.server.ts";
import { startProductionServer } from "../production-server.ts";
import { testDb } from "../setup/database.ts";
import { useStripeEmulator } from "../stripe-harness.ts";
import { createBillingUser, seedDemoData } from "../utils.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
useStripeEmulator();

let server: Server | undefined;
let origin = "";
let build: ServerBuild;
const keys = { read: "", write: "" };
const accounts = { pro: 0, free: 0 };
const clients = {} as Record<"read" | "write" | "unknownKey", TierdeskClient>;

/** What an openapi-fetch call resolves to, whichever operation it was. */
type Answer = { data?: unknown; error?: unknown; response: Response };

type Case = {
  name: string;
  /** The documented operation called: its path template and method, as in the document. */
  operation: { path: string; method: "get" | "post" | "put" | "delete" };
  client?: keyof typeof clients;
  call: (client: TierdeskClient) => Promise<Answer>;
  /** A success's status and body schema, or a problem's status and code. */
  expect: { status: number; schema: z.ZodType } | { status: number; problem: string };
};

const entitlementsOf = (ref: string) => (client: TierdeskClient) =>
  client.GET("/api/v1/accounts/{ref}/entitlements", { params: { path: { ref } } });
const check = (account: string, permission: string) => (client: TierdeskClient) =>
  client.POST("/api/v1/check", { body: { account, permission } });

const upsert = (ref: string, name: string, ownerEmail: string) => (client: TierdeskClient) =>
  client.PUT("/api/v1/accounts/{ref}", { params: { path: { ref } }, body: { name, ownerEmail } });
const addMember = (ref: string, email: string) => (client: TierdeskClient) =>
  client.POST("/api/v1/accounts/{ref}/members", { params: { path: { ref } }, body: { email } });
const removeMember = (ref: string, email: string) => (client: TierdeskClient) =>
  client.DELETE("/api/v1/accounts/{ref}/members/{email}", { params: { path: { ref, email } } });
const RETURNS = { successUrl: "https://product.example/done", cancelUrl: "https://product.example/pricing" };
const checkout = (ref: string, lookupKey: string) => (client: TierdeskClient) =>
  client.POST("/api/v1/accounts/{ref}/checkout", { params: { path: { ref } }, body: { lookupKey, ...RETURNS } });
const portal = (ref: string) => (client: TierdeskClient) =>
  client.POST("/api/v1/accounts/{ref}/portal", {
    params: { path: { ref } },
    body: { returnUrl: "https://product.example/account" },
  });

const ENTITLEMENTS = { path: "/api/v1/accounts/{ref}/entitlements", method: "get" } as const;
const CHECK = { path: "/api/v1/check", method: "post" } as const;
const TIERS = { path: "/api/v1/tiers", method: "get" } as const;
const UPSERT = { path: "/api/v1/accounts/{ref}", method: "put" } as const;
const MEMBERS = { path: "/api/v1/accounts/{ref}/members", method: "post" } as const;
const MEMBER = { path: "/api/v1/accounts/{ref}/members/{email}", method: "delete" } as const;
const CHECKOUT = { path: "/api/v1/accounts/{ref}/checkout", method: "post" } as const;
const PORTAL = { path: "/api/v1/accounts/{ref}/portal", method: "post" } as const;

// One row per behaviour worth agreeing on, run in this order (the writes build on each other). A new
// operation or answer is one more row: its operation as documented, the call, what it must answer.
const CASES: Case[] = [
  {
    name: "entitlements by account id",
    operation: ENTITLEMENTS,
    call: (client) => entitlementsOf(String(accounts.pro))(client),
    expect: { status: 200, schema: EntitlementsResponseSchema },
  },
  {
    name: "entitlements by ext: ref",
    operation: ENTITLEMENTS,
    call: entitlementsOf("ext:org_client"),
    expect: { status: 200, schema: EntitlementsResponseSchema },
  },
  {
    name: "entitlements of a free account",
    operation: ENTITLEMENTS,
    call: (client) => entitlementsOf(String(accounts.free))(client),
    expect: { status: 200, schema: EntitlementsResponseSchema },
  },
  {
    name: "entitlements of no account",
    operation: ENTITLEMENTS,
    call: entitlementsOf("ext:nobody"),
    expect: { status: 404, problem: "not_found" },
  },
  {
    name: "entitlements of a malformed ref",
    operation: ENTITLEMENTS,
    call: entitlementsOf("not a ref"),
    expect: { status: 400, problem: "invalid_request" },
  },
  {
    name: "check, allowed",
    operation: CHECK,
    call: check("ext:org_client", "api.access"),
    expect: { status: 200, schema: CheckResponseSchema },
  },
  {
    name: "check, not on the tier",
    operation: CHECK,
    call: (client) => check(String(accounts.free), "api.access")(client),
    expect: { status: 200, schema: CheckResponseSchema },
  },
  {
    name: "check, unknown account (tier null)",
    operation: CHECK,
    call: check("ext:nobody", "api.access"),
    expect: { status: 200, schema: CheckResponseSchema },
  },
  {
    name: "check, invalid body",
    operation: CHECK,
    call: check("x y", ""),
    expect: { status: 400, problem: "invalid_request" },
  },
  {
    name: "check with a write key",
    operation: CHECK,
    client: "write",
    call: check("ext:org_client", "api.access"),
    expect: { status: 200, schema: CheckResponseSchema },
  },
  {
    name: "tiers",
    operation: TIERS,
    call: (client) => client.GET("/api/v1/tiers"),
    expect: { status: 200, schema: TiersResponseSchema },
  },
  {
    name: "tiers with an unknown key",
    operation: TIERS,
    client: "unknownKey",
    call: (client) => client.GET("/api/v1/tiers"),
    expect: { status: 401, problem: "invalid_api_key" },
  },
  {
    name: "upsert makes the account",
    operation: UPSERT,
    client: "write",
    call: upsert("ext:agree", "Agree", "owner@agree.example"),
    expect: { status: 201, schema: EntitlementsResponseSchema },
  },
  {
    name: "upsert again: up to date",
    operation: UPSERT,
    client: "write",
    call: upsert("ext:agree", "Agree", "owner@agree.example"),
    expect: { status: 200, schema: EntitlementsResponseSchema },
  },
  {
    name: "upsert with a read key",
    operation: UPSERT,
    call: upsert("ext:agree", "Agree", "owner@agree.example"),
    expect: { status: 403, problem: "insufficient_scope" },
  },
  {
    name: "upsert by Tierdesk's id",
    operation: UPSERT,
    client: "write",
    call: (client) => upsert(String(accounts.free), "Mine", "owner@agree.example")(client),
    expect: { status: 400, problem: "invalid_request" },
  },
  {
    name: "a member added to a full free account",
    operation: MEMBERS,
    client: "write",
    call: addMember("ext:agree", "client-free@example.com"),
    expect: { status: 409, problem: "seat_limit_reached" },
  },
  {
    name: "a member added (a Tierdesk user)",
    operation: MEMBERS,
    client: "write",
    call: addMember("ext:org_client", "client-free@example.com"),
    expect: { status: 201, schema: MemberResponseSchema },
  },
  {
    name: "the same member again",
    operation: MEMBERS,
    client: "write",
    call: addMember("ext:org_client", "client-free@example.com"),
    expect: { status: 200, schema: MemberResponseSchema },
  },
  {
    name: "a member invited (no Tierdesk user)",
    operation: MEMBERS,
    client: "write",
    call: addMember("ext:org_client", "newcomer@client.example"),
    expect: { status: 202, schema: MemberResponseSchema },
  },
  {
    name: "a member added to no account",
    operation: MEMBERS,
    client: "write",
    call: addMember("ext:nobody", "newcomer@client.example"),
    expect: { status: 404, problem: "not_found" },
  },
  {
    name: "a member removed",
    operation: MEMBER,
    client: "write",
    call: removeMember("ext:org_client", "client-free@example.com"),
    expect: { status: 200, schema: RemoveMemberResponseSchema },
  },
  {
    name: "an invitation revoked",
    operation: MEMBER,
    client: "write",
    call: removeMember("ext:org_client", "newcomer@client.example"),
    expect: { status: 200, schema: RemoveMemberResponseSchema },
  },
  {
    name: "someone removed who is not there",
    operation: MEMBER,
    client: "write",
    call: removeMember("ext:org_client", "client-free@example.com"),
    expect: { status: 404, problem: "not_found" },
  },
  {
    name: "the last owner removed",
    operation: MEMBER,
    client: "write",
    call: removeMember("ext:org_client", "client-pro@example.com"),
    expect: { status: 409, problem: "last_owner" },
  },
  {
    name: "the portal before any billing",
    operation: PORTAL,
    client: "write",
    call: portal("ext:agree"),
    expect: { status: 409, problem: "no_billing_account" },
  },
  {
    name: "checkout",
    operation: CHECKOUT,
    client: "write",
    call: checkout("ext:agree", "pro_monthly"),
    expect: { status: 201, schema: StripeUrlResponseSchema },
  },
  {
    name: "checkout of a price not offered",
    operation: CHECKOUT,
    client: "write",
    call: checkout("ext:agree", "no_such_price"),
    expect: { status: 422, problem: "price_not_offered" },
  },
  {
    name: "checkout for no account",
    operation: CHECKOUT,
    client: "write",
    call: checkout("ext:nobody", "pro_monthly"),
    expect: { status: 404, problem: "not_found" },
  },
];

beforeAll(async () => {
  await seedDemoData();
  const prisma = testDb().prisma;
  const admin = await prisma.user.findUniqueOrThrow({ where: { email: "admin@example.com" } });
  keys.read = (await createApiKey(admin, { name: "Client reader", scope: "read" })).secret;
  keys.write = (await createApiKey(admin, { name: "Client writer", scope: "write" })).secret;
  const pro = await createBillingUser({
    email: "client-pro@example.com",
    tierId: (await prisma.subscriptionTier.findUniqueOrThrow({ where: { key: "pro" } })).id,
    stripeCustomerId: "cus_client_pro",
    stripeSubscriptionId: "sub_client_pro",
    subscriptionStatus: "active",
    billingSource: "stripe",
  });
  accounts.pro = pro.accountId;
  await prisma.account.update({ where: { id: pro.accountId }, data: { externalId: "org_client" } });
  accounts.free = (await createBillingUser({ email: "client-free@example.com" })).accountId;

  const config = parseConfig({ NODE_ENV: "production", SESSION_SECRET: "api-client-test-".repeat(4) });
  useConfig(config);
  ({ server, origin, build } = await startProductionServer(config));
  clients.read = createTierdeskClient({ baseUrl: `${origin}/`, apiKey: keys.read });
  clients.write = createTierdeskClient({ baseUrl: origin, apiKey: keys.write });
  clients.unknownKey = createTierdeskClient({ baseUrl: origin, apiKey: `tdk_${"A".repeat(43)}` });
}, 60_000);

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
});

type DocumentedResponse = { content?: Record<string, unknown>; [PROBLEM_CODES_EXTENSION]?: string[] };
function documentedResponses(operation: Case["operation"]): Record<string, DocumentedResponse> {
  const item = openApiDocument().paths?.[operation.path];
  const documented = item?.[operation.method];
  if (!documented) throw new Error(`${operation.method.toUpperCase()} ${operation.path} is not in the document`);
  return documented.responses as Record<string, DocumentedResponse>;
}

describe("the typed client against the real server", () => {
  it.each(CASES.map((entry) => [entry.name, entry] as const))("%s", async (_name, entry) => {
    const { data, error, response } = await entry.call(clients[entry.client ?? "read"]);
    const documented = documentedResponses(entry.operation)[String(response.status)];
    expect(response.status, JSON.stringify(error ?? data)).toBe(entry.expect.status);
    expect(documented, `status ${response.status} is documented`).toBeDefined();
    const contentType = response.headers.get("Content-Type") ?? "";
    if ("schema" in entry.expect) {
      expect(contentType).toMatch(/^application\/json/);
      expect(Object.keys(documented!.content ?? {})).toEqual(["application/json"]);
      entry.expect.schema.parse(data);
    } else {
      expect(contentType).toBe("application/problem+json");
      const problem = ProblemSchema.parse(error);
      expect(problem.code).toBe(entry.expect.problem);
      expect(documented![PROBLEM_CODES_EXTENSION], "the code is documented under its status").toContain(problem.code);
    }
  });

  it("types what it returns: the answers read as the document says", async () => {
    const { data } = await clients.read.POST("/api/v1/check", {
      body: { account: "ext:org_client", permission: "api.access" },
    });
    // Compiles only because `data` is typed by the document: allowed, reason, tier and warnings.
    expect({ allowed: data?.allowed, reason: data?.reason, tier: data?.tier?.key, warnings: data?.warnings }).toEqual({
      allowed: true,
      reason: null,
      tier: "pro",
      warnings: [],
    });
    const entitlements = await clients.read.GET("/api/v1/accounts/{ref}/entitlements", {
      params: { path: { ref: "ext:org_client" } },
    });
    expect(entitlements.data?.seats).toEqual({ limit: 5, used: 1, pending: 0 });
  });
});

describe("the document", () => {
  it("is served without a key as JSON, through Express (security headers), as the client's copy", async () => {
    const response = await fetch(`${origin}/api/v1/openapi.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toMatch(/^application\/json/);
    expect(response.headers.get("Content-Security-Policy")).toContain("default-src 'self'");
    const served = await response.json();
    expect(served).toEqual(JSON.parse(JSON.stringify(openApiDocument())));
    expect(served).toEqual(JSON.parse(fs.readFileSync(path.join(ROOT, "client/openapi.json"), "utf8")));
  });

  it("is valid OpenAPI 3.1 (Redocly's recommended rules: no errors)", async () => {
    const source = await (await fetch(`${origin}/api/v1/openapi.json`)).text();
    expect(JSON.parse(source).openapi).toMatch(/^3\.1\./);
    const config = await createConfig({ extends: ["recommended"] });
    const problems = await lintFromString({ source, absoluteRef: "openapi.json", config });
    const errors = problems
      .filter((problem) => problem.severity === "error")
      .map((problem) => `${problem.ruleId}: ${problem.message} at ${problem.location[0]?.pointer ?? "?"}`);
    expect(errors).toEqual([]);
  });

  /** app/routes/api.v1.*: route id → the path it serves, in the document's spelling (`$ref` → `{ref}`). */
  function apiRouteFiles(): Map<string, string> {
    const routes = new Map<string, string>();
    for (const file of fs.readdirSync(path.join(ROOT, "app/routes"))) {
      const match = /^(api\.v1\..+)\.tsx?$/.exec(file);
      if (!match || match[1] === "api.v1.$") continue; // the splat: any other path's 404
      const segments = match[1]!.replaceAll("[.]", "\0").split(".");
      const urlPath = segments.map((segment) => segment.replaceAll("\0", ".").replace(/^\$(.+)$/, "{$1}")).join("/");
      routes.set(`routes/${match[1]}`, `/${urlPath}`);
    }
    return routes;
  }

  it("documents every /api/v1 route file in app/routes, and the methods each answers (others: 405)", async () => {
    const documented = openApiDocument().paths ?? {};
    const routes = apiRouteFiles();
    expect([...routes.values()]).toContain("/api/v1/openapi.json");
    const failures: string[] = [];
    for (const [id, template] of routes) {
      const item = documented[template];
      expect(item, `${id} (${template}) is in the OpenAPI document: add it to app/web/openapi.server.ts`).toBeDefined();
      expect(build.routes[id], `${id} is in the build`).toBeDefined();
      // Asked without a key: a documented method gets as far as the key check (or answers), any other is 405.
      const url = template.replace("{ref}", "ext:org_client").replace("{email}", "someone%40example.com");
      for (const method of ["get", "post", "put", "delete"] as const) {
        const response = await fetch(`${origin}${url}`, {
          method,
          ...(method === "get" ? {} : { headers: { "Content-Type": "application/json" }, body: "{}" }),
        });
        const answered = `${method.toUpperCase()} ${url}: ${response.status}`;
        if (item?.[method] && response.status === 405) failures.push(`${answered}, but the document lists it`);
        if (!item?.[method]) {
          const body = (await response.json()) as { code?: string };
          if (response.status !== 405 || body.code !== "method_not_allowed") {
            failures.push(
              `${answered} ${body.code ?? ""}, but the document does not list it: document it or answer 405`,
            );
          }
        } else await response.arrayBuffer();
      }
    }
    expect(failures).toEqual([]);
    const routed = new Set(routes.values());
    expect(
      Object.keys(documented).filter((urlPath) => !routed.has(urlPath)),
      "documented, but no route file",
    ).toEqual([]);
  });
});

describe("the README's Express guard in another Node app", () => {
  it("lets allowed accounts through, refuses others 403 with Tierdesk's reason, and stays closed on a Tierdesk error", async () => {
    const product = express();
    const guard = (client: TierdeskClient) =>
      requireTierdeskPermission(client, "api.access", (req) => req.get("X-Account") ?? undefined);
    product.get("/reports", guard(clients.read), (_req, res) => void res.json({ ok: true }));
    product.get("/broken", guard(clients.unknownKey), (_req, res) => void res.json({ ok: true }));
    product.use(
      ((_error, _req, res, _next) => void res.status(502).json({ error: "Tierdesk" })) as express.ErrorRequestHandler,
    );
    const productServer = product.listen(0, "127.0.0.1");
    await new Promise((resolve) => productServer.once("listening", resolve));
    const at = `http://127.0.0.1:${(productServer.address() as AddressInfo).port}`;
    try {
      const ask = (pathname: string, account?: string) =>
        fetch(`${at}${pathname}`, { headers: account ? { "X-Account": account } : {} });
      expect((await ask("/reports", "ext:org_client")).status).toBe(200);
      const refused = await ask("/reports", String(accounts.free));
      expect(refused.status).toBe(403);
      expect(((await refused.json()) as { error: string }).error).toContain('does not include "api.access"');
      expect((await ask("/reports")).status).toBe(401);
      expect((await ask("/broken", "ext:org_client")).status).toBe(502);
    } finally {
      await new Promise((resolve) => productServer.close(resolve));
    }
  });
});
