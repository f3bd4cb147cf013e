// API keys: created and revoked by admins (audited), then sent by a product's backend as
// `Authorization: Bearer tdk_…`. The secret is shown once; only its SHA-256 hash is stored, and the
// hot path finds a key by that hash in the in-process cache (./cache.server.ts).
import { createHash, randomBytes } from "node:crypto";
import type { ApiKeyScope } from "~/generated/prisma/enums.ts";
import {
  type ApiKeyRecord,
  findApiKeyByHash,
  insertApiKey,
  listApiKeys,
  markApiKeyRevoked,
  touchApiKeyLastUsed,
} from "~/models/api-key.server.ts";
import { type AuditActor, recordAudit } from "~/models/audit.server.ts";
import { inTransaction } from "~/models/transaction.server.ts";
import type { ApiKeyFormValues } from "~/forms/api-key-form.ts";
import { logger } from "~/utils/logger.server.ts";
import { singleton } from "~/utils/singleton.server.ts";
import { cachedApiKey } from "./cache.server.ts";

export type { ApiKeyRecord };

const SECRET_PREFIX = "tdk_";
/** `tdk_` and 32 random bytes in base64url (43 characters). */
const SECRET_PATTERN = /^tdk_[A-Za-z0-9_-]{43}$/;
/** What people see of a key after its creation: `tdk_` and 8 characters. */
const PREFIX_LENGTH = 12;
const LAST_USED_EVERY_MS = 60_000;

function hashSecret(secret: string) {
  return createHash("sha256").update(secret).digest("hex");
}

/** Creates a key; the secret is in the answer and nowhere else. */
export async function createApiKey(actor: AuditActor, values: ApiKeyFormValues) {
  const secret = SECRET_PREFIX + randomBytes(32).toString("base64url");
  const prefix = secret.slice(0, PREFIX_LENGTH);
  const key = await inTransaction(async (tx) => {
    const created = await insertApiKey(tx, {
      name: values.name,
      scope: values.scope,
      prefix,
      secretHash: hashSecret(secret),
      createdById: actor.id,
    });
    await recordAudit(tx, {
      actor,
      action: "created",
      entity: "api_key",
      entityId: created.id,
      entityLabel: `${created.name} (${prefix}…)`,
      before: null,
      after: { name: created.name, scope: created.scope, prefix },
    });
    return created;
  });
  return { key, secret };
}

/** Revokes a key at once, on every instance (NOTIFY at commit); null when it is unknown or already revoked. */
export function revokeApiKey(actor: AuditActor, id: number) {
  return inTransaction(async (tx) => {
    const revoked = await markApiKeyRevoked(tx, id, new Date());
    if (!revoked) return null;
    await recordAudit(tx, {
      actor,
      action: "revoked",
      entity: "api_key",
      entityId: revoked.id,
      entityLabel: `${revoked.name} (${revoked.prefix}…)`,
      before: { revokedAt: null },
      after: { revokedAt: revoked.revokedAt?.toISOString() ?? null },
    });
    return revoked;
  });
}

export async function listApiKeysForAdmin() {
  const keys = await listApiKeys();
  return keys.map((key) => ({
    id: key.id,
    name: key.name,
    scope: key.scope,
    prefix: key.prefix,
    creator: key.createdBy?.email ?? null,
    createdAt: key.createdAt.toISOString(),
    lastUsedAt: key.lastUsedAt?.toISOString() ?? null,
    revokedAt: key.revokedAt?.toISOString() ?? null,
  }));
}

export type Authentication =
  | { ok: true; key: ApiKeyRecord }
  | { ok: false; code: "missing_api_key" | "invalid_api_key" | "revoked_api_key" | "insufficient_scope" };

const lastTouched = singleton("api-key-last-used", () => new Map<number, number>());

/** Notes the use in the background, at most once a minute per key and instance (the UPDATE also checks). */
function noteUse(key: ApiKeyRecord, now: number) {
  if (now - (lastTouched.get(key.id) ?? 0) < LAST_USED_EVERY_MS) return;
  lastTouched.set(key.id, now);
  touchApiKeyLastUsed(key.id, new Date(now)).catch((error: unknown) =>
    logger.warn({ err: error, apiKey: key.id }, "could not note an API key's last use"),
  );
}

/** The key an `Authorization` header names, if it is live and has `scope` (write includes read). */
export async function authenticateApiKey(authorization: string | null, scope: ApiKeyScope): Promise<Authentication> {
  if (!authorization) return { ok: false, code: "missing_api_key" };
  const match = /^Bearer (\S+)$/i.exec(authorization.trim());
  if (!match || !SECRET_PATTERN.test(match[1]!)) return { ok: false, code: "invalid_api_key" };
  const hash = hashSecret(match[1]!);
  const key = await cachedApiKey(hash, () => findApiKeyByHash(hash));
  if (!key) return { ok: false, code: "invalid_api_key" };
  if (key.revokedAt) return { ok: false, code: "revoked_api_key" };
  noteUse(key, Date.now());
  if (scope === "write" && key.scope !== "write") return { ok: false, code: "insufficient_scope" };
  return { ok: true, key };
}
