// Outgoing webhook fan-out (docs/decisions/018): 10,000 entitlement changes (an exempt tier given, then
// taken back, through the admin service, each in its own transaction) → 10,000 signed messages to a
// local receiver, delivered by two worker processes (`npm run worker`) racing on one database. Checked:
// every message arrives with a valid signature, none is lost, none is accepted twice per webhook-id;
// the second round with the receiver failing 30% of first attempts (they are retried after ~5 s).
// Baseline, same run: the same payloads POSTed by one process over kept-alive connections.
//
//   npm run bench:webhook-fanout [-- --changes 10000 --concurrency 16]
import { type ChildProcess, spawn } from "node:child_process";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";
import { Webhook } from "standardwebhooks";
import { closeDatabase, postgresDatabase, useDatabase } from "../app/db/db.server.ts";
import { setExemptTier } from "../app/services/customers/account-admin.server.ts";
import { stopJobQueue } from "../app/services/jobs/queue.server.ts";
import { newSigningSecret } from "../app/services/webhooks/endpoints.server.ts";
import { parseConfig, useConfig } from "../app/utils/config.server.ts";
import { setLogLevel } from "../app/utils/logger.server.ts";
import { createBenchDatabase, withClient } from "./lib/postgres.ts";
import { ROOT } from "./lib/processes.ts";
import { describeMachine, header, table } from "./lib/report.ts";

const { values: options } = parseArgs({
  options: {
    changes: { type: "string", default: "10000" },
    concurrency: { type: "string", default: "16" },
    workers: { type: "string", default: "2" },
  },
});
const CHANGES = Number(options.changes);
const CONCURRENCY = Number(options.concurrency);
const WORKERS = Number(options.workers);
const ACTOR = { id: null, email: "bench@example.com" };

type Receiver = Awaited<ReturnType<typeof startReceiver>>;

/** Verifies every request; answers 2xx unless `failFirst` picks this webhook-id's first attempt. */
async function startReceiver(secret: string) {
  const verifier = new Webhook(secret);
  const state = {
    failFirst: 0,
    accepted: new Map<string, number>(),
    seen: new Set<string>(),
    badSignatures: 0,
    requests: 0,
    firstAt: 0,
    lastAt: 0,
  };
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      state.requests++;
      const id = String(request.headers["webhook-id"]);
      try {
        verifier.verify(Buffer.concat(chunks).toString(), request.headers as Record<string, string>);
      } catch {
        state.badSignatures++;
        response.writeHead(400).end("bad signature");
        return;
      }
      const first = !state.seen.has(id);
      state.seen.add(id);
      if (first && Math.random() < state.failFirst) {
        response.writeHead(503).end("try again");
        return;
      }
      state.accepted.set(id, (state.accepted.get(id) ?? 0) + 1);
      state.firstAt ||= performance.now();
      state.lastAt = performance.now();
      response.writeHead(204).end();
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const reset = (failFirst: number) => {
    Object.assign(state, { failFirst, badSignatures: 0, requests: 0, firstAt: 0, lastAt: 0 });
    state.accepted.clear();
    state.seen.clear();
  };
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    state,
    reset,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

function startWorker(databaseUrl: string, index: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", "server/worker.ts"], {
    cwd: ROOT,
    // Development: the receiver is on 127.0.0.1, which production refuses (SSRF).
    env: { PATH: process.env.PATH, NODE_ENV: "development", DATABASE_URL: databaseUrl, LOG_LEVEL: "warn" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stderr?.on("data", (chunk: Buffer) => process.stderr.write(`[worker ${index}] ${chunk.toString()}`));
  return new Promise((resolve, reject) => {
    // With LOG_LEVEL=warn it logs nothing on start: give it a moment, then it is polling.
    const timer = setTimeout(() => resolve(child), 1500);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`worker ${index} exited (${code})`));
    });
  });
}

async function stopWorkers(workers: ChildProcess[]) {
  await Promise.all(
    workers.map(
      (worker) =>
        new Promise<void>((resolve) => {
          if (worker.exitCode !== null) return resolve();
          worker.once("exit", () => resolve());
          worker.kill("SIGTERM");
        }),
    ),
  );
  workers.length = 0;
}

async function applyChanges(accountIds: number[], tierKey: string | null) {
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < accountIds.length) {
        const id = accountIds[next++]!;
        const outcome = await setExemptTier(ACTOR, id, tierKey);
        if (!outcome.ok || !outcome.changed) throw new Error(`account ${id}: ${JSON.stringify(outcome)}`);
      }
    }),
  );
  return performance.now() - started;
}

async function waitForDeliveries(receiver: Receiver, databaseUrl: string, expected: number) {
  const deadline = Date.now() + 10 * 60_000;
  while (receiver.state.accepted.size < expected && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  // A moment more: anything sent twice would arrive now.
  await new Promise((resolve) => setTimeout(resolve, 2000));
  return withClient(databaseUrl, async (client) => {
    const rows = await client.query<{ status: string; count: string }>(
      "SELECT status::text, count(*) FROM webhook_deliveries GROUP BY status",
    );
    return Object.fromEntries(rows.rows.map((row) => [row.status, Number(row.count)]));
  });
}

/** The baseline: the same payloads, signed, POSTed from this process at the workers' concurrency. */
async function plainPosts(receiver: Receiver, secret: string, payloads: Array<{ id: string; body: string }>) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 * WORKERS });
  const signer = new Webhook(secret);
  const url = new URL(receiver.url);
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 * WORKERS }, async () => {
      while (next < payloads.length) {
        const { id, body } = payloads[next++]!;
        const now = new Date();
        await new Promise<void>((resolve, reject) => {
          const request = http.request(
            url,
            {
              method: "POST",
              agent,
              headers: {
                "content-type": "application/json",
                "webhook-id": `${id}_baseline`,
                "webhook-timestamp": String(Math.floor(now.getTime() / 1000)),
                "webhook-signature": signer.sign(`${id}_baseline`, now, body),
              },
            },
            (response) => {
              response.resume();
              response.on("end", resolve);
            },
          );
          request.on("error", reject);
          request.end(body);
        });
      }
    }),
  );
  agent.destroy();
  return performance.now() - started;
}

async function main() {
  const database = await createBenchDatabase("fanout");
  const machine = await describeMachine(database.url);
  header(`Outgoing webhook fan-out: ${CHANGES} entitlement changes, ${WORKERS} workers`, machine);
  const config = parseConfig({ NODE_ENV: "development", DATABASE_URL: database.url, LOG_LEVEL: "warn" });
  useConfig(config);
  setLogLevel("warn");
  useDatabase(postgresDatabase(database.url, CONCURRENCY + 2));
  const secret = newSigningSecret();
  const receiver = await startReceiver(secret);
  const workers: ChildProcess[] = [];
  try {
    const accountIds = await withClient(database.url, async (client) => {
      await client.query(
        `INSERT INTO webhook_endpoints (url, event_types, secret, updated_at)
         VALUES ($1, ARRAY['account.entitlements.updated'], $2, now())`,
        [receiver.url, secret],
      );
      const rows = await client.query<{ id: number }>(
        `INSERT INTO accounts (name, slug) SELECT 'Fanout ' || n, 'fanout-' || n FROM generate_series(1, $1) n RETURNING id`,
        [CHANGES],
      );
      return rows.rows.map((row) => row.id);
    });

    const rows: Array<Array<string | number>> = [];
    let lastPayloads: Array<{ id: string; body: string }> = [];
    for (const [tierKey, failFirst] of [
      ["partner", 0],
      [null, 0.3],
    ] as const) {
      receiver.reset(failFirst);
      // The changes first, with no worker running: their messages wait in the outbox (and their
      // delivery steps on the queue); then the workers start and drain it, timed on their own.
      const changesMs = await applyChanges(accountIds, tierKey);
      const drainStarted = performance.now();
      for (let i = 0; i < WORKERS; i++) workers.push(await startWorker(database.url, i + 1));
      const statuses = await waitForDeliveries(receiver, database.url, CHANGES);
      const drainMs = receiver.state.lastAt - drainStarted;
      await stopWorkers(workers);
      const accepted = [...receiver.state.accepted.values()];
      const doubled = accepted.filter((count) => count > 1).length;
      const spanMs = receiver.state.lastAt - receiver.state.firstAt;
      const messages = await withClient(database.url, async (client) => {
        const result = await client.query<{ webhook_id: string; payload: string }>(
          "SELECT webhook_id, payload::text AS payload FROM webhook_messages ORDER BY id DESC LIMIT $1",
          [CHANGES],
        );
        return result.rows.map((row) => ({ id: row.webhook_id, body: row.payload }));
      });
      lastPayloads = messages;
      rows.push([
        failFirst ? "30% of first attempts fail" : "receiver always 2xx",
        CHANGES,
        `${(changesMs / 1000).toFixed(1)} s`,
        receiver.state.accepted.size,
        CHANGES - receiver.state.accepted.size,
        doubled,
        receiver.state.badSignatures,
        receiver.state.requests,
        `${statuses.succeeded ?? 0}/${statuses.pending ?? 0}/${statuses.failed ?? 0}`,
        `${(spanMs / 1000).toFixed(2)} s`,
        `${(drainMs / 1000).toFixed(2)} s`,
        Math.round(receiver.state.accepted.size / (spanMs / 1000)),
      ]);
      if (receiver.state.accepted.size !== CHANGES || doubled || receiver.state.badSignatures) process.exitCode = 1;
    }
    receiver.reset(0);
    const baselineMs = await plainPosts(receiver, secret, lastPayloads);
    table(
      [
        "round",
        "changes",
        "changes took",
        "delivered (distinct ids, 2xx)",
        "lost",
        "doubled",
        "bad signatures",
        "requests",
        "succeeded/pending/failed (cumulative)",
        "first→last delivery",
        "workers started→last delivery",
        "deliveries/s (first→last)",
      ],
      rows,
    );
    const first = rows[0]!;
    const tierdeskRate = Number(first[11]);
    const baselineRate = Math.round(lastPayloads.length / (baselineMs / 1000));
    console.log(
      `\nBaseline: the same ${lastPayloads.length} payloads POSTed by one process (concurrency ${32 * WORKERS}): ` +
        `${(baselineMs / 1000).toFixed(2)} s, ${baselineRate}/s.\n` +
        `Ratio (round 1, Tierdesk deliveries/s ÷ baseline POSTs/s): ${(tierdeskRate / baselineRate).toFixed(2)}×`,
    );
  } finally {
    await stopWorkers(workers);
    await stopJobQueue().catch(() => {});
    await closeDatabase().catch(() => {});
    await receiver.close();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await database.drop();
  }
}

await main();
