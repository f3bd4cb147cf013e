// Gives every test file its own migrated database (see global-setup.ts) and makes the app use it.
import fs from "node:fs";
import { randomBytes } from "node:crypto";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { afterAll, beforeAll, inject, type TestContext } from "vitest";
import { closeDatabase, type Database, pgliteDatabase, postgresDatabase, useDatabase } from "../../app/db/db.server.ts";
import { requireOrSkip } from "../requirements.ts";
import { withDatabase } from "./global-setup.ts";

let database: Database | undefined;
let dropDatabase: (() => Promise<void>) | undefined;
let databaseUrl: string | null = null;

export async function createTestDatabase(): Promise<Database> {
  const url = inject("postgresUrl");
  const template = inject("postgresTemplate");
  if (url && template) {
    const name = `tierdesk_test_${randomBytes(6).toString("hex")}`;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`);
    await admin.end();
    dropDatabase = async () => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await client.end();
    };
    databaseUrl = withDatabase(url, name);
    return postgresDatabase(databaseUrl);
  }
  const dumpPath = inject("pgliteTemplate");
  if (!dumpPath) throw new Error("The global setup made no database template (tests/setup/global-setup.ts).");
  const dump = fs.readFileSync(dumpPath);
  const pglite = await PGlite.create({ loadDataDir: new Blob([dump]) });
  return pgliteDatabase(pglite);
}

beforeAll(async () => {
  database = await createTestDatabase();
  useDatabase(database);
});

afterAll(async () => {
  await closeDatabase();
  await dropDatabase?.();
});

/** The connection string of this file's PostgreSQL database, or null on the embedded one. */
export function testDatabaseUrl() {
  return databaseUrl;
}

/**
 * This file's PostgreSQL connection string, for a test that needs several connections (locks,
 * concurrent transactions, a second instance): on the embedded database it skips, or fails under CI.
 */
export function requirePostgres(ctx: TestContext): string {
  requireOrSkip(ctx, databaseUrl !== null, "PostgreSQL (the embedded database has one connection)");
  return databaseUrl as string;
}

/** The current test file's database. */
export function testDb() {
  if (!database) throw new Error("The test database is not ready (beforeAll has not run).");
  return database;
}
