// Changes between instances: PostgreSQL NOTIFY sent by the transaction that makes the change (delivered
// at commit), and one LISTEN connection per channel and instance that reconnects when it drops
// (docs/decisions/012). Two channels: "a Stripe price or product changed" (the price cache), and "an API
// key or an account's entitlements changed" (the /api/v1 caches, docs/decisions/017). The embedded
// database is one process: no listener is needed.
import pg from "pg";
import { beforeDatabaseCloses, openDatabase } from "~/db/db.server.ts";
import { logger } from "~/utils/logger.server.ts";
import type { Db } from "./transaction.server.ts";

const CHANNEL = "tierdesk_stripe_catalog";
/** Payloads `key:<id>`, `account:<id>` and `all` (every account: a tier or permission changed). */
export const API_CACHE_CHANNEL = "tierdesk_api_cache";
const RECONNECT_DELAY_MS = 1_000;

/** Tells every instance, once `db`'s transaction commits, to drop its cached prices. */
export async function notifyStripeCatalogChanged(db: Db): Promise<void> {
  await db.$executeRaw`SELECT pg_notify(${CHANNEL}, '')`;
}

/** Tells every instance, once `db`'s transaction commits, to drop what it caches of these API keys or accounts. */
export async function notifyApiCacheChanged(db: Db, payloads: readonly string[]): Promise<void> {
  if (payloads.length) {
    await db.$executeRaw`SELECT pg_notify(${API_CACHE_CHANNEL}, p) FROM unnest(${[...payloads]}::text[]) AS p`;
  }
}

export type CatalogChangeHandlers = {
  /** Another instance (or this one) applied a price.* or product.* webhook (or, on the API channel, the payload). */
  onChange(payload: string): void;
  /** Listening now (first time or after a reconnect): changes sent while not listening were missed. */
  onListening(): void;
  /** The connection dropped: not listening until it is back (the listener reconnects by itself). */
  onLost(): void;
  /** The database closes: this listener has stopped for good. */
  onClosed(): void;
};

/**
 * Listens for catalog changes on the current PostgreSQL database until it closes; resolves once the
 * first LISTEN is in place (or failed: it then retries every second). Null on the embedded database,
 * or with no database open (a script on its own: one process, nothing to hear).
 */
export function listenForStripeCatalogChanges(handlers: CatalogChangeHandlers) {
  return listenForNotifications(CHANNEL, handlers);
}

/** The same for API keys and accounts' entitlements (payloads: see API_CACHE_CHANNEL). */
export function listenForApiCacheChanges(handlers: CatalogChangeHandlers) {
  return listenForNotifications(API_CACHE_CHANNEL, handlers);
}

async function listenForNotifications(
  channel: string,
  handlers: CatalogChangeHandlers,
): Promise<{ stop(): Promise<void> } | null> {
  const db = openDatabase();
  if (!db || !("url" in db.connection)) return null;
  const { url } = db.connection;
  let client: pg.Client | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const lost = (current: pg.Client) => {
    if (client !== current) return; // already handled (an error, then the end)
    client = undefined;
    handlers.onLost();
    current.end().catch(() => {});
    if (!stopped) timer = setTimeout(() => void connect(), RECONNECT_DELAY_MS);
  };
  const connect = async () => {
    const next = new pg.Client({ connectionString: url });
    client = next;
    next.on("notification", (message) => handlers.onChange(message.payload ?? ""));
    next.on("error", () => lost(next));
    next.on("end", () => lost(next));
    try {
      await next.connect();
      await next.query(`LISTEN ${channel}`);
      if (client === next && !stopped) handlers.onListening();
    } catch (error) {
      if (!stopped) logger.warn({ err: error, channel }, "listening for changes failed; retrying");
      lost(next);
    }
  };
  const stop = async () => {
    stopped = true;
    clearTimeout(timer);
    const current = client;
    client = undefined;
    handlers.onClosed();
    await current?.end().catch(() => {});
  };
  beforeDatabaseCloses(stop);
  await connect();
  return { stop };
}
