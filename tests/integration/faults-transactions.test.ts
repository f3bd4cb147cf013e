// inTransaction under failure. On PostgreSQL its tagged SQL goes straight to the transaction's
// connection (skipping Prisma's query layer) and a last statement may travel with COMMIT
// (executeAtCommit): this file holds that to the same guarantees as a plain Prisma transaction. On the
// embedded database everything goes through Prisma, and the same tests hold.
import { describe, expect, it } from "vitest";
import { Prisma } from "../../app/generated/prisma/client.ts";
import { executeAtCommit, inTransaction, type Tx } from "../../app/models/transaction.server.ts";
import { testDb } from "../setup/database.ts";
import "../utils.ts";

const prisma = () => testDb().prisma;
let counter = 0;
const email = () => `tx-${Date.now()}-${counter++}@example.com`;

const txid = async (tx: Tx) =>
  (await tx.$queryRaw<Array<{ txid: string }>>`SELECT txid_current()::text AS txid`)[0]!.txid;

describe("inTransaction", () => {
  it("runs tagged SQL and Prisma's model API in one and the same transaction, for concurrent transactions too", async () => {
    const seen = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        inTransaction(async (tx) => {
          const [direct, viaModel] = [email(), email()];
          // Half start with the model API, half with tagged SQL: either may open the transaction.
          if (i % 2) await tx.user.create({ data: { email: viaModel, passwordHash: "x" } });
          const first = await txid(tx);
          await tx.$executeRaw`INSERT INTO users (email, password_hash) VALUES (${direct}, 'x')`;
          if (!(i % 2)) await tx.user.create({ data: { email: viaModel, passwordHash: "x" } });
          // Each side sees the other's uncommitted write: same transaction.
          const modelSeesDirect = (await tx.user.findUnique({ where: { email: direct } })) !== null;
          const counted = await tx.$queryRaw<
            Array<{ n: bigint }>
          >`SELECT count(*) AS n FROM users WHERE email IN (${direct}, ${viaModel})`;
          return {
            first,
            last: await txid(tx),
            modelSeesDirect,
            directSeesModel: counted[0]!.n === 2n,
            direct,
            viaModel,
          };
        }),
      ),
    );
    for (const { first, last, modelSeesDirect, directSeesModel } of seen) {
      expect(last).toBe(first);
      expect(modelSeesDirect).toBe(true);
      expect(directSeesModel).toBe(true);
    }
    expect(new Set(seen.map(({ first }) => first)).size).toBe(seen.length);
    const emails = seen.flatMap(({ direct, viaModel }) => [direct, viaModel]);
    expect(await prisma().user.count({ where: { email: { in: emails } } })).toBe(emails.length);
  });

  it("keeps Prisma's own errors for the model API, and rolls everything back", async () => {
    const [taken, mine] = [email(), email()];
    await prisma().user.create({ data: { email: taken, passwordHash: "x" } });
    const failure = await inTransaction(async (tx) => {
      await tx.$executeRaw`INSERT INTO users (email, password_hash) VALUES (${mine}, 'x')`;
      await tx.user.create({ data: { email: taken, passwordHash: "x" } });
    }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(Prisma.PrismaClientKnownRequestError);
    expect((failure as Prisma.PrismaClientKnownRequestError).code).toBe("P2002");
    expect(await prisma().user.count({ where: { email: mine } })).toBe(0);
  });

  it("rolls back the direct and the Prisma writes when the work throws", async () => {
    const [direct, viaPrisma] = [email(), email()];
    await expect(
      inTransaction(async (tx) => {
        await tx.$executeRaw`INSERT INTO users (email, password_hash) VALUES (${direct}, 'x')`;
        await tx.user.create({ data: { email: viaPrisma, passwordHash: "x" } });
        throw new Error("changed my mind");
      }),
    ).rejects.toThrow("changed my mind");
    expect(await prisma().user.count({ where: { email: { in: [direct, viaPrisma] } } })).toBe(0);
  });

  it("applies a statement left for the commit, and fails the whole transaction when it fails", async () => {
    const [first, second] = [email(), email()];
    await inTransaction(async (tx) => {
      await tx.$executeRaw`INSERT INTO users (email, password_hash) VALUES (${first}, 'x')`;
      await executeAtCommit(
        tx,
        Prisma.sql`UPDATE users SET password_hash = ${"it's \\ committed"} WHERE email = ${first}`,
      );
    });
    expect((await prisma().user.findUniqueOrThrow({ where: { email: first } })).passwordHash).toBe("it's \\ committed");

    await expect(
      inTransaction(async (tx) => {
        await tx.$executeRaw`INSERT INTO users (email, password_hash) VALUES (${second}, 'x')`;
        // Violates the unique email: the commit fails, and the insert above goes with it.
        await executeAtCommit(tx, Prisma.sql`INSERT INTO users (email, password_hash) VALUES (${first}, 'x')`);
      }),
    ).rejects.toThrow();
    expect(await prisma().user.count({ where: { email: second } })).toBe(0);
    // The connection went back to the pool usable.
    await inTransaction(async (tx) => expect(await tx.$queryRaw`SELECT 1 AS one`).toEqual([{ one: 1 }]));
  });

  it("sends values only a parameter can carry (arrays) first or last in a transaction", async () => {
    const [first, second] = [email(), email()];
    await inTransaction(async (tx) => {
      await tx.$executeRaw`INSERT INTO users (email, password_hash) SELECT unnest(${[first, second]}::text[]), 'x'`;
      await executeAtCommit(tx, Prisma.sql`UPDATE users SET role = 'support' WHERE email = ANY(${[first]}::text[])`);
    });
    const users = await prisma().user.findMany({
      where: { email: { in: [first, second] } },
      orderBy: { email: "asc" },
    });
    expect(users.map((user) => [user.email, user.role])).toEqual([
      [first, "support"],
      [second, "customer"],
    ]);
  });

  it("refuses tagged SQL once the transaction has ended, rather than run it outside it", async () => {
    let escaped: Tx | undefined;
    await inTransaction(async (tx) => {
      escaped = tx;
    });
    await expect(Promise.resolve(escaped!.$queryRaw`SELECT 1`)).rejects.toThrow();
  });

  it("stores hostile strings exactly as given, first, in the middle and at commit", async () => {
    // What a webhook payload or an admin's input may hold: quotes, backslashes, PostgreSQL's E'' and
    // dollar quoting, placeholders, a statement of its own, control characters and wide characters.
    const hostile = [
      "'",
      "''",
      "\\",
      "\\'",
      "'\\",
      "E'\\x41'",
      "$$; DROP TABLE users; --$$",
      "'); DROP TABLE users; --",
      "$1 ? $2 :name",
      "tab\there\nnewline\r\u0001\u001f",
      "O'Brien \\\\' \"quoted\" ünïcødé — 😀",
      '{"id":"evt_1","data":{"object":{"name":"O\'Brien \\u0000 \\n"}}}',
    ];
    const emails = hostile.map(() => email());
    await inTransaction(async (tx) => {
      // First (travels with BEGIN), in the middle, and left for the commit.
      await tx.$executeRaw`INSERT INTO users (email, password_hash) VALUES (${emails[0]}, ${hostile[0]})`;
      for (let i = 1; i < hostile.length - 1; i++) {
        const rows = await tx.$queryRaw<Array<{ stored: string }>>`
          INSERT INTO users (email, password_hash) VALUES (${emails[i]}, ${hostile[i]}) RETURNING password_hash AS stored`;
        expect(rows[0]!.stored).toBe(hostile[i]);
      }
      await executeAtCommit(
        tx,
        Prisma.sql`INSERT INTO users (email, password_hash) VALUES (${emails.at(-1)}, ${hostile.at(-1)})`,
      );
    });
    const users = await prisma().user.findMany({ where: { email: { in: emails } } });
    const stored = new Map(users.map((user) => [user.email, user.passwordHash]));
    expect(emails.map((address) => stored.get(address))).toEqual(hostile);
    expect(await prisma().user.count()).toBeGreaterThanOrEqual(hostile.length); // the table is still there
  });

  it("returns the same JavaScript types as Prisma's raw queries", async () => {
    const query = Prisma.sql`SELECT 9007199254740993::int8 AS big, 7::int4 AS small, now() AS at, 'x'::text AS text`;
    const direct = await inTransaction((tx) => tx.$queryRaw<Array<Record<string, unknown>>>(query));
    const viaPrisma = await prisma().$queryRaw<Array<Record<string, unknown>>>(query);
    expect(direct[0]!.big).toBe(9007199254740993n);
    for (const column of ["big", "small", "at", "text"])
      expect(typeof direct[0]![column]).toBe(typeof viaPrisma[0]![column]);
    expect(direct[0]!.at).toBeInstanceOf(Date);
  });
});
