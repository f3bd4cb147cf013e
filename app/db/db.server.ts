// The database. PostgreSQL (through @prisma/adapter-pg) when DATABASE_URL is set; otherwise an
// embedded PGlite database in `.data/pglite`, migrated at start, so the quick start needs no server.
import { AsyncLocalStorage } from "node:async_hooks";
import fs from "node:fs";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaPGlite } from "pglite-prisma-adapter";
import pg from "pg";
import { PrismaClient } from "~/generated/prisma/client.ts";
import { config, type TransactionLayer } from "~/utils/config.server.ts";
import { logger } from "~/utils/logger.server.ts";
import { applyMigrations, pendingMigrations, pgRunner } from "./migrations.server.ts";
import { singleton } from "~/utils/singleton.server.ts";

/** The transaction layers that run on a borrowed pg connection (see app/models/transaction.server.ts). */
export type PgTransactionLayer = Exclude<TransactionLayer, "prisma">;

export type Database = {
  prisma: PrismaClient;
  kind: "postgresql" | "pglite";
  /**
   * PostgreSQL, unless configured to use Prisma's transactions: the pool transactions take their
   * connection from, the Prisma client that runs on it, and how tagged SQL is sent.
   */
  transactions: { pool: pg.Pool; transactionPrisma: PrismaClient; layer: PgTransactionLayer } | null;
  /** Where the job queue (app/services/jobs) reaches the same database: a connection string, or PGlite itself. */
  connection: { url: string } | { pglite: PGlite };
  close(): Promise<void>;
};

type DbState = { current?: Database; preparing?: Promise<Database>; closing?: Array<() => Promise<void>> };
// On globalThis: the server entry and the Remix build share one database.
const state: DbState = ((globalThis as unknown as { __tierdeskDb?: DbState }).__tierdeskDb ??= {});

/**
 * Runs `hook` when closeDatabase() next closes the current database, before it does: what uses it in
 * the background, such as the job queue's worker, stops first, so nothing runs on a closed database.
 */
export function beforeDatabaseCloses(hook: () => Promise<void>) {
  (state.closing ??= []).push(hook);
}

async function runClosingHooks() {
  const hooks = state.closing ?? [];
  state.closing = [];
  for (const hook of hooks) await hook();
}

export function embeddedDataDir() {
  return path.resolve(config().pgliteDataDir);
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL: prepared statements, and the connection of a transaction

// Prisma's adapter prepares a statement once per connection when it is given a name: the hot paths
// repeat the same few statements, which are then parsed and planned once instead of on every request.
// Capped, so that statements built with a varying number of parameters cannot fill every connection.
const MAX_PREPARED_STATEMENTS = 500;
// On globalThis, like the database itself: the server entry and the Remix build share them.
const statementNames = singleton("statement-names", () => new Map<string, string>());

/** A stable name for a statement's text (prepared once per connection), or undefined past the cap. */
export function statementName(text: string): string | undefined {
  let name = statementNames.get(text);
  if (!name && statementNames.size < MAX_PREPARED_STATEMENTS) {
    name = `tierdesk_${statementNames.size}`;
    statementNames.set(text, name);
  }
  return name;
}

// Transactions on PostgreSQL are pg transactions (see app/models/transaction.server.ts), and the Prisma
// model API used inside one runs on its connection: a second Prisma client whose pool hands out the
// connection lent by the transaction around the call, never one of its own.
const lentConnections = singleton("lent-connections", () => new AsyncLocalStorage<LentConnection>());

/** What Prisma's pg adapter uses of a pool's connection inside a transaction. */
export type LentConnection = {
  query(config: pg.QueryConfig | string): Promise<pg.QueryResult>;
  release(error?: Error): void;
  on(event: "error", listener: (error: Error) => void): LentConnection;
  removeListener(event: "error", listener: (error: Error) => void): LentConnection;
};

/** Runs `work` with the transaction Prisma client's transactions running on `connection`. */
export function withLentConnection<T>(connection: LentConnection, work: () => Promise<T>): Promise<T> {
  return lentConnections.run(connection, work);
}

function lentConnectionPool(): pg.Pool {
  const pool = new pg.Pool();
  // The adapter calls only what LentConnection has on what connect() gives it (query, release, on,
  // removeListener); pg's PoolClient type promises the whole client, hence the cast.
  pool.connect = (async () => {
    const connection = lentConnections.getStore();
    if (!connection) throw new Error("The transaction Prisma client runs only on a connection lent by a transaction.");
    return connection;
  }) as typeof pool.connect;
  pool.query = (() => {
    throw new Error("The transaction Prisma client runs only inside transactions.");
  }) as typeof pool.query;
  return pool;
}

const statementNameGenerator = (query: { sql: string }) => statementName(query.sql) as string;

export function postgresDatabase(
  connectionString: string,
  poolSize = config().databasePoolSize,
  layer: TransactionLayer = config().transactionLayer,
): Database {
  // Our own pool, sized by DATABASE_POOL_SIZE, so concurrent webhooks do not queue behind a small default.
  // Pipelined: a query is written without waiting for the one before it to be answered.
  const pool = new pg.Pool({ connectionString, max: poolSize, pipeline: layer === "pg-pipelined" });
  // An idle client losing its connection (the database restarted) must not crash the process.
  pool.on("error", () => {});
  // Typed as always returning a name; undefined (past the cap) means an unnamed statement.
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool, { statementNameGenerator }) });
  const transactionPrisma = new PrismaClient({
    adapter: new PrismaPg(lentConnectionPool(), { statementNameGenerator }),
  });
  return {
    prisma,
    kind: "postgresql",
    transactions: layer === "prisma" ? null : { pool, transactionPrisma, layer },
    connection: { url: connectionString },
    async close() {
      await transactionPrisma.$disconnect();
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
    transactions: null,
    connection: { pglite },
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
      logger.warn(
        `DATABASE_URL has ${pending.length} pending migration(s) (${pending.join(", ")}): run \`npm run db:deploy\`.`,
      );
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

/** The database in use, if one is open: for work that only makes sense on top of one (a cache kept in it). */
export function openDatabase(): Database | undefined {
  return state.current;
}

/** Uses the given database from now on (tests give each file its own). */
export function useDatabase(db: Database) {
  state.current = db;
  state.preparing = Promise.resolve(db);
}

export async function closeDatabase() {
  await runClosingHooks();
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

/** How the current database runs transactions: on a pg connection (PostgreSQL), or null (Prisma's own). */
export function postgresTransactions(): Database["transactions"] {
  if (!state.current) currentPrisma();
  return state.current?.transactions ?? null;
}

/** The Prisma client of the current database. */
export const prisma: PrismaClient = new Proxy({} as PrismaClient, {
  get(_target, property) {
    const client = currentPrisma();
    const value = Reflect.get(client, property, client);
    return typeof value === "function" ? value.bind(client) : value;
  },
});
