// A restart of the quick start: the emulator comes back on the same state file, so a paying customer
// is still a customer (portal opens, renewal date shown, a second checkout is still a 409). Without
// the file, the customer is gone, and the app says so and unlinks it instead of "could not be reached".
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { invalidatePriceCache } from "../../app/services/stripe/prices.server.ts";
import { useStripeConnection } from "../../app/services/stripe/client.server.ts";
import * as accountRoute from "../../app/routes/account.tsx";
import * as checkoutRoute from "../../app/routes/api.stripe.checkout.ts";
import * as portalRoute from "../../app/routes/api.stripe.portal.ts";
import * as successRoute from "../../app/routes/billing.success.tsx";
import { startStripeEmulator, type StripeEmulator } from "../../stripe-emulator/emulator.ts";
import {
  BASE_URL,
  billingOf,
  createBillingUser,
  getRequest,
  routeArgs,
  seedDemoData,
  sessionCookieFor,
  settle,
} from "../utils.ts";

let dir: string;
const started: StripeEmulator[] = [];

/** An emulator (webhooks only recorded: the success page applies the purchase) the app talks to. */
async function emulatorOn(stateFile: string | null) {
  const emulator = await startStripeEmulator({ stateFile });
  started.push(emulator);
  useStripeConnection({
    mode: "emulator",
    apiKey: "sk_test_restart",
    apiBase: emulator.url,
    webhookSecrets: ["whsec_restart"],
  });
  invalidatePriceCache();
  return emulator;
}

const post = (path: string, cookie: string, body: Record<string, string> = {}) =>
  new Request(`${BASE_URL}${path}`, {
    method: "POST",
    headers: { Cookie: cookie, "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify(body),
  });

beforeAll(async () => {
  await seedDemoData();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "tierdesk-restart-"));
});

afterAll(async () => {
  await Promise.all(started.map((emulator) => emulator.close().catch(() => {})));
  useStripeConnection({ mode: "disabled", apiKey: null, apiBase: null, webhookSecrets: [] });
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("restarting the app and its emulator", () => {
  it("keeps the customer on the same state file, and unlinks it with a clear message without one", async () => {
    const stateFile = path.join(dir, "stripe-emulator.json");
    const first = await emulatorOn(stateFile);
    const email = `restart-${Date.now()}@example.com`;
    const user = await createBillingUser({ email });
    const cookie = await sessionCookieFor(email);
    const { url } = await (
      await settle(() =>
        checkoutRoute.action(routeArgs(post("/api/stripe/checkout", cookie, { lookup_key: "pro_monthly" }))),
      )
    ).json();
    const sessionId = String(url).split("/").pop() ?? "";
    await first.completeCheckout(sessionId);
    await settle(() => successRoute.loader(routeArgs(getRequest(`/billing/success?session_id=${sessionId}`, cookie))));
    const linked = await billingOf(user.id);
    expect(linked.stripeCustomerId).toMatch(/^cus_/);
    await first.close();

    // The "restart": another process, another port, the same file.
    const second = await emulatorOn(stateFile);
    expect(second.url).not.toBe(first.url);
    const view = await (await settle(() => accountRoute.loader(routeArgs(getRequest("/account", cookie))))).json();
    expect(view).toMatchObject({
      plan: { key: "pro" },
      price: { label: "£29.00 per month" },
      state: { kind: "active", renewsAt: expect.any(String) },
      stripeUnavailable: false,
    });
    const portal = await settle(() => portalRoute.action(routeArgs(post("/api/stripe/portal", cookie))));
    expect(portal.status).toBe(200);
    expect((await portal.json()).url).toMatch(new RegExp(`^${second.url}/portal/bps_`));
    const again = await settle(() =>
      checkoutRoute.action(routeArgs(post("/api/stripe/checkout", cookie, { lookup_key: "pro_yearly" }))),
    );
    expect(again.status).toBe(409);
    await second.close();

    // Memory only (the old quick start): the customer is gone; the app unlinks it and says so.
    await emulatorOn(null);
    const forgotten = await settle(() => portalRoute.action(routeArgs(post("/api/stripe/portal", cookie))));
    expect(forgotten.status).toBe(404);
    expect((await forgotten.json()).error).toMatch(/no longer exists in Stripe/);
    expect(await billingOf(user.id)).toMatchObject({
      stripeCustomerId: null,
      subscriptionStatus: null,
      tierId: null,
    });
    const subscribeAgain = await settle(() =>
      checkoutRoute.action(routeArgs(post("/api/stripe/checkout", cookie, { lookup_key: "pro_yearly" }))),
    );
    expect(subscribeAgain.status).toBe(200);
  });
});
