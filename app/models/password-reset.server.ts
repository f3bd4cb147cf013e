// "Forgot password" links. Only the SHA-256 hash of a link's token is stored: whoever reads the
// database (or a backup of it) cannot use a link. A link is single use and valid for an hour.
import { prisma } from "~/db/db.server.ts";
import type { Db } from "./transaction.server.ts";

export async function createPasswordReset(userId: number, tokenHash: string, expiresAt: Date) {
  await prisma.passwordReset.create({ data: { userId, tokenHash, expiresAt }, select: { id: true } });
}

/** The user a live link (not used, not expired) belongs to, or null. One query. */
export async function findUsablePasswordReset(tokenHash: string, now: Date) {
  return prisma.passwordReset.findFirst({
    where: { tokenHash, usedAt: null, expiresAt: { gt: now } },
    select: { id: true, userId: true },
  });
}

/**
 * Marks a live link used, in `tx`; the user it belongs to, or null when it was not live (unknown,
 * expired, or used, also by a request racing this one: only one UPDATE can claim it).
 */
export async function claimPasswordReset(tx: Db, tokenHash: string, now: Date): Promise<number | null> {
  const rows = await tx.$queryRaw<Array<{ user_id: number }>>`
    UPDATE password_resets SET used_at = ${now}
     WHERE token_hash = ${tokenHash} AND used_at IS NULL AND expires_at > ${now}
    RETURNING user_id`;
  return rows[0]?.user_id ?? null;
}

/** Ends every link of the user that is still unused (their password was just set), and sweeps expired ones. */
export async function endPasswordResets(tx: Db, userId: number, now: Date) {
  await tx.passwordReset.updateMany({ where: { userId, usedAt: null }, data: { usedAt: now } });
  await tx.passwordReset.deleteMany({ where: { expiresAt: { lt: new Date(now.getTime() - 24 * 3_600_000) } } });
}
