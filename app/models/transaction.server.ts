// One database transaction that services can pass to model functions without touching Prisma.
//
// On PostgreSQL a transaction is a pg transaction on a pooled connection: tagged SQL
// (`tx.$queryRaw`, `tx.$executeRaw`) goes straight to it as parameterized prepared statements (values
// never written into SQL text), BEGIN pipelined with the first statement and `executeAtCommit`
// statements with COMMIT. Prisma's model API used inside (`tx.user.update(…)`) runs on the same
// connection, in the same transaction, through a Prisma transaction opened on first use whose BEGIN,
// COMMIT and ROLLBACK are left to this one. Decision record 010 has the measurements: on the webhook
// path this beats Prisma's interactive transaction, and the earlier layer that wrote values into SQL
// text. TRANSACTION_LAYER=prisma uses Prisma's on PostgreSQL too; the embedded database always does.
import pg from "pg";
import { Prisma, type PrismaClient } from "~/generated/prisma/client.ts";
import {
  type LentConnection,
  type PgTransactionLayer,
  postgresTransactions,
  prisma,
  statementName,
  withLentConnection,
} from "~/db/db.server.ts";

/**
 * A transaction handle: pass it to model functions that take `db`. What a transaction offers: raw SQL
 * and the model API (Prisma's transaction client and the client itself are both one).
 */
export type Tx = Pick<Prisma.TransactionClient, RawSqlMethod | ModelName>;
type RawSqlMethod = "$queryRaw" | "$executeRaw" | "$queryRawUnsafe" | "$executeRawUnsafe";
type ModelName = Uncapitalize<Prisma.ModelName>;
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
  const committed: Array<() => void> = [];
  const postgres = postgresTransactions();
  if (!postgres) {
    const result = await prisma.$transaction(
      (tx) => {
        afterCommits.set(tx, committed);
        return work(tx);
      },
      { maxWait: MAX_WAIT_MS, timeout: TIMEOUT_MS },
    );
    runAfterCommit(committed);
    return result;
  }
  const transaction = new PgTransaction(await connect(postgres.pool), postgres.transactionPrisma, postgres.layer);
  afterCommits.set(transaction.tx, committed);
  try {
    const result = await work(transaction.tx);
    await transaction.commit();
    runAfterCommit(committed);
    return result;
  } catch (error) {
    await transaction.rollback();
    throw error;
  }
}

const afterCommits = new WeakMap<object, Array<() => void>>();

function runAfterCommit(callbacks: Array<() => void>) {
  for (const callback of callbacks) {
    try {
      callback();
    } catch {
      // A callback only nudges background work (which a periodic sweep also finds): never fail a commit for it.
    }
  }
}

/**
 * Runs `callback` once the transaction has committed (never when it rolls back); outside a
 * transaction (`db` is the client, whose statements commit at once), right away.
 */
function afterCommit(db: Db, callback: () => void): void {
  const callbacks = afterCommits.get(db);
  if (callbacks) callbacks.push(callback);
  else runAfterCommit([callback]);
}

/**
 * Runs `query` as the transaction's last statement: on PostgreSQL just before COMMIT (pipelined: in
 * the same round trip; its failure fails the commit), with Prisma's transactions at once. For a final
 * write whose rows nobody reads; `onCommitted` gets its row count once the transaction has committed.
 */
export async function executeAtCommit(tx: Db, query: Prisma.Sql, onCommitted?: (rowCount: number) => void) {
  const transaction = transactions.get(tx);
  if (transaction) return transaction.deferToCommit(query, onCommitted);
  const rowCount = await tx.$executeRaw(query);
  if (onCommitted) afterCommit(tx, () => onCommitted(rowCount));
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
const typeParsers: pg.CustomTypesConfig = {
  getTypeParser: (oid: number, format?: "text" | "binary") =>
    oid === INT8_OID ? (value: string) => BigInt(value) : pg.types.getTypeParser(oid, format),
};

/** A statement for the connection: its text with $1… placeholders and the values that fill them. */
type Statement = { text: string; values: unknown[]; /** Tagged SQL, prepared once per connection. */ tagged: boolean };

const tagged = (query: TemplateStringsArray | Prisma.Sql, values: unknown[]): Statement => {
  const sql = query instanceof Prisma.Sql ? query : Prisma.sql(query, ...values);
  return { text: sql.text, values: sql.values, tagged: true };
};

const closedError = () => new Error(`Transaction already closed (it ended, or ran past ${TIMEOUT_MS} ms).`);

/** A promise Prisma's types accept where its raw methods return one (only Prisma's batch `$transaction([…])` needs more). */
function asPrismaPromise<T>(promise: Promise<T>): Prisma.PrismaPromise<T> {
  return Object.defineProperty(promise, Symbol.toStringTag, { value: "PrismaPromise" }) as Prisma.PrismaPromise<T>;
}

class PgTransaction {
  readonly tx: Tx;
  readonly #client: pg.PoolClient;
  readonly #transactionPrisma: PrismaClient;
  /** Pipelined: BEGIN goes with the first statement and COMMIT with the last ones, in one write. */
  readonly #pipelined: boolean;
  #begun = false;
  /** Committed, rolled back or timed out: no statement runs any more. */
  #closed = false;
  #released = false;
  #running = 0;
  #atCommit: Array<Statement & { onCommitted?: (rowCount: number) => void }> = [];
  readonly #timer: NodeJS.Timeout;
  /** The Prisma transaction on this connection, once the model API is used. */
  #prisma?: { tx: Promise<Prisma.TransactionClient>; finish: () => Promise<void> };
  // A connection lost while checked out emits "error": without a listener the process would crash.
  readonly #onConnectionError = () => {};

  constructor(client: pg.PoolClient, transactionPrisma: PrismaClient, layer: PgTransactionLayer) {
    this.#client = client;
    this.#transactionPrisma = transactionPrisma;
    this.#pipelined = layer === "pg-pipelined";
    client.on("error", this.#onConnectionError);
    this.#timer = setTimeout(() => {
      this.#closed = true;
      if (!this.#running) void this.rollback();
    }, TIMEOUT_MS);
    this.tx = this.#handle();
    transactions.set(this.tx, this);
  }

  /** The handle model functions get: raw SQL here, the model API through the Prisma transaction. */
  #handle(): Tx {
    // Rows as the caller types them, as with Prisma's own raw queries.
    const rows = <T>(statement: Statement) => asPrismaPromise(this.#run(statement).then((result) => result.rows as T));
    const count = (statement: Statement) =>
      asPrismaPromise(this.#run(statement).then((result) => result.rowCount ?? 0));
    const raw: Pick<Tx, RawSqlMethod> = {
      $queryRaw: <T>(query: TemplateStringsArray | Prisma.Sql, ...values: unknown[]) => rows<T>(tagged(query, values)),
      $executeRaw: (query: TemplateStringsArray | Prisma.Sql, ...values: unknown[]) => count(tagged(query, values)),
      $queryRawUnsafe: <T>(text: string, ...values: unknown[]) => rows<T>({ text, values, tagged: false }),
      $executeRawUnsafe: (text: string, ...values: unknown[]) => count({ text, values, tagged: false }),
    };
    const delegate = (model: string) =>
      new Proxy(
        {},
        {
          get: (_delegate, method) => {
            if (typeof method !== "string" || method === "then") return undefined;
            return async (...args: unknown[]) => {
              const models: unknown = Reflect.get(await this.#prismaTx(), model);
              const call: unknown = models && typeof models === "object" ? Reflect.get(models, method) : undefined;
              if (typeof call !== "function") throw new TypeError(`tx.${model}.${method} is not a function`);
              return Reflect.apply(call, models, args);
            };
          },
        },
      );
    // A model (`tx.user`) is forwarded on use, whichever it is: the one claim TypeScript cannot check is
    // that every Prisma model delegate behaves as here, a forwarder of each call to the Prisma transaction.
    return new Proxy(raw, {
      get: (target, property) => {
        if (typeof property !== "string" || property === "then") return undefined;
        return property in target ? Reflect.get(target, property) : delegate(property);
      },
    }) as Tx;
  }

  deferToCommit(query: Prisma.Sql, onCommitted?: (rowCount: number) => void) {
    if (this.#closed) throw closedError();
    this.#atCommit.push({ text: query.text, values: query.values, tagged: true, onCommitted });
  }

  /** Runs one statement, tagged SQL as a named prepared statement (planned once per connection). */
  #query({ text, values, tagged }: Statement): Promise<pg.QueryResult> {
    const name = tagged ? statementName(text) : undefined;
    return this.#client.query({ name, text, values, types: typeParsers });
  }

  async #run(statement: Statement): Promise<pg.QueryResult> {
    if (this.#closed) throw closedError();
    this.#running++;
    try {
      if (this.#begun) return await this.#query(statement);
      this.#begun = true;
      if (!this.#pipelined) {
        await this.#client.query("BEGIN");
        return await this.#query(statement);
      }
      const [, result] = await Promise.all([this.#client.query("BEGIN"), this.#query(statement)]);
      return result;
    } finally {
      this.#running--;
      if (this.#closed && !this.#running && !this.#released) void this.rollback();
    }
  }

  /** What Prisma's transaction on this connection sends: its BEGIN, COMMIT and ROLLBACK are ours to send. */
  #lentConnection(): LentConnection {
    const client = this.#client;
    const query = async (config: pg.QueryConfig | string): Promise<pg.QueryResult> => {
      const text = typeof config === "string" ? config : config.text;
      if (text === "BEGIN" || text === "COMMIT" || text === "ROLLBACK") {
        return { command: text, rowCount: 0, rows: [], fields: [], oid: 0 };
      }
      if (this.#closed) throw closedError();
      if (!this.#begun) {
        this.#begun = true;
        await client.query("BEGIN");
      }
      this.#running++;
      try {
        return await client.query(config);
      } finally {
        this.#running--;
      }
    };
    const lent: LentConnection = { query, release: () => {}, on: () => lent, removeListener: () => lent };
    return lent;
  }

  #prismaTx(): Promise<Prisma.TransactionClient> {
    if (this.#closed) return Promise.reject(closedError());
    if (!this.#prisma) {
      let resolveTx: (tx: Prisma.TransactionClient) => void = () => {};
      let rejectTx: (error: unknown) => void = () => {};
      const tx = new Promise<Prisma.TransactionClient>(
        (resolve, reject) => ((resolveTx = resolve), (rejectTx = reject)),
      );
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

  /**
   * The statements left for the commit, then COMMIT. Pipelined, all in one write: if a statement
   * fails, PostgreSQL answers the COMMIT behind it with a rollback, and the statement's error rejects here.
   */
  async commit() {
    if (this.#closed) throw closedError();
    await this.#prisma?.finish();
    this.#closed = true;
    if (!this.#begun && !this.#atCommit.length) return this.#release(); // nothing ran: nothing to commit
    const begin = !this.#begun;
    this.#begun = true;
    const results: pg.QueryResult[] = [];
    if (this.#pipelined) {
      const [, ...answers] = await Promise.all([
        begin ? this.#client.query("BEGIN") : null,
        ...this.#atCommit.map((statement) => this.#query(statement)),
        this.#client.query("COMMIT"),
      ]);
      results.push(...(answers.slice(0, -1) as pg.QueryResult[]));
    } else {
      if (begin) await this.#client.query("BEGIN");
      for (const statement of this.#atCommit) results.push(await this.#query(statement));
      await this.#client.query("COMMIT");
    }
    this.#release();
    const callbacks = this.#atCommit.flatMap((statement, index) =>
      statement.onCommitted ? [() => statement.onCommitted?.(results[index]?.rowCount ?? 0)] : [],
    );
    runAfterCommit(callbacks);
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
