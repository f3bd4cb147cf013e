// Malformed webhook deliveries against the real server (the production build through server/app.ts
// on this file's database): bad, missing, stale and garbage signatures, truncated and 2 MiB bodies,
// wrong content types, signed non-JSON, raw NUL bytes, NUL in ids, data.object: null. Every one gets
// a 4xx (a 5xx would make Stripe retry for days), the server keeps answering, nothing unsigned is
// stored, and a signed event Tierdesk cannot read is stored once, as failed, for support.
// bench/faults.ts sends 10,000 of them to a separate process and watches its memory.
import http, { type Server } from "node:http";
import { afterAll, beforeAll, expect, it } from "vitest";
import { useStripeConnection } from "../../app/services/stripe/client.server.ts";
import { parseConfig, useConfig } from "../../app/utils/config.server.ts";
import { malformedFlood, malformedKinds } from "../../bench/lib/malformed.ts";
import { testDb } from "../setup/database.ts";
import { startProductionServer } from "../production-server.ts";
import { TEST_WEBHOOK_SECRET } from "../stripe-fixtures.ts";
import * as webhookRoute from "../../app/routes/api.stripe.webhook.ts";
import { routeArgs, seedDemoData } from "../utils.ts";

let server: Server;
let origin = "";

beforeAll(async () => {
  const config = parseConfig({ NODE_ENV: "production", SESSION_SECRET: "faults-".repeat(10), LOG_LEVEL: "silent" });
  useConfig(config);
  useStripeConnection({
    mode: "stripe",
    apiKey: "sk_test_faults",
    apiBase: "http://127.0.0.1:9",
    webhookSecrets: [TEST_WEBHOOK_SECRET],
  });
  await seedDemoData();
  ({ server, origin } = await startProductionServer(config));
}, 60_000);

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  useStripeConnection({ mode: "disabled", apiKey: null, apiBase: null, webhookSecrets: [] });
});

it("answers thousands of malformed deliveries with 4xx only, stores nothing unsigned, and stays up", async () => {
  const prisma = testDb().prisma;
  const report = await malformedFlood({
    origin,
    secret: TEST_WEBHOOK_SECRET,
    perKind: 300,
    heavyCap: 20,
    concurrency: 16,
    storedWithPrefix: (prefix) => prisma.stripeEvent.count({ where: { eventId: { startsWith: prefix } } }),
  });
  const wrong = report.kinds.filter((kind) => !kind.ok || !kind.storedOk);
  expect(wrong, JSON.stringify(report.kinds, null, 1)).toEqual([]);
  expect(report.not4xx).toBe(0);
  expect(report.requests).toBeGreaterThan(3000);

  // The signed ones Tierdesk cannot read: stored once each, as failed, with the reason for support.
  const unreadable = await prisma.stripeEvent.findMany({ where: { eventId: { startsWith: "evt_nullobj_" } }, take: 5 });
  for (const stored of unreadable) {
    expect(stored).toMatchObject({ status: "failed", attempts: 1 });
    expect(stored.error).toMatch(/data\.object/);
  }

  // Still up and answering, database included.
  const health = await fetch(`${origin}/healthz`);
  expect(health.status).toBe(200);
}, 60_000);

it("answers each kind on the server's fast path exactly as the webhook route's action does", async () => {
  for (const kind of malformedKinds(TEST_WEBHOOK_SECRET)) {
    const prepared = kind.make(0);
    const init = {
      method: prepared.method,
      headers: prepared.headers,
      body: prepared.body ? new Uint8Array(prepared.body) : undefined,
    };
    const fast = await fetch(`${origin}${prepared.path}`, init);
    const viaAction = await webhookRoute.action(routeArgs(new Request(`${origin}${prepared.path}`, init)));
    expect({ kind: kind.name, status: fast.status, body: await fast.json() }).toEqual({
      kind: kind.name,
      status: viaAction.status,
      body: await viaAction.json(),
    });
  }
}, 60_000);

it("answers webhooks with a JSON API's security headers, and refuses an unsigned body without keeping it", async () => {
  const response = await fetch(`${origin}/api/stripe/webhook`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "Stripe-Signature": "t=1,v1=00" },
    body: "{}",
  });
  expect(response.status).toBe(401);
  expect(response.headers.get("content-security-policy")).toBe("default-src 'none'; frame-ancestors 'none'");
  expect(response.headers.get("x-content-type-options")).toBe("nosniff");
  expect(response.headers.get("x-frame-options")).toBe("DENY");
  expect(response.headers.get("cache-control")).toBe("no-store");

  // 8 MiB without a signature: read to its end but not kept, then a 400 that closes the connection.
  const started = Date.now();
  const unsigned = await new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
    const request = http.request(`${origin}/api/stripe/webhook`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
    });
    request.on("response", (answer) => {
      answer.resume();
      resolve({ status: answer.statusCode ?? 0, connection: answer.headers.connection });
    });
    request.on("error", (error) => ((error as NodeJS.ErrnoException).code === "EPIPE" ? undefined : reject(error)));
    request.end(Buffer.alloc(8 * 1024 * 1024, 0x20));
  });
  expect(unsigned).toEqual({ status: 400, connection: "close" });
  expect(Date.now() - started).toBeLessThan(2_000);
});
