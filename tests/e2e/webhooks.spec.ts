// Outgoing webhooks in Chromium, as an admin uses them: register an endpoint pointing to a receiver
// this test runs (the secret shown once), give an account a tier and watch the signed delivery
// succeed in the log; then a failing receiver, a failed delivery, and Replay once it is fixed.
// The e2e server retries for WEBHOOK_RETRY_WINDOW_SECONDS=8 (playwright.config.ts), not 3 days.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { expect, type Page, test } from "@playwright/test";
import { Webhook } from "standardwebhooks";
import { signIn } from "./helpers.ts";

type Received = { id: string; status: number; body: string; headers: Record<string, string> };

async function startReceiver() {
  const received: Received[] = [];
  const state = { status: 200 };
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const status = state.status;
      received.push({
        id: String(request.headers["webhook-id"]),
        status,
        body: Buffer.concat(chunks).toString(),
        headers: request.headers as Record<string, string>,
      });
      response.writeHead(status, { "content-type": "text/plain" }).end(status < 300 ? "thanks" : "receiver is down");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/tierdesk-hooks`,
    received,
    state,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

async function watchErrors(page: Page) {
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("console", (message) => {
    if (message.type() === "error" && !/status of (400|404)/.test(message.text())) errors.push(message.text());
  });
  return () => errors;
}

async function setExemptTier(page: Page, accountPath: string, label: string) {
  await page.goto(accountPath);
  await page.getByRole("combobox", { name: "Exempt tier" }).selectOption({ label });
  await page.getByRole("button", { name: "Set tier" }).click();
  await expect(page.getByTestId("action-result")).toBeVisible();
}

test("an admin registers an endpoint, sees a change delivered signed, and replays a failed delivery", async ({
  page,
}) => {
  test.setTimeout(120_000);
  const receiver = await startReceiver();
  const errors = await watchErrors(page);
  try {
    await signIn(page, "admin@example.com", "admin-demo-password");
    await expect(page).not.toHaveURL(/\/login/);

    // Register: the secret is shown once.
    await page.goto("/admin/webhooks");
    await page.getByRole("link", { name: "Webhooks" }).first().waitFor();
    await page.getByLabel("Endpoint URL").fill(receiver.url);
    await page.getByRole("button", { name: "Add endpoint" }).click();
    const secretText = page.getByTestId("new-secret").locator("code.secret");
    await expect(secretText).toHaveText(/^whsec_[A-Za-z0-9+/]{32}$/);
    const secret = (await secretText.textContent())!;
    await page.screenshot({ path: "test-results/webhooks-created-1280.png", fullPage: true });
    await page.getByRole("link", { name: "Open its delivery log" }).click();
    await expect(page).toHaveURL(/\/admin\/webhooks\/\d+$/);
    const endpointPath = new URL(page.url()).pathname;
    await page.goto("/admin/webhooks");
    await expect(page.getByTestId("endpoints-table")).toContainText(receiver.url);
    await expect(page.getByText(secret)).toHaveCount(0);

    // A change: Acme Studio (on the exempt Partner tier in the demo data) is taken off it.
    await page.goto("/admin/accounts?q=acme-studio");
    await page.getByRole("link", { name: "Acme Studio", exact: true }).click();
    await expect(page).toHaveURL(/\/admin\/accounts\/\d+$/);
    const accountPath = new URL(page.url()).pathname;
    const accountId = Number(accountPath.split("/").pop());
    await setExemptTier(page, accountPath, "none (its subscription decides)");

    await expect
      .poll(
        async () => {
          await page.goto(endpointPath);
          return page.getByTestId("deliveries").locator('li[data-status="succeeded"]').count();
        },
        { timeout: 30_000 },
      )
      .toBeGreaterThan(0);
    await expect(page.getByTestId("deliveries").locator("li").first()).toContainText("account.entitlements.updated");
    await expect(page.getByTestId("deliveries").locator("li").first()).toContainText("200");
    const delivered = receiver.received.find((entry) => entry.status === 200)!;
    const payload = new Webhook(secret).verify(delivered.body, delivered.headers) as {
      type: string;
      data: { account: { id: number }; entitlements: { tier: string } };
    };
    expect(payload.type).toBe("account.entitlements.updated");
    expect(payload.data.account.id).toBe(accountId);
    expect(payload.data.entitlements.tier).toBe("free");
    await page.screenshot({ path: "test-results/webhooks-log-1280.png", fullPage: true });
    await page.setViewportSize({ width: 360, height: 800 });
    await page.screenshot({ path: "test-results/webhooks-log-360.png", fullPage: true });
    await page.setViewportSize({ width: 1280, height: 800 });

    // The receiver fails: the next change is retried, then fails.
    receiver.state.status = 500;
    await setExemptTier(page, accountPath, "Partner");
    await expect
      .poll(
        async () => {
          await page.goto(`${endpointPath}?failed=1`);
          return page.getByTestId("deliveries").locator('li[data-status="failed"]').count();
        },
        { timeout: 45_000 },
      )
      .toBe(1);
    const failed = page.getByTestId("deliveries").locator('li[data-status="failed"]').first();
    await expect(failed).toContainText("500");
    await expect(failed).toContainText("receiver is down");
    const failedId = (await failed.locator("code").filter({ hasText: /^msg_/ }).textContent())!;
    expect(receiver.received.filter((entry) => entry.id === failedId).length).toBeGreaterThanOrEqual(2);

    // Fixed: Replay delivers it (same webhook-id).
    receiver.state.status = 200;
    if (await page.getByRole("button", { name: "Enable" }).isVisible()) {
      await page.getByRole("button", { name: "Enable" }).click();
      await expect(page.getByTestId("notice")).toHaveText("Enabled.");
      await page.goto(`${endpointPath}?failed=1`);
    }
    await page
      .getByTestId("deliveries")
      .locator('li[data-status="failed"]')
      .first()
      .getByRole("button", { name: "Replay" })
      .click();
    await expect(page.getByTestId("notice")).toHaveText("Replaying 1 delivery.");
    await expect
      .poll(() => receiver.received.some((entry) => entry.id === failedId && entry.status === 200), { timeout: 20_000 })
      .toBe(true);
    await expect
      .poll(
        async () => {
          await page.goto(endpointPath);
          return page.getByTestId("endpoint-state").textContent();
        },
        { timeout: 10_000 },
      )
      .toMatch(/0 failed/);
    expect(errors()).toEqual([]);
  } finally {
    await receiver.close();
  }
});
