// Runs once per `vitest run`: builds one migrated database that every test file copies.
// PostgreSQL (the default; TEST_DATABASE_URL picks another server): a template database that
// CREATE DATABASE … TEMPLATE copies, so each file gets a real server with a connection pool and
// concurrency tests run concurrently. TEST_DATABASE_URL=pglite opts into the embedded database only:
// a migrated data folder dumped to a tarball (loading it takes a fraction of a second).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { applyMigrations, pgRunner } from "../../app/db/migrations.server.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** The PGlite dump to load, or null on PostgreSQL. */
    pgliteTemplate: string | null;
    /** The template database's name, or null on the embedded database. */
    postgresTemplate: string | null;
    /** The PostgreSQL server's connection string (its maintenance database), or null on the embedded one. */
    postgresUrl: string | null;
  }
}

export const DEFAULT_TEST_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/postgres";
export const EMBEDDED_ONLY = "pglite";

/** The PostgreSQL server integration tests use, or null when TEST_DATABASE_URL=pglite. */
export function postgresServerUrl(setting = process.env.TEST_DATABASE_URL): string | null {
  if (setting === EMBEDDED_ONLY) return null;
  return setting || DEFAULT_TEST_DATABASE_URL;
}

async function connectOrExplain(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    return client;
  } catch (error) {
    await client.end().catch(() => {});
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(
      [
        `Integration tests run on PostgreSQL at ${url}, which cannot be reached (${reason}).`,
        "Start it:  pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
        "or point TEST_DATABASE_URL at another PostgreSQL (a role that may CREATE DATABASE),",
        `or run on the embedded database only: TEST_DATABASE_URL=${EMBEDDED_ONLY} (PostgreSQL-only tests then skip, or fail under CI).`,
      ].join("\n"),
      { cause: error },
    );
  }
}

export default async function setup(project: TestProject) {
  const url = postgresServerUrl();
  if (!url) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tierdesk-test-"));
    const pglite = await PGlite.create();
    await applyMigrations(pglite);
    // Uncompressed: about 40 MB on disk, but it loads ~30% faster than the gzip dump.
    const dump = await pglite.dumpDataDir("none");
    await pglite.close();
    const templatePath = path.join(dir, "template.tar");
    fs.writeFileSync(templatePath, Buffer.from(await dump.arrayBuffer()));
    project.provide("pgliteTemplate", templatePath);
    project.provide("postgresTemplate", null);
    project.provide("postgresUrl", null);
    return () => fs.rmSync(dir, { recursive: true, force: true });
  }

  const templateName = `tierdesk_template_${process.pid}`;
  const admin = await connectOrExplain(url);
  await admin.query(`DROP DATABASE IF EXISTS "${templateName}"`);
  await admin.query(`CREATE DATABASE "${templateName}"`);
  await admin.end();
  const template = new pg.Client({ connectionString: withDatabase(url, templateName) });
  await template.connect();
  await applyMigrations(pgRunner(template));
  await template.end();
  project.provide("pgliteTemplate", null);
  project.provide("postgresTemplate", templateName);
  project.provide("postgresUrl", url);

  return async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS "${templateName}" WITH (FORCE)`);
    await client.end();
  };
}

export function withDatabase(url: string, database: string) {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
