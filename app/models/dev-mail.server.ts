// The development outbox (/dev/mail): mail kept in the database when no SMTP server is configured
// outside production (decision record 014). Never written in production.
import { prisma } from "~/db/db.server.ts";

export type OutboxMessage = { to: string; subject: string; text: string; html: string };

export async function storeDevMail(message: OutboxMessage) {
  await prisma.devMail.create({ data: message, select: { id: true } });
}

/** The newest messages first (a development page: the latest 100 are plenty). */
export function listDevMail(take = 100) {
  return prisma.devMail.findMany({
    orderBy: { id: "desc" },
    take,
    select: { id: true, to: true, subject: true, text: true, createdAt: true },
  });
}
