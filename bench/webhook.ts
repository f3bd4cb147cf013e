// Webhook ingestion: the production app versus a minimal correct handler (node:http + pg), on the
// same fresh PostgreSQL database, in the same run. Signed customer.subscription.updated deliveries
// for 300 customers, 20% re-delivered, at concurrency 1, 8 and 32; then two app instances on one
// database with deliveries (and concurrent duplicates) sprayed across both. After every run the
// final state is checked: every event stored once and finished, every account in its newest state.
//
//   npm run bench:webhook [-- --skip-build --rounds 3 --events-per-customer 10 --concurrency 1,8,32]
//   npm run bench:webhook -- --round-trips     count database round trips per event (a counting proxy)
//   npm run bench:webhook -- --profile         also profile the app at the highest concurrency (--cpu-prof)
//   npm run bench:webhook -- --before ../old   also measure another built checkout (before a change), same run
//   npm run bench:webhook -- --transactions pg-pipelined,pg-params,prisma
//                                              the app once per transaction layer (TRANSACTION_LAYER), same run
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { printProfile, summarizeProfile } from "./lib/cpu-profile.ts";
import {
  checkFinalState,
  createCustomers,
  type DeliveryPlan,
  planDeliveries,
  resetCustomers,
} from "./lib/deliveries.ts";
import { type LoadResult, runLoad } from "./lib/load.ts";
import { startRoundTripCounter } from "./lib/pg-counter.ts";
import { createBenchDatabase, SERVER_URL, withClient } from "./lib/postgres.ts";
import { TRANSACTION_LAYERS, type TransactionLayer } from "../app/utils/config.server.ts";
import { buildApp, cpuTimeMs, type RunningProcess, spawnServer, startApp, WEBHOOK_SECRET } from "./lib/processes.ts";
import { describeMachine, header, median, ms, table } from "./lib/report.ts";

const { values: options } = parseArgs({
  options: {
    customers: { type: "string", default: "300" },
    "events-per-customer": { type: "string", default: "10" },
    concurrency: { type: "string", default: "1,8,32" },
    rounds: { type: "string", default: "1" },
    "pool-size": { type: "string", default: "20" },
    "skip-build": { type: "boolean", default: false },
    "skip-instances": { type: "boolean", default: false },
    "round-trips": { type: "boolean", default: false },
    profile: { type: "boolean", default: false },
    before: { type: "string" },
    transactions: { type: "string" },
  },
});
const customers = Number(options.customers);
const eventsPerCustomer = Number(options["events-per-customer"]);
const concurrencies = options.concurrency.split(",").map(Number);
const rounds = Number(options.rounds);
const poolSize = options["pool-size"];
const transactionLayers = (options.transactions?.split(",") ?? []).map((name): TransactionLayer => {
  const layer = TRANSACTION_LAYERS.find((known) => known === name);
  if (!layer) throw new Error(`--transactions: ${name} is not one of ${TRANSACTION_LAYERS.join(", ")}`);
  return layer;
});

type Outcome = {
  result: LoadResult;
  exact: boolean;
  summary: string;
  problems: string[];
  /** CPU time per delivery, in µs: the handler's process(es), and the PostgreSQL backends serving this database. */
  cpu: { handler: number; postgres: number };
};

/** The median over a handler's rounds of one figure of its load results. */
const stat = (list: Outcome[], pick: (r: LoadResult) => number) => median(list.map((o) => pick(o.result)));

/** CPU used so far by each PostgreSQL backend connected to this database (other than ours). */
async function backendCpu(url: string): Promise<Map<number, number>> {
  const pids = await withClient(url, (client) =>
    client.query<{ pid: number }>(
      "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
    ),
  );
  return new Map(pids.rows.map(({ pid }) => [pid, cpuTimeMs(pid)]));
}

async function deliver(
  url: string,
  targets: RunningProcess[],
  plan: DeliveryPlan,
  concurrency: number,
  attempts: boolean,
) {
  await withClient(url, resetCustomers);
  const handlerBefore = targets.map((target) => cpuTimeMs(target.pid));
  const postgresBefore = await backendCpu(url);
  const result = await runLoad(
    targets.map((target) => target.origin),
    plan.requests,
    { concurrency },
  );
  const handlerMs = targets.reduce((sum, target, i) => sum + cpuTimeMs(target.pid) - handlerBefore[i]!, 0);
  let postgresMs = 0;
  for (const [pid, after] of await backendCpu(url)) postgresMs += after - (postgresBefore.get(pid) ?? 0);
  const perRequest = (ms: number) => (ms * 1000) / plan.requests.length;
  const check = await withClient(url, (client) => checkFinalState(client, plan, { attempts }));
  const non2xx = Object.entries(result.statuses).filter(([status]) => !status.startsWith("2"));
  const problems = [...check.problems, ...non2xx.map(([status, count]) => `${count} answers with status ${status}`)];
  return {
    result,
    exact: problems.length === 0,
    summary: check.summary,
    problems,
    cpu: { handler: perRequest(handlerMs), postgres: perRequest(postgresMs) },
  } satisfies Outcome;
}

function startBaseline(databaseUrl: string) {
  return spawnServer({
    name: "minimal-handler",
    script: "bench/lib/minimal-webhook-server.ts",
    env: { DATABASE_URL: databaseUrl, WEBHOOK_SECRET, POOL_SIZE: poolSize },
    portPattern: /"port":(\d+)/,
  });
}

async function countRoundTrips(databaseUrl: string) {
  const counter = await startRoundTripCounter(databaseUrl);
  // Concurrency 1: each app opens a connection or two, so one per transaction layer can run at once.
  const apps = await Promise.all(
    (transactionLayers.length ? transactionLayers : [undefined]).map((layer) =>
      startApp({
        name: layer ? `tierdesk-${layer}` : "tierdesk-counted",
        databaseUrl: counter.url,
        env: { DATABASE_POOL_SIZE: poolSize, ...(layer ? { TRANSACTION_LAYER: layer } : {}) },
      }),
    ),
  );
  const baseline = await startBaseline(counter.url);
  try {
    console.log("\n## Database round trips per event (through a counting proxy; new events only, then re-deliveries)");
    const rows: string[][] = [];
    for (const target of [baseline, ...apps]) {
      const plan = planDeliveries({ customers: 50, eventsPerCustomer: 2, redeliveryShare: 0, seed: 7, tag: "rt" });
      await deliver(databaseUrl, [target], plan, 1, false); // warm: connections opened, queries prepared
      const fresh = planDeliveries({ customers: 50, eventsPerCustomer: 2, redeliveryShare: 0, seed: 8, tag: "rt" });
      await withClient(databaseUrl, resetCustomers);
      counter.reset();
      await runLoad([target.origin], fresh.requests, { concurrency: 1 });
      const perEvent = counter.roundTrips() / fresh.requests.length;
      const messages = counter.messages();
      counter.reset();
      await runLoad([target.origin], fresh.requests, { concurrency: 1 }); // the same events again: duplicates
      const perDuplicate = counter.roundTrips() / fresh.requests.length;
      rows.push([target.name, perEvent.toFixed(2), perDuplicate.toFixed(2), JSON.stringify(messages)]);
    }
    table(["handler", "round trips / new event", "round trips / duplicate", "messages sent (new events)"], rows);
  } finally {
    for (const app of apps) await app.stop();
    await baseline.stop();
    await counter.close();
  }
}

async function main() {
  buildApp(options["skip-build"]);
  const machine = await describeMachine(SERVER_URL);
  const db = await createBenchDatabase("webhook");
  await withClient(db.url, (client) => createCustomers(client, customers));
  const started: RunningProcess[] = [];
  try {
    if (options["round-trips"]) {
      await countRoundTrips(db.url);
      return;
    }
    const baseline = await startBaseline(db.url);
    started.push(baseline);
    // A handler runs the whole time, or (one app per transaction layer) only for each of its runs:
    // several apps with a full pool each would pass PostgreSQL's 100 connections.
    type Handler = { label: string; tierdesk: boolean } & (
      { process: RunningProcess } | { start: () => Promise<RunningProcess>; peakRssMiB: number }
    );
    const handlers: Handler[] = [{ label: "minimal handler", process: baseline, tierdesk: false }];
    let app: RunningProcess | undefined;
    const startDefaultApp = async () => {
      app = await startApp({ databaseUrl: db.url, env: { DATABASE_POOL_SIZE: poolSize } });
      started.push(app);
      return app;
    };
    if (!transactionLayers.length)
      handlers.push({ label: "Tierdesk", process: await startDefaultApp(), tierdesk: true });
    for (const layer of transactionLayers) {
      const start = () =>
        startApp({
          name: `tierdesk-${layer}`,
          databaseUrl: db.url,
          env: { DATABASE_POOL_SIZE: poolSize, TRANSACTION_LAYER: layer },
        });
      handlers.push({ label: `Tierdesk, ${layer}`, tierdesk: true, start, peakRssMiB: 0 });
    }
    if (options.before) {
      const cwd = path.resolve(options.before);
      const before = await startApp({
        name: "tierdesk-before",
        databaseUrl: db.url,
        env: { DATABASE_POOL_SIZE: poolSize },
        cwd,
      });
      started.push(before);
      handlers.push({ label: `Tierdesk before (${path.basename(cwd)})`, process: before, tierdesk: true });
    }

    header("Webhook ingestion: Tierdesk (production build) vs a minimal node:http + pg handler", machine);
    console.log(
      `${customers} customers × ${eventsPerCustomer} customer.subscription.updated events, 20% re-delivered ` +
        `(half as concurrent duplicates), shuffled; pool ${poolSize} connections each; ${rounds} round(s), medians. ` +
        "CPU: the handler's process and the PostgreSQL backends serving it, per delivery.",
    );

    // Warm-up: JIT, connection pools, prepared statements.
    const warmUp = (target: RunningProcess, tierdesk: boolean) =>
      deliver(db.url, [target], planDeliveries({ customers, eventsPerCustomer: 2, seed: 1, tag: "warm" }), 8, tierdesk);
    for (const handler of handlers) if ("process" in handler) await warmUp(handler.process, handler.tierdesk);
    const measure = async (handler: Handler, plan: DeliveryPlan, concurrency: number) => {
      if ("process" in handler) return deliver(db.url, [handler.process], plan, concurrency, handler.tierdesk);
      const target = await handler.start();
      try {
        await warmUp(target, handler.tierdesk);
        return await deliver(db.url, [target], plan, concurrency, handler.tierdesk);
      } finally {
        await target.stop();
        handler.peakRssMiB = Math.max(handler.peakRssMiB, target.peakRssMiB());
      }
    };

    const rows: string[][] = [];
    let allExact = true;
    for (const concurrency of concurrencies) {
      const measured = handlers.map(() => [] as Outcome[]);
      for (let round = 0; round < rounds; round++) {
        const plan = planDeliveries({
          customers,
          eventsPerCustomer,
          seed: 100 + round,
          tag: `c${concurrency}r${round}`,
        });
        // Alternate who goes first: the machine's noise drifts.
        const order = handlers.map((_, i) => i);
        if (round % 2 === 1) order.reverse();
        for (const i of order) {
          const handler = handlers[i]!;
          const { label } = handler;
          const outcome = await measure(handler, plan, concurrency);
          measured[i]!.push(outcome);
          if (!outcome.exact) {
            allExact = false;
            console.log(`  ! ${label} at concurrency ${concurrency}: ${outcome.problems.join("; ")}`);
          }
        }
      }
      const cpu = (list: Outcome[]) =>
        `${median(list.map((o) => o.cpu.handler)).toFixed(0)} + ${median(list.map((o) => o.cpu.postgres)).toFixed(0)}`;
      const baseRate = stat(measured[0]!, (r) => r.perSecond);
      const baseP99 = stat(measured[0]!, (r) => r.p99);
      const baseCpu = median(measured[0]!.map((o) => o.cpu.handler + o.cpu.postgres));
      handlers.forEach(({ label }, i) => {
        const list = measured[i]!;
        const totalCpu = median(list.map((o) => o.cpu.handler + o.cpu.postgres));
        rows.push([
          String(concurrency),
          label,
          String(list[0]!.result.answers.length),
          stat(list, (r) => r.perSecond).toFixed(0),
          ms(stat(list, (r) => r.p50)),
          ms(stat(list, (r) => r.p99)),
          `${(stat(list, (r) => r.perSecond) / baseRate).toFixed(2)}×`,
          `${(stat(list, (r) => r.p99) / baseP99).toFixed(2)}×`,
          `${cpu(list)} (${(baseCpu / totalCpu).toFixed(2)}×)`,
          list.every((o) => o.exact) ? `exact: ${list[0]!.summary}` : "NOT EXACT",
        ]);
      });
    }
    console.log();
    table(
      [
        "concurrency",
        "handler",
        "deliveries",
        "events/s",
        "p50 ms",
        "p99 ms",
        "throughput ratio",
        "p99 ratio",
        "CPU µs/delivery: node + postgres (efficiency ratio)",
        "final state",
      ],
      rows,
    );
    console.log(
      `peak RSS: ${handlers
        .map((handler) => {
          const peak = "process" in handler ? handler.process.peakRssMiB() : handler.peakRssMiB;
          return `${handler.label} ${peak.toFixed(0)} MiB`;
        })
        .join(", ")}`,
    );

    if (!options["skip-instances"]) {
      // Two of each on one database: two Tierdesk instances against two minimal handlers, the same
      // deliveries alternated between the pair, every duplicate sent to the other one.
      app ??= await startDefaultApp();
      const second = await startApp({ name: "tierdesk-2", databaseUrl: db.url, env: { DATABASE_POOL_SIZE: poolSize } });
      started.push(second);
      const secondBaseline = await startBaseline(db.url);
      started.push(secondBaseline);
      const pairs = [
        { label: "two minimal handlers", targets: [baseline, secondBaseline], tierdesk: false },
        { label: "two Tierdesk instances", targets: [app, second], tierdesk: true },
      ];
      const concurrency = Math.max(...concurrencies);
      for (const pair of pairs) {
        const warm = planDeliveries({ customers, eventsPerCustomer: 2, seed: 2, tag: "warm2", instances: 2 });
        await deliver(db.url, pair.targets, warm, 8, pair.tierdesk);
      }
      const measured = pairs.map(() => [] as Outcome[]);
      for (let round = 0; round < rounds; round++) {
        const plan = planDeliveries({
          customers,
          eventsPerCustomer,
          seed: 500 + round,
          tag: `two${round}`,
          instances: 2,
        });
        const order = round % 2 === 1 ? [1, 0] : [0, 1];
        for (const i of order) {
          const outcome = await deliver(db.url, pairs[i]!.targets, plan, concurrency, pairs[i]!.tierdesk);
          measured[i]!.push(outcome);
          if (!outcome.exact) {
            allExact = false;
            console.log(`  ! ${pairs[i]!.label}: ${outcome.problems.join("; ")}`);
          }
        }
      }
      const baseRate = stat(measured[0]!, (r) => r.perSecond);
      const baseP99 = stat(measured[0]!, (r) => r.p99);
      console.log(
        `\n## Two instances on one database, deliveries alternated, every duplicate sent to the other instance (${rounds} round(s), medians)`,
      );
      table(
        [
          "concurrency",
          "handlers",
          "deliveries",
          "events/s",
          "p50 ms",
          "p99 ms",
          "throughput ratio",
          "p99 ratio",
          "final state",
        ],
        pairs.map((pair, i) => {
          const list = measured[i]!;
          return [
            String(concurrency),
            pair.label,
            String(list[0]!.result.answers.length),
            stat(list, (r) => r.perSecond).toFixed(0),
            ms(stat(list, (r) => r.p50)),
            ms(stat(list, (r) => r.p99)),
            `${(stat(list, (r) => r.perSecond) / baseRate).toFixed(2)}×`,
            `${(stat(list, (r) => r.p99) / baseP99).toFixed(2)}×`,
            list.every((o) => o.exact) ? `exact: ${list[0]!.summary}` : "NOT EXACT",
          ];
        }),
      );
      await second.stop();
      await secondBaseline.stop();
    }

    if (options.profile) {
      const profileDir = fs.mkdtempSync(path.join(os.tmpdir(), "tierdesk-bench-profile-"));
      await app?.stop();
      const profiled = await startApp({
        name: "tierdesk-profiled",
        databaseUrl: db.url,
        env: { DATABASE_POOL_SIZE: poolSize },
        nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${profileDir}`],
      });
      started.push(profiled);
      const concurrency = Math.max(...concurrencies);
      await deliver(
        db.url,
        [profiled],
        planDeliveries({ customers, eventsPerCustomer: 2, seed: 3, tag: "pw" }),
        concurrency,
        true,
      );
      const plan = planDeliveries({ customers, eventsPerCustomer, seed: 600, tag: "prof" });
      await withClient(db.url, resetCustomers);
      const from = performance.now() - profiled.spawnedAt;
      await runLoad([profiled.origin], plan.requests, { concurrency });
      const window = { fromMs: from, toMs: performance.now() - profiled.spawnedAt };
      await profiled.stop();
      // The main thread's profile is the largest (tsx's loader thread writes its own).
      const file = fs
        .readdirSync(profileDir)
        .filter((name) => name.endsWith(".cpuprofile"))
        .sort((a, b) => fs.statSync(path.join(profileDir, b)).size - fs.statSync(path.join(profileDir, a)).size)[0];
      console.log(
        `\n## Where the app's CPU goes at concurrency ${concurrency} (${path.join(profileDir, file ?? "?")})`,
      );
      if (file) printProfile(summarizeProfile(path.join(profileDir, file), window), plan.requests.length);
    }
    if (!allExact) process.exitCode = 1;
  } finally {
    for (const process of started) await process.stop();
    await db.drop();
  }
}

await main();
