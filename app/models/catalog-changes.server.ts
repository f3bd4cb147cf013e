// "A Stripe price or product changed" between instances: PostgreSQL NOTIFY on one channel, sent by the
// webhook's transaction (delivered at commit), and one LISTEN connection per instance that reconnects
// when it drops (docs/decisions/012). The embedded database is one process: no listener is needed.
import pg from "pg";
import { beforeDatabaseCloses, openDatabase } from "~/db/db.server.ts";
import { logger } from "~/utils/logger.server.ts";
import type { Db } from "./transaction.server.ts";

const CHANNEL = "tierdesk_stripe_catalog";
const RECONNECT_DELAY_MS = 1_000;

/** Tells every instance, once `db`'s transaction commits, to drop its cached prices. */
export async function notifyStripeCatalogChanged(db: Db): Promise<void> {
  await db.$executeRaw`SELECT pg_notify(${CHANNEL}, '')`;
}

export type CatalogChangeHandlers = {
  /** Another instance (or this one) applied a price.* or product.* webhook. */
  onChange(): void;
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
export async function listenForStripeCatalogChanges(
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
    next.on("notification", () => handlers.onChange());
    next.on("error", () => lost(next));
    next.on("end", () => lost(next));
    try {
      await next.connect();
      await next.query(`LISTEN ${CHANNEL}`);
      if (client === next && !stopped) handlers.onListening();
    } catch (error) {
      if (!stopped) logger.warn({ err: error }, "listening for Stripe catalog changes failed; retrying");
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
