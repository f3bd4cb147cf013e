// Signed `customer.subscription.updated` deliveries for the bench customers, built from Stripe's own
// fixture shapes (tests/stripe-fixtures.ts), shuffled, with a share re-delivered (some at the same
// moment as the original, some later), and the state every customer's account must end in.
import Stripe from "stripe";
import { seededRandom } from "../../emulator-kit/delivery-order.ts";
import { event, subscription } from "../../tests/stripe-fixtures.ts";
import type { PreparedRequest } from "./load.ts";
import { WEBHOOK_SECRET } from "./processes.ts";
import type pg from "pg";

export const WEBHOOK_PATH = "/api/stripe/webhook";
/** The seeded tiers' lookup keys (prisma/seed.ts). */
export const LOOKUP_KEYS = ["hobbyist_monthly", "hobbyist_yearly", "pro_monthly", "pro_yearly"];
const STATUSES = ["active", "trialing", "past_due", "canceled"];

/** A small seeded PRNG (mulberry32): the same seed gives the same events and order. */
export const random = seededRandom;

export const customerId = (n: number) => `cus_bench${n}`;
export const subscriptionId = (n: number) => `sub_bench${n}`;

/**
 * `count` customers on a fresh free tier: users, each owning a personal account linked to a Stripe
 * customer cus_bench0… (billing lives on accounts), as sign-up and a checkout leave them.
 */
export async function createCustomers(client: pg.Client, count: number) {
  await client.query(
    `WITH people AS (
       INSERT INTO users (email, password_hash)
       SELECT 'bench-' || n || '@example.com', 'not-a-password-hash' FROM generate_series(0, $1::int - 1) AS n
       RETURNING id, email),
     owned AS (
       INSERT INTO accounts (name, slug, stripe_customer_id)
       SELECT 'bench-' || n, 'bench-' || n, 'cus_bench' || n FROM generate_series(0, $1::int - 1) AS n
       RETURNING id, name)
     INSERT INTO memberships (account_id, user_id, role)
     SELECT owned.id, people.id, 'owner' FROM owned JOIN people ON people.email = owned.name || '@example.com'`,
    [count],
  );
}

/**
 * Puts every bench customer back on no tier and forgets every stored event (or, given `recentSince`,
 * those received since then: a bench that keeps old events of its own).
 */
export async function resetCustomers(client: pg.Client, { recentSince }: { recentSince?: Date } = {}) {
  if (recentSince) await client.query("DELETE FROM stripe_events WHERE received_at >= $1", [recentSince]);
  else await client.query("TRUNCATE stripe_event_attempts, stripe_events");
  await client.query(
    `UPDATE accounts SET tier_id = NULL, stripe_subscription_id = NULL, subscription_status = NULL, subscription_synced_at = NULL
      WHERE stripe_customer_id LIKE 'cus_bench%'`,
  );
}

export type ExpectedAccount = {
  customerId: string;
  lookupKey: string;
  status: string;
  subscriptionId: string;
  syncedAt: number;
};

export type DeliveryPlan = {
  requests: PreparedRequest[];
  eventIds: string[];
  expected: ExpectedAccount[];
};

/**
 * For each customer, `eventsPerCustomer` updates one second apart (the newest: active on a random
 * lookup key), all shuffled; `redeliveryShare` of them delivered twice, half of those right next to
 * the original (concurrent duplicates) and half later. `instances` > 1: a duplicate goes to another
 * instance than its original.
 */
export function planDeliveries({
  customers,
  eventsPerCustomer,
  redeliveryShare = 0.2,
  seed,
  tag,
  instances = 1,
}: {
  customers: number;
  eventsPerCustomer: number;
  redeliveryShare?: number;
  seed: number;
  tag: string;
  instances?: number;
}): DeliveryPlan {
  const rand = random(seed);
  const pick = <T>(list: readonly T[]) => list[Math.floor(rand() * list.length)]!;
  // Stripe's `created` is in the past; distinct seconds per customer, so no same-second ties.
  const firstCreated = Math.floor(Date.now() / 1000) - 3600;
  const bodies: Array<{ id: string; payload: string }> = [];
  const expected: ExpectedAccount[] = [];
  for (let n = 0; n < customers; n++) {
    for (let k = 0; k < eventsPerCustomer; k++) {
      const newest = k === eventsPerCustomer - 1;
      const lookupKey = pick(LOOKUP_KEYS);
      const status = newest ? "active" : pick(STATUSES);
      const created = firstCreated + k;
      const id = `evt_bench_${tag}_${n}_${k}`;
      const sub = subscription({ id: subscriptionId(n), customer: customerId(n), status, lookupKey });
      // As Stripe sends it: pretty-printed JSON.
      bodies.push({
        id,
        payload: JSON.stringify(event("customer.subscription.updated", sub, { id, created }), null, 2),
      });
      if (newest)
        expected.push({
          customerId: customerId(n),
          lookupKey,
          status,
          subscriptionId: subscriptionId(n),
          syncedAt: created,
        });
    }
  }
  // Fisher–Yates
  for (let i = bodies.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [bodies[i], bodies[j]] = [bodies[j]!, bodies[i]!];
  }
  const order: Array<{ id: string; payload: string; duplicate: boolean }> = bodies.map((body) => ({
    ...body,
    duplicate: false,
  }));
  const redelivered = bodies.filter(() => rand() < redeliveryShare);
  redelivered.forEach((body, i) => {
    const at = order.findIndex((entry) => entry.id === body.id);
    // Half at once (the next request, in flight at the same time), half later.
    const position = i % 2 === 0 ? at + 1 : at + 1 + Math.floor(rand() * (order.length - at));
    order.splice(position, 0, { ...body, duplicate: true });
  });
  const timestamp = Math.floor(Date.now() / 1000);
  const requests = order.map(({ payload, duplicate }, index): PreparedRequest => {
    const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET, timestamp });
    return {
      method: "POST",
      path: WEBHOOK_PATH,
      headers: {
        "Content-Type": "application/json; charset=utf-8",
        "Stripe-Signature": signature,
        "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
      },
      body: Buffer.from(payload),
      target: instances > 1 ? (duplicate ? index + 1 : index) % instances : 0,
    };
  });
  return { requests, eventIds: bodies.map((body) => body.id), expected };
}

export type StateCheck = { exact: boolean; problems: string[]; summary: string };

/**
 * Every event stored exactly once and finished (processed or stale), each with one processing attempt
 * when `attempts` is checked, and every customer's account in the state its newest event describes.
 */
export async function checkFinalState(
  client: pg.Client,
  plan: DeliveryPlan,
  { attempts, recentSince = new Date(0) }: { attempts: boolean; recentSince?: Date },
): Promise<StateCheck> {
  const problems: string[] = [];
  const events = await client.query<{ status: string; count: string }>(
    "SELECT status::text AS status, count(*) AS count FROM stripe_events WHERE received_at >= $1 GROUP BY status",
    [recentSince],
  );
  const byStatus = Object.fromEntries(events.rows.map((row) => [row.status, Number(row.count)]));
  const stored = Object.values(byStatus).reduce((sum, n) => sum + n, 0);
  if (stored !== plan.eventIds.length) problems.push(`${stored} events stored, ${plan.eventIds.length} sent`);
  const unfinished = stored - (byStatus.processed ?? 0) - (byStatus.stale ?? 0);
  if (unfinished) problems.push(`${unfinished} events neither processed nor stale (${JSON.stringify(byStatus)})`);
  const missing = await client.query<{ count: string }>(
    "SELECT count(*) AS count FROM unnest($1::text[]) AS sent(id) WHERE NOT EXISTS (SELECT 1 FROM stripe_events e WHERE e.event_id = sent.id)",
    [plan.eventIds],
  );
  if (Number(missing.rows[0]?.count)) problems.push(`${missing.rows[0]?.count} events sent but not stored`);
  if (attempts) {
    const attemptCounts = await client.query<{ events: string; claims: string; attempts: string }>(
      `SELECT count(*) AS events, coalesce(sum(attempts), 0) AS claims,
              (SELECT count(*) FROM stripe_event_attempts a JOIN stripe_events e ON e.id = a.event_id
                WHERE e.received_at >= $1) AS attempts
         FROM stripe_events WHERE received_at >= $1`,
      [recentSince],
    );
    const row = attemptCounts.rows[0]!;
    if (row.claims !== row.events)
      problems.push(`${row.claims} claims for ${row.events} events (some processed twice)`);
    if (row.attempts !== row.events)
      problems.push(`${row.attempts} processing attempts recorded for ${row.events} events`);
  }
  const accounts = await client.query<{
    customer: string;
    tier_key: string | null;
    status: string | null;
    subscription: string | null;
    synced: Date | null;
  }>(
    `SELECT a.stripe_customer_id AS customer, p.lookup_key AS tier_key, a.subscription_status AS status,
            a.stripe_subscription_id AS subscription, a.subscription_synced_at AS synced
       FROM accounts a LEFT JOIN subscription_tier t ON t.id = a.tier_id
       LEFT JOIN LATERAL (SELECT array_to_string(array_agg(lookup_key ORDER BY lookup_key), ',') AS lookup_key
                            FROM subscription_tier_price WHERE tier_id = t.id) p ON true
      WHERE a.stripe_customer_id LIKE 'cus_bench%'`,
  );
  const actual = new Map(accounts.rows.map((row) => [row.customer, row]));
  let wrongAccounts = 0;
  for (const want of plan.expected) {
    const got = actual.get(want.customerId);
    const right =
      got &&
      got.tier_key?.split(",").includes(want.lookupKey) &&
      got.status === want.status &&
      got.subscription === want.subscriptionId &&
      got.synced?.getTime() === want.syncedAt * 1000;
    if (!right) {
      if (wrongAccounts < 3)
        problems.push(`account of ${want.customerId}: ${JSON.stringify(got)} ≠ ${JSON.stringify(want)}`);
      wrongAccounts++;
    }
  }
  if (wrongAccounts) problems.push(`${wrongAccounts} of ${plan.expected.length} accounts wrong`);
  const summary =
    `${stored} events stored once (${byStatus.processed ?? 0} processed, ${byStatus.stale ?? 0} stale), ` +
    `${plan.expected.length - wrongAccounts}/${plan.expected.length} accounts right`;
  return { exact: problems.length === 0, problems, summary };
}
