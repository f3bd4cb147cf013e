// The baseline of bench/api.ts: a minimal /api/v1 on node:http and pg, against the same database. Each
// request authenticates its Bearer key by the SHA-256 hash's unique index (refused when unknown or
// revoked) and reads the account's permissions by primary key (the account, its tier's permissions):
// two queries, no cache, no rate limit, no validation beyond what it must read.
// Run by the bench: DATABASE_URL=… POOL_SIZE=20 node --import tsx bench/lib/minimal-api-server.ts
import { createHash } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import pg from "pg";

const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) throw new Error("DATABASE_URL is required");
const pool = new pg.Pool({ connectionString: databaseUrl, max: Number(process.env.POOL_SIZE ?? 20) });
pool.on("error", () => {});

function reply(res: http.ServerResponse, status: number, body: object) {
  const json = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(json) });
  res.end(json);
}

async function permissionsOf(accountId: number): Promise<{ tier: string | null; permissions: string[] } | null> {
  const { rows } = await pool.query<{ tier: string | null; permission: string | null }>(
    `SELECT t.key AS tier, p.name AS permission
       FROM accounts a
       LEFT JOIN subscription_tier t ON t.id = a.tier_id
       LEFT JOIN subscription_tier_permission tp ON tp.tier_id = t.id
       LEFT JOIN permission p ON p.id = tp.permission_id
      WHERE a.id = $1`,
    [accountId],
  );
  if (!rows.length) return null;
  return { tier: rows[0]!.tier, permissions: rows.flatMap((row) => (row.permission ? [row.permission] : [])) };
}

async function handle(req: http.IncomingMessage, body: string): Promise<[number, object]> {
  const secret = /^Bearer (\S+)$/.exec(req.headers.authorization ?? "")?.[1];
  if (!secret) return [401, { code: "missing_api_key" }];
  const hash = createHash("sha256").update(secret).digest("hex");
  const key = await pool.query("SELECT id FROM api_keys WHERE secret_hash = $1 AND revoked_at IS NULL", [hash]);
  if (!key.rowCount) return [401, { code: "invalid_api_key" }];
  if (req.method === "POST" && req.url === "/api/v1/check") {
    const { account, permission } = JSON.parse(body) as { account: string; permission: string };
    const found = await permissionsOf(Number(account));
    if (!found) return [200, { allowed: false, reason: "unknown_account", tier: null }];
    const allowed = found.permissions.includes(permission);
    return [200, { allowed, reason: allowed ? null : "no_such_permission", tier: found.tier }];
  }
  const match = /^\/api\/v1\/accounts\/(\d+)\/entitlements$/.exec(req.url ?? "");
  if (req.method === "GET" && match) {
    const found = await permissionsOf(Number(match[1]));
    return found ? [200, found] : [404, { code: "not_found" }];
  }
  return [404, { code: "not_found" }];
}

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    handle(req, Buffer.concat(chunks).toString("utf8")).then(
      ([status, body]) => reply(res, status, body),
      (error: unknown) => reply(res, 500, { error: String(error) }),
    );
  });
});
server.listen(0, "127.0.0.1", () => {
  console.log(JSON.stringify({ msg: "baseline listening", port: (server.address() as AddressInfo).port }));
});
process.on("SIGTERM", () => {
  server.close();
  void pool.end();
});
