// One database transaction that services can pass to model functions without touching Prisma.
import pg from "pg";
import { Prisma } from "~/generated/prisma/client.ts";
import { prisma, statementName, type TransactionConnection, withTransactionConnection } from "~/utils/db.server.ts";

/** A transaction handle: pass it to model functions that take `db`. */
export type Tx = Prisma.TransactionClient;
/** The database or a transaction: model functions run on either. */
export type Db = Tx;

/**
 * Runs `work` in one transaction: all of its writes commit together, or none do. A thrown error
 * rolls back. If the process or its connection dies, PostgreSQL rolls back too, so nothing taken
 * inside (like a webhook claim) outlives its transaction.
 *
 * On PostgreSQL the transaction's tagged SQL (`tx.$queryRaw`, `tx.$executeRaw`) goes straight to its
 * connection as prepared statements, skipping Prisma's query layer (the webhook path is all tagged
 * SQL: bench/webhook.ts measures it); Prisma's model API works in it as usual.
 */
export function inTransaction<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
  // Generous waits: under a burst of webhooks, transactions queue for a pooled connection (and on
  // the embedded database for its single one); `timeout` bounds a transaction that waits on Stripe.
  return withTransactionConnection((connection) =>
    prisma.$transaction((tx) => work(withDirectSql(tx, connection)), { maxWait: 15_000, timeout: 40_000 }),
  );
}

/**
 * Runs `query` as the transaction's last statement: on PostgreSQL in the same round trip as COMMIT
 * (its failure fails the commit), elsewhere at once. For a final write whose result nobody reads.
 */
export async function executeAtCommit(tx: Db, query: Prisma.Sql): Promise<void> {
  const connection = connectionOf.get(tx);
  if (connection?.client) connection.atCommit.push(inline(query));
  else await tx.$executeRaw(query);
}

/** Resolves when the database answers a trivial query (the health probe). */
export async function pingDatabase() {
  await prisma.$queryRaw`SELECT 1`;
}

// ---------------------------------------------------------------------------------------------
// Tagged SQL straight to the transaction's connection

const connectionOf = new WeakMap<object, TransactionConnection>();

// Prisma returns int8 as bigint, so does this path (node-postgres alone would give a string);
// timestamps are Dates and numeric a string, as node-postgres parses them.
const INT8_OID = 20;
const typeParsers = {
  getTypeParser: (oid: number, format?: "text" | "binary") =>
    oid === INT8_OID ? (value: string) => BigInt(value) : pg.types.getTypeParser(oid, format),
} as pg.CustomTypesConfig;

function toSql(query: TemplateStringsArray | Prisma.Sql, values: unknown[]): Prisma.Sql {
  return query instanceof Prisma.Sql ? query : Prisma.sql(query, ...values);
}

function runOn(client: pg.PoolClient, sql: Prisma.Sql): Promise<pg.QueryResult> {
  const text = sql.text;
  return client.query({ name: statementName(text), text, values: sql.values, types: typeParsers });
}

/** `tx`, its tagged SQL sent straight to the transaction's connection while it has one. */
function withDirectSql(tx: Tx, connection: TransactionConnection): Tx {
  const direct = new Proxy(tx, {
    get(target, property) {
      if (property === "$queryRaw") {
        return (query: TemplateStringsArray | Prisma.Sql, ...values: unknown[]) =>
          connection.client
            ? runOn(connection.client, toSql(query, values)).then((result) => result.rows)
            : target.$queryRaw(query, ...values);
      }
      if (property === "$executeRaw") {
        return (query: TemplateStringsArray | Prisma.Sql, ...values: unknown[]) =>
          connection.client
            ? runOn(connection.client, toSql(query, values)).then((result) => result.rowCount ?? 0)
            : target.$executeRaw(query, ...values);
      }
      const value: unknown = Reflect.get(target, property);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  connectionOf.set(direct, connection);
  return direct;
}

/** A string constant as node-postgres' escapeLiteral writes it (E'…' with doubled backslashes when it has any). */
function quote(text: string): string {
  const quoted = text.replace(/'/g, "''");
  return text.includes("\\") ? ` E'${quoted.replace(/\\/g, "\\\\")}'` : `'${quoted}'`;
}

/** A value written into SQL text, for a statement that travels with COMMIT (which takes no parameters). */
function literal(value: unknown): string {
  if (value === null || value === undefined) return "NULL";
  if (typeof value === "string") return quote(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new Error(`Cannot write ${value} into SQL.`);
    return value < 0 ? `(${value})` : String(value);
  }
  if (typeof value === "bigint") return value < 0n ? `(${value})` : String(value);
  if (typeof value === "boolean") return value ? "TRUE" : "FALSE";
  // Untyped, like a parameter: PostgreSQL infers the type from where it is used.
  if (value instanceof Date) return quote(value.toISOString());
  throw new Error(`Cannot write a ${typeof value} into SQL text; pass it as a parameter.`);
}

function inline(sql: Prisma.Sql): string {
  let text = sql.strings[0] ?? "";
  sql.values.forEach((value, i) => (text += literal(value) + (sql.strings[i + 1] ?? "")));
  return text;
}
