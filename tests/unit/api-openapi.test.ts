// The OpenAPI document of /api/v1 (app/web/openapi.server.ts) and what is made from it: the typed client's
// committed files are what `npm run api:client` writes from today's schemas; the generated types are the
// zod schemas' own types (checked by `npm run typecheck`, through expectTypeOf); every problem code is
// documented somewhere; and the admins' reference page reads operations, fields and codes out of it.
import fs from "node:fs";
import { describe, expect, expectTypeOf, it } from "vitest";
import type { z } from "zod";
import type { components, paths } from "../../client/schema.d.ts";
import type {
  AddMemberRequestSchema,
  CheckoutRequestSchema,
  CheckRequestSchema,
  CheckResponseSchema,
  EntitlementsResponseSchema,
  MemberResponseSchema,
  PortalRequestSchema,
  ProblemSchema,
  RemoveMemberResponseSchema,
  StripeUrlResponseSchema,
  TiersResponseSchema,
  UpsertAccountRequestSchema,
} from "../../app/services/api/schemas.ts";
import { apiReference } from "../../app/web/api-reference.server.ts";
import { openApiDocument, PROBLEM_CODES_EXTENSION, SCOPE_EXTENSION } from "../../app/web/openapi.server.ts";
import { PROBLEM_CODES } from "../../app/web/problem.server.ts";
import { clientFiles } from "../../scripts/openapi.ts";

type Schemas = components["schemas"];

describe("the typed client's generated files", () => {
  it("are what `npm run api:client` writes from the current schemas (run it when this fails)", async () => {
    for (const file of await clientFiles()) {
      const committed = fs.existsSync(file.path) ? fs.readFileSync(file.path, "utf8") : "(missing)";
      expect(committed, `${file.path} is stale: run npm run api:client`).toBe(file.contents);
    }
  }, 30_000);

  it("type every body as the zod schemas do (requests as they are sent, responses as they are answered)", () => {
    // Compile-time: `npm run typecheck` fails when a generated type drifts from its schema (e.g. a
    // nullable field documented as never null).
    expectTypeOf<Schemas["Entitlements"]>().toEqualTypeOf<z.output<typeof EntitlementsResponseSchema>>();
    expectTypeOf<Schemas["CheckResponse"]>().toEqualTypeOf<z.output<typeof CheckResponseSchema>>();
    expectTypeOf<Schemas["Tiers"]>().toEqualTypeOf<z.output<typeof TiersResponseSchema>>();
    expectTypeOf<Schemas["MemberResponse"]>().toEqualTypeOf<z.output<typeof MemberResponseSchema>>();
    expectTypeOf<Schemas["RemoveMemberResponse"]>().toEqualTypeOf<z.output<typeof RemoveMemberResponseSchema>>();
    expectTypeOf<Schemas["StripeUrl"]>().toEqualTypeOf<z.output<typeof StripeUrlResponseSchema>>();
    expectTypeOf<Schemas["Problem"]>().toEqualTypeOf<z.output<typeof ProblemSchema>>();
    expectTypeOf<Schemas["CheckRequest"]>().toEqualTypeOf<z.input<typeof CheckRequestSchema>>();
    expectTypeOf<Schemas["UpsertAccountRequest"]>().toEqualTypeOf<z.input<typeof UpsertAccountRequestSchema>>();
    expectTypeOf<Schemas["AddMemberRequest"]>().toEqualTypeOf<z.input<typeof AddMemberRequestSchema>>();
    expectTypeOf<Schemas["CheckoutRequest"]>().toEqualTypeOf<z.input<typeof CheckoutRequestSchema>>();
    expectTypeOf<Schemas["PortalRequest"]>().toEqualTypeOf<z.input<typeof PortalRequestSchema>>();
    expectTypeOf<keyof paths>().toEqualTypeOf<
      | "/api/v1/accounts/{ref}/entitlements"
      | "/api/v1/check"
      | "/api/v1/tiers"
      | "/api/v1/accounts/{ref}"
      | "/api/v1/accounts/{ref}/members"
      | "/api/v1/accounts/{ref}/members/{email}"
      | "/api/v1/accounts/{ref}/checkout"
      | "/api/v1/accounts/{ref}/portal"
      | "/api/v1/openapi.json"
    >();
  });
});

describe("the document", () => {
  const document = openApiDocument();
  const operations = Object.values(document.paths ?? {}).flatMap((item) =>
    (["get", "put", "post", "delete"] as const).flatMap((method) => (item[method] ? [item[method]!] : [])),
  );

  it("is built once", () => {
    expect(openApiDocument()).toBe(document);
  });

  it("names each keyed operation's scope and security, and answers every error as problem details", () => {
    for (const operation of operations.filter((operation) => operation.operationId !== "getOpenApiDocument")) {
      expect(["read", "write"], operation.operationId).toContain(operation[SCOPE_EXTENSION]);
      expect(operation.security, operation.operationId).toEqual([{ apiKey: [] }]);
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        const content = Object.keys((response as { content?: object }).content ?? {});
        expect(content, `${operation.operationId} ${status}`).toEqual([
          Number(status) < 400 ? "application/json" : "application/problem+json",
        ]);
      }
    }
  });

  it("lists every problem code on some operation (method_not_allowed: on methods no operation has)", () => {
    const documented = new Set(
      operations.flatMap((operation) =>
        Object.values(operation.responses ?? {}).flatMap(
          (response) => ((response as Record<string, unknown>)[PROBLEM_CODES_EXTENSION] as string[] | undefined) ?? [],
        ),
      ),
    );
    expect(Object.keys(PROBLEM_CODES).filter((code) => !documented.has(code))).toEqual(["method_not_allowed"]);
  });
});

describe("the admins' reference (/admin/api)", () => {
  const reference = apiReference(openApiDocument());
  const operation = (id: string) => reference.operations.find((entry) => entry.id === id)!;

  it("lists each operation with its method, path and scope", () => {
    expect(reference.operations.map(({ method, path, scope }) => `${method} ${path} ${scope}`)).toEqual([
      "GET /api/v1/accounts/{ref}/entitlements read",
      "POST /api/v1/check read",
      "GET /api/v1/tiers read",
      "PUT /api/v1/accounts/{ref} write",
      "POST /api/v1/accounts/{ref}/members write",
      "DELETE /api/v1/accounts/{ref}/members/{email} write",
      "POST /api/v1/accounts/{ref}/checkout write",
      "POST /api/v1/accounts/{ref}/portal write",
      "GET /api/v1/openapi.json null",
    ]);
  });

  it("gives parameters and body fields their types, whether required, and their words", () => {
    expect(operation("removeMember").parameters.map(({ name, in: where, type }) => [name, where, type])).toEqual([
      ["ref", "path", "string"],
      ["email", "path", "string (email)"],
    ]);
    expect(operation("check").body).toEqual([
      expect.objectContaining({ name: "account", type: "string", required: true }),
      expect.objectContaining({
        name: "permission",
        type: "string",
        required: true,
        description: "The permission's name, as on /admin/permissions.",
      }),
    ]);
    expect(operation("getEntitlements").responses[0]!.fields).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: "tier", type: "object | null", required: true }),
        expect.objectContaining({ name: "seats.limit", type: "integer | null" }),
        expect.objectContaining({ name: "source.provider", type: '"stripe" | "whop" | "exempt" | null' }),
      ]),
    );
  });

  it("gives each response its status and problem codes", () => {
    const checkout = operation("createCheckout").responses;
    expect(checkout.map((response) => response.status)).toEqual([
      "201",
      "400",
      "401",
      "403",
      "404",
      "409",
      "413",
      "422",
      "429",
      "500",
      "503",
    ]);
    expect(checkout.find((response) => response.status === "409")!.codes).toEqual([
      "already_subscribed",
      "already_on_whop",
      "tier_unavailable",
    ]);
    expect(checkout.find((response) => response.status === "201")!.fields.map((field) => field.name)).toEqual(["url"]);
    expect(operation("listTiers").responses.map((response) => response.status)).toEqual(["200", "401", "429", "500"]);
  });
});
