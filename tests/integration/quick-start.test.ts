// The quick start (`npm start`: server/index.ts with nothing configured) as someone else on the network
// sees it: it listens on 127.0.0.1 only, and its emulators' webhook secrets are random per data folder,
// so an event signed with a published secret is refused. Needs `build/index.js`: run `npx remix build`.
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import Stripe from "stripe";
import { afterAll, beforeAll, expect, it } from "vitest";
import { signWhopPayload } from "../../app/services/whop/signatures.server.ts";
import { event, subscription } from "../stripe-fixtures.ts";
import { assertFreshBuild } from "../build-freshness.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
// Start-up migrates and seeds a fresh embedded database: 5 s on a quiet machine, over 45 s when two
// servers start at once beside the rest of the suite on a busy 2-core one.
const START_TIMEOUT_MS = 120_000;

type Listening = { host: string; port: number; msg: string };

let child: ChildProcess;
let dataDir: string;
let listening: Listening;
let output = "";

beforeAll(async () => {
  assertFreshBuild();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "tierdesk-quick-start-"));
  // Nothing configured, as after `npm ci && npm start` (empty counts as unset; HOST too).
  const unset = Object.fromEntries(
    ["HOST", "DATABASE_URL", "STRIPE_API_KEY", "STRIPE_API_BASE", "STRIPE_WEBHOOK_SECRET", "WHOP_API_KEY"]
      .concat(["WHOP_API_BASE", "WHOP_WEBHOOK_SECRET", "APP_URL", "TRUST_PROXY", "SESSION_SECRET"])
      .map((name) => [name, ""]),
  );
  child = spawn(process.execPath, ["--import", "tsx", "server/index.ts"], {
    cwd: ROOT,
    env: {
      ...process.env,
      ...unset,
      NODE_ENV: "development",
      LOG_LEVEL: "info",
      PORT: "0",
      DATA_DIR: dataDir,
      PGLITE_DATA_DIR: path.join(dataDir, "pglite"),
      STRIPE_EMULATOR_PORT: "0",
      WHOP_EMULATOR_PORT: "0",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const line = output
      .split("\n")
      .filter((text) => text.includes("Tierdesk listening"))
      .map((text) => JSON.parse(text) as Listening)[0];
    if (line) {
      listening = line;
      return;
    }
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`The server did not start:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}, START_TIMEOUT_MS + 5_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
    if (child.exitCode === null) child.kill("SIGKILL");
  }
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

const origin = () => `http://127.0.0.1:${listening.port}`;

/** "connected" or the connection error's code (ECONNREFUSED when nothing listens there). */
function tryConnect(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: 3_000 });
    socket.once("connect", () => {
      socket.destroy();
      resolve("connected");
    });
    socket.once("timeout", () => {
      socket.destroy();
      resolve("timeout");
    });
    socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

const nonLoopbackAddresses = Object.values(os.networkInterfaces())
  .flat()
  .filter((address): address is os.NetworkInterfaceInfo => Boolean(address && !address.internal))
  // A link-local IPv6 address needs its zone to be dialled; any other address will do.
  .filter((address) => !(address.family === "IPv6" && address.address.startsWith("fe80:")));

it("listens on 127.0.0.1 and says so", async () => {
  expect(listening.host).toBe("127.0.0.1");
  expect(listening.msg).toBe(`Tierdesk listening on http://127.0.0.1:${listening.port}`);
  expect((await fetch(`${origin()}/healthz`)).status).toBe(200);
});

const unreachableTitle = "cannot be reached on this machine's other addresses (demo users and emulators stay local)";
it.skipIf(nonLoopbackAddresses.length === 0)(
  nonLoopbackAddresses.length
    ? unreachableTitle
    : `SKIPPED, this machine has no non-loopback address: ${unreachableTitle}`,
  async () => {
    for (const { address } of nonLoopbackAddresses) {
      expect(await tryConnect(address, listening.port), address).toBe("ECONNREFUSED");
    }
  },
);

it("keeps random emulator webhook secrets in its data folder, no published constant", () => {
  const stripeSecret = fs.readFileSync(path.join(dataDir, "stripe-emulator-webhook-secret"), "utf8").trim();
  const whopSecret = fs.readFileSync(path.join(dataDir, "whop-emulator-webhook-secret"), "utf8").trim();
  expect(stripeSecret).toMatch(/^whsec_[0-9a-f]{64}$/);
  expect(whopSecret).toMatch(/^ws_[0-9a-f]{64}$/);
});

function stripeDelivery(secret: string, evt: unknown) {
  const payload = JSON.stringify(evt);
  return fetch(`${origin()}/api/stripe/webhook`, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      "Stripe-Signature": Stripe.webhooks.generateTestHeaderString({ payload, secret }),
    },
    body: payload,
  });
}

it("refuses a Stripe event signed with the old published secret, accepts one signed with the data folder's", async () => {
  // A paying customer's cancellation, as the attacker sent it.
  const cancellation = subscription({ customer: "cus_forged", status: "canceled", lookupKey: "pro_monthly" });
  const forged = await stripeDelivery("whsec_emulator", event("customer.subscription.deleted", cancellation));
  expect(forged.status).toBe(401);
  expect(await forged.json()).toEqual({ error: "Invalid Stripe signature." });
  const stripeSecret = fs.readFileSync(path.join(dataDir, "stripe-emulator-webhook-secret"), "utf8").trim();
  // An event type Tierdesk records and ignores: the signature alone decides the answer.
  const accepted = await stripeDelivery(stripeSecret, event("balance.available", { object: "balance" }));
  expect(accepted.status).toBe(200);
});

it("refuses a Whop event signed with the old published secret", async () => {
  const id = `msg_forged_${Date.now()}`;
  const timestamp = Math.floor(Date.now() / 1000);
  const payload = JSON.stringify({ id, type: "membership.deactivated", timestamp: new Date().toISOString(), data: {} });
  const response = await fetch(`${origin()}/api/whop/webhook`, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      "webhook-id": id,
      "webhook-timestamp": String(timestamp),
      "webhook-signature": signWhopPayload("ws_emulator_secret", id, timestamp, payload),
    },
    body: payload,
  });
  expect(response.status).toBe(401);
});
