// Vitest as Stryker runs it for the webhook pipeline: the integration tests that drive webhooks,
// replays, the checkout return and support's sync through it, each file on its own database.
// Files that serve the built app (build/) are left out: the build is not the mutated source. So is
// customer-billing.test.ts (account and pricing pages through the emulator): slow, and what it drives
// through the pipeline stripe-webhook.test.ts drives directly.
import path from "node:path";
import { defineConfig } from "vitest/config";

const root = path.resolve(import.meta.dirname, "..");

// On PostgreSQL, as the integration tests run by default (tests/setup/global-setup.ts: each file on its
// own database copied from a migrated template): five times faster per file than the embedded database
// here, which decides whether a run takes an hour or five. TEST_DATABASE_URL=pglite picks the embedded one.

export default defineConfig({
  root,
  resolve: { alias: { "~": path.join(root, "app") } },
  test: {
    environment: "node",
    include: [
      "tests/integration/stripe-webhook.test.ts",
      "tests/integration/admin-events.test.ts",
      "tests/integration/support-console.test.ts",
      "tests/integration/support-sync-same-second.test.ts",
      "tests/integration/legacy-prices.test.ts",
      "tests/integration/webhook-pipeline-edges.test.ts",
      "tests/integration/whop-webhook.test.ts",
    ],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    globalSetup: ["tests/setup/global-setup.ts"],
  },
});
