// PostgreSQL stopped for 5 s in the middle of a webhook burst, on a PostgreSQL server this test
// creates for itself (initdb into a temp folder, its own port: the shared server is never touched),
// with the production server as a separate process. See bench/lib/outage.ts for the scenario;
// bench/faults.ts runs it bigger.
import { expect, it } from "vitest";
import { databaseOutage } from "../../bench/lib/outage.ts";
import { postgresBinDir } from "../../bench/lib/private-postgres.ts";
import { assertFreshBuild } from "../build-freshness.ts";
import { requireOrSkip } from "../requirements.ts";

it("answers 5xx while PostgreSQL is down, stays up, recovers, and ends exactly right after Stripe's retries", async (ctx) => {
  requireOrSkip(
    ctx,
    postgresBinDir() !== null,
    "PostgreSQL's server binaries (initdb, pg_ctl) to run a server of its own",
  );
  assertFreshBuild();
  const report = await databaseOutage({ customers: 80, eventsPerCustomer: 4, concurrency: 16, outageMs: 5000 });

  // While the database was down: 5xx (Stripe retries those), never a 4xx (Stripe would give up).
  expect(report.serverErrorsWhileDown).toBeGreaterThan(0);
  expect(report.burst.other).toBe(0);
  expect(report.burst.networkErrors).toBe(0);
  expect(report.healthzWhileDown).toBe(503);
  // Back within a few seconds of the database, and every delivery taken again at the first retry:
  // nothing claimed when the connection dropped waits out a lease.
  expect(report.healthRecoveryMs).toBeLessThan(5000);
  expect(report.redeliveries[0]).toMatchObject({ sent: report.burst.serverErrors, ok: report.burst.serverErrors });
  expect(report.redeliveries).toHaveLength(1);
  expect(report.finalState.problems).toEqual([]);
  expect(report.finalState.exact).toBe(true);
  expect(report.appAlive).toBe(true);
}, 60_000);
