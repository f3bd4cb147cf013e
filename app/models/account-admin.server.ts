// Support's view of accounts (/admin/accounts and /admin/accounts/:accountId): finding an account by
// its name, slug, a member's email or a billing id, and everything its page shows. Every query is a
// range of an index: prefixes ride the lower(…) COLLATE "C" expression indexes (migration
// 20261206201000_account_search_indexes) as explicit ranges, which a generic plan can use too.
import { Prisma } from "~/generated/prisma/client.ts";
import type { MembershipRole, StripeEventStatus } from "~/generated/prisma/enums.ts";
import { prisma } from "~/db/db.server.ts";
import { SEAT_LIMIT } from "./seats.server.ts";

const ACCOUNTS_PAGE_SIZE = 50;

// The highest code point: `prefix` ≤ s < `prefix` + this is "s starts with prefix", byte-wise.
const LAST_CHAR = "\u{10FFFF}";

/** `column` (a lower(…) COLLATE "C" expression) starts with the lower-cased `text`: an index range. */
function startsWith(column: Prisma.Sql, text: string) {
  return Prisma.sql`(${column} >= lower(${text}) AND ${column} < (lower(${text}) || ${LAST_CHAR}))`;
}

const NAME = Prisma.sql`lower(a.name) COLLATE "C"`;
const SLUG = Prisma.sql`lower(a.slug) COLLATE "C"`;
const EMAIL = Prisma.sql`lower(u.email) COLLATE "C"`;

/**
 * Accounts with a member whose email starts with `text` (an exact email is its own prefix): each
 * matching user's memberships by the memberships(user_id) index. OFFSET 0 keeps the subquery a nested
 * loop: a generic plan cannot see how few users match and would otherwise hash all of memberships.
 */
const memberEmailStartsWith = (text: string) =>
  Prisma.sql`SELECT m.account_id FROM users u
    CROSS JOIN LATERAL (SELECT m.account_id FROM memberships m WHERE m.user_id = u.id OFFSET 0) m
    WHERE ${startsWith(EMAIL, text)}`;

export type AccountSearch = {
  /**
   * A Stripe customer (cus_…) or subscription (sub_…), a Whop user (user_…) or membership (mem_…), an
   * email (or its beginning: the accounts that person belongs to), or the beginning of an account's
   * name (any case), slug or a member's email.
   */
  q?: string;
  /** A tier key. */
  tierKey?: string;
  /** With tierKey: accounts without a tier match too (for the free tier, which they fall back to). */
  orNoTier?: boolean;
  /** A Stripe subscription status, or "none" for accounts that never subscribed through Stripe. */
  status?: string;
  /** Only accounts with more members than their tier in force allows. */
  overLimit?: boolean;
};

function accountConditions({ q, tierKey, orNoTier, status, overLimit }: AccountSearch): Prisma.Sql[] {
  const where: Prisma.Sql[] = [];
  if (q) {
    if (q.startsWith("cus_")) where.push(Prisma.sql`a.stripe_customer_id = ${q}`);
    else if (q.startsWith("sub_")) where.push(Prisma.sql`a.stripe_subscription_id = ${q}`);
    // Whop ids (never an email or a name with a space: those fail the pattern).
    else if (/^user_[A-Za-z0-9]+$/.test(q)) where.push(Prisma.sql`a.whop_user_id = ${q}`);
    else if (/^mem_[A-Za-z0-9]+$/.test(q)) where.push(Prisma.sql`a.whop_membership_id = ${q}`);
    else if (q.includes("@")) where.push(Prisma.sql`a.id IN (${memberEmailStartsWith(q)})`);
    else {
      // Each arm is a range of its own index; the union is the accounts' ids, then fetched by key.
      where.push(Prisma.sql`a.id IN (
        SELECT a.id FROM accounts a WHERE ${startsWith(NAME, q)}
        UNION SELECT a.id FROM accounts a WHERE ${startsWith(SLUG, q)}
        UNION ${memberEmailStartsWith(q)})`);
    }
  }
  if (tierKey) {
    const tier = Prisma.sql`a.tier_id = (SELECT id FROM subscription_tier WHERE key = ${tierKey})`;
    where.push(orNoTier ? Prisma.sql`(a.tier_id IS NULL OR ${tier})` : tier);
  }
  if (status)
    where.push(
      status === "none" ? Prisma.sql`a.subscription_status IS NULL` : Prisma.sql`a.subscription_status = ${status}`,
    );
  if (overLimit) where.push(Prisma.sql`a.over_seat_limit_since IS NOT NULL`);
  return where;
}

export type AccountListRow = {
  id: number;
  name: string;
  slug: string;
  tierKey: string | null;
  tierName: string | null;
  subscriptionStatus: string | null;
  billingSource: string | null;
  whopMembershipStatus: string | null;
  /** The tier in force's user limit; null: no limit. */
  seatLimit: number | null;
  overLimitSince: Date | null;
  createdAt: Date;
  /** Members, owners included. */
  members: number;
  /** Owners' emails, oldest membership first. */
  owners: string[];
};

/** Newest accounts first, keyset-paged on id (`after`: older, `before`: newer); one extra row tells if more exist. */
export async function listAccountsPage(
  search: AccountSearch,
  page: { after?: number; before?: number } = {},
  take = ACCOUNTS_PAGE_SIZE,
) {
  const where = accountConditions(search);
  if (page.after) where.push(Prisma.sql`a.id < ${page.after}`);
  if (page.before) where.push(Prisma.sql`a.id > ${page.before}`);
  const clause = where.length ? Prisma.sql`WHERE ${Prisma.join(where, " AND ")}` : Prisma.empty;
  const order = page.before ? Prisma.sql`ORDER BY a.id ASC` : Prisma.sql`ORDER BY a.id DESC`;
  const rows = await prisma.$queryRaw<Array<Omit<AccountListRow, "members" | "owners">>>`
    SELECT a.id, a.name, a.slug, t.key AS "tierKey", t.name AS "tierName",
           a.subscription_status AS "subscriptionStatus", a.billing_source::text AS "billingSource",
           a.whop_membership_status AS "whopMembershipStatus", ${SEAT_LIMIT} AS "seatLimit",
           a.over_seat_limit_since AS "overLimitSince", a.created_at AS "createdAt"
      FROM accounts a LEFT JOIN subscription_tier t ON t.id = a.tier_id
      ${clause} ${order} LIMIT ${take + 1}`;
  const more = rows.length > take;
  const pageRows = rows.slice(0, take);
  if (page.before) pageRows.reverse();
  const members = await membersOfAccounts(pageRows.map((row) => row.id));
  return {
    rows: pageRows.map((row) => ({ ...row, members: 0, owners: [] as string[], ...members.get(row.id) })),
    hasOlder: page.before ? true : more,
    hasNewer: page.before ? more : Boolean(page.after),
  };
}

/** Member counts and owners' emails of a page of accounts: one grouped query, ranges of the memberships key. */
async function membersOfAccounts(accountIds: number[]) {
  if (!accountIds.length) return new Map<number, { members: number; owners: string[] }>();
  const rows = await prisma.$queryRaw<Array<{ accountId: number; members: number; owners: string[] | null }>>`
    SELECT m.account_id AS "accountId", count(*)::int AS members,
           array_agg(u.email ORDER BY m.created_at, m.user_id) FILTER (WHERE m.role = 'owner') AS owners
      FROM memberships m JOIN users u ON u.id = m.user_id
     WHERE m.account_id = ANY(${accountIds}::int[])
     GROUP BY m.account_id`;
  return new Map(rows.map((row) => [row.accountId, { members: row.members, owners: row.owners ?? [] }]));
}

// ---------------------------------------------------------------------------------------------
// One account's page

/** The account with its stored tier. */
export function getAccountForSupport(accountId: number) {
  return prisma.account.findUnique({ where: { id: accountId }, include: { tier: true } });
}

/** A tier's name by its key (the free tier's, which an account without a tier in force is on). */
export async function getTierName(key: string) {
  const tier = await prisma.subscriptionTier.findUnique({ where: { key }, select: { name: true } });
  return tier?.name ?? null;
}

const MEMBERS_SHOWN = 200;

/** The account's members, owners first, then by when they joined (a range of the memberships key). */
export function listAccountMembers(accountId: number) {
  return prisma.$queryRaw<Array<{ userId: number; email: string; role: MembershipRole; since: Date }>>`
    SELECT u.id AS "userId", u.email, m.role, m.created_at AS since
      FROM memberships m JOIN users u ON u.id = m.user_id
     WHERE m.account_id = ${accountId}
     ORDER BY (m.role = 'owner') DESC, m.created_at, u.id
     LIMIT ${MEMBERS_SHOWN}`;
}

/** Invitations that hold a seat (as app/models/seats.server.ts counts them), newest first. */
export function listPendingInvitations(accountId: number) {
  return prisma.$queryRaw<Array<{ id: number; email: string; sentAt: Date; expiresAt: Date }>>`
    SELECT i.id, i.email, i.created_at AS "sentAt", i.expires_at AS "expiresAt"
      FROM invitations i
     WHERE i.account_id = ${accountId} AND i.accepted_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > now()
     ORDER BY i.created_at DESC, i.id DESC
     LIMIT ${MEMBERS_SHOWN}`;
}

export type AccountEvent = {
  eventId: string;
  provider: string;
  eventType: string;
  status: StripeEventStatus;
  receivedAt: Date;
  error: string | null;
  note: string | null;
};

const EVENTS_SHOWN = 20;

/**
 * The account's latest webhooks, newest first: Stripe's for its customer, Whop's for its Whop user or
 * membership. Each arm walks its own index ((customer_id, received_at, id), or object_id) for at most
 * EVENTS_SHOWN rows; a missing id matches nothing.
 */
export function listAccountEvents(account: {
  stripeCustomerId: string | null;
  whopUserId: string | null;
  whopMembershipId: string | null;
}) {
  const latest = (condition: Prisma.Sql) =>
    Prisma.sql`(SELECT id FROM stripe_events WHERE ${condition} ORDER BY received_at DESC, id DESC LIMIT ${EVENTS_SHOWN})`;
  return prisma.$queryRaw<AccountEvent[]>`
    SELECT event_id AS "eventId", provider::text AS provider, event_type AS "eventType", status,
           received_at AS "receivedAt", error, note
      FROM stripe_events
     WHERE id IN (${latest(Prisma.sql`customer_id = ${account.stripeCustomerId}`)}
                  UNION ${latest(Prisma.sql`customer_id = ${account.whopUserId}`)}
                  UNION ${latest(Prisma.sql`object_id = ${account.whopMembershipId}`)})
     ORDER BY received_at DESC, id DESC
     LIMIT ${EVENTS_SHOWN}`;
}
