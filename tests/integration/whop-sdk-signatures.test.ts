// Whop's signatures as Whop's own TypeScript library (@whop/sdk) makes and checks them, not as our
// code does: a delivery signed with the Standard Webhooks library the SDK wraps, constructed exactly
// as the SDK's `webhooks.unwrap` constructs it (`new Webhook(webhookKey)`, where Whop's documentation
// makes `webhookKey` the base64 of the `ws_…` secret), reaches the real /api/whop/webhook route.
import { createRequire } from "node:module";
import type * as StandardWebhooks from "standardwebhooks";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import * as webhookRoute from "../../app/routes/api.whop.webhook.ts";
import { testDb } from "../setup/database.ts";
import { TEST_WHOP_SECRET, useWhopEmulator } from "../whop-harness.ts";
import { billingOf, createBillingUser, routeArgs, seedDemoData } from "../utils.ts";

// The very copy of standardwebhooks that @whop/sdk loads (its own dependency, resolved from the SDK).
const sdkRequire = createRequire(createRequire(import.meta.url).resolve("@whop/sdk"));
const { Webhook: SdkWebhook } = sdkRequire("standardwebhooks") as typeof StandardWebhooks;

/** Whop's documented `webhookKey` (`btoa(secret)`), in UTF-8 for the test secret's non-ASCII character. */
const sdkWebhookKey = (secret: string) => Buffer.from(secret, "utf8").toString("base64");

const whop = useWhopEmulator();
const prisma = () => testDb().prisma;
const deliver = (request: Request) => webhookRoute.action(routeArgs(request));

/** Signed as the SDK would verify it: `new Webhook(webhookKey).sign(…)`. */
function signedBySdk(payload: string, id: string, secret = TEST_WHOP_SECRET) {
  const signature = new SdkWebhook(sdkWebhookKey(secret)).sign(id, new Date(), payload);
  return {
    "Content-Type": "application/json",
    "webhook-id": id,
    "webhook-timestamp": String(Math.floor(Date.now() / 1000)),
    "webhook-signature": signature,
  };
}

let counter = 0;
/** A Tierdesk customer and the Whop membership.activated event of a Whop Basic they bought (not yet delivered). */
async function customerWithUndeliveredPurchase() {
  const email = `whop-sdk-${counter++}-${Date.now()}@example.com`;
  const user = await createBillingUser({ email });
  whop.emulator.holdWebhooks();
  const { events } = await whop.emulator.purchase("plan_emu_whop_basic_monthly", {
    email,
    metadata: { tierdesk_user_id: String(user.id) },
  });
  const activated = events.find((event) => event.type === "membership.activated")!;
  return { user, activated };
}

const tierOf = async (userId: number) => (await billingOf(userId)).tier?.key;

beforeAll(seedDemoData);
beforeEach(() => whop.emulator.reset());

describe("a delivery signed by @whop/sdk's own webhook library", () => {
  it("is accepted, and the membership it carries grants the customer the Whop tier", async () => {
    const { user, activated } = await customerWithUndeliveredPurchase();
    expect(await tierOf(user.id)).not.toBe("whop_basic");
    const payload = JSON.stringify(activated);
    const response = await deliver(
      new Request("http://localhost/api/whop/webhook", {
        method: "POST",
        headers: signedBySdk(payload, activated.id),
        body: payload,
      }),
    );
    expect(response.status).toBe(200);
    expect(await tierOf(user.id)).toBe("whop_basic");
  });

  it("is refused (401) once the body is altered after signing, and changes and stores nothing", async () => {
    const { user, activated } = await customerWithUndeliveredPurchase();
    const before = await tierOf(user.id);
    const headers = signedBySdk(JSON.stringify(activated), activated.id);
    const tampered = JSON.stringify({ ...activated, data: { ...activated.data, status: "active", id: "mem_forged" } });
    const response = await deliver(
      new Request("http://localhost/api/whop/webhook", { method: "POST", headers, body: tampered }),
    );
    expect(response.status).toBe(401);
    expect(await tierOf(user.id)).toBe(before);
    expect(await prisma().stripeEvent.count({ where: { eventId: activated.id } })).toBe(0);
  });

  it("is refused (401) when signed with another secret", async () => {
    const { user, activated } = await customerWithUndeliveredPurchase();
    const before = await tierOf(user.id);
    const payload = JSON.stringify(activated);
    const response = await deliver(
      new Request("http://localhost/api/whop/webhook", {
        method: "POST",
        headers: signedBySdk(payload, activated.id, "ws_someone_else"),
        body: payload,
      }),
    );
    expect(response.status).toBe(401);
    expect(await tierOf(user.id)).toBe(before);
  });
});
