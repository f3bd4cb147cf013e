// A PostgreSQL server of our own (initdb into a temp folder, on a free port) that a bench or test may
// stop and start: the shared server at 127.0.0.1:5432 is never touched. Run as root, the server runs
// as the `postgres` user (PostgreSQL refuses to run as root).
import { execFile, execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

export type PrivatePostgres = {
  /** postgresql://postgres@127.0.0.1:<port>/postgres */
  url: string;
  port: number;
  dataDir: string;
  start(): Promise<void>;
  /** Fast shutdown: every connection is cut, as when the server goes down. */
  stop(): Promise<void>;
  isRunning(): boolean;
  /** Stops it and deletes its data. */
  destroy(): Promise<void>;
};

/** The folder of PostgreSQL's server binaries (initdb, pg_ctl), or null when none is installed. */
export function postgresBinDir(): string | null {
  const root = "/usr/lib/postgresql";
  if (fs.existsSync(root)) {
    const versions = fs
      .readdirSync(root)
      .filter((name) => fs.existsSync(path.join(root, name, "bin", "initdb")))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return path.join(root, versions[0], "bin");
  }
  const found = spawnSync("sh", ["-c", "command -v initdb"], { encoding: "utf8" }).stdout.trim();
  return found ? path.dirname(fs.realpathSync(found)) : null;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const asRoot = process.getuid?.() === 0;

function command(bin: string, args: string[]): [string, string[]] {
  // `runuser` keeps our environment; the server and its files belong to the postgres user.
  return asRoot ? ["runuser", ["-u", "postgres", "--", bin, ...args]] : [bin, args];
}

function run(bin: string, args: string[]) {
  const [file, argv] = command(bin, args);
  execFileSync(file, argv, { stdio: ["ignore", "pipe", "pipe"] });
}

/** Without blocking the event loop (a bench's load keeps running while the server stops). */
function runAsync(bin: string, args: string[]): Promise<void> {
  const [file, argv] = command(bin, args);
  return new Promise((resolve, reject) =>
    execFile(file, argv, (error, _stdout, stderr) =>
      error ? reject(new Error(`${bin}: ${stderr || error.message}`)) : resolve(),
    ),
  );
}

/** Creates and starts a private cluster. `settings` become `-c name=value` server options. */
export async function startPrivatePostgres(settings: Record<string, string> = {}): Promise<PrivatePostgres> {
  const bin = postgresBinDir();
  if (!bin) throw new Error("No PostgreSQL server binaries (initdb, pg_ctl) found: install postgresql.");
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "tierdesk-private-pg-"));
  if (asRoot) execFileSync("chown", ["postgres", dataDir]);
  const port = await freePort();
  run(path.join(bin, "initdb"), ["-D", dataDir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
  const options = Object.entries({
    port: String(port),
    listen_addresses: "127.0.0.1",
    unix_socket_directories: dataDir,
    ...settings,
  })
    .map(([name, value]) => `-c ${name}=${value}`)
    .join(" ");
  const pgCtl = path.join(bin, "pg_ctl");
  let running = false;
  const handle: PrivatePostgres = {
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    async start() {
      await runAsync(pgCtl, [
        "-D",
        dataDir,
        "-o",
        options,
        "-l",
        path.join(dataDir, "server.log"),
        "-w",
        "-t",
        "30",
        "start",
      ]);
      running = true;
    },
    async stop() {
      await runAsync(pgCtl, ["-D", dataDir, "-m", "fast", "-w", "-t", "30", "stop"]);
      running = false;
    },
    isRunning: () => running,
    async destroy() {
      if (running) await handle.stop().catch(() => {});
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
  await handle.start();
  return handle;
}
