// API keys for /api/v1 (issue 20): only the SHA-256 hash of a secret is stored, looked up by its unique
// index. Revoking keeps the row (the list and the audit log still name it) and tells every instance at
// commit to drop the key from its cache.
import type { ApiKeyScope } from "~/generated/prisma/enums.ts";
import { prisma } from "~/db/db.server.ts";
import { notifyApiCacheChanged } from "./catalog-changes.server.ts";
import type { Db } from "./transaction.server.ts";

export type ApiKeyRecord = {
  id: number;
  name: string;
  scope: ApiKeyScope;
  prefix: string;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
};

const recordFields = { id: true, name: true, scope: true, prefix: true, revokedAt: true, lastUsedAt: true } as const;

export function insertApiKey(
  tx: Db,
  data: { name: string; scope: ApiKeyScope; prefix: string; secretHash: string; createdById: number | null },
): Promise<ApiKeyRecord> {
  return tx.apiKey.create({ data, select: recordFields });
}

/** The key whose secret hashes to `secretHash` (revoked or not), by its unique index. */
export function findApiKeyByHash(secretHash: string): Promise<ApiKeyRecord | null> {
  return prisma.apiKey.findUnique({ where: { secretHash }, select: recordFields });
}

/** Every key, newest first, with its creator's email (admins keep a handful, not thousands). */
export function listApiKeys() {
  return prisma.apiKey.findMany({
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    select: { ...recordFields, createdAt: true, createdBy: { select: { email: true } } },
  });
}

/** Revokes the key unless it already is; null when there is no such key or it was revoked before. */
export async function markApiKeyRevoked(tx: Db, id: number, now: Date): Promise<ApiKeyRecord | null> {
  const { count } = await tx.apiKey.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: now } });
  if (count !== 1) return null;
  await notifyApiCacheChanged(tx, [`key:${id}`]);
  return tx.apiKey.findUnique({ where: { id }, select: recordFields });
}

/** Notes a use of the key, unless one was noted in the last minute (one small UPDATE, no write when recent). */
export async function touchApiKeyLastUsed(id: number, now: Date): Promise<void> {
  const aMinuteAgo = new Date(now.getTime() - 60_000);
  await prisma.$executeRaw`
    UPDATE api_keys SET last_used_at = ${now}
     WHERE id = ${id} AND (last_used_at IS NULL OR last_used_at < ${aMinuteAgo})`;
}
