// Stripe's last good answer per lookup key (table stripe_price_snapshot): written when Stripe answers,
// read when it cannot be asked, so every instance and a restart have it. A cache with its age, never
// configuration (docs/decisions/012). One statement per write, one per read.
import { Prisma } from "~/generated/prisma/client.ts";
import { openDatabase, prisma } from "~/db/db.server.ts";

export type PriceSnapshotRow = { lookupKey: string; price: unknown; fetchedAt: Date };

/**
 * Stores `prices` (keyed by their `lookupKey`) as fetched at `fetchedAt`, and forgets `absentKeys`
 * (Stripe said it has no such price). `complete`: the prices are every price Stripe lists, so rows
 * older than this answer that it lacks are forgotten too. An older answer never overwrites a newer one.
 */
export async function saveStripePriceSnapshot(
  prices: ReadonlyArray<{ lookupKey: string }>,
  {
    fetchedAt,
    absentKeys = [],
    complete = false,
  }: { fetchedAt: Date; absentKeys?: readonly string[]; complete?: boolean },
): Promise<void> {
  if (!openDatabase()) return; // a script without a database: nothing to keep it in
  const incoming = JSON.stringify(prices);
  await prisma.$executeRaw`
    WITH incoming AS (
      SELECT price->>'lookupKey' AS lookup_key, price FROM jsonb_array_elements(${incoming}::jsonb) AS price
    ), upserted AS (
      INSERT INTO stripe_price_snapshot (lookup_key, price, fetched_at)
      SELECT lookup_key, price, ${fetchedAt} FROM incoming
      ON CONFLICT (lookup_key) DO UPDATE SET price = EXCLUDED.price, fetched_at = EXCLUDED.fetched_at
        WHERE stripe_price_snapshot.fetched_at <= EXCLUDED.fetched_at
    )
    DELETE FROM stripe_price_snapshot
     WHERE fetched_at < ${fetchedAt}
       AND (lookup_key = ANY(${[...absentKeys]}::text[])
            OR (${complete} AND lookup_key NOT IN (SELECT lookup_key FROM incoming)))`;
}

/** The stored answers for `lookupKeys`. */
export async function readStripePriceSnapshot(lookupKeys: readonly string[]): Promise<PriceSnapshotRow[]> {
  if (!lookupKeys.length || !openDatabase()) return [];
  return prisma.$queryRaw<PriceSnapshotRow[]>(Prisma.sql`
    SELECT lookup_key AS "lookupKey", price, fetched_at AS "fetchedAt"
      FROM stripe_price_snapshot WHERE lookup_key = ANY(${[...lookupKeys]}::text[])`);
}
