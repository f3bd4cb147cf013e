// A fresh, migrated and seeded PostgreSQL database for one bench run, dropped at the end.
// The server is BENCH_DATABASE_URL (default: the local one at 127.0.0.1:5432); its database is only
// used to CREATE and DROP ours.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { hashPassword } from "../../app/models/user.server.ts";
import { postgresDatabase } from "../../app/db/db.server.ts";
import { applyMigrations, pgRunner } from "../../app/db/migrations.server.ts";
import { seed } from "../../prisma/seed.ts";

export const SERVER_URL = process.env.BENCH_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";

export function withDatabase(url: string, database: string) {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

export type BenchDatabase = { name: string; url: string; drop(): Promise<void> };

async function onServer<T>(serverUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Creates `tierdesk_bench_<label>_<random>`, applies the committed migrations exactly as
 * `prisma migrate deploy` records them, and seeds the tiers (and the demo users when asked).
 */
export async function createBenchDatabase(
  label: string,
  { demoUsers = false, serverUrl = SERVER_URL }: { demoUsers?: boolean; serverUrl?: string } = {},
): Promise<BenchDatabase> {
  const name = `tierdesk_bench_${label}_${randomBytes(4).toString("hex")}`;
  await onServer(serverUrl, (client) => client.query(`CREATE DATABASE "${name}"`));
  const url = withDatabase(serverUrl, name);
  const drop = () =>
    onServer(serverUrl, (client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => {});
  try {
    await onServer(url, (client) => applyMigrations(pgRunner(client)));
    const db = postgresDatabase(url, 2);
    try {
      await seed(db.prisma, { hashPassword, demoUsers });
    } finally {
      await db.close();
    }
  } catch (error) {
    await drop().catch(() => {});
    throw error;
  }
  return { name, url, drop };
}

/** Runs `work` with a pg client on `url`, closed afterwards. */
export function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  return onServer(url, work);
}
