// One database transaction that services can pass to model functions without touching Prisma.
import type { Prisma } from "~/generated/prisma/client.ts";
import { prisma } from "~/utils/db.server.ts";

/** A transaction handle: pass it to model functions that take `db`. */
export type Tx = Prisma.TransactionClient;
/** The database or a transaction: model functions run on either. */
export type Db = Tx;

/**
 * Runs `work` in one transaction: all of its writes commit together, or none do. A thrown error
 * rolls back. If the process or its connection dies, PostgreSQL rolls back too, so nothing taken
 * inside (like a webhook claim) outlives its transaction.
 */
export function inTransaction<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
  // Generous waits: under a burst of webhooks, transactions queue for a pooled connection (and on
  // the embedded database for its single one); `timeout` bounds a transaction that waits on Stripe.
  return prisma.$transaction(work, { maxWait: 15_000, timeout: 40_000 });
}

/** Resolves when the database answers a trivial query (the health probe). */
export async function pingDatabase() {
  await prisma.$queryRaw`SELECT 1`;
}
