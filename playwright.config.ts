// End-to-end tests in a real browser against the real server, on a fresh embedded database and
// the bundled Stripe emulator. The server listens on 127.0.0.1 (the default HOST), so the suite uses
// that address, not "localhost" (which may resolve to ::1 first). Uses Playwright's own Chromium
// where installed (a laptop), else Debian's /usr/bin/chromium (CI and offline machines, where
// browsers cannot be downloaded).
import fs from "node:fs";
import { defineConfig, devices } from "@playwright/test";
import { chromium } from "@playwright/test";

const PORT = Number(process.env.E2E_PORT ?? 3210);

function systemChromium(): string | undefined {
  try {
    if (fs.existsSync(chromium.executablePath())) return undefined; // Playwright's own browser
  } catch {
    // not installed
  }
  return ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((candidate) => fs.existsSync(candidate));
}
const executablePath = systemChromium();

export default defineConfig({
  testDir: "tests/e2e",
  outputDir: "test-results",
  fullyParallel: false,
  workers: 1,
  // Never retried: a test that passes only on its second try is a flake to fix, not a pass.
  retries: 0,
  timeout: 60_000,
  reporter: process.env.CI ? [["list"]] : [["list"]],
  use: {
    baseURL: `http://127.0.0.1:${PORT}`,
    trace: "retain-on-failure",
    ...devices["Desktop Chrome"],
    launchOptions: executablePath
      ? {
          executablePath,
          args: [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
          ],
        }
      : {},
  },
  webServer: {
    // A fresh embedded database every run; the emulator on a free port.
    command: "rm -rf .data/e2e && tsx server/index.ts",
    url: `http://127.0.0.1:${PORT}/healthz`,
    reuseExistingServer: false,
    timeout: 120_000,
    env: {
      PORT: String(PORT),
      PGLITE_DATA_DIR: ".data/e2e",
      STRIPE_EMULATOR_PORT: "0",
      DATABASE_URL: "",
      STRIPE_API_KEY: "",
      WHOP_API_KEY: "",
      // Every browser of the suite signs up from 127.0.0.1.
      SIGNUP_LIMIT_PER_IP: "200",
      WHOP_EMULATOR_PORT: "0",
      // Given explicitly (the quick start's is random per data folder): the emulator signs with it, and
      // the specs that send their own webhooks (smoke, operators, customer-layout) sign with it too.
      STRIPE_WEBHOOK_SECRET: "whsec_e2e_suite",
      NODE_ENV: "development",
    },
    stdout: "pipe",
    stderr: "pipe",
  },
});
