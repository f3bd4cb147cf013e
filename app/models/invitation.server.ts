// Invitations to join an account: a single-use link bound to one email, live for 7 days. Only the
// SHA-256 of a link's token is stored, so whoever reads the database (or a backup) cannot use a link.
// Pending means neither accepted nor revoked, and not expired: each pending invitation holds a seat
// (app/models/seats.server.ts counts them the same way).
import { prisma } from "~/db/db.server.ts";
import { notifyApiCacheChanged } from "./catalog-changes.server.ts";
import type { Db } from "./transaction.server.ts";

export type InvitationByToken = {
  id: number;
  accountId: number;
  accountName: string;
  email: string;
  invitedByEmail: string | null;
  expiresAt: Date;
  acceptedAt: Date | null;
  revokedAt: Date | null;
};

const BY_TOKEN_SELECT = {
  id: true,
  accountId: true,
  email: true,
  expiresAt: true,
  acceptedAt: true,
  revokedAt: true,
  account: { select: { name: true } },
  invitedBy: { select: { email: true } },
} as const;

/** The invitation a link's token hash names, whatever its state, with its account's name; null if none. */
export async function findInvitationByTokenHash(tokenHash: string, db: Db = prisma): Promise<InvitationByToken | null> {
  const found = await db.invitation.findUnique({ where: { tokenHash }, select: BY_TOKEN_SELECT });
  if (!found) return null;
  const { account, invitedBy, ...invitation } = found;
  return { ...invitation, accountName: account.name, invitedByEmail: invitedBy?.email ?? null };
}

/**
 * The same, with the invitation row locked until `tx` ends (after the account's seat lock): whoever
 * waited for it sees it as the one before left it (accepted, revoked, resent).
 */
export async function lockInvitationByTokenHash(tx: Db, tokenHash: string): Promise<InvitationByToken | null> {
  const rows = await tx.$queryRaw<Array<{ id: number }>>`
    SELECT id FROM invitations WHERE token_hash = ${tokenHash} FOR UPDATE`;
  return rows[0] ? findInvitationByTokenHash(tokenHash, tx) : null;
}

export async function createInvitation(
  tx: Db,
  data: { accountId: number; email: string; tokenHash: string; invitedById: number; createdAt: Date; expiresAt: Date },
) {
  // A pending invitation holds a seat: the API's cached seats of the account are out of date at commit.
  await notifyApiCacheChanged(tx, [`account:${data.accountId}`]);
  return tx.invitation.create({ data, select: { id: true } });
}

const pendingWhere = (now: Date) => ({ acceptedAt: null, revokedAt: null, expiresAt: { gt: now } });

/** The account's pending invitations, oldest first (a page: an account has at most its seat limit). */
export function listPendingInvitations(accountId: number, now = new Date()) {
  return prisma.invitation.findMany({
    where: { accountId, ...pendingWhere(now) },
    orderBy: { id: "asc" },
    select: { id: true, email: true, createdAt: true, expiresAt: true },
  });
}

/** Whether the email already has a pending invitation to the account. */
export async function hasPendingInvitation(db: Db, accountId: number, email: string, now = new Date()) {
  const found = await db.invitation.findFirst({
    where: { accountId, email, ...pendingWhere(now) },
    select: { id: true },
  });
  return found !== null;
}

/** A pending invitation of the account with its email; null when there is none by that id. */
export function lockPendingInvitation(tx: Db, accountId: number, id: number, now = new Date()) {
  return tx.$queryRaw<Array<{ id: number; email: string }>>`
    SELECT id, email FROM invitations
     WHERE id = ${id} AND account_id = ${accountId} AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ${now}
       FOR UPDATE`.then((rows) => rows[0] ?? null);
}

/** A new link for a pending invitation: the old token's hash is replaced (so the old link is dead), 7 more days. */
export async function renewInvitation(tx: Db, id: number, tokenHash: string, now: Date, expiresAt: Date) {
  await tx.invitation.update({ where: { id }, data: { tokenHash, createdAt: now, expiresAt }, select: { id: true } });
}

/** Revokes a pending invitation of the account; false when there is none by that id. */
export async function revokeInvitation(accountId: number, id: number, now = new Date(), db: Db = prisma) {
  const { count } = await db.invitation.updateMany({
    where: { id, accountId, ...pendingWhere(now) },
    data: { revokedAt: now },
  });
  if (count === 1) await notifyApiCacheChanged(prisma, [`account:${accountId}`]);
  return count === 1;
}

export async function markInvitationAccepted(tx: Db, id: number, now: Date) {
  await tx.invitation.update({ where: { id }, data: { acceptedAt: now }, select: { id: true } });
}

/** Marks the email's pending invitations to the account accepted (they joined another way); how many. */
export async function acceptPendingInvitationsOf(tx: Db, accountId: number, email: string, now: Date) {
  const { count } = await tx.invitation.updateMany({
    where: { accountId, email, ...pendingWhere(now) },
    data: { acceptedAt: now },
  });
  return count;
}

/** Revokes the email's pending invitations to the account (their seats are free again); how many. */
export async function revokePendingInvitationsOf(tx: Db, accountId: number, email: string, now: Date) {
  const { count } = await tx.invitation.updateMany({
    where: { accountId, email, ...pendingWhere(now) },
    data: { revokedAt: now },
  });
  if (count > 0) await notifyApiCacheChanged(tx, [`account:${accountId}`]);
  return count;
}
