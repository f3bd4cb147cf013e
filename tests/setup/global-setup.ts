// Runs once per `vitest run`: builds one migrated database that every test file copies.
// PGlite: a migrated data folder dumped to a tarball (loading it takes a fraction of a second).
// PostgreSQL (TEST_DATABASE_URL): a template database that CREATE DATABASE … TEMPLATE copies.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { applyMigrations, pgRunner } from "../../app/utils/migrations.server.ts";

declare module "vitest" {
  export interface ProvidedContext {
    pgliteTemplate: string;
    postgresTemplate: string | null;
  }
}

export default async function setup(project: TestProject) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tierdesk-test-"));
  const pglite = await PGlite.create();
  await applyMigrations(pglite);
  // Uncompressed: about 40 MB on disk, but it loads ~30% faster than the gzip dump.
  const dump = await pglite.dumpDataDir("none");
  await pglite.close();
  const templatePath = path.join(dir, "template.tar");
  fs.writeFileSync(templatePath, Buffer.from(await dump.arrayBuffer()));
  project.provide("pgliteTemplate", templatePath);

  const url = process.env.TEST_DATABASE_URL;
  let templateName: string | null = null;
  if (url) {
    templateName = `tierdesk_template_${process.pid}`;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${templateName}"`);
    await admin.query(`CREATE DATABASE "${templateName}"`);
    const template = new pg.Client({ connectionString: withDatabase(url, templateName) });
    await template.connect();
    await applyMigrations(pgRunner(template));
    await template.end();
    await admin.end();
  }
  project.provide("postgresTemplate", templateName);

  return async () => {
    fs.rmSync(dir, { recursive: true, force: true });
    if (url && templateName) {
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS "${templateName}"`);
      await admin.end();
    }
  };
}

export function withDatabase(url: string, database: string) {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
