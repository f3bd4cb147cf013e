// One database transaction that services can pass to model functions without touching Prisma.
//
// On PostgreSQL a transaction is a pg transaction on a pooled connection: tagged SQL
// (`tx.$queryRaw`, `tx.$executeRaw`) goes straight to it as prepared statements, BEGIN travels with
// the first statement and `executeAtCommit` statements with COMMIT. Prisma's model API used inside
// (`tx.user.update(…)`) runs on the same connection, in the same transaction, through a Prisma
// transaction opened on first use whose BEGIN, COMMIT and ROLLBACK are left to this one. The webhook
// path is all tagged SQL: bench/webhook.ts measured Prisma's interactive transaction at about half of
// its CPU per event. On the embedded database, a transaction is Prisma's own.
import pg from "pg";
import { Prisma, type PrismaClient } from "~/generated/prisma/client.ts";
import {
  type PgTransactionLayer,
  postgresTransactions,
  prisma,
  statementName,
  withLentConnection,
} from "~/utils/db.server.ts";
import { sqlStringLiteral } from "./sql.server.ts";

/** A transaction handle: pass it to model functions that take `db`. */
export type Tx = Prisma.TransactionClient;
/** The database or a transaction: model functions run on either. */
export type Db = Tx;

// Generous waits: under a burst of webhooks, transactions queue for a pooled connection (and on the
// embedded database for its single one); the timeout bounds a transaction that waits on Stripe.
const MAX_WAIT_MS = 15_000;
const TIMEOUT_MS = 40_000;

/**
 * Runs `work` in one transaction: all of its writes commit together, or none do. A thrown error
 * rolls back. If the process or its connection dies, PostgreSQL rolls back too, so nothing taken
 * inside (like a webhook claim) outlives its transaction.
 */
export async function inTransaction<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
  const postgres = postgresTransactions();
  if (!postgres) return prisma.$transaction(work, { maxWait: MAX_WAIT_MS, timeout: TIMEOUT_MS });
  const transaction = new PgTransaction(await connect(postgres.pool), postgres.transactionPrisma, postgres.layer);
  try {
    const result = await work(transaction.tx);
    await transaction.commit();
    return result;
  } catch (error) {
    await transaction.rollback();
    throw error;
  }
}

/**
 * Runs `query` as the transaction's last statement: on PostgreSQL in the same round trip as COMMIT
 * (its failure fails the commit), elsewhere at once. For a final write whose result nobody reads.
 */
export async function executeAtCommit(tx: Db, query: Prisma.Sql): Promise<void> {
  const transaction = transactions.get(tx);
  if (transaction) transaction.deferToCommit(query);
  else await tx.$executeRaw(query);
}

/** Resolves when the database answers a trivial query (the health probe). */
export async function pingDatabase() {
  await prisma.$queryRaw`SELECT 1`;
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL transactions

const transactions = new WeakMap<object, PgTransaction>();

function connect(pool: pg.Pool): Promise<pg.PoolClient> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      reject(new Error(`No database connection became free within ${MAX_WAIT_MS} ms.`));
    }, MAX_WAIT_MS);
    pool.connect((error, client, release) => {
      clearTimeout(timer);
      if (settled) return release?.(); // gave up waiting meanwhile: give it back
      settled = true;
      if (error || !client) reject(error ?? new Error("No database connection."));
      else resolve(client);
    });
  });
}

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

/** A string constant, escaped as node-postgres' escapeLiteral does. */
function quote(text: string): string {
  return sqlStringLiteral(text);
}

/** Whether `literal` can write the value into SQL text. */
function writable(value: unknown): boolean {
  return (
    value === null ||
    value === undefined ||
    typeof value === "string" ||
    typeof value === "bigint" ||
    typeof value === "boolean" ||
    (typeof value === "number" && Number.isFinite(value)) ||
    value instanceof Date
  );
}

/** A value written into SQL text (an EXECUTE's parameter, a statement written out), where no parameter can go. */
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

// Statements prepared on each connection so far, by this path or by the Prisma transactions on it. One
// of those can travel with BEGIN or COMMIT as `EXECUTE name(…)`, planned once per connection; any other
// is prepared on its own round trip first (once per connection), then travels too.
const preparedOn = new WeakMap<pg.PoolClient, Set<string>>();

function preparedStatements(client: pg.PoolClient): Set<string> {
  let names = preparedOn.get(client);
  if (!names) preparedOn.set(client, (names = new Set()));
  return names;
}

/** A statement: tagged SQL (`sql`, which can also be written out with BEGIN), or text with $1… placeholders. */
type Statement = { text: string; values: unknown[]; sql?: Prisma.Sql };

const closedError = () => new Error(`Transaction already closed (it ended, or ran past ${TIMEOUT_MS} ms).`);

class PgTransaction {
  readonly tx: Tx;
  readonly #client: pg.PoolClient;
  readonly #transactionPrisma: PrismaClient;
  readonly #layer: PgTransactionLayer;
  #begun = false;
  /** Committed, rolled back or timed out: no statement runs any more. */
  #closed = false;
  #released = false;
  #running = 0;
  #atCommit: Prisma.Sql[] = [];
  readonly #timer: NodeJS.Timeout;
  /** The Prisma transaction on this connection, once the model API is used. */
  #prisma?: { tx: Promise<Tx>; finish: () => Promise<void> };
  // A connection lost while checked out emits "error": without a listener the process would crash.
  readonly #onConnectionError = () => {};

  constructor(client: pg.PoolClient, transactionPrisma: PrismaClient, layer: PgTransactionLayer) {
    this.#client = client;
    this.#layer = layer;
    this.#transactionPrisma = transactionPrisma;
    client.on("error", this.#onConnectionError);
    this.#timer = setTimeout(() => {
      this.#closed = true;
      if (!this.#running) void this.rollback();
    }, TIMEOUT_MS);
    this.tx = this.#handle();
    transactions.set(this.tx, this);
  }

  /** The handle model functions get: tagged SQL here, the model API through the Prisma transaction. */
  #handle(): Tx {
    const rows = (statement: Statement) => this.#run(statement).then((result) => result.rows);
    const count = (statement: Statement) => this.#run(statement).then((result) => result.rowCount ?? 0);
    const tagged = (query: TemplateStringsArray | Prisma.Sql, values: unknown[]): Statement => {
      const sql = toSql(query, values);
      return { text: sql.text, values: sql.values, sql };
    };
    const direct: Record<string, unknown> = {
      $queryRaw: (query: TemplateStringsArray | Prisma.Sql, ...values: unknown[]) => rows(tagged(query, values)),
      $executeRaw: (query: TemplateStringsArray | Prisma.Sql, ...values: unknown[]) => count(tagged(query, values)),
      // Text with $1… placeholders.
      $queryRawUnsafe: (text: string, ...values: unknown[]) => rows({ text, values }),
      $executeRawUnsafe: (text: string, ...values: unknown[]) => count({ text, values }),
    };
    return new Proxy({} as Tx, {
      get: (_target, property) => {
        if (typeof property !== "string" || property === "then") return undefined;
        if (property in direct) return direct[property];
        // A model (tx.user) or another client member: through the Prisma transaction on this connection.
        return new Proxy(
          {},
          {
            get: (_delegate, method) => {
              if (typeof method !== "string" || method === "then") return undefined;
              return async (...args: unknown[]) => {
                const prismaTx = (await this.#prismaTx()) as unknown as Record<
                  string,
                  Record<string, (...a: unknown[]) => unknown>
                >;
                return prismaTx[property]![method]!(...args);
              };
            },
          },
        );
      },
    });
  }

  deferToCommit(query: Prisma.Sql) {
    if (this.#closed) throw closedError();
    this.#atCommit.push(query);
  }

  /**
   * `sql` as SQL text to send with BEGIN or COMMIT: `EXECUTE` of its prepared statement, or written out
   * when it can have none (past the cap); null when it goes on its own round trip (to be prepared first,
   * or with values only a parameter can carry).
   */
  #travelling(sql: Prisma.Sql): string | null {
    // Arrays, objects and buffers go as parameters: the statement then takes a round trip of its own.
    if (!sql.values.every(writable)) return null;
    const name = statementName(sql.text);
    if (!name) return inline(sql);
    if (!preparedStatements(this.#client).has(name)) return null;
    return sql.values.length ? `EXECUTE ${name}(${sql.values.map(literal).join(", ")})` : `EXECUTE ${name}`;
  }

  /** Runs one statement as a prepared statement (when it has a name), recording that it is now prepared. */
  async #prepared({ text, values, sql }: Statement): Promise<pg.QueryResult> {
    const name = sql ? statementName(text) : undefined;
    const result = await this.#client.query({ name, text, values, types: typeParsers });
    if (name) preparedStatements(this.#client).add(name);
    return result;
  }

  async #run(statement: Statement): Promise<pg.QueryResult> {
    if (this.#closed) throw closedError();
    this.#running++;
    try {
      if (this.#layer !== "pg-literal") return await this.#runParameterized(statement);
      const travelling = !this.#begun && statement.sql ? this.#travelling(statement.sql) : null;
      if (travelling) {
        this.#begun = true;
        // BEGIN travels with the first statement: one simple-protocol query of two statements.
        const results = (await this.#client.query({
          text: `BEGIN;\n${travelling}`,
          types: typeParsers,
        })) as unknown as pg.QueryResult[];
        return results[1]!;
      }
      if (!this.#begun) {
        this.#begun = true;
        await this.#client.query("BEGIN");
      }
      return await this.#prepared(statement);
    } finally {
      this.#running--;
      if (this.#closed && !this.#running && !this.#released) void this.rollback();
    }
  }

  /** A statement with its values as parameters; BEGIN first (pipelined: in the same write). */
  async #runParameterized(statement: Statement): Promise<pg.QueryResult> {
    if (this.#begun) return this.#prepared(statement);
    this.#begun = true;
    if (this.#layer === "pg-params") {
      await this.#client.query("BEGIN");
      return this.#prepared(statement);
    }
    const [, result] = await Promise.all([this.#client.query("BEGIN"), this.#prepared(statement)]);
    return result;
  }

  /** What Prisma's transaction on this connection sends: its BEGIN, COMMIT and ROLLBACK are ours to send. */
  #lentConnection(): pg.PoolClient {
    const client = this.#client;
    const query = async (config: pg.QueryConfig) => {
      const text = typeof config === "string" ? config : config.text;
      if (text === "BEGIN" || text === "COMMIT" || text === "ROLLBACK") {
        return { command: text, rowCount: 0, rows: [], fields: [], oid: 0 } as unknown as pg.QueryResult;
      }
      if (this.#closed) throw closedError();
      if (!this.#begun) {
        this.#begun = true;
        await client.query("BEGIN");
      }
      this.#running++;
      try {
        const result = await client.query(config);
        if (config.name) preparedStatements(client).add(config.name);
        return result;
      } finally {
        this.#running--;
      }
    };
    const lent = { query, release: () => {}, on: () => lent, removeListener: () => lent };
    return lent as unknown as pg.PoolClient;
  }

  #prismaTx(): Promise<Tx> {
    if (this.#closed) return Promise.reject(closedError());
    if (!this.#prisma) {
      let resolveTx: (tx: Tx) => void = () => {};
      let rejectTx: (error: unknown) => void = () => {};
      const tx = new Promise<Tx>((resolve, reject) => ((resolveTx = resolve), (rejectTx = reject)));
      let done: () => void = () => {};
      const finished = new Promise<void>((resolve) => (done = resolve));
      const ended = withLentConnection(this.#lentConnection(), () =>
        this.#transactionPrisma.$transaction(
          async (prismaTx) => {
            resolveTx(prismaTx);
            await finished;
          },
          { maxWait: MAX_WAIT_MS, timeout: TIMEOUT_MS },
        ),
      ).catch(rejectTx);
      this.#prisma = {
        tx,
        finish: () => (
          done(),
          ended.then(
            () => {},
            () => {},
          )
        ),
      };
    }
    return this.#prisma.tx;
  }

  async commit() {
    if (this.#closed) throw closedError();
    await this.#prisma?.finish();
    this.#closed = true;
    if (!this.#begun && !this.#atCommit.length) return this.#release(); // nothing ran: nothing to commit
    if (this.#layer !== "pg-literal") return this.#commitParameterized();
    // In order; any statement not prepared on this connection yet goes on its own, the rest with COMMIT.
    // If one fails, PostgreSQL skips the rest of its query, COMMIT included: the caller rolls back.
    let travelling: string[] = this.#begun ? [] : ["BEGIN"];
    this.#begun = true;
    for (const sql of this.#atCommit) {
      const text = this.#travelling(sql);
      if (text) {
        travelling.push(text);
        continue;
      }
      if (travelling.length) await this.#client.query(travelling.join(";\n"));
      travelling = [];
      await this.#prepared({ text: sql.text, values: sql.values, sql });
    }
    await this.#client.query([...travelling, "COMMIT"].join(";\n"));
    this.#release();
  }

  /**
   * The statements left for COMMIT, then COMMIT. Pipelined, all in one write: if a statement fails,
   * PostgreSQL answers the COMMIT after it with a rollback, and its error rejects here.
   */
  async #commitParameterized() {
    const begin = !this.#begun;
    this.#begun = true;
    const statements = this.#atCommit.map((sql): Statement => ({ text: sql.text, values: sql.values, sql }));
    if (this.#layer === "pg-params") {
      if (begin) await this.#client.query("BEGIN");
      for (const statement of statements) await this.#prepared(statement);
      await this.#client.query("COMMIT");
    } else {
      await Promise.all([
        ...(begin ? [this.#client.query("BEGIN")] : []),
        ...statements.map((statement) => this.#prepared(statement)),
        this.#client.query("COMMIT"),
      ]);
    }
    this.#release();
  }

  async rollback() {
    if (this.#released) return;
    this.#closed = true;
    await this.#prisma?.finish();
    if (!this.#begun) return this.#release();
    try {
      await this.#client.query("ROLLBACK");
      this.#release();
    } catch (error) {
      // The connection is broken (the database went away): drop it rather than reuse it.
      this.#release(error instanceof Error ? error : new Error(String(error)));
    }
  }

  #release(broken?: Error) {
    if (this.#released) return;
    this.#released = true;
    clearTimeout(this.#timer);
    this.#client.removeListener("error", this.#onConnectionError);
    this.#client.release(broken);
  }
}
