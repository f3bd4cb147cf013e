// Whole-account reconciliation from the command line: pages through every Stripe customer and
// subscription, compares them with every account, prints each difference with the rule that decides
// it, and keeps the run with its history (/admin/reconcile shows it). Needs STRIPE_API_KEY (and
// STRIPE_API_BASE for a Stripe double, e.g. the quick start's emulator on http://127.0.0.1:12111).
//   npm run stripe:reconcile                 # report only
//   npm run stripe:reconcile -- --apply-all  # then apply every difference that can be (audited as "cli")
import { parseArgs } from "node:util";
import { closeDatabase, prepareDatabase } from "../app/db/db.server.ts";
import {
  applyAllDifferences,
  latestRunDifferences,
  reconcileNow,
} from "../app/services/customers/reconciliation.server.ts";
import { DIFFERENCE_LABELS, type DifferenceKind } from "../app/rules/reconciliation.ts";

const { values } = parseArgs({ options: { "apply-all": { type: "boolean", default: false } } });
const SHOWN = 200;

await prepareDatabase();
try {
  const summary = await reconcileNow("cli", null);
  if (!summary) {
    console.error("A reconciliation is already queued or running (see /admin/reconcile): try again when it ends.");
    process.exitCode = 1;
  } else {
    console.log(
      `Run #${summary.runId}: ${summary.subscriptions} subscriptions, ${summary.customers} customers, ` +
        `${summary.accountsChecked} accounts, ${summary.stripeRequests} Stripe requests, ` +
        `${(summary.durationMs / 1000).toFixed(1)} s: ${summary.differenceCount} difference(s).`,
    );
    for (const difference of await latestRunDifferences(summary.runId, SHOWN)) {
      const label = DIFFERENCE_LABELS[difference.kind as DifferenceKind] ?? difference.kind;
      console.log(`\n#${difference.id} ${difference.accountName}: ${label} (fix: ${difference.fix})`);
      console.log(`  Tierdesk: ${JSON.stringify(difference.tierdesk)}`);
      console.log(`  Stripe:   ${JSON.stringify(difference.stripe)}`);
      console.log(`  Rule:     ${difference.rule}`);
    }
    if (summary.differenceCount > SHOWN)
      console.log(`\n… and ${summary.differenceCount - SHOWN} more on /admin/reconcile.`);
    if (values["apply-all"] && summary.differenceCount) {
      const result = await applyAllDifferences({ id: null, email: "cli" }, summary.runId, { budgetMs: Infinity });
      console.log(`\nApplied ${result.applied}; ${result.failed} could not be (see /admin/reconcile).`);
    }
  }
} finally {
  await closeDatabase();
}
