// Where the job queue (pg-boss, app/services/jobs) keeps its jobs: the app's own database, in its own
// `pgboss` schema. On PostgreSQL pg-boss opens a small pool of its own to the same DATABASE_URL; on
// the embedded database (one in-process PGlite connection, no TCP) it runs its SQL on PGlite itself.
import type PgBoss from "pg-boss";
import { beforeDatabaseCloses, prepareDatabase } from "~/db/db.server.ts";
import type { Db } from "./transaction.server.ts";

// Connections pg-boss may hold per instance on PostgreSQL: its polling worker, the maintenance and
// cron monitors, and sends. The app's own pool (DATABASE_POOL_SIZE) is not shared.
const QUEUE_POOL_SIZE = 4;

/**
 * pg-boss's connection options for the current database; `stop` (the queue's) runs when that database
 * is closed, before it closes, so nothing of the queue runs on a closed database.
 */
export async function jobQueueDatabase(
  stop: () => Promise<void>,
): Promise<Pick<PgBoss.ConstructorOptions, "connectionString" | "max" | "db">> {
  const { connection } = await prepareDatabase();
  beforeDatabaseCloses(stop);
  if ("url" in connection) return { connectionString: connection.url, max: QUEUE_POOL_SIZE };
  const { pglite } = connection;
  return {
    db: {
      // pg-boss sends parameterless multi-statement scripts (its migrations, `BEGIN; …; COMMIT`
      // maintenance): PGlite runs those with exec, and answers with the last statement's rows.
      async executeSql(text: string, values?: unknown[]) {
        if (values?.length) return pglite.query(text, values);
        const results = await pglite.exec(text);
        return { rows: results.at(-1)?.rows ?? [] };
      },
    },
  };
}

/**
 * pg-boss's `db` for a send inside the caller's transaction: the job is stored with what the
 * transaction writes, or not at all. Values as node-postgres would send them (an object as JSON).
 */
export function jobQueueTransaction(tx: Db): PgBoss.Db {
  return {
    async executeSql(text: string, values: unknown[] = []) {
      const parameters = values.map((value) =>
        value === undefined ? null : value !== null && typeof value === "object" ? JSON.stringify(value) : value,
      );
      return { rows: await tx.$queryRawUnsafe<unknown[]>(text, ...parameters) };
    },
  };
}
