// Vitest as Stryker runs it for the billing rules: only the unit tests that exercise them.
import path from "node:path";
import { defineConfig } from "vitest/config";

const root = path.resolve(import.meta.dirname, "..");

export default defineConfig({
  root,
  resolve: { alias: { "~": path.join(root, "app") } },
  test: {
    environment: "node",
    include: [
      "tests/unit/billing-rules.test.ts",
      "tests/unit/billing-rules-edges.test.ts",
      "tests/unit/whop-rules.test.ts",
      "tests/unit/accounts-rules.test.ts",
    ],
  },
});
