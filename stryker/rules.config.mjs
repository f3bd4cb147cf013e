// Mutation testing of the billing rules (pure functions) against the unit tests: npm run test:mutation:rules.
/** @type {import("@stryker-mutator/api/core").PartialStrykerOptions} */
export default {
  testRunner: "vitest",
  vitest: { configFile: "stryker/vitest.rules.config.ts", related: false },
  plugins: ["@stryker-mutator/vitest-runner"],
  // The billing rules are app/rules/: every billing decision, by subject (README, decision 004).
  mutate: ["app/rules/*.ts"],
  coverageAnalysis: "perTest",
  checkers: [],
  concurrency: 2,
  incremental: true,
  incrementalFile: "reports/mutation/rules-incremental.json",
  reporters: ["clear-text", "html", "json", "progress"],
  htmlReporter: { fileName: "reports/mutation/rules.html" },
  jsonReporter: { fileName: "reports/mutation/rules.json" },
  clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true },
  ignorePatterns: ["/.data", "/build", "/public/build", "/reports", "/test-results", "/playwright-report", "/bench"],
  tempDirName: ".stryker-tmp",
  cleanTempDir: "always",
};
