// Whole-account reconciliation at scale: 10,000 subscriptions in the Stripe emulator (seeded through
// its JS API, not HTTP) and 10,000 matching accounts on PostgreSQL, of which 1% missed a cancellation,
// 1% a plan change and 1% lost their customer link. Goal: one pass within Stripe's test-mode rate
// limit (25 requests/s): a list request per 100 objects, none per subscription, the accounts compared
// in batches. Baseline, in the same run and at the same pace: a bare pagination of the same two lists.
//
//   npm run bench:reconcile [-- --subscriptions 10000 --per-second 20]
import { parseArgs } from "node:util";
import { closeDatabase, postgresDatabase, useDatabase } from "../app/db/db.server.ts";
import { reconcileNow } from "../app/services/customers/reconciliation.server.ts";
import { useStripeConnection } from "../app/services/stripe/client.server.ts";
import { listEveryCustomer, listEverySubscription, RequestPacer } from "../app/services/stripe/full-lists.server.ts";
import { parseConfig, useConfig } from "../app/utils/config.server.ts";
import { setLogLevel } from "../app/utils/logger.server.ts";
import { startStripeEmulator } from "../stripe-emulator/emulator.ts";
import { createBenchDatabase, SERVER_URL, withClient } from "./lib/postgres.ts";
import { SESSION_SECRET } from "./lib/processes.ts";
import { describeMachine, header, table } from "./lib/report.ts";

const { values: options } = parseArgs({
  options: {
    subscriptions: { type: "string", default: "10000" },
    "per-second": { type: "string", default: "20" },
  },
});
const count = Number(options.subscriptions);
const perSecond = Number(options["per-second"]);
const STRIPE_TEST_MODE_LIMIT = 25;

async function main() {
  const machine = await describeMachine(SERVER_URL);
  header(`Reconciliation: ${count.toLocaleString("en-GB")} subscriptions, paced at ${perSecond} requests/s`, machine);
  const db = await createBenchDatabase("reconcile");
  const emulator = await startStripeEmulator({ port: 0 });
  try {
    useConfig(parseConfig({ NODE_ENV: "production", SESSION_SECRET, DATABASE_URL: db.url, LOG_LEVEL: "warn" }));
    setLogLevel("warn");
    useDatabase(postgresDatabase(db.url, 4));
    useStripeConnection({ mode: "emulator", apiKey: "sk_test_bench", apiBase: emulator.url, webhookSecrets: [] });

    const seedStarted = performance.now();
    const { tiers } = await withClient(db.url, async (client) => {
      const { rows } = await client.query<{ id: number; key: string }>("SELECT id, key FROM subscription_tier");
      return { tiers: new Map(rows.map((row) => [row.key, row.id])) };
    });
    // Accounts first (their ids go into Stripe's metadata), then a subscriber in Stripe for each.
    const accountIds = await withClient(db.url, async (client) => {
      const { rows } = await client.query<{ id: number }>(
        `INSERT INTO accounts (name, slug) SELECT 'bench-' || n, 'bench-' || n FROM generate_series(0, $1::int - 1) AS n
         RETURNING id`,
        [count],
      );
      return rows.map((row) => row.id).sort((a, b) => a - b);
    });
    const rows: Array<[number, string, string | null, string, number]> = [];
    accountIds.forEach((accountId, n) => {
      const pro = n % 2 === 0;
      const canceled = n % 100 === 1;
      const { customer, subscription } = emulator.seedSubscriber({
        email: `bench-${n}@example.com`,
        priceId: pro ? "price_emu_pro_monthly" : "price_emu_hobbyist_monthly",
        status: canceled ? "canceled" : "active",
        customerMetadata: { tierdesk_account_id: String(accountId) },
        subscriptionMetadata: { tierdesk_account_id: String(accountId) },
      });
      if (n % 100 === 3) return; // lost its link: the account knows nothing of it
      // Tierdesk's side as the webhooks left it, except for the 1% that missed a cancellation (still
      // active here) and the 1% that missed a plan change (still on the other tier).
      const tierKey = n % 100 === 2 ? (pro ? "hobbyist" : "pro") : pro ? "pro" : "hobbyist";
      rows.push([accountId, customer.id, subscription.id, "active", tiers.get(tierKey)!]);
    });
    await withClient(db.url, (client) =>
      client.query(
        `UPDATE accounts a SET stripe_customer_id = v.customer, stripe_subscription_id = v.subscription,
                subscription_status = v.status, tier_id = v.tier, billing_source = 'stripe'
           FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::int[]) AS v(id, customer, subscription, status, tier)
          WHERE a.id = v.id`,
        [0, 1, 2, 3, 4].map((i) => rows.map((row) => row[i])),
      ),
    );
    console.log(`Seeded in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s.\n`);

    // Baseline: the same two lists, paged at the same pace, nothing done with them.
    const baselinePacer = new RequestPacer(perSecond);
    const baselineStarted = performance.now();
    let listed = 0;
    await listEveryCustomer(baselinePacer, (page) => void (listed += page.length));
    await listEverySubscription(baselinePacer, (page) => void (listed += page.length));
    const baselineMs = performance.now() - baselineStarted;

    const pacer = new RequestPacer(perSecond);
    const summary = await reconcileNow("cli", "bench", { pacer });
    if (!summary) throw new Error("a run was already under way");
    const expected = 3 * Math.floor(count / 100);

    const rate = (requests: number, ms: number) => (requests / (ms / 1000)).toFixed(1);
    table(
      ["", "time", "Stripe requests", "requests/s", "objects"],
      [
        [
          "baseline: bare pagination",
          `${(baselineMs / 1000).toFixed(2)} s`,
          baselinePacer.requests,
          rate(baselinePacer.requests, baselineMs),
          listed,
        ],
        [
          "reconciliation",
          `${(summary.durationMs / 1000).toFixed(2)} s`,
          summary.stripeRequests,
          rate(summary.stripeRequests, summary.durationMs),
          summary.subscriptions + summary.customers,
        ],
      ],
    );
    console.log(
      `\nRatio to the baseline: ${(summary.durationMs / baselineMs).toFixed(2)}x time, ` +
        `${(summary.stripeRequests / baselinePacer.requests).toFixed(2)}x requests. ` +
        `${summary.accountsChecked} accounts compared; ${summary.differenceCount} differences (expected ${expected}). ` +
        `Stripe's test-mode limit: ${STRIPE_TEST_MODE_LIMIT} requests/s.`,
    );
    if (summary.differenceCount !== expected) process.exitCode = 1;
  } finally {
    await closeDatabase();
    await emulator.close();
    await db.drop();
  }
}

await main();
