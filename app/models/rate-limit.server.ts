// The store behind rate-limiter-flexible's PostgreSQL limiter: its atomic INSERT … ON CONFLICT
// runs on our database (PostgreSQL or the embedded PGlite), so every app instance counts against
// one limit. The `rate_limits` table is created by a migration, in the library's own layout.
import { prisma } from "~/db/db.server.ts";
import type { Db } from "./transaction.server.ts";

export const RATE_LIMIT_TABLE = "rate_limits";

type Query = { text: string; values?: unknown[] };
type Row = Record<string, unknown>;

/** A client with the `query({ text, values })` shape the library calls, on a Prisma client. */
export function rateLimitStore(db: Db = prisma) {
  return {
    async query({ text, values = [] }: Query): Promise<{ rows: Row[]; rowCount: number }> {
      const rows = await db.$queryRawUnsafe<Row[]>(text, ...values);
      // The library does arithmetic on `expire` (BIGINT): give it a number, as node-postgres would a string.
      const plain = rows.map((row) =>
        Object.fromEntries(
          Object.entries(row).map(([key, value]) => [key, typeof value === "bigint" ? Number(value) : value]),
        ),
      );
      return { rows: plain, rowCount: plain.length };
    },
  };
}
