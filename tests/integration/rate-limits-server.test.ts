// Rate limits through the real server (the production build through server/app.ts), where the client
// IP comes from the connection, not from a test: a forged X-Forwarded-For changes nothing unless
// TRUST_PROXY says a proxy sets it, and a window, once over, lets the client in again.
import type { Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Config, parseConfig, useConfig } from "../../app/utils/config.server.ts";
import { RATE_LIMIT_RULES } from "../../app/web/rate-limit.server.ts";
import { startProductionServer } from "../production-server.ts";
import { testDb } from "../setup/database.ts";
import { seedDemoData } from "../utils.ts";

const SIGNUPS_PER_IP = 3;
const environment = {
  NODE_ENV: "production",
  SESSION_SECRET: "rate-limits-".repeat(6),
  LOG_LEVEL: "silent",
  SIGNUP_LIMIT_PER_IP: String(SIGNUPS_PER_IP),
};

const servers: Server[] = [];
async function serve(config: Config) {
  const { server, origin } = await startProductionServer(config);
  servers.push(server);
  return origin;
}

let direct = ""; // no TRUST_PROXY: the connection's address is the client
let behindProxy = ""; // TRUST_PROXY=1: the address the proxy put in X-Forwarded-For
beforeAll(async () => {
  const config = parseConfig(environment);
  useConfig(config);
  await seedDemoData();
  direct = await serve(config);
  behindProxy = await serve(parseConfig({ ...environment, TRUST_PROXY: "1" }));
}, 60_000);

afterAll(async () => {
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
});

/** The sign-up windows stored in the database are emptied between tests: each starts with a full allowance. */
async function forgetSignUpWindows() {
  await testDb().prisma.$executeRawUnsafe(
    `DELETE FROM rate_limits WHERE key LIKE '${RATE_LIMIT_RULES.signUpPerIp.keyPrefix}:%'`,
  );
}

/** An invalid sign-up (no email): it still counts against the limit, and creates nobody. */
async function signUp(origin: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${origin}/signup`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: origin, ...headers },
    body: new URLSearchParams({ email: "", password: "", confirmPassword: "" }),
    redirect: "manual",
  });
  await response.body?.cancel();
  return response.status;
}

const forged = (i: number) => ({ "X-Forwarded-For": `203.0.113.${i}` });

describe("a client sending a different X-Forwarded-For on each request", () => {
  it("is still one client without TRUST_PROXY: the limit bites", async () => {
    await forgetSignUpWindows();
    const statuses: number[] = [];
    for (let i = 1; i <= SIGNUPS_PER_IP + 2; i++) statuses.push(await signUp(direct, forged(i)));
    expect(statuses).toEqual([400, 400, 400, 429, 429]);
  });

  it("is a new client each time behind a trusted proxy (which is what makes the header matter)", async () => {
    await forgetSignUpWindows();
    const statuses: number[] = [];
    for (let i = 1; i <= SIGNUPS_PER_IP + 2; i++) statuses.push(await signUp(behindProxy, forged(i)));
    expect(statuses).toEqual([400, 400, 400, 400, 400]);
    // One forwarded address is still held to its own limit.
    for (let i = 0; i < SIGNUPS_PER_IP; i++) await signUp(behindProxy, forged(99));
    expect(await signUp(behindProxy, forged(99))).toBe(429);
  });
});

describe("a limited client", () => {
  it("gets in again once its window is over, and is then counted afresh", async () => {
    await forgetSignUpWindows();
    for (let i = 0; i < SIGNUPS_PER_IP; i++) expect(await signUp(direct)).toBe(400);
    expect(await signUp(direct)).toBe(429);
    expect(await signUp(direct)).toBe(429); // a refused attempt does not reopen the window

    // The window (15 minutes) is kept in the database: move its end into the past, as time would.
    const moved = await testDb().prisma.$executeRawUnsafe(
      `UPDATE rate_limits SET expire = ${Date.now() - 1000} WHERE key LIKE '${RATE_LIMIT_RULES.signUpPerIp.keyPrefix}:%'`,
    );
    expect(moved).toBe(1);
    for (let i = 0; i < SIGNUPS_PER_IP; i++) expect(await signUp(direct)).toBe(400);
    expect(await signUp(direct)).toBe(429);
  });

  it("stays limited while its window lasts, however close to the end", async () => {
    await forgetSignUpWindows();
    for (let i = 0; i <= SIGNUPS_PER_IP; i++) await signUp(direct);
    await testDb().prisma.$executeRawUnsafe(
      `UPDATE rate_limits SET expire = ${Date.now() + 60_000} WHERE key LIKE '${RATE_LIMIT_RULES.signUpPerIp.keyPrefix}:%'`,
    );
    expect(await signUp(direct)).toBe(429);
  });
});
