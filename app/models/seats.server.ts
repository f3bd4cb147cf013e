// An account's seats: its tier in force's user limit, its members, and its pending invitations.
// The limit caps members plus pending invitations; an account with more members than its limit (after
// a downgrade) is marked over it (`accounts.over_seat_limit_since`) so support finds such accounts by
// index. Every change of members, tier or billing status refreshes the mark in its own transaction.
import { Prisma } from "~/generated/prisma/client.ts";
import { prisma } from "~/db/db.server.ts";
import { FREE_TIER_KEY, LIVE_STRIPE_STATUSES, LIVE_WHOP_STATUSES } from "~/utils/granting-statuses.ts";
import type { Db } from "./transaction.server.ts";
import { API_CACHE_CHANNEL } from "./catalog-changes.server.ts";

/**
 * The user limit of the account `a`'s tier in force (`t` its stored tier, joined), else the free tier's;
 * null when neither exists (no limit). The SQL form of tierIsInForce (app/rules/paid-tier.ts): exempt
 * tiers always, a paid one while its provider's status grants it. tests/integration/seats.test.ts checks
 * the two agree on every combination.
 */
const tierInForce = (
  source: Prisma.Sql,
  status: Prisma.Sql,
  whopStatus: Prisma.Sql,
) => Prisma.sql`t.id IS NOT NULL AND (
         t.is_billing_exempt OR t.billing_provider = 'exempt'
      OR (COALESCE(${source}, 'stripe') = 'stripe' AND ${status} = ANY(${[...LIVE_STRIPE_STATUSES]}::text[]))
      OR (${source} = 'whop' AND ${whopStatus} = ANY(${[...LIVE_WHOP_STATUSES]}::text[])))`;
export const TIER_IN_FORCE = tierInForce(
  Prisma.sql`a.billing_source`,
  Prisma.sql`a.subscription_status`,
  Prisma.sql`a.whop_membership_status`,
);
export const SEAT_LIMIT = Prisma.sql`(CASE WHEN ${TIER_IN_FORCE} THEN t.user_limit
  ELSE (SELECT f.user_limit FROM subscription_tier f WHERE f.key = ${FREE_TIER_KEY}) END)`;
/**
 * The assignments an UPDATE of `accounts` that writes a new tier, status or provider adds, so the seat
 * mark and every instance's API cache follow in the same statement (the webhook path: no second write
 * of the row, no extra statement). `next` holds the values the row will have.
 */
export function seatMarkAfter(next: { tierId: Prisma.Sql; source: Prisma.Sql; status: Prisma.Sql }): Prisma.Sql {
  const inForce = tierInForce(next.source, next.status, Prisma.sql`accounts.whop_membership_status`);
  return Prisma.sql`over_seat_limit_since = (
    SELECT CASE WHEN (SELECT count(*) FROM memberships m WHERE m.account_id = accounts.id) >
                     (CASE WHEN ${inForce} THEN t.user_limit
                           ELSE (SELECT f.user_limit FROM subscription_tier f WHERE f.key = ${FREE_TIER_KEY}) END)
                THEN COALESCE(accounts.over_seat_limit_since, now()) END
      FROM (SELECT 1) AS one LEFT JOIN subscription_tier t ON t.id = ${next.tierId})`;
}

/** Tells every instance's API cache that the account `id` changed (a void call, sent at COMMIT). */
export const notifyAccountChanged = (id: Prisma.Sql) =>
  Prisma.sql`pg_notify(${API_CACHE_CHANNEL}, 'account:' || ${id})`;

/** The name of that tier in force, or the free tier's (null: neither exists). */
const PLAN_NAME = Prisma.sql`(CASE WHEN ${TIER_IN_FORCE} THEN t.name
  ELSE (SELECT f.name FROM subscription_tier f WHERE f.key = ${FREE_TIER_KEY}) END)`;

/** Pending invitations of `a`: neither accepted nor revoked, and not expired. */
export const PENDING = Prisma.sql`(SELECT count(*)::int FROM invitations i
   WHERE i.account_id = a.id AND i.accepted_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > now())`;
export const MEMBERS = Prisma.sql`(SELECT count(*)::int FROM memberships m WHERE m.account_id = a.id)`;

export type SeatState = {
  /** The tier in force's user limit; null: no limit. */
  limit: number | null;
  /** Members (owners included). */
  used: number;
  /** Invitations not yet accepted, revoked or expired: each holds a seat. */
  pending: number;
  /** Since when the account has more members than its limit, or null. */
  overLimitSince: Date | null;
};

async function readSeats(db: Db, accountId: number): Promise<SeatState | null> {
  const rows = await db.$queryRaw<SeatState[]>`
    SELECT ${SEAT_LIMIT} AS "limit", ${MEMBERS} AS "used", ${PENDING} AS "pending",
           a.over_seat_limit_since AS "overLimitSince"
      FROM accounts a LEFT JOIN subscription_tier t ON t.id = a.tier_id
     WHERE a.id = ${accountId}`;
  return rows[0] ?? null;
}

/** The account's seats as they are now. */
export function getSeats(accountId: number, db: Db = prisma) {
  return readSeats(db, accountId);
}

/**
 * The account's seats with the account locked until the caller's transaction ends: every seat
 * decision (an invitation sent, one accepted, a member added by the API) takes this lock first, so two
 * of them racing for the last seat are decided one after the other.
 */
export async function lockSeats(tx: Db, accountId: number) {
  // Two statements: the lock, then the counts. Counted in the locking statement, a transaction that
  // waited for the lock would count with the snapshot taken before it waited (READ COMMITTED re-reads
  // only the locked row), missing the members its predecessor just added: 50 people accepting at once
  // filled 5 seats of 4 (tests/integration/invitations.test.ts).
  await tx.$queryRaw`SELECT 1 FROM accounts WHERE id = ${accountId} FOR UPDATE`;
  return readSeats(tx, accountId);
}

/** The account's seats with the name of the plan whose limit they are held to (the over-limit banner's). */
export async function getSeatsWithPlan(accountId: number): Promise<(SeatState & { planName: string | null }) | null> {
  const rows = await prisma.$queryRaw<Array<SeatState & { planName: string | null }>>`
    SELECT ${SEAT_LIMIT} AS "limit", ${MEMBERS} AS "used", ${PENDING} AS "pending",
           a.over_seat_limit_since AS "overLimitSince", ${PLAN_NAME} AS "planName"
      FROM accounts a LEFT JOIN subscription_tier t ON t.id = a.tier_id
     WHERE a.id = ${accountId}`;
  return rows[0] ?? null;
}

// Every change of an account's members, tier or billing status comes through here, so this statement
// also tells every instance (at commit: NOTIFY is transactional) to drop the account's cached
// entitlements (the /api/v1 cache, docs/decisions/017), in the same round trip.
const refreshMarks = (accountIds: readonly number[]) => Prisma.sql`
    WITH marked AS (
      UPDATE accounts a SET over_seat_limit_since = CASE WHEN s.over THEN COALESCE(a.over_seat_limit_since, now()) END
        FROM (SELECT a.id, (${MEMBERS} > ${SEAT_LIMIT}) IS TRUE AS over
                FROM accounts a LEFT JOIN subscription_tier t ON t.id = a.tier_id
               WHERE a.id = ANY(${[...accountIds]}::int[])) s
       WHERE a.id = s.id AND (a.over_seat_limit_since IS NOT NULL) IS DISTINCT FROM s.over)
    SELECT pg_notify(${API_CACHE_CHANNEL}, 'account:' || id) FROM unnest(${[...accountIds]}::int[]) AS id`;

/**
 * Marks or clears the accounts' "over the seat limit" since-time from their members and tier in force.
 * One statement; call it in the transaction that changed the members, the tier or the billing status.
 */
export async function refreshSeatLimitMark(db: Db, accountIds: readonly number[]): Promise<void> {
  if (accountIds.length) await db.$executeRaw(refreshMarks(accountIds));
}

/**
 * The same for every account a tier's limit change may move: those on the tier, and (for the free tier,
 * which every account without a paid tier in force falls back to) every account. An admin's edit, not
 * a hot path; set-based, one statement.
 */
export async function refreshSeatLimitMarksOfTier(db: Db, tier: { id: number; key: string }): Promise<void> {
  const which = tier.key === FREE_TIER_KEY ? Prisma.empty : Prisma.sql`WHERE a.tier_id = ${tier.id}`;
  await db.$executeRaw`
    WITH marked AS (
      UPDATE accounts a SET over_seat_limit_since = CASE WHEN s.over THEN COALESCE(a.over_seat_limit_since, now()) END
        FROM (SELECT a.id, (${MEMBERS} > ${SEAT_LIMIT}) IS TRUE AS over
                FROM accounts a LEFT JOIN subscription_tier t ON t.id = a.tier_id ${which}) s
       WHERE a.id = s.id AND (a.over_seat_limit_since IS NOT NULL) IS DISTINCT FROM s.over)
    SELECT pg_notify(${API_CACHE_CHANNEL}, 'all')`;
}

/** How many accounts are over their seat limit (an index range: few, and only those). */
export async function countAccountsOverSeatLimit(): Promise<number> {
  const rows = await prisma.$queryRaw<Array<{ count: number }>>`
    SELECT count(*)::int AS count FROM accounts WHERE over_seat_limit_since IS NOT NULL`;
  return rows[0]?.count ?? 0;
}
