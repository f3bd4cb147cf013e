// Bulk replay on the job queue (pg-boss) across app instances on PostgreSQL: a replay started on one
// instance that is then killed (SIGKILL) mid-job is finished by another instance, with no page visit,
// every failed event replayed exactly once. Starts real server processes: needs `build/index.js`
// (run `npx remix build`). The embedded database's run: bulk-replay-queue-embedded.test.ts.
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { assertFreshBuild } from "../build-freshness.ts";
import { attemptsOf, EVENT_TYPE, failedEvents, replayJob, waitFor } from "../bulk-replay-fixtures.ts";
import { requirePostgres } from "../setup/database.ts";
import { useStripeEmulator } from "../stripe-harness.ts";
import { seedDemoData } from "../utils.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");

useStripeEmulator();

beforeAll(async () => {
  await seedDemoData();
});

// ---------------------------------------------------------------------------------------------
// Two app instances on one PostgreSQL database

type Instance = { child: ChildProcess; origin: string; output: () => string };
const instances: Instance[] = [];
const dataDirs: string[] = [];
const START_TIMEOUT_MS = 60_000;
// Short, so that the killed instance's step is taken over within seconds.
const JOB_TIMEOUT_SECONDS = 3;

async function startInstance(databaseUrl: string, name: string): Promise<Instance> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `tierdesk-queue-${name}-`));
  dataDirs.push(dataDir);
  let output = "";
  const child = spawn(process.execPath, ["--import", "tsx", "server/index.ts"], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: "development",
      LOG_LEVEL: "info",
      HOST: "127.0.0.1",
      PORT: "0",
      DATABASE_URL: databaseUrl,
      DATABASE_POOL_SIZE: "5",
      DATA_DIR: dataDir,
      SESSION_SECRET: "bulk-replay-queue-test-secret",
      STRIPE_API_KEY: "",
      STRIPE_API_BASE: "",
      STRIPE_WEBHOOK_SECRET: "",
      STRIPE_EMULATOR_PORT: "0",
      WHOP_API_KEY: "",
      WHOP_EMULATOR_PORT: "0",
      APP_URL: "",
      WORKER_ENABLED: "true",
      JOB_TIMEOUT_SECONDS: String(JOB_TIMEOUT_SECONDS),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  const instance: Instance = { child, origin: "", output: () => output };
  instances.push(instance);
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const line = output.split("\n").find((text) => text.includes("Tierdesk listening"));
    if (line) {
      instance.origin = `http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}`;
      return instance;
    }
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`Instance ${name} did not start:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Signs in on `instance` as support (the demo user) and returns the session cookie. */
async function signIn(instance: Instance) {
  const response = await fetch(`${instance.origin}/login`, {
    method: "POST",
    redirect: "manual",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: instance.origin },
    body: new URLSearchParams({ email: "support@example.com", password: "support-demo-password", next: "/admin" }),
  });
  expect(response.status).toBe(302);
  return (response.headers.get("set-cookie") ?? "").split(";")[0]!;
}

async function stopInstance(instance: Instance) {
  const { child } = instance;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
  if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
}

afterEach(async () => {
  await Promise.all(instances.splice(0).map(stopInstance));
});

afterAll(() => {
  for (const dir of dataDirs) fs.rmSync(dir, { recursive: true, force: true });
});

describe("bulk replay across app instances (PostgreSQL)", () => {
  it("finishes a replay whose instance was killed mid-job on another instance, each event replayed once", async (ctx) => {
    const databaseUrl = requirePostgres(ctx);
    assertFreshBuild();
    const total = 400;
    const since = new Date(Date.now() - 1000);
    const { ids, fix } = await failedEvents("queue_crash", total);
    await fix();

    // Instance A: support starts "replay all failed" there, as on the events page.
    const a = await startInstance(databaseUrl, "a");
    const cookie = await signIn(a);
    const filter = new URLSearchParams({ status: "failed", type: EVENT_TYPE, from: since.toISOString() });
    const started = await fetch(`${a.origin}/admin/events?index`, {
      method: "POST",
      redirect: "manual",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: a.origin, Cookie: cookie },
      body: new URLSearchParams({ intent: "replay-all", back: `/admin/events?${filter}` }),
    });
    expect(started.status, a.output()).toBe(302);
    const jobId = Number(started.headers.get("location")?.match(/\/admin\/events\/replays\/(\d+)$/)?.[1]);
    expect(jobId).toBeGreaterThan(0);
    expect((await replayJob(jobId)).total).toBe(total);

    // A works on it; it is killed mid-job, its step still active on the queue.
    const midJob = await waitFor(
      "instance A to make progress",
      () => replayJob(jobId),
      (job) => job.processed >= 25,
      30_000,
    );
    a.child.kill("SIGKILL");
    await new Promise((resolve) => a.child.once("exit", resolve));
    const afterKill = await replayJob(jobId);
    expect(midJob.status).toBe("running");
    expect(afterKill.status).toBe("running");
    expect(afterKill.processed).toBeLessThan(total);

    // Instance B starts; nobody opens the job's page. Its worker takes the step over after its timeout.
    await startInstance(databaseUrl, "b");
    const finished = await waitFor(
      "instance B to finish the job",
      () => replayJob(jobId),
      (job) => job.status === "finished",
      60_000,
    );
    expect(finished.processed + finished.failed).toBeLessThanOrEqual(total);
    // Each replay is counted as soon as it is done: the kill loses at most the one in flight.
    expect(finished.processed).toBeGreaterThanOrEqual(total - 1);
    expect(finished.failed).toBe(0);
    // Every failed event replayed exactly once: one failed delivery, one bulk replay attempt, processed.
    const attempts = await attemptsOf(ids);
    expect(attempts).toHaveLength(total);
    expect(attempts.filter((row) => row.status !== "processed")).toEqual([]);
    expect(attempts.filter((row) => row.attempts.webhook !== 1 || row.attempts.bulk_replay !== 1)).toEqual([]);
    expect(attempts.filter((row) => Object.keys(row.attempts).length !== 2)).toEqual([]);
  }, 180_000);
});
