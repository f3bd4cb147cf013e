// /admin/reconcile in Chromium: support and admins run a whole-account reconciliation with Stripe (the
// emulator) from the button; it runs on the job queue while the page shows its progress, then its
// result and the run in the history.
import { expect, test } from "@playwright/test";
import { signIn } from "./helpers.ts";

const STAFF = [
  { role: "support", email: "support@example.com", password: "support-demo-password" },
  { role: "admin", email: "admin@example.com", password: "admin-demo-password" },
] as const;

test.describe.configure({ mode: "serial" });

for (const person of STAFF) {
  test(`${person.role} runs a reconciliation and sees its result and history`, async ({ page }) => {
    await signIn(page, person.email, person.password);
    await expect(page).toHaveURL(/\/admin$/);
    await page.goto("/admin/reconcile");
    await expect(page.getByRole("heading", { level: 1, name: "Reconciliation" })).toBeVisible();
    const runsBefore = await page.getByTestId("reconcile-run").count();

    const run = page.getByRole("button", { name: /Run now|Running…/ });
    await expect(run).toBeEnabled({ timeout: 30_000 });
    await run.click();
    // The request only queued it: the page follows the run until it finishes.
    await expect(page.getByTestId("reconcile-run")).toHaveCount(runsBefore + 1, { timeout: 10_000 });
    await expect(page.getByTestId("reconcile-progress")).toHaveCount(0, { timeout: 30_000 });
    const newest = page.getByTestId("reconcile-run").first();
    await expect(newest).toContainText("finished");
    await expect(newest).toContainText(person.email);
    const runId = ((await newest.locator("td").first().textContent()) ?? "").trim();
    await expect(page.getByTestId("reconcile-summary")).toContainText(`Run ${runId}:`);
  });
}
