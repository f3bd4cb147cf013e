// Hostile input on the real server (the production build served by server/app.ts on this file's
// database): bodies over their route's limit are answered 413 before they are read, refused fields
// are not echoed back at length, control characters are a field error or a 400 (never a 500), and a
// tier's key cannot take the address of another tier page. Needs `build/index.js` (`npm run build`).
import http, { type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig, useConfig } from "../../app/utils/config.server.ts";
import { startProductionServer } from "../production-server.ts";
import { testDb } from "../setup/database.ts";
import { useStripeEmulator } from "../stripe-harness.ts";
import { seedDemoData, sessionCookieFor } from "../utils.ts";

useStripeEmulator();
let server: Server;
let origin = "";
let admin = "";
let customer = "";
let clients = 0;

beforeAll(async () => {
  // Behind a proxy: each request from an address of its own, so sign-in limits stay out of the answers.
  const config = parseConfig({ NODE_ENV: "production", SESSION_SECRET: "hostile-".repeat(10), TRUST_PROXY: "1" });
  useConfig(config);
  await seedDemoData();
  admin = await sessionCookieFor("admin@example.com");
  customer = await sessionCookieFor("customer@example.com");
  ({ server, origin } = await startProductionServer(config));
}, 60_000);

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
});

const nextAddress = () => `10.9.${(++clients >> 8) & 255}.${clients & 255}`;

function post(path: string, body: string, { cookie, type }: { cookie?: string; type?: string } = {}) {
  return fetch(`${origin}${path}`, {
    method: "POST",
    redirect: "manual",
    body,
    headers: {
      "Content-Type": type ?? "application/x-www-form-urlencoded",
      "X-Forwarded-For": nextAddress(),
      ...(cookie ? { Cookie: cookie } : {}),
    },
  });
}

/** A POST on a connection of its own (no keep-alive pool): resolves with the status. */
function postOnce(path: string, body: string, headers: Record<string, string>): Promise<number> {
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const request = http.request({ host: "127.0.0.1", port, path, method: "POST", headers, agent: false });
    request.on("response", (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on("error", reject);
    request.end(body);
  });
}

type RawAnswer = { status: number; body: string; sentBeforeAnswer: number; continued: boolean };

/**
 * Declares a body of `declared` bytes and sends it slowly, 64 KiB at a time, until the server answers:
 * how much had been sent by then shows whether the server waited for the body.
 */
function sendUntilAnswered(
  path: string,
  declared: number,
  { expectContinue = false }: { expectContinue?: boolean } = {},
): Promise<RawAnswer> {
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    let continued = false;
    const request = http.request({
      host: "127.0.0.1",
      port,
      path,
      method: "POST",
      headers: {
        "Content-Type": "application/x-www-form-urlencoded",
        "Content-Length": String(declared),
        "X-Forwarded-For": nextAddress(),
        ...(expectContinue ? { Expect: "100-continue" } : {}),
      },
    });
    const chunk = Buffer.alloc(64 * 1024, "a");
    const pump = () => {
      if (answered || sent >= declared) return;
      const size = Math.min(chunk.length, declared - sent);
      sent += size;
      request.write(chunk.subarray(0, size), () => setTimeout(pump, 2));
    };
    request.on("continue", () => {
      continued = true;
      request.write("email=");
      pump();
    });
    request.on("response", (response) => {
      answered = true;
      const sentBeforeAnswer = sent;
      const parts: Buffer[] = [];
      response.on("data", (part: Buffer) => parts.push(part));
      response.on("end", () => {
        request.destroy();
        resolve({
          status: response.statusCode ?? 0,
          body: Buffer.concat(parts).toString(),
          sentBeforeAnswer,
          continued,
        });
      });
    });
    request.on("error", (error) => (answered ? undefined : reject(error)));
    if (!expectContinue) {
      request.write("email=");
      sent = 6;
      pump();
    } else request.flushHeaders();
  });
}

describe("body limits", () => {
  it("answers a 200 MB sign-in form 413 from its length, before the body is sent, with a short answer", async () => {
    const answer = await sendUntilAnswered("/login", 200 * 1024 * 1024);
    expect(answer.status).toBe(413);
    expect(answer.body).toContain("larger than 64 KiB");
    expect(answer.body.length).toBeLessThan(1000);
    // The answer came while the sender was still at its first few chunks, not after 200 MB.
    expect(answer.sentBeforeAnswer).toBeLessThan(4 * 1024 * 1024);
  });

  it("tells a client that asks first (Expect: 100-continue) 413 without inviting the body", async () => {
    const answer = await sendUntilAnswered("/signup", 50 * 1024 * 1024, { expectContinue: true });
    expect(answer.status).toBe(413);
    expect(answer.continued).toBe(false);
  });

  it("cuts a body sent without a length (chunked) at the same limit", async () => {
    const { port } = server.address() as AddressInfo;
    const status = await new Promise<number>((resolve, reject) => {
      const request = http.request({
        host: "127.0.0.1",
        port,
        path: "/login",
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", "X-Forwarded-For": nextAddress() },
      });
      request.on("response", (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
        request.destroy();
      });
      request.on("error", reject);
      request.write(`email=${"a".repeat(200 * 1024)}`);
    });
    expect(status).toBe(413);
  });

  it("refuses a JSON checkout call over the limit with 413", async () => {
    const response = await post("/api/stripe/checkout", JSON.stringify({ lookup_key: "x".repeat(70 * 1024) }), {
      cookie: customer,
      type: "application/json",
    });
    expect(response.status).toBe(413);
  });

  it("accepts a webhook body up to 1 MiB (its own route's limit), not the forms' 64 KiB", async () => {
    // Refused (Whop is not configured here: 503), but not for its size. Each on a connection of its
    // own: a refused webhook's connection is closed.
    const send = (body: string) => postOnce("/api/whop/webhook", body, { "Content-Type": "application/json" });
    expect(await send(JSON.stringify({ padding: "x".repeat(200 * 1024) }))).toBe(503);
    expect(await send("x".repeat(1024 * 1024 + 10))).toBe(413);
  });

  it("answers a sign-in with a 60 KB email 400 without echoing it", async () => {
    const response = await post("/login", new URLSearchParams({ email: "a".repeat(60_000), password: "x" }).toString());
    expect(response.status).toBe(400);
    const page = await response.text();
    expect(page).toContain("Email is too long.");
    expect(page).not.toContain("a".repeat(300));
    expect(page.length).toBeLessThan(30_000);
  });

  it("answers a tier form with a 60 KB name 400 at the field, echoing at most the field's maximum", async () => {
    const response = await post(
      "/admin/tiers/new",
      new URLSearchParams({
        name: "N".repeat(50_000),
        key: "big",
        userLimit: "1",
        billingProvider: "exempt",
        description: "D".repeat(6_000),
      }).toString(),
      { cookie: admin },
    );
    expect(response.status).toBe(400);
    const page = await response.text();
    expect(page).toContain("Use at most 64 characters.");
    expect(page).not.toContain("N".repeat(65));
    expect(page).not.toContain("D".repeat(501));
  });
});

describe("control characters", () => {
  const tierForm = (fields: Record<string, string>) =>
    new URLSearchParams({ key: "nul-tier", userLimit: "1", billingProvider: "exempt", ...fields }).toString();

  it("refuses a NUL in a tier's name at the field and keeps what was typed", async () => {
    const response = await post("/admin/tiers/new", tierForm({ name: "nul\u0000byte" }), { cookie: admin });
    expect(response.status).toBe(400);
    const page = await response.text();
    expect(page).toContain("Remove the invisible control character");
    // What was typed comes back, the control character shown as U+FFFD.
    expect(page).toContain("nul\uFFFDbyte");
    expect(await testDb().prisma.subscriptionTier.findUnique({ where: { key: "nul-tier" } })).toBeNull();
  });

  it("refuses a NUL in a permission's description at the field", async () => {
    const response = await post(
      "/admin/permissions",
      new URLSearchParams({ intent: "create", name: "nul.test", description: "a\u0000b" }).toString(),
      { cookie: admin },
    );
    expect(response.status).toBe(400);
    expect(await response.text()).toContain("Remove the invisible control character");
    expect(await testDb().prisma.permission.findUnique({ where: { name: "nul.test" } })).toBeNull();
  });

  it("refuses a NUL in a hidden or chosen field with a 400", async () => {
    const user = await testDb().prisma.user.findUniqueOrThrow({ where: { email: "customer@example.com" } });
    const response = await post(`/admin/users/${user.id}`, "intent=tier&tier=pro%00", { cookie: admin });
    expect(response.status).toBe(400);
  });

  it.each(["/admin/users?q=a%00b", "/admin/audit?entityId=a%00b", "/admin/events?q=%01", "/admin/users/1%00"])(
    "answers %s 400, not 500",
    async (path) => {
      const response = await fetch(`${origin}${path}`, { headers: { Cookie: admin }, redirect: "manual" });
      expect(response.status).toBe(400);
      expect(await response.text()).toContain("control character");
    },
  );

  it("refuses a NUL in a checkout's lookup key with a 400", async () => {
    const response = await post("/api/stripe/checkout", JSON.stringify({ lookup_key: "pro_monthly\u0000" }), {
      cookie: customer,
      type: "application/json",
    });
    expect(response.status).toBe(400);
  });
});

describe("tier keys and numbers", () => {
  const form = (fields: Record<string, string>) =>
    new URLSearchParams({ name: "Tier", userLimit: "1", billingProvider: "exempt", ...fields }).toString();

  it("refuses the key new, the address of the new-tier form", async () => {
    const response = await post("/admin/tiers/new", form({ key: "new" }), { cookie: admin });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain("another page");
    expect(await testDb().prisma.subscriptionTier.findUnique({ where: { key: "new" } })).toBeNull();
  });

  it.each(["0x10", "1e3", "16.0", "+5"])("refuses the user limit %s (decimal digits only)", async (userLimit) => {
    const response = await post("/admin/tiers/new", form({ key: "hexed", userLimit }), { cookie: admin });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain("in digits");
    expect(await testDb().prisma.subscriptionTier.findUnique({ where: { key: "hexed" } })).toBeNull();
  });

  it("still saves a user limit typed in digits", async () => {
    const response = await post("/admin/tiers/new", form({ key: "digits", userLimit: " 16 " }), { cookie: admin });
    expect(response.status).toBe(302);
    const tier = await testDb().prisma.subscriptionTier.findUniqueOrThrow({ where: { key: "digits" } });
    expect(tier.userLimit).toBe(16);
  });
});
