// Child processes the benches measure: the production app (server/index.ts on the Remix build) and
// other small servers. Their stdout goes to a file (reading a pipe would cost the bench CPU that the
// server needs); the listening port is read from that file.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export const ROOT = path.resolve(import.meta.dirname, "../..");

export type RunningProcess = {
  name: string;
  pid: number;
  /** performance.now() when it was spawned (a --cpu-prof profile starts then). */
  spawnedAt: number;
  origin: string;
  /** Peak resident set size so far (VmHWM), in MiB. */
  peakRssMiB(): number;
  /** Current resident set size (VmRSS), in MiB. */
  rssMiB(): number;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  alive(): boolean;
  stop(signal?: NodeJS.Signals): Promise<void>;
};

function procStatusMiB(pid: number, field: "VmHWM" | "VmRSS"): number {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    const kib = Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
    return kib / 1024;
  } catch {
    return NaN;
  }
}

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** CPU time (user + system) a process has used so far, in ms; NaN once it is gone. */
export function cpuTimeMs(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may contain spaces) start after the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return NaN;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Spawns `node [nodeArgs] script` with `env` and waits until its output shows `portPattern`'s first
 * group (the port it listens on).
 */
export async function spawnServer({
  name,
  script,
  env,
  nodeArgs = [],
  portPattern,
  timeoutMs = 60_000,
  cwd = ROOT,
}: {
  name: string;
  script: string;
  env: Record<string, string>;
  nodeArgs?: string[];
  portPattern: RegExp;
  timeoutMs?: number;
  /** The checkout to run it from (its build, its code). */
  cwd?: string;
}): Promise<RunningProcess> {
  const logFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), `tierdesk-bench-${name}-`)), "output.log");
  const fd = fs.openSync(logFile, "w");
  const spawnedAt = performance.now();
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", ...nodeArgs, script], {
    cwd,
    // Only what it is given: the bench's own environment (a DATABASE_URL, say) must not leak in.
    env: { NODE_ENV: "production", PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    stdio: ["ignore", fd, fd],
  });
  fs.closeSync(fd);
  let stopping = false;
  let crashed = false;
  const exited = new Promise<void>((resolve) =>
    child.once("exit", () => {
      crashed = !stopping;
      if (crashed) console.error(`${name} exited unexpectedly; its output: ${logFile}`);
      resolve();
    }),
  );
  const output = () => fs.readFileSync(logFile, "utf8");
  const alive = () => child.exitCode === null && child.signalCode === null;
  const pid = child.pid!;
  let lastPeak = 0;
  const peakRssMiB = () => {
    const now = procStatusMiB(pid, "VmHWM");
    if (Number.isFinite(now)) lastPeak = now;
    return lastPeak;
  };
  const stop = async (signal: NodeJS.Signals = "SIGTERM") => {
    stopping = true;
    if (alive()) {
      peakRssMiB();
      child.kill(signal);
      await Promise.race([exited, sleep(15_000)]);
      if (alive()) {
        child.kill("SIGKILL");
        await exited;
      }
    }
    // Its log is kept only when it ended on its own (a crash to look into).
    if (!crashed) fs.rmSync(path.dirname(logFile), { recursive: true, force: true });
  };

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const port = portPattern.exec(output())?.[1];
    if (port) {
      return {
        name,
        pid,
        spawnedAt,
        origin: `http://127.0.0.1:${port}`,
        peakRssMiB,
        rssMiB: () => procStatusMiB(pid, "VmRSS"),
        output,
        alive,
        stop,
      };
    }
    if (!alive()) throw new Error(`${name} exited before listening:\n${output().slice(-4000)}`);
    if (Date.now() > deadline) {
      const seen = output();
      await stop("SIGKILL");
      throw new Error(`${name} did not listen within ${timeoutMs} ms:\n${seen.slice(-4000)}`);
    }
    await sleep(50);
  }
}

export const WEBHOOK_SECRET = "whsec_bench_secret";
export const SESSION_SECRET = "bench-session-secret-0123456789abcdef0123456789abcdef";

/**
 * Tierdesk as a new user runs it in production: server/index.ts on the Remix build, NODE_ENV=production,
 * on PostgreSQL. `stripeApiBase` is a local Stripe double, or a closed port (any Stripe call then fails).
 */
export function startApp({
  name = "tierdesk",
  databaseUrl,
  stripeApiBase = "http://127.0.0.1:9",
  env = {},
  nodeArgs = [],
  cwd = ROOT,
}: {
  name?: string;
  databaseUrl: string;
  stripeApiBase?: string;
  env?: Record<string, string>;
  nodeArgs?: string[];
  /** Another checkout of Tierdesk (built), e.g. the previous commit's, to compare with in the same run. */
  cwd?: string;
}): Promise<RunningProcess> {
  return spawnServer({
    name,
    cwd,
    script: "server/index.ts",
    nodeArgs,
    env: {
      NODE_ENV: "production",
      PORT: "0",
      DATABASE_URL: databaseUrl,
      SESSION_SECRET,
      STRIPE_API_KEY: "sk_test_bench",
      STRIPE_API_BASE: stripeApiBase,
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      ...env,
    },
    portPattern: /"port":(\d+)[^\n]*listening/,
  });
}

/** `npm run build` (the Remix production build the app serves), unless the bench was told to skip it. */
export function buildApp(skip: boolean) {
  if (skip) {
    if (!fs.existsSync(path.join(ROOT, "build/index.js")))
      throw new Error("No build/index.js: run without --skip-build.");
    return;
  }
  process.stdout.write("Building (npm run build)… ");
  execFileSync("npm", ["run", "build"], { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"] });
  process.stdout.write("done\n");
}
