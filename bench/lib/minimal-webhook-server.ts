// The baseline of bench/webhook.ts: a minimal correct Stripe webhook handler on node:http and pg,
// against the same database. Verify the signature with the Stripe SDK, BEGIN, insert the event
// ON CONFLICT DO NOTHING (a concurrent duplicate waits on the unique index, then does nothing),
// update the customer's account (found, and locked, by its stripe_customer_id, as Tierdesk finds it)
// only if the event is newer, mark the event processed (or stale), COMMIT.
// Run by the bench: DATABASE_URL=… WEBHOOK_SECRET=… POOL_SIZE=20 node --import tsx bench/lib/minimal-webhook-server.ts
import http from "node:http";
import type { AddressInfo } from "node:net";
import pg from "pg";
import Stripe from "stripe";

const databaseUrl = process.env.DATABASE_URL;
const secret = process.env.WEBHOOK_SECRET;
if (!databaseUrl || !secret) throw new Error("DATABASE_URL and WEBHOOK_SECRET are required");
const pool = new pg.Pool({ connectionString: databaseUrl, max: Number(process.env.POOL_SIZE ?? 20) });
pool.on("error", () => {});
const stripe = new Stripe("sk_test_unused");
const MAX_BODY_BYTES = 1024 * 1024;

type Subscription = {
  id: string;
  customer: string;
  status: string;
  items: { data: Array<{ price: { lookup_key: string | null } }> };
};

function reply(res: http.ServerResponse, status: number, body: object) {
  const json = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(json) });
  res.end(json);
}

async function handle(payload: string, signature: string): Promise<[number, object]> {
  let event: Stripe.Event;
  try {
    event = stripe.webhooks.constructEvent(payload, signature, secret!);
  } catch {
    return [400, { error: "Invalid signature" }];
  }
  const subscription = event.data.object as unknown as Subscription;
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    const inserted = await client.query<{ id: string }>(
      `INSERT INTO stripe_events (event_id, event_type, event_created_at, object_id, customer_id, payload, status, attempts)
       VALUES ($1, $2, $3, $4, $5, $6, 'pending', 1) ON CONFLICT (event_id) DO NOTHING RETURNING id`,
      [event.id, event.type, new Date(event.created * 1000), subscription.id, subscription.customer, payload],
    );
    const row = inserted.rows[0];
    if (!row) {
      await client.query("COMMIT");
      return [200, { received: true, duplicate: true }];
    }
    const updated = await client.query(
      `UPDATE accounts SET tier_id = (SELECT tier_id FROM subscription_tier_price WHERE lookup_key = $2),
              stripe_subscription_id = $3, subscription_status = $4, subscription_synced_at = $5,
              billing_version = billing_version + 1
        WHERE stripe_customer_id = $1 AND (subscription_synced_at IS NULL OR subscription_synced_at < $5)`,
      [
        subscription.customer,
        subscription.items.data[0]?.price.lookup_key ?? null,
        subscription.id,
        subscription.status,
        new Date(event.created * 1000),
      ],
    );
    await client.query(
      `UPDATE stripe_events SET status = $2::stripe_event_status, processed_at = now() WHERE id = $1`,
      [row.id, updated.rowCount ? "processed" : "stale"],
    );
    await client.query("COMMIT");
    return [200, { received: true }];
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    return [500, { error: error instanceof Error ? error.message : String(error) }];
  } finally {
    client.release();
  }
}

const server = http.createServer((req, res) => {
  if (req.method !== "POST" || req.url !== "/api/stripe/webhook") return reply(res, 404, { error: "Not found" });
  const chunks: Buffer[] = [];
  let size = 0;
  req.on("data", (chunk: Buffer) => {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      reply(res, 413, { error: "Too large" });
      req.destroy();
    } else chunks.push(chunk);
  });
  req.on("end", () => {
    if (res.headersSent) return;
    handle(Buffer.concat(chunks).toString("utf8"), String(req.headers["stripe-signature"] ?? "")).then(
      ([status, body]) => reply(res, status, body),
      (error: unknown) => reply(res, 500, { error: String(error) }),
    );
  });
});
server.keepAliveTimeout = 30_000;
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port, msg: "listening" })}\n`);
});
process.on("SIGTERM", () => {
  server.close();
  server.closeAllConnections();
  void pool.end().finally(() => process.exit(0));
});
