// Faults, at full size (the CI tests tests/integration/faults-*.test.ts run the same scenarios smaller):
//  1. PostgreSQL stopped for 5 s in the middle of a webhook burst (300 customers × 10 events, 20%
//     re-delivered, concurrency 32), on a PostgreSQL server of its own (initdb on a free port; the
//     shared server is never stopped), then Stripe's retries until every delivery got a 2xx.
//  2. 10,000 malformed webhook deliveries to the production server (a separate process, on a fresh
//     database of the local PostgreSQL), its memory sampled along the way.
//
//   npm run bench:faults [-- --skip-build --malformed 10000 --outage-ms 5000]
import { parseArgs } from "node:util";
import { malformedFlood, malformedKinds } from "./lib/malformed.ts";
import { databaseOutage } from "./lib/outage.ts";
import { createBenchDatabase, SERVER_URL, withClient } from "./lib/postgres.ts";
import { postgresBinDir } from "./lib/private-postgres.ts";
import { buildApp, startApp, WEBHOOK_SECRET } from "./lib/processes.ts";
import { describeMachine, header, ms, table } from "./lib/report.ts";

const { values: options } = parseArgs({
  options: {
    malformed: { type: "string", default: "10000" },
    "outage-ms": { type: "string", default: "5000" },
    customers: { type: "string", default: "300" },
    "events-per-customer": { type: "string", default: "10" },
    "skip-build": { type: "boolean", default: false },
  },
});

const verdict = (ok: boolean) => (ok ? "✓" : "✗");

async function outage() {
  console.log("\n## PostgreSQL stopped for 5 s in the middle of a webhook burst");
  if (!postgresBinDir()) {
    console.log("Skipped: no PostgreSQL server binaries (initdb, pg_ctl) to run a private server with.");
    return true;
  }
  const started = performance.now();
  const report = await databaseOutage({
    customers: Number(options.customers),
    eventsPerCustomer: Number(options["events-per-customer"]),
    concurrency: 32,
    outageMs: Number(options["outage-ms"]),
    log: (message) => console.log(`  ${message}`),
  });
  const firstRetry = report.redeliveries[0];
  const checks: Array<[string, string, boolean]> = [
    ["deliveries in the burst", `${report.deliveries}: ${JSON.stringify(report.burst.statuses)}`, true],
    ["5xx while the database was down", String(report.serverErrorsWhileDown), report.serverErrorsWhileDown > 0],
    [
      "answers other than 2xx/5xx (would make Stripe give up)",
      String(report.burst.other + report.burst.networkErrors),
      report.burst.other + report.burst.networkErrors === 0,
    ],
    ["/healthz while down", String(report.healthzWhileDown), report.healthzWhileDown === 503],
    [
      "/healthz 200 again after the database was back",
      `${ms(report.healthRecoveryMs)} ms`,
      report.healthRecoveryMs < 5000,
    ],
    [
      "first redelivery of the failed ones",
      firstRetry ? `${firstRetry.ok}/${firstRetry.sent} 2xx` : "none needed",
      !firstRetry || firstRetry.ok === firstRetry.sent,
    ],
    [
      "redelivery passes until every delivery got a 2xx",
      String(report.redeliveries.length),
      report.redeliveries.length <= 1,
    ],
    [
      "final state",
      report.finalState.exact ? `exact: ${report.finalState.summary}` : report.finalState.problems.join("; "),
      report.finalState.exact,
    ],
    ["process still up", report.appAlive ? "yes" : "NO", report.appAlive],
    ["peak RSS", `${report.peakRssMiB.toFixed(0)} MiB`, true],
  ];
  table(
    ["check", "result", ""],
    checks.map(([name, result, ok]) => [name, result, verdict(ok)]),
  );
  console.log(`(${((performance.now() - started) / 1000).toFixed(0)} s)`);
  return checks.every(([, , ok]) => ok);
}

async function flood() {
  const total = Number(options.malformed);
  const kinds = malformedKinds(WEBHOOK_SECRET).length;
  const perKind = Math.ceil(total / kinds);
  console.log(`\n## ${total.toLocaleString("en")} malformed webhook deliveries (${kinds} kinds), concurrency 16`);
  const db = await createBenchDatabase("faults");
  const app = await startApp({ name: "tierdesk-flood", databaseUrl: db.url });
  try {
    // Warm up, so that memory is compared from a steady state.
    await malformedFlood({
      origin: app.origin,
      secret: WEBHOOK_SECRET,
      perKind: 20,
      concurrency: 16,
      storedWithPrefix: async () => 0,
    });
    const started = performance.now();
    const report = await malformedFlood({
      origin: app.origin,
      secret: WEBHOOK_SECRET,
      perKind,
      heavyCap: perKind,
      concurrency: 16,
      rssMiB: () => app.rssMiB(),
      storedWithPrefix: (prefix) =>
        withClient(db.url, async (client) => {
          const { rows } = await client.query<{ count: string }>(
            "SELECT count(*) AS count FROM stripe_events WHERE event_id LIKE $1 || '%'",
            [prefix],
          );
          return Number(rows[0]?.count ?? 0);
        }),
    });
    const seconds = (performance.now() - started) / 1000;
    table(
      ["kind", "sent", "answers", "as expected", "stored", "stored as expected"],
      report.kinds.map((kind) => [
        kind.name,
        String(kind.sent),
        JSON.stringify(kind.statuses),
        verdict(kind.ok),
        String(kind.stored),
        verdict(kind.storedOk),
      ]),
    );
    const samples = report.rssMiB;
    const firstQuarter = samples.slice(0, Math.max(1, Math.floor(samples.length / 4)));
    const lastQuarter = samples.slice(-Math.max(1, Math.floor(samples.length / 4)));
    const average = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / values.length;
    const growth = average(lastQuarter) - average(firstQuarter);
    const flat = growth < 64;
    const alive = app.alive();
    const health = await fetch(`${app.origin}/healthz`).then(
      (r) => r.status,
      () => 0,
    );
    console.log(
      `${report.requests} requests in ${seconds.toFixed(1)} s; answers not 4xx: ${report.not4xx} ${verdict(report.not4xx === 0)}; ` +
        `process up: ${alive ? "yes" : "NO"}, /healthz ${health} ${verdict(alive && health === 200)}`,
    );
    console.log(
      `RSS (MiB) along the way: ${samples.map((v) => v.toFixed(0)).join(" ")}; ` +
        `last quarter vs first: ${growth >= 0 ? "+" : ""}${growth.toFixed(0)} MiB ${verdict(flat)} (flat: < 64 MiB)`,
    );
    return (
      report.kinds.every((kind) => kind.ok && kind.storedOk) && report.not4xx === 0 && flat && alive && health === 200
    );
  } finally {
    await app.stop();
    await db.drop();
  }
}

buildApp(options["skip-build"]);
header("Faults: a database outage mid-burst, and a flood of malformed webhooks", await describeMachine(SERVER_URL));
const outageOk = await outage();
const floodOk = await flood();
if (!outageOk || !floodOk) process.exitCode = 1;
