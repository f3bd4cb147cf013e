// The outgoing webhooks' outbox (docs/decisions/018): a message per event, written by one statement in
// the transaction of the change that causes it, with a delivery for every enabled endpoint subscribed
// to its type. The statement is sent with the COMMIT (executeAtCommit): on the webhook path it costs
// no round trip, and with no subscribed endpoint it stops at an empty index-free scan of a tiny table.
import { Prisma } from "~/generated/prisma/client.ts";
import { FREE_TIER_KEY } from "~/utils/granting-statuses.ts";
import { MEMBERS, PENDING, SEAT_LIMIT, TIER_IN_FORCE } from "./seats.server.ts";
import { type Db, executeAtCommit } from "./transaction.server.ts";

export const WEBHOOK_EVENT_TYPES = [
  "account.entitlements.updated",
  "account.seats.updated",
  "account.created",
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** The tier in force's id (the stored tier while it is in force, else the free tier's). */
export const TIER_IN_FORCE_ID = Prisma.sql`(CASE WHEN ${TIER_IN_FORCE} THEN t.id
  ELSE (SELECT f.id FROM subscription_tier f WHERE f.key = ${FREE_TIER_KEY}) END)`;
/** The status of what pays for the tier in force, as getEntitlements reports it. */
const STATUS = Prisma.sql`(CASE WHEN ${TIER_IN_FORCE} AND NOT (t.is_billing_exempt OR t.billing_provider = 'exempt')
  AND a.billing_source = 'whop' THEN a.whop_membership_status ELSE a.subscription_status END)`;

/** What a message tells about its account, as one jsonb per account (the payload's `data`). */
const ACCOUNT_STATE = Prisma.sql`
  SELECT a.id, jsonb_build_object('id', a.id, 'externalId', a.external_id, 'name', a.name) AS account,
         jsonb_build_object('tier', ft.key, 'status', ${STATUS},
           'permissions', COALESCE((SELECT jsonb_agg(p.name ORDER BY p.name) FROM subscription_tier_permission tp
                                      JOIN permission p ON p.id = tp.permission_id WHERE tp.tier_id = ft.id), '[]'::jsonb)) AS entitlements,
         jsonb_build_object('limit', ${SEAT_LIMIT}, 'used', ${MEMBERS}, 'pending', ${PENDING}) AS seats
    FROM accounts a LEFT JOIN subscription_tier t ON t.id = a.tier_id
    LEFT JOIN subscription_tier ft ON ft.id = ${TIER_IN_FORCE_ID}`;

/** The part of the state whose change an event announces (account.created: none, always sent). */
const FINGERPRINT: Record<WebhookEventType, Prisma.Sql | null> = {
  // With the seat limit: a tier's new user limit is an entitlements change (the payload carries the seats).
  "account.entitlements.updated": Prisma.sql`s.entitlements || jsonb_build_object('seatLimit', s.seats -> 'limit')`,
  // Members and pending invitations; a limit change comes with account.entitlements.updated.
  "account.seats.updated": Prisma.sql`s.seats - 'limit'`,
  "account.created": null,
};
const STATE_COLUMN: Record<WebhookEventType, Prisma.Sql> = {
  "account.entitlements.updated": Prisma.raw("entitlements"),
  "account.seats.updated": Prisma.raw("seats"),
  "account.created": Prisma.raw("entitlements"),
};

/**
 * The statement: the accounts' states, then (for an update event) only those whose announced part
 * differs from what was last announced, a message each, and a delivery per subscribed endpoint. Its
 * row count is the number of deliveries written.
 */
function outboxStatement(accountIds: readonly number[], type: WebhookEventType): Prisma.Sql {
  const fingerprint = FINGERPRINT[type];
  const column = STATE_COLUMN[type];
  const changed = fingerprint
    ? Prisma.sql`, changed AS (
        INSERT INTO webhook_account_states AS w (account_id, ${column})
        SELECT s.id, ${fingerprint} FROM state s
        ON CONFLICT (account_id) DO UPDATE SET ${column} = EXCLUDED.${column}
          WHERE w.${column} IS DISTINCT FROM EXCLUDED.${column}
        RETURNING account_id)`
    : Prisma.sql`, changed AS (SELECT id AS account_id FROM state)`;
  return Prisma.sql`
    WITH endpoints AS (
      SELECT id FROM webhook_endpoints WHERE enabled AND ${type}::varchar = ANY(event_types)
    ), state AS (
      ${ACCOUNT_STATE}
      WHERE a.id = ANY(${[...accountIds]}::int[]) AND EXISTS (SELECT 1 FROM endpoints)
    )${changed}, messages AS (
      INSERT INTO webhook_messages (webhook_id, event_type, account_id, payload)
      SELECT 'msg_' || replace(gen_random_uuid()::text, '-', ''), ${type}, s.id,
             jsonb_build_object('type', ${type}::text,
               'timestamp', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
               'data', jsonb_build_object('account', s.account, 'entitlements', s.entitlements || jsonb_build_object('seats', s.seats)))
        FROM state s JOIN changed c ON c.account_id = s.id
      RETURNING id
    )
    INSERT INTO webhook_deliveries (message_id, endpoint_id, next_attempt_at)
    SELECT m.id, e.id, now() FROM messages m CROSS JOIN endpoints e`;
}

/** Whether any endpoint is enabled: read by the webhook path with its account lock, in the same round trip. */
export const ANY_WEBHOOK_ENDPOINT = Prisma.sql`EXISTS (SELECT 1 FROM webhook_endpoints WHERE enabled)`;

const endpointsReadIn = new WeakMap<object, boolean>();

/**
 * Tells the outbox what `tx` read of ANY_WEBHOOK_ENDPOINT: when none was enabled, the transaction's
 * messages are skipped without a statement (the webhook path's cost with no endpoint is that EXISTS).
 * An endpoint enabled between that read and the commit misses this one change, as it would had it been
 * enabled a moment later.
 */
export function noteWebhookEndpoints(tx: Db, anyEnabled: boolean) {
  endpointsReadIn.set(tx, anyEnabled);
}

/**
 * Writes `type`'s messages for the accounts with the transaction's COMMIT (an update event only for
 * accounts whose announced state changed); `onWritten` runs after the commit when deliveries were written.
 */
export async function writeWebhookMessagesAtCommit(
  tx: Db,
  accountIds: readonly number[],
  type: WebhookEventType,
  onWritten?: () => void,
): Promise<void> {
  if (!accountIds.length || endpointsReadIn.get(tx) === false) return;
  await executeAtCommit(tx, outboxStatement(accountIds, type), (deliveries) => {
    if (deliveries > 0) onWritten?.();
  });
}
