// Mutation testing of the webhook pipeline against the integration tests that drive it (embedded
// PGlite databases): npm run test:mutation:pipeline.
/** @type {import("@stryker-mutator/api/core").PartialStrykerOptions} */
export default {
  testRunner: "vitest",
  vitest: { configFile: "stryker/vitest.pipeline.config.ts", related: false },
  plugins: ["@stryker-mutator/vitest-runner"],
  // The webhook pipeline: the provider-neutral store → claim → apply → record path and replay, and
  // Stripe's reading and fulfilment of its events.
  mutate: [
    "app/services/billing/webhook-pipeline.server.ts",
    "app/services/billing/replay.server.ts",
    "app/services/events/replay.server.ts",
    "app/services/stripe/webhook.server.ts",
    "app/services/stripe/fulfilment.server.ts",
  ],
  coverageAnalysis: "perTest",
  checkers: [],
  concurrency: 2,
  // A mutant that hangs (a lock never released) is detected by this timeout; generous, because a busy
  // machine slows every run.
  timeoutMS: 20_000,
  incremental: true,
  incrementalFile: "reports/mutation/pipeline-incremental.json",
  reporters: ["clear-text", "html", "json", "progress"],
  htmlReporter: { fileName: "reports/mutation/pipeline.html" },
  jsonReporter: { fileName: "reports/mutation/pipeline.json" },
  clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true },
  ignorePatterns: ["/.data", "/build", "/public/build", "/reports", "/test-results", "/playwright-report", "/bench"],
  tempDirName: ".stryker-tmp",
  cleanTempDir: "always",
};
