// Server-side sessions: the cookie holds only a random session id, so signing out (or a role
// change) ends a session at once, even for a copied cookie.
import { randomBytes } from "node:crypto";
import { prisma } from "~/db/db.server.ts";
import type { Db } from "./transaction.server.ts";

export const SESSION_LIFETIME_MS = 30 * 24 * 60 * 60 * 1000;

export async function createSession(userId: number, now = new Date()) {
  const id = randomBytes(32).toString("base64url");
  const expiresAt = new Date(now.getTime() + SESSION_LIFETIME_MS);
  // Sweep expired sessions while we are here: an indexed delete, cheap and rarely non-empty.
  await prisma.session.deleteMany({ where: { expiresAt: { lt: now } } });
  return prisma.session.create({ data: { id, userId, expiresAt }, select: { id: true, expiresAt: true } });
}

/** The user of a live session, or null (unknown, ended or expired). One query. */
export async function getSessionUser(sessionId: string, now = new Date()) {
  const session = await prisma.session.findUnique({ where: { id: sessionId }, include: { user: true } });
  if (!session || session.expiresAt <= now) return null;
  return session.user;
}

export async function deleteSession(sessionId: string) {
  await prisma.session.deleteMany({ where: { id: sessionId } });
}

/**
 * Ends every session of a user (their role or password changed, or they asked to sign out
 * everywhere), but the one `except` names (the session that changed the password stays signed in).
 */
export async function deleteUserSessions(userId: number, db: Db = prisma, except?: string) {
  const { count } = await db.session.deleteMany({ where: { userId, ...(except ? { id: { not: except } } : {}) } });
  return count;
}
