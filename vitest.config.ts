import path from "node:path";
import { defineConfig } from "vitest/config";

// Two projects: unit tests need no database and run in about a second; integration tests (and the
// emulator's) each get their own migrated database, built once by the global setup.
export default defineConfig({
  resolve: { alias: { "~": path.resolve(import.meta.dirname, "app") } },
  test: {
    environment: "node",
    projects: [
      {
        extends: true,
        test: { name: "unit", include: ["tests/unit/**/*.test.ts"], pool: "threads" },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: ["tests/integration/**/*.test.ts", "tests/stripe-emulator/**/*.test.ts"],
          testTimeout: 20_000,
          hookTimeout: 60_000,
          pool: "forks",
          globalSetup: ["tests/setup/global-setup.ts"],
        },
      },
    ],
  },
});
