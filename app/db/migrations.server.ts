// Applies the committed Prisma migrations (prisma/migrations/*/migration.sql) to a database
// and records them in Prisma's own `_prisma_migrations` table exactly as `prisma migrate deploy`
// would, so `prisma migrate status` agrees. Used for the embedded PGlite database (which the
// Prisma CLI cannot open while the app runs) and to build the test databases quickly.
import { createHash, randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

export type Migration = { name: string; sql: string; checksum: string };

/** The minimal SQL surface both PGlite and node-postgres offer. */
export type SqlRunner = {
  exec(sql: string): Promise<unknown>;
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<{ rows: T[] }>;
};

function migrationsDir() {
  return path.resolve(process.cwd(), "prisma/migrations");
}

export function readMigrations(dir = migrationsDir()): Migration[] {
  if (!fs.existsSync(dir)) throw new Error(`No migrations folder at ${dir}`);
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && fs.existsSync(path.join(dir, entry.name, "migration.sql")))
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const sql = fs.readFileSync(path.join(dir, name, "migration.sql"), "utf8");
      // Prisma's checksum is the SHA-256 of the migration file, hex encoded.
      return { name, sql, checksum: createHash("sha256").update(sql).digest("hex") };
    });
}

// Prisma's bookkeeping table, as its schema engine creates it.
const CREATE_MIGRATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
);`;

async function appliedMigrationNames(db: SqlRunner): Promise<Set<string>> {
  const exists = await db.query<{ exists: boolean }>(
    `SELECT to_regclass('"_prisma_migrations"') IS NOT NULL AS "exists"`,
  );
  if (!exists.rows[0]?.exists) return new Set();
  const { rows } = await db.query<{ migration_name: string }>(
    `SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
  );
  return new Set(rows.map((row) => row.migration_name));
}

/** Applies every pending migration, each in its own transaction. Returns the names applied. */
export async function applyMigrations(db: SqlRunner, migrations = readMigrations()): Promise<string[]> {
  await db.exec(CREATE_MIGRATIONS_TABLE);
  const applied = await appliedMigrationNames(db);
  const done: string[] = [];
  for (const migration of migrations) {
    if (applied.has(migration.name)) continue;
    const startedAt = new Date().toISOString();
    try {
      await db.exec(`BEGIN;\n${migration.sql}\n;COMMIT;`);
    } catch (error) {
      await db.exec("ROLLBACK").catch(() => {});
      throw new Error(`Migration ${migration.name} failed: ${(error as Error).message}`);
    }
    await db.query(
      `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count)
       VALUES ($1, $2, now(), $3, NULL, NULL, $4, 1)`,
      [randomUUID(), migration.checksum, migration.name, startedAt],
    );
    done.push(migration.name);
  }
  return done;
}

/** Names of committed migrations the database has not applied yet. */
export async function pendingMigrations(db: SqlRunner, migrations = readMigrations()): Promise<string[]> {
  const applied = await appliedMigrationNames(db);
  return migrations.filter((m) => !applied.has(m.name)).map((m) => m.name);
}

/** Adapts a node-postgres client (or pool) to the runner shape PGlite already has. */
export function pgRunner(client: { query(sql: string, params?: unknown[]): Promise<{ rows: unknown[] }> }): SqlRunner {
  return {
    exec: (sql) => client.query(sql),
    query: async <T = Record<string, unknown>>(sql: string, params?: unknown[]) => ({
      rows: (await client.query(sql, params)).rows as T[],
    }),
  };
}
