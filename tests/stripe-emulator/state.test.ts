// The state file: an emulator started again on the same file knows every customer, subscription,
// session and event of the one before, as a real Stripe account would after the app restarts.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStripeEmulator, type StripeEmulator } from "../../stripe-emulator/emulator.ts";
import { removeStateFile } from "../../stripe-emulator/state.ts";
import { clientFor, createCheckout, WebhookReceiver, WEBHOOK_SECRET } from "./helpers.ts";

let dir: string;
let receiver: WebhookReceiver;
const running: StripeEmulator[] = [];

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "tierdesk-emulator-state-"));
  receiver = await new WebhookReceiver().start();
});

afterAll(async () => {
  await Promise.all(running.map((emulator) => emulator.close().catch(() => {})));
  await receiver.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function start(stateFile: string | null) {
  const emulator = await startStripeEmulator({ webhookUrl: receiver.url, webhookSecret: WEBHOOK_SECRET, stateFile });
  running.push(emulator);
  return { emulator, stripe: clientFor(emulator) };
}

describe("state file", () => {
  it("keeps customers, subscriptions, sessions and events across a restart, written atomically", async () => {
    const file = path.join(dir, "restart", "stripe-emulator.json");
    const first = await start(file);
    const session = await createCheckout(first.stripe);
    const { subscription } = await first.emulator.completeCheckout(session.id);
    await first.stripe.subscriptions.update(subscription.id, { cancel_at_period_end: true });
    await first.emulator.settle();
    const customerId = subscription.customer;
    const events = first.emulator.events.map((r) => r.event.id);
    // Written already, before any close: a crash loses nothing. No temporary file is left behind.
    expect(fs.existsSync(file)).toBe(true);
    expect(fs.readdirSync(path.dirname(file))).toEqual(["stripe-emulator.json"]);
    await first.emulator.close();

    const second = await start(file);
    const customer = await second.stripe.customers.retrieve(customerId);
    expect(customer).toMatchObject({ id: customerId, email: "ada@example.com" });
    const restored = await second.stripe.subscriptions.retrieve(subscription.id);
    expect(restored).toMatchObject({ status: "active", cancel_at_period_end: true, customer: customerId });
    expect((await second.stripe.checkout.sessions.retrieve(session.id)).status).toBe("complete");
    expect(second.emulator.events.map((r) => r.event.id)).toEqual(events);
    expect((await second.stripe.events.retrieve(events[0]!)).type).toBe("customer.created");
    // The customer can use the portal, and the period can still end (renew control → deleted).
    const portal = await second.stripe.billingPortal.sessions.create({ customer: customerId });
    expect(portal.url).toBe(`${second.emulator.url}/portal/${portal.id}`);
    const { subscription: ended } = await second.emulator.renewSubscription(subscription.id);
    expect(ended.status).toBe("canceled");
    await second.emulator.close();

    const third = await start(file);
    expect((await third.stripe.subscriptions.retrieve(subscription.id)).status).toBe("canceled");
    await third.emulator.close();
  });

  it("keeps a price created with transfer_lookup_key, and the old price without its key, across a restart", async () => {
    const file = path.join(dir, "prices", "stripe-emulator.json");
    const first = await start(file);
    const created = await first.stripe.prices.create({
      product: "prod_emu_pro",
      currency: "gbp",
      unit_amount: 3500,
      recurring: { interval: "month" },
      lookup_key: "pro_monthly",
      transfer_lookup_key: true,
    });
    await first.emulator.settle();
    await first.emulator.close();

    const second = await start(file);
    const byKey = await second.stripe.prices.list({ lookup_keys: ["pro_monthly"] });
    expect(byKey.data.map((p) => [p.id, p.unit_amount])).toEqual([[created.id, 3500]]);
    const all = await second.stripe.prices.list({ limit: 100 });
    expect(all.data.find((p) => p.id === "price_emu_pro_monthly")?.lookup_key).toBeNull();
  });

  it("reset empties the file too, and a removed or unreadable file starts an empty account", async () => {
    const file = path.join(dir, "reset.json");
    const first = await start(file);
    const customer = await first.stripe.customers.create({ email: "grace@example.com" });
    first.emulator.reset();
    await first.emulator.close();
    const second = await start(file);
    await expect(second.stripe.customers.retrieve(customer.id)).rejects.toThrow(
      Stripe.errors.StripeInvalidRequestError,
    );
    await second.stripe.customers.create({ email: "kept@example.com" });
    await second.emulator.close();

    removeStateFile(file);
    removeStateFile(file); // nothing there: no error
    expect(fs.existsSync(file)).toBe(false);

    fs.writeFileSync(file, "{ not json");
    const third = await start(file);
    expect(third.emulator.events).toEqual([]);
    expect((await third.stripe.prices.list({ lookup_keys: ["pro_monthly"] })).data).toHaveLength(1);
    await third.emulator.close();
  });

  it("without a state file (tests), nothing is written anywhere", async () => {
    const before = fs.readdirSync(dir);
    const { emulator, stripe } = await start(null);
    await stripe.customers.create({ email: "memory@example.com" });
    await emulator.close();
    expect(fs.readdirSync(dir)).toEqual(before);
  });
});
