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

async function backendOf(tx: Tx, via: "direct" | "prisma") {
  const query = Prisma.sql`SELECT pg_backend_pid() AS pid, txid_current()::text AS txid`;
  // $queryRawUnsafe always goes through Prisma; $queryRaw takes the direct path where there is one.
  const rows =
    via === "direct"
      ? await tx.$queryRaw<Array<{ pid: number; txid: string }>>(query)
      : await tx.$queryRawUnsafe<Array<{ pid: number; txid: string }>>(query.text, ...query.values);
  return rows[0]!;
}

describe("inTransaction", () => {
  it("runs tagged SQL and Prisma's model API in one and the same transaction, for concurrent transactions too", async () => {
    const seen = await Promise.all(
      Array.from({ length: 12 }, async () =>
        inTransaction(async (tx) => {
          const direct = await backendOf(tx, "direct");
          const viaPrisma = await backendOf(tx, "prisma");
          const address = email();
          await tx.$executeRaw`INSERT INTO users (email, password_hash) VALUES (${address}, 'x')`;
          // Prisma sees the direct write: same transaction.
          const user = await tx.user.findUnique({ where: { email: address } });
          return { direct, viaPrisma, found: user !== null };
        }),
      ),
    );
    for (const { direct, viaPrisma, found } of seen) {
      expect(direct).toEqual(viaPrisma);
      expect(found).toBe(true);
    }
    expect(new Set(seen.map(({ direct }) => direct.txid)).size).toBe(seen.length);
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
      await executeAtCommit(tx, Prisma.sql`UPDATE users SET password_hash = ${"it's \\ committed"} WHERE email = ${first}`);
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

  it("refuses tagged SQL once the transaction has ended, rather than run it outside it", async () => {
    let escaped: Tx | undefined;
    await inTransaction(async (tx) => {
      escaped = tx;
    });
    await expect(Promise.resolve(escaped!.$queryRaw`SELECT 1`)).rejects.toThrow();
  });

  it("returns the same JavaScript types as Prisma's raw queries", async () => {
    const query = Prisma.sql`SELECT 9007199254740993::int8 AS big, 7::int4 AS small, now() AS at, 'x'::text AS text`;
    const direct = await inTransaction((tx) => tx.$queryRaw<Array<Record<string, unknown>>>(query));
    const viaPrisma = await prisma().$queryRaw<Array<Record<string, unknown>>>(query);
    expect(direct[0]!.big).toBe(9007199254740993n);
    for (const column of ["big", "small", "at", "text"]) expect(typeof direct[0]![column]).toBe(typeof viaPrisma[0]![column]);
    expect(direct[0]!.at).toBeInstanceOf(Date);
  });
});
