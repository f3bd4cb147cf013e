// Failed events for bulk replay tests, and reading what a bulk replay did to them.
import { expect } from "vitest";
import * as webhookRoute from "../app/routes/api.stripe.webhook.ts";
import { testDb } from "./setup/database.ts";
import { event, subscription, webhookRequest } from "./stripe-fixtures.ts";
import { createBillingUser, routeArgs } from "./utils.ts";

const prisma = () => testDb().prisma;
export const EVENT_TYPE = "customer.subscription.updated";

/**
 * `count` events that fail (their price's lookup key is on no tier) as Stripe delivers them, for
 * users (their personal accounts) created here; `fix()` then puts the key on Pro, so that a replay processes them.
 */
export async function failedEvents(lookupKey: string, count: number) {
  const ids: string[] = [];
  const deliver = async (i: number) => {
    const customer = `cus_${lookupKey}_${i}`;
    await createBillingUser({ email: `${lookupKey}-${i}@example.com`, stripeCustomerId: customer });
    const evt = event(EVENT_TYPE, subscription({ customer, lookupKey }));
    const response = await webhookRoute.action(routeArgs(webhookRequest(evt)));
    expect(response.status).toBe(500);
    ids.push(evt.id);
  };
  for (let i = 0; i < count; i += 10) {
    await Promise.all(Array.from({ length: Math.min(10, count - i) }, (_, j) => deliver(i + j)));
  }
  const fix = async () => {
    const pro = await prisma().subscriptionTier.findUniqueOrThrow({ where: { key: "pro" } });
    await prisma().subscriptionTierPrice.create({ data: { tierId: pro.id, lookupKey, position: 30 } });
  };
  return { ids, fix };
}

export async function waitFor<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export const replayJob = (id: number) => prisma().replayJob.findUniqueOrThrow({ where: { id } });

/** Each event's attempts by source, e.g. { webhook: 1, bulk_replay: 1 }, and its status. */
export async function attemptsOf(eventIds: string[]) {
  const events = await prisma().stripeEvent.findMany({
    where: { eventId: { in: eventIds } },
    include: { attemptLog: true },
  });
  return events.map((row) => ({
    status: row.status,
    attempts: row.attemptLog.reduce<Record<string, number>>(
      (counts, attempt) => ({ ...counts, [attempt.source]: (counts[attempt.source] ?? 0) + 1 }),
      {},
    ),
  }));
}
