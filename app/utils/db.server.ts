// The database. PostgreSQL (through @prisma/adapter-pg) when DATABASE_URL is set; otherwise an
// embedded PGlite database in `.data/pglite`, migrated at start, so the quick start needs no server.
import fs from "node:fs";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaPGlite } from "pglite-prisma-adapter";
import pg from "pg";
import { PrismaClient } from "~/generated/prisma/client.ts";
import { config } from "./config.server.ts";
import { logger } from "./logger.server.ts";
import { applyMigrations, pendingMigrations, pgRunner } from "./migrations.server.ts";

export type Database = {
  prisma: PrismaClient;
  kind: "postgresql" | "pglite";
  close(): Promise<void>;
};

type DbState = { current?: Database; preparing?: Promise<Database> };
// On globalThis: the server entry and the Remix build share one database.
const state: DbState = ((globalThis as unknown as { __tierdeskDb?: DbState }).__tierdeskDb ??= {});

export function embeddedDataDir() {
  return path.resolve(config().pgliteDataDir);
}

export function postgresDatabase(connectionString: string, poolSize = config().databasePoolSize): Database {
  // Our own pool, sized by DATABASE_POOL_SIZE, so concurrent webhooks do not queue behind a small default.
  const pool = new pg.Pool({ connectionString, max: poolSize });
  // An idle client losing its connection (the database restarted) must not crash the process.
  pool.on("error", () => {});
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  return {
    prisma,
    kind: "postgresql",
    async close() {
      await prisma.$disconnect();
      await pool.end().catch(() => {});
    },
  };
}

/** Wraps an open PGlite instance. Closing disconnects Prisma first, then PGlite (else the process hangs). */
export function pgliteDatabase(pglite: PGlite): Database {
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(pglite) });
  return {
    prisma,
    kind: "pglite",
    async close() {
      await prisma.$disconnect();
      if (!pglite.closed) await pglite.close();
    },
  };
}

async function openEmbedded(): Promise<Database> {
  const dataDir = embeddedDataDir();
  fs.mkdirSync(dataDir, { recursive: true });
  const pglite = await PGlite.create(dataDir);
  const applied = await applyMigrations(pglite);
  if (applied.length) logger.info(`Embedded database ${dataDir}: applied ${applied.join(", ")}`);
  return pgliteDatabase(pglite);
}

async function openConfigured(): Promise<Database> {
  const url = config().databaseUrl;
  if (!url) return openEmbedded();
  const db = postgresDatabase(url);
  // Migrations on PostgreSQL are a deploy step (`npm run db:deploy`), never done by app instances.
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    const pending = await pendingMigrations(pgRunner(client));
    if (pending.length) {
      logger.warn(`DATABASE_URL has ${pending.length} pending migration(s) (${pending.join(", ")}): run \`npm run db:deploy\`.`);
    }
  } finally {
    await client.end().catch(() => {});
  }
  return db;
}

/** Opens (and for PGlite, migrates) the configured database once. Call before serving requests. */
export async function prepareDatabase(): Promise<Database> {
  if (state.current) return state.current;
  state.preparing ??= openConfigured().then((db) => (state.current = db));
  return state.preparing;
}

/** Uses the given database from now on (tests give each file its own). */
export function useDatabase(db: Database) {
  state.current = db;
  state.preparing = Promise.resolve(db);
}

export async function closeDatabase() {
  const db = state.current;
  state.current = undefined;
  state.preparing = undefined;
  await db?.close();
}

function currentPrisma(): PrismaClient {
  if (state.current) return state.current.prisma;
  // PostgreSQL needs no preparation, so code outside the server (scripts) may use it directly.
  const url = config().databaseUrl;
  if (url) {
    const db = postgresDatabase(url);
    useDatabase(db);
    return db.prisma;
  }
  throw new Error("The embedded database is not open yet: await prepareDatabase() at start-up.");
}

/** The Prisma client of the current database. */
export const prisma: PrismaClient = new Proxy({} as PrismaClient, {
  get(_target, property) {
    const client = currentPrisma();
    const value = Reflect.get(client, property, client);
    return typeof value === "function" ? value.bind(client) : value;
  },
});
