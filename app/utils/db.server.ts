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
import { config } from "./config.server.ts";
import { logger } from "./logger.server.ts";
import { applyMigrations, pendingMigrations, pgRunner } from "./migrations.server.ts";
import { singleton } from "./singleton.server.ts";

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

/**
 * The connection a Prisma interactive transaction runs on, for the code inside it (see
 * `inTransaction`): raw SQL can go straight to it, same connection and same transaction, without
 * Prisma's query layer. `client` is null once the transaction has ended.
 */
export type TransactionConnection = {
  client: pg.PoolClient | null;
  /** Statements sent in the same round trip as COMMIT (nobody reads their results). */
  atCommit: string[];
};
const transactionConnections = singleton(
  "transaction-connections",
  () => new AsyncLocalStorage<TransactionConnection>(),
);

/** Runs `work` so that the Prisma transaction it starts reports its connection in `connection`. */
export function withTransactionConnection<T>(work: (connection: TransactionConnection) => Promise<T>): Promise<T> {
  const connection: TransactionConnection = { client: null, atCommit: [] };
  return transactionConnections.run(connection, () => work(connection));
}

type AdapterTransaction = Awaited<ReturnType<Awaited<ReturnType<PrismaPg["connect"]>>["startTransaction"]>>;

/**
 * Reports a starting transaction's connection to the `withTransactionConnection` around it, and sends
 * the statements left for COMMIT with it. The adapter keeps the transaction's pg client in `client`, a
 * field it does not declare public: it is checked, and without a pg client there raw SQL simply keeps
 * going through Prisma.
 */
function reportConnection(transaction: AdapterTransaction): AdapterTransaction {
  const connection = transactionConnections.getStore();
  const client: unknown = (transaction as unknown as { client?: unknown }).client;
  if (!connection || connection.client || !(client instanceof pg.Client)) return transaction;
  const poolClient = client as pg.PoolClient;
  connection.client = poolClient;
  const executeRaw = transaction.executeRaw.bind(transaction);
  const commit = transaction.commit.bind(transaction);
  const rollback = transaction.rollback.bind(transaction);
  const ended = () => {
    connection.client = null;
    connection.atCommit = [];
  };
  return Object.assign(transaction, {
    async executeRaw(query: Parameters<AdapterTransaction["executeRaw"]>[0]) {
      if (query.sql !== "COMMIT" || !connection.atCommit.length) return executeRaw(query);
      const statements = [...connection.atCommit, "COMMIT"].join(";\n");
      connection.atCommit = [];
      try {
        // If one of them fails, PostgreSQL skips the rest of the query, COMMIT included.
        await poolClient.query(statements);
      } catch (error) {
        await executeRaw({ ...query, sql: "ROLLBACK" }).catch(() => {});
        throw error;
      }
      return 0;
    },
    async commit() {
      ended();
      return commit();
    },
    async rollback() {
      ended();
      return rollback();
    },
  });
}

function postgresAdapter(pool: pg.Pool): PrismaPg {
  const factory = new PrismaPg(pool, {
    // Typed as always returning a name; undefined (past the cap) means an unnamed statement.
    statementNameGenerator: (query) => statementName(query.sql) as string,
    // A connection lost mid-transaction (the database went away) fails that transaction, not the process.
    onConnectionError: () => {},
  });
  const connect = factory.connect.bind(factory);
  return Object.assign(factory, {
    async connect() {
      const adapter = await connect();
      const startTransaction = adapter.startTransaction.bind(adapter);
      return Object.assign(adapter, {
        startTransaction: async (isolationLevel?: Parameters<typeof startTransaction>[0]) =>
          reportConnection(await startTransaction(isolationLevel)),
      });
    },
  });
}

export function postgresDatabase(connectionString: string, poolSize = config().databasePoolSize): Database {
  // Our own pool, sized by DATABASE_POOL_SIZE, so concurrent webhooks do not queue behind a small default.
  const pool = new pg.Pool({ connectionString, max: poolSize });
  // An idle client losing its connection (the database restarted) must not crash the process.
  pool.on("error", () => {});
  const prisma = new PrismaClient({ adapter: postgresAdapter(pool) });
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
