// PostgreSQL goes away in the middle of a webhook burst. On a PostgreSQL server of our own (never the
// shared one): the production app takes signed deliveries; a third of the way in, the database stops
// (fast shutdown: every connection cut) for `outageMs`, then comes back. Then, as Stripe does, every
// delivery that was not answered 2xx is sent again until it is.
// What must hold: only 5xx while the database is down (never a 4xx, which would make Stripe give up),
// the process stays up, /healthz says 503 then recovers, the events claimed when the connection dropped
// are taken again at the first redelivery (no lease to wait out), and in the end every event is stored
// exactly once, finished, and every user is right.
import { checkFinalState, createCustomers, planDeliveries } from "./deliveries.ts";
import { type Answer, runLoad } from "./load.ts";
import { createBenchDatabase, withClient } from "./postgres.ts";
import { startPrivatePostgres } from "./private-postgres.ts";
import { startApp } from "./processes.ts";

export type OutageReport = {
  deliveries: number;
  /** Answers to the burst: 2xx, 5xx, anything else (must be 0), and network errors (no answer). */
  burst: { ok: number; serverErrors: number; other: number; networkErrors: number; statuses: Record<number, number> };
  /** 5xx answers received while the database was down. */
  serverErrorsWhileDown: number;
  healthzWhileDown: number;
  /** From the database being back to /healthz answering 200. */
  healthRecoveryMs: number;
  /** Per redelivery pass: how many were sent and how many got 2xx. */
  redeliveries: Array<{ sent: number; ok: number; statuses: Record<number, number> }>;
  finalState: { exact: boolean; summary: string; problems: string[] };
  appAlive: boolean;
  peakRssMiB: number;
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function status(url: string): Promise<number> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 0;
  }
}

export async function databaseOutage({
  customers,
  eventsPerCustomer,
  concurrency,
  outageMs,
  log = () => {},
}: {
  customers: number;
  eventsPerCustomer: number;
  concurrency: number;
  outageMs: number;
  log?: (message: string) => void;
}): Promise<OutageReport> {
  const postgres = await startPrivatePostgres({ max_connections: "60", fsync: "off" });
  try {
    const db = await createBenchDatabase("outage", { serverUrl: postgres.url });
    await withClient(db.url, (client) => createCustomers(client, customers));
    const app = await startApp({ name: "tierdesk-outage", databaseUrl: db.url, env: { DATABASE_POOL_SIZE: "10" } });
    try {
      const plan = planDeliveries({ customers, eventsPerCustomer, seed: 42, tag: "outage" });
      let answered = 0;
      let down = false;
      let serverErrorsWhileDown = 0;
      let outage: Promise<{ healthzWhileDown: number; backAt: number }> | undefined;
      const startOutage = async () => {
        log(`stopping PostgreSQL after ${answered} of ${plan.requests.length} answers`);
        await postgres.stop();
        down = true;
        const stoppedAt = performance.now();
        await sleep(Math.min(1000, outageMs / 2));
        const healthzWhileDown = await status(`${app.origin}/healthz`);
        await sleep(Math.max(0, outageMs - (performance.now() - stoppedAt)));
        await postgres.start();
        down = false;
        log(`PostgreSQL back after ${Math.round(performance.now() - stoppedAt)} ms`);
        return { healthzWhileDown, backAt: performance.now() };
      };
      const onAnswer = (answer: Answer) => {
        answered++;
        if (down && answer.status >= 500) serverErrorsWhileDown++;
        if (!outage && answered >= plan.requests.length / 3) outage = startOutage();
      };
      // The burst keeps going at its pace: deliveries during the outage are answered 5xx at once.
      const burst = await runLoad([app.origin], plan.requests, { concurrency, onAnswer, timeoutMs: 60_000 });
      const { healthzWhileDown, backAt } = await (outage ?? startOutage());

      let healthRecoveryMs = NaN;
      for (let i = 0; i < 300; i++) {
        if ((await status(`${app.origin}/healthz`)) === 200) {
          healthRecoveryMs = performance.now() - backAt;
          break;
        }
        await sleep(100);
      }

      // Stripe's retries: every delivery without a 2xx, again, until each has one.
      const redeliveries: OutageReport["redeliveries"] = [];
      let pending = plan.requests.filter((_, i) => !String(burst.answers[i]?.status).startsWith("2"));
      for (let pass = 0; pass < 5 && pending.length; pass++) {
        const result = await runLoad([app.origin], pending, { concurrency });
        const ok = result.answers.filter((answer) => String(answer.status).startsWith("2")).length;
        redeliveries.push({ sent: pending.length, ok, statuses: result.statuses });
        pending = pending.filter((_, i) => !String(result.answers[i]?.status).startsWith("2"));
      }

      const finalState = await withClient(db.url, (client) => checkFinalState(client, plan, { attempts: false }));
      const count = (test: (status: number) => boolean) =>
        burst.answers.filter((answer) => answer.status !== 0 && test(answer.status)).length;
      return {
        deliveries: plan.requests.length,
        burst: {
          ok: count((s) => s >= 200 && s < 300),
          serverErrors: count((s) => s >= 500),
          other: count((s) => s < 200 || (s >= 300 && s < 500)),
          networkErrors: burst.networkErrors,
          statuses: burst.statuses,
        },
        serverErrorsWhileDown,
        healthzWhileDown,
        healthRecoveryMs,
        redeliveries,
        finalState,
        appAlive: app.alive(),
        peakRssMiB: app.peakRssMiB(),
      };
    } finally {
      await app.stop();
      await db.drop().catch(() => {});
    }
  } finally {
    await postgres.destroy();
  }
}
