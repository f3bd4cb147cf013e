// The real server (server/index.ts on the Remix build) in development and in production: security
// headers on every response, a CSP nonce that matches the page's scripts, and a request log that
// keeps cookies and query strings out. Needs `build/index.js`: run `npx remix build` first.
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertFreshBuild } from "../build-freshness.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
// Start-up migrates and seeds a fresh embedded database: 5 s on a quiet machine, over 45 s when two
// servers start at once beside the rest of the suite on a busy 2-core one.
const START_TIMEOUT_MS = 120_000;

type LogLine = Record<string, unknown> & { msg?: string };

type RunningServer = {
  origin: string;
  /** Everything the child wrote to stdout so far. */
  stdout: () => string;
  logs: () => LogLine[];
  stop: () => Promise<void>;
};

function parseLines(text: string): LogLine[] {
  return text
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as LogLine];
      } catch {
        return [];
      }
    });
}

/** Starts `server/index.ts` on a free port (PORT=0) with fresh data folders; resolves once it listens. */
async function startServer(env: Record<string, string>): Promise<RunningServer> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "tierdesk-server-test-"));
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", "server/index.ts"], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: "0",
      LOG_LEVEL: "info",
      DATA_DIR: dataDir,
      PGLITE_DATA_DIR: path.join(dataDir, "pglite"),
      DATABASE_URL: "",
      STRIPE_API_KEY: "",
      STRIPE_API_BASE: "",
      STRIPE_WEBHOOK_SECRET: "",
      STRIPE_EMULATOR_PORT: "0",
      WHOP_API_KEY: "",
      WHOP_API_BASE: "",
      WHOP_WEBHOOK_SECRET: "",
      WHOP_EMULATOR_PORT: "0",
      APP_URL: "",
      TRUST_PROXY: "",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  };

  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const listening = parseLines(stdout).find(
      (line) => typeof line.port === "number" && /listening/.test(line.msg ?? ""),
    );
    if (listening) {
      const origin = `http://127.0.0.1:${listening.port}`;
      return { origin, stdout: () => stdout, logs: () => parseLines(stdout), stop };
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`The server did not start (exit ${child.exitCode}).\nstdout:\n${stdout}\nstderr:\n${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function cspDirectives(response: Response): Map<string, string[]> {
  const header = response.headers.get("content-security-policy");
  expect(header, "Content-Security-Policy header").toBeTruthy();
  return new Map(
    header!
      .split(";")
      .map((part) => part.trim().split(/\s+/))
      .flatMap(([name, ...values]): Array<[string, string[]]> => (name ? [[name, values]] : [])),
  );
}

function nonceOf(response: Response): string {
  const scriptSrc = cspDirectives(response).get("script-src") ?? [];
  const source = scriptSrc.find((value) => value.startsWith("'nonce-"));
  expect(source, `a nonce in script-src ${scriptSrc.join(" ")}`).toBeTruthy();
  return source!.slice("'nonce-".length, -1);
}

/** The nonce attribute of every <script> tag in the page (undefined where a tag has none). */
function scriptNonces(html: string): (string | undefined)[] {
  return [...html.matchAll(/<script\b([^>]*)>/g)].map(
    ([, attributes = ""]) => /\snonce="([^"]*)"/.exec(attributes)?.[1],
  );
}

/** What every response must carry, whatever the mode and status. */
function expectSecurityHeaders(response: Response, production: boolean) {
  const csp = cspDirectives(response);
  expect(csp.get("script-src")).toContain("'self'");
  expect(csp.get("script-src")).not.toContain("'unsafe-inline'");
  expect(csp.get("script-src")).not.toContain("'unsafe-eval'");
  expect(csp.get("default-src")).toEqual(["'self'"]);
  expect(csp.get("frame-ancestors")).toEqual(["'none'"]);
  expect(csp.get("object-src")).toEqual(["'none'"]);
  expect(csp.get("base-uri")).toEqual(["'self'"]);
  expect(csp.get("img-src")).toEqual(["'self'", "data:"]);
  expect(csp.get("form-action")).toEqual(
    expect.arrayContaining(["'self'", "https://checkout.stripe.com", "https://billing.stripe.com"]),
  );
  expect(response.headers.get("x-content-type-options")).toBe("nosniff");
  expect(response.headers.get("referrer-policy")).toBe("same-origin");
  expect(response.headers.get("cross-origin-opener-policy")).toBe("same-origin");
  expect(response.headers.get("x-frame-options")).toBe("DENY");
  expect(response.headers.get("x-powered-by")).toBeNull();
  if (production) {
    expect(response.headers.get("strict-transport-security")).toMatch(/^max-age=\d+/);
    expect(csp.has("upgrade-insecure-requests")).toBe(true);
    expect(csp.get("connect-src")).toEqual(["'self'"]);
  } else {
    expect(response.headers.get("strict-transport-security")).toBeNull();
    expect(csp.has("upgrade-insecure-requests")).toBe(false);
    expect(csp.get("connect-src")).toEqual(["'self'", "ws:"]);
  }
}

const MODES = [
  { mode: "development", production: false, env: { NODE_ENV: "development", SESSION_SECRET: "" } },
  { mode: "production", production: true, env: { NODE_ENV: "production", SESSION_SECRET: "x".repeat(64) } },
] as const;

// Both servers start at once: start-up (migrating PGlite, seeding) is most of this file's time.
const servers = new Map<string, RunningServer>();

beforeAll(async () => {
  assertFreshBuild();
  const started = await Promise.allSettled(MODES.map(({ env }) => startServer(env)));
  started.forEach((result, index) => {
    const mode = MODES[index]?.mode;
    if (result.status === "fulfilled" && mode) servers.set(mode, result.value);
  });
  const failed = started.find((result) => result.status === "rejected");
  if (failed) throw failed.reason;
}, START_TIMEOUT_MS + 15_000);

afterAll(async () => {
  await Promise.all([...servers.values()].map((server) => server.stop()));
});

describe.each(MODES)("the server in $mode", ({ mode, production }) => {
  let server: RunningServer;
  beforeAll(() => {
    server = servers.get(mode)!;
  });

  const get = (pathname: string, init?: RequestInit) =>
    fetch(`${server.origin}${pathname}`, { redirect: "manual", ...init });

  it.each(["/login", "/pricing"])("%s: security headers, and a fresh nonce on every <script>", async (pathname) => {
    const first = await get(pathname);
    expect(first.status).toBe(200);
    expectSecurityHeaders(first, production);
    const nonce = nonceOf(first);
    expect(Buffer.from(nonce, "base64")).toHaveLength(16);
    const nonces = scriptNonces(await first.text());
    expect(nonces.length).toBeGreaterThan(0);
    expect(nonces.every((value) => value === nonce)).toBe(true);

    const second = await get(pathname);
    const again = nonceOf(second);
    expect(again).not.toBe(nonce);
    expect(new Set(scriptNonces(await second.text()))).toEqual(new Set([again]));
  });

  it("/admin: the redirect to sign in carries the headers too", async () => {
    const response = await get("/admin");
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toMatch(/^\/login/);
    expectSecurityHeaders(response, production);
  });

  it("static files and JSON answers carry the headers too", async () => {
    expectSecurityHeaders(await get("/favicon.svg"), production);
    expectSecurityHeaders(await get("/healthz"), production);
  });

  it("form posts may go to this site and Stripe's and Whop's hosted pages (and the emulators' in development)", async () => {
    const formAction = cspDirectives(await get("/login")).get("form-action")!;
    const emulator = server.logs().find((line) => /^Stripe emulator at/.test(line.msg ?? ""));
    const whopEmulator = server.logs().find((line) => /^Whop emulator at/.test(line.msg ?? ""));
    const whopPages = ["https://whop.com", "https://sandbox.whop.com"];
    if (production) {
      expect(emulator).toBeUndefined();
      expect(whopEmulator).toBeUndefined();
      expect(formAction).toEqual(["'self'", "https://checkout.stripe.com", "https://billing.stripe.com", ...whopPages]);
    } else {
      const emulatorOrigin = /at (http:\/\/[^ ]+)/.exec(emulator!.msg!)![1]!;
      const whopEmulatorOrigin = /at (http:\/\/[^ ]+)/.exec(whopEmulator!.msg!)![1]!;
      expect(formAction).toEqual([
        "'self'",
        "https://checkout.stripe.com",
        "https://billing.stripe.com",
        new URL(emulatorOrigin).origin,
        ...whopPages,
        new URL(whopEmulatorOrigin).origin,
      ]);
    }
  });

  it("logs one line per request: method, path, status, duration; never the query or cookies", async () => {
    const pricingLines = () =>
      server.logs().filter((line) => (line.req as { path?: string } | undefined)?.path === "/pricing");
    const before = pricingLines().length;
    const marker = `probe-${Date.now()}`;
    const response = await get(`/pricing?token=${marker}-query-secret`, {
      headers: {
        Cookie: `__session=${marker}-cookie-secret; other=${marker}-other-secret`,
        Authorization: `Bearer ${marker}-bearer`,
      },
    });
    expect(response.status).toBe(200);
    await response.text();

    // The line is written when the response finishes; give the child a moment to write it.
    for (let attempt = 0; attempt < 40 && pricingLines().length === before; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const lines = pricingLines().slice(before);
    expect(lines).toHaveLength(1);
    const line = lines[0] ?? {};
    expect(line).toMatchObject({ req: { method: "GET", path: "/pricing" }, res: { statusCode: 200 }, level: 30 });
    expect(line.durationMs).toEqual(expect.any(Number));
    expect(Object.keys(line.req as object).sort()).toEqual(["method", "path"]);
    expect(Object.keys(line.res as object)).toEqual(["statusCode"]);
    expect(server.stdout()).not.toContain(marker);
    expect(server.stdout()).not.toMatch(/token=|cookie|authorization/i);
  });
});
