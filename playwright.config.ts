// End-to-end tests in a real browser against the real server, on a fresh embedded database and
// the bundled Stripe emulator. The server listens on 127.0.0.1 (the default HOST), so the suite uses
// that address, not "localhost" (which may resolve to ::1 first). Uses Playwright's own Chromium
// where installed (a laptop), else Debian's /usr/bin/chromium (CI and offline machines, where
// browsers cannot be downloaded).
import fs from "node:fs";
import { defineConfig, devices } from "@playwright/test";
import { chromium } from "@playwright/test";

const PORT = Number(process.env.E2E_PORT ?? 3210);
// A second instance that sends its mail through SMTP (to the catcher below) instead of the development
// outbox, for the journeys that read mail as it arrives over SMTP (tests/e2e/team-journey.spec.ts).
export const SMTP_APP_PORT = PORT + 1;
export const SMTP_CATCHER_PORT = PORT + 115;
export const SMTP_CATCHER_HTTP_PORT = PORT + 116;

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
  webServer: [
    {
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
        // Outgoing webhooks give up after 20 s instead of 3 days (tests/e2e/webhooks.spec.ts sees one fail after
        // a retry or two; 8 s gave up after one attempt when a loaded machine started the first one late).
        WEBHOOK_RETRY_WINDOW_SECONDS: "20",
      },
      stdout: "pipe",
      stderr: "pipe",
    },
    {
      command: "tsx tests/e2e/smtp-catcher.ts",
      url: `http://127.0.0.1:${SMTP_CATCHER_HTTP_PORT}/`,
      reuseExistingServer: false,
      timeout: 60_000,
      env: { SMTP_CATCHER_PORT: String(SMTP_CATCHER_PORT), SMTP_CATCHER_HTTP_PORT: String(SMTP_CATCHER_HTTP_PORT) },
      stdout: "pipe",
      stderr: "pipe",
    },
    {
      // The same app with real mail: its own embedded database and Stripe emulator.
      command: "rm -rf .data/e2e-smtp && tsx server/index.ts",
      url: `http://127.0.0.1:${SMTP_APP_PORT}/healthz`,
      reuseExistingServer: false,
      timeout: 120_000,
      env: {
        PORT: String(SMTP_APP_PORT),
        PGLITE_DATA_DIR: ".data/e2e-smtp",
        STRIPE_EMULATOR_PORT: "0",
        DATABASE_URL: "",
        STRIPE_API_KEY: "",
        WHOP_API_KEY: "",
        SIGNUP_LIMIT_PER_IP: "200",
        WHOP_EMULATOR_PORT: "0",
        STRIPE_WEBHOOK_SECRET: "whsec_e2e_suite",
        NODE_ENV: "development",
        APP_URL: `http://127.0.0.1:${SMTP_APP_PORT}`,
        SMTP_URL: `smtp://tierdesk:smtp-test-password@127.0.0.1:${SMTP_CATCHER_PORT}`,
        MAIL_FROM: "Tierdesk <no-reply@tierdesk.test>",
      },
      stdout: "pipe",
      stderr: "pipe",
    },
  ],
});
