// Subscription tiers, their Stripe price lookup keys and their permissions.
import { Prisma } from "~/generated/prisma/client.ts";
import { prisma } from "~/db/db.server.ts";
import { singleton } from "~/utils/singleton.server.ts";
import type { Db } from "./transaction.server.ts";

const withPermissions = { include: { permissions: { include: { permission: true } } } } as const;

/** Tiers customers may see on /pricing, with their lookup keys (in order) and permissions. */
export function listCustomerFacingTiers() {
  return prisma.subscriptionTier.findMany({
    where: { isCustomerFacing: true },
    orderBy: { id: "asc" },
    include: {
      prices: { orderBy: { position: "asc" } },
      permissions: { include: { permission: true } },
    },
  });
}

/** Every tier's billing integration (provider, exemption, Whop product, lookup keys in order), for
 *  telling which tiers can be sold: validity is judged across all tiers (a product two tiers share). */
export async function listTierIntegrations() {
  const tiers = await prisma.subscriptionTier.findMany({
    orderBy: { id: "asc" },
    select: {
      key: true,
      name: true,
      billingProvider: true,
      isBillingExempt: true,
      whopProductKey: true,
      prices: { orderBy: { position: "asc" }, select: { lookupKey: true } },
    },
  });
  return tiers.map(({ prices, ...tier }) => ({ ...tier, lookupKeys: prices.map((price) => price.lookupKey) }));
}

export function getTierWithPermissions(id: number) {
  return prisma.subscriptionTier.findUnique({ where: { id }, ...withPermissions });
}

export function getTierWithPermissionsByKey(key: string) {
  return prisma.subscriptionTier.findUnique({ where: { key }, ...withPermissions });
}

// Who owns a lookup key changes only when an admin edits tiers, yet every webhook that grants a tier
// asks. So the whole (small) table is cached per process under a fingerprint of its content, which
// the webhook's user-lock query reads in the same round trip (lockBillingAccount): an admin's edit changes
// the fingerprint, and the next event on every instance reloads. No TTL, no stale answer.
export const LOOKUP_KEY_OWNERS_VERSION = Prisma.sql`(
  SELECT md5(coalesce(string_agg(p.lookup_key || '>' || t.id || ':' || t.key || ':' || t.name, ',' ORDER BY p.lookup_key), ''))
    FROM subscription_tier_price p JOIN subscription_tier t ON t.id = p.tier_id)`;

export type LookupKeyOwner = { lookupKey: string; tier: { id: number; key: string; name: string } };

type OwnersCache = { version: string; owners: Map<string, LookupKeyOwner> };
// On globalThis: the server entry and the Remix build share it.
const ownersCache = singleton("lookup-key-owners", () => ({ current: null as OwnersCache | null }));
const versionReadIn = new WeakMap<object, string>();

/** Tells findLookupKeyOwners the fingerprint `tx` read: it may then answer from the cache. */
export function noteLookupKeyOwnersVersion(tx: Db, version: string) {
  versionReadIn.set(tx, version);
}

type OwnerRow = { lookupKey: string; id: number; key: string; name: string };

/**
 * The tiers owning these lookup keys: from the cache when `db` read a fingerprint that matches it,
 * else one query, whatever the number of keys (the tier editor's checks always query).
 */
export async function findLookupKeyOwners(db: Db, lookupKeys: readonly string[]): Promise<LookupKeyOwner[]> {
  if (!lookupKeys.length) return [];
  const version = versionReadIn.get(db);
  if (version === undefined) {
    const rows = await db.$queryRaw<OwnerRow[]>`
      SELECT p.lookup_key AS "lookupKey", t.id, t.key, t.name
        FROM subscription_tier_price p JOIN subscription_tier t ON t.id = p.tier_id
       WHERE p.lookup_key IN (${Prisma.join([...lookupKeys])})`;
    return rows.map(({ lookupKey, ...tier }) => ({ lookupKey, tier }));
  }
  const owners = await cachedOwners(db, version);
  return [...new Set(lookupKeys)].flatMap((key) => owners.get(key) ?? []);
}

/**
 * Every lookup key a tier owns, from the cache like findLookupKeyOwners (legacy prices need them all).
 * Outside a transaction (the pages that show a legacy price) it is one query of the small price table.
 */
export async function listLookupKeyOwners(db: Db = prisma): Promise<LookupKeyOwner[]> {
  const version = versionReadIn.get(db);
  if (version === undefined) {
    const rows = await db.$queryRaw<OwnerRow[]>`
      SELECT p.lookup_key AS "lookupKey", t.id, t.key, t.name
        FROM subscription_tier_price p JOIN subscription_tier t ON t.id = p.tier_id`;
    return rows.map(({ lookupKey, ...tier }) => ({ lookupKey, tier }));
  }
  return [...(await cachedOwners(db, version)).values()];
}

async function cachedOwners(db: Db, version: string): Promise<Map<string, LookupKeyOwner>> {
  if (ownersCache.current?.version !== version) {
    const rows = await db.$queryRaw<Array<{ version: string } & (OwnerRow | { [K in keyof OwnerRow]: null })>>`
      SELECT v.version, o."lookupKey", o.id, o.key, o.name
        FROM (SELECT ${LOOKUP_KEY_OWNERS_VERSION} AS version) v
        LEFT JOIN (SELECT p.lookup_key AS "lookupKey", t.id, t.key, t.name
                     FROM subscription_tier_price p JOIN subscription_tier t ON t.id = p.tier_id) o ON true`;
    const owners = new Map<string, LookupKeyOwner>();
    for (const row of rows) {
      if (row.lookupKey === null) continue; // no lookup keys at all
      owners.set(row.lookupKey, { lookupKey: row.lookupKey, tier: { id: row.id, key: row.key, name: row.name } });
    }
    ownersCache.current = { version: rows[0]?.version ?? "", owners };
  }
  return ownersCache.current.owners;
}

/** The tier that owns one lookup key, for checkout. */
export function findLookupKeyOwner(lookupKey: string) {
  return prisma.subscriptionTierPrice.findUnique({ where: { lookupKey }, include: { tier: true } });
}

// ---------------------------------------------------------------------------------------------
// The operator dashboard's reads and writes

const adminTierInclude = {
  prices: { orderBy: { position: "asc" }, select: { lookupKey: true } },
  permissions: { select: { permission: { select: { id: true, name: true } } } },
  _count: { select: { accounts: true } },
} as const;

/**
 * How many accounts /admin/accounts?tier=<key> lists for tier `t`: its own, and for the free tier also
 * every account without a tier. Both counts use the (tier_id, id) index.
 */
const ACCOUNTS_LISTED_UNDER_TIER = Prisma.sql`((SELECT count(*)::int FROM accounts a WHERE a.tier_id = t.id)
  + CASE WHEN t.key = 'free' THEN (SELECT count(*)::int FROM accounts a WHERE a.tier_id IS NULL) ELSE 0 END)`;

type AdminTierRow = Omit<AdminTier, "prices" | "permissions" | "_count"> & {
  lookupKeys: string[];
  permissionList: Array<{ id: number; name: string }>;
  accountCount: number;
};

/**
 * Every tier (or the one with `key`) with its lookup keys, permissions and number of accounts:
 * one query (the tiers page is asked on every visit; Prisma's include would make three).
 */
export async function listTiersForAdmin(key?: string): Promise<AdminTier[]> {
  const rows = await prisma.$queryRaw<AdminTierRow[]>`
    SELECT t.id, t.name, t.key, t.description, t.user_limit AS "userLimit", t.is_customer_facing AS "isCustomerFacing",
           t.billing_provider::text AS "billingProvider", t.is_billing_exempt AS "isBillingExempt",
           t.whop_product_key AS "whopProductKey", t.fallback_price AS "fallbackPrice",
           t.created_at AS "createdAt", t.updated_at AS "updatedAt",
           COALESCE((SELECT json_agg(p.lookup_key ORDER BY p.position, p.id)
                       FROM subscription_tier_price p WHERE p.tier_id = t.id), '[]'::json) AS "lookupKeys",
           COALESCE((SELECT json_agg(json_build_object('id', m.id, 'name', m.name) ORDER BY tp.permission_id)
                       FROM subscription_tier_permission tp JOIN permission m ON m.id = tp.permission_id
                      WHERE tp.tier_id = t.id), '[]'::json) AS "permissionList",
           ${ACCOUNTS_LISTED_UNDER_TIER} AS "accountCount"
      FROM subscription_tier t ${key === undefined ? Prisma.empty : Prisma.sql`WHERE t.key = ${key}`} ORDER BY t.id`;
  return rows.map(({ lookupKeys, permissionList, accountCount, ...tier }) => ({
    ...tier,
    prices: lookupKeys.map((lookupKey) => ({ lookupKey })),
    permissions: permissionList.map((permission) => ({ permission })),
    _count: { accounts: accountCount },
  }));
}

export type AdminTier = Prisma.SubscriptionTierGetPayload<{ include: typeof adminTierInclude }>;

export async function lockTierForAdmin(tx: Db, key: string) {
  const rows = await tx.$queryRaw<
    Array<{ id: number }>
  >`SELECT id FROM subscription_tier WHERE key = ${key} FOR UPDATE`;
  const row = rows[0];
  return row ? tx.subscriptionTier.findUnique({ where: { id: row.id }, include: adminTierInclude }) : null;
}

export async function isTierKeyTaken(db: Db, key: string, exceptId: number | null) {
  const found = await db.subscriptionTier.findUnique({ where: { key }, select: { id: true } });
  return found !== null && found.id !== exceptId;
}

export type TierFields = {
  name: string;
  key: string;
  description: string | null;
  userLimit: number;
  isCustomerFacing: boolean;
  billingProvider: "stripe" | "whop" | "exempt";
  isBillingExempt: boolean;
  whopProductKey: string | null;
  fallbackPrice: string;
};

/** Creates or updates a tier with exactly these lookup keys (in order) and permissions, in `tx`. */
export async function writeTier(
  tx: Db,
  id: number | null,
  fields: TierFields,
  lookupKeys: readonly string[],
  permissionIds: readonly number[],
) {
  const tier = id
    ? await tx.subscriptionTier.update({ where: { id }, data: fields, select: { id: true } })
    : await tx.subscriptionTier.create({ data: fields, select: { id: true } });
  await tx.subscriptionTierPrice.deleteMany({ where: { tierId: tier.id } });
  if (lookupKeys.length) {
    await tx.subscriptionTierPrice.createMany({
      data: lookupKeys.map((lookupKey, position) => ({ tierId: tier.id, lookupKey, position })),
    });
  }
  await tx.subscriptionTierPermission.deleteMany({ where: { tierId: tier.id } });
  if (permissionIds.length) {
    await tx.subscriptionTierPermission.createMany({
      data: permissionIds.map((permissionId) => ({ tierId: tier.id, permissionId })),
    });
  }
  return tier.id;
}

export async function deleteTier(tx: Db, id: number) {
  await tx.subscriptionTier.delete({ where: { id } });
}

export function countAccountsOnTier(db: Db, tierId: number) {
  return db.account.count({ where: { tierId } });
}

/** Tiers that need no payment, which an admin may give an account directly (e.g. partners). */
export function listExemptTiers() {
  return prisma.subscriptionTier.findMany({
    where: { OR: [{ billingProvider: "exempt" }, { isBillingExempt: true }] },
    orderBy: { name: "asc" },
    select: { key: true, name: true },
  });
}

export function listTierKeys() {
  return prisma.subscriptionTier.findMany({ orderBy: { name: "asc" }, select: { key: true, name: true } });
}
