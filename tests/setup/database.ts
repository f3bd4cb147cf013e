// Gives every test file its own migrated database (see global-setup.ts) and makes the app use it.
import fs from "node:fs";
import { randomBytes } from "node:crypto";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { afterAll, beforeAll, inject } from "vitest";
import {
  closeDatabase,
  type Database,
  pgliteDatabase,
  postgresDatabase,
  useDatabase,
} from "../../app/utils/db.server.ts";
import { withDatabase } from "./global-setup.ts";

let database: Database | undefined;
let dropDatabase: (() => Promise<void>) | undefined;
let databaseUrl: string | null = null;

export async function createTestDatabase(): Promise<Database> {
  const url = process.env.TEST_DATABASE_URL;
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
  const dump = fs.readFileSync(inject("pgliteTemplate"));
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

/** The current test file's database. */
export function testDb() {
  if (!database) throw new Error("The test database is not ready (beforeAll has not run).");
  return database;
}
