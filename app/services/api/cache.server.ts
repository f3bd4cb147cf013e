// The /api/v1 hot path's in-process cache: API keys by secret hash, accounts' entitlements by id, and
// `ext:` refs by external id. Entries are dropped on every instance within a second of a change through
// PostgreSQL NOTIFY (app/models/catalog-changes.server.ts, docs/decisions/017): a key revoked, an
// account's billing, tier or members changed, a tier or permission edited. Nothing is cached while this
// instance is not listening (a change it could not hear about would be served), nor on the embedded
// database. A TTL bounds what no change announces (an invitation expiring frees its seat by the clock).
import { type CatalogChangeHandlers, listenForApiCacheChanges } from "~/models/catalog-changes.server.ts";
import { logger } from "~/utils/logger.server.ts";
import { singleton } from "~/utils/singleton.server.ts";

const TTL_MS = 60_000;
/** Past this many entries a map starts over: memory stays bounded whatever callers ask for. */
const MAX_ENTRIES = 100_000;

type Entry<T> = { value: T; expiresAt: number };

const state = singleton("api-cache", () => ({
  keys: new Map<string, Entry<unknown>>(),
  keyHashById: new Map<number, string>(),
  accounts: new Map<number, Entry<unknown>>(),
  externalIds: new Map<string, Entry<number | null>>(),
  /** Bumped by every invalidation: a value read before one is not stored after it. */
  generation: 0,
  starting: undefined as Promise<unknown> | undefined,
  /** true: listening; false: not (yet, or the connection dropped); null: the embedded database. */
  listening: false as boolean | null,
}));

function dropAccounts() {
  state.accounts.clear();
  state.externalIds.clear();
}

/** Applies one NOTIFY payload: `key:<id>`, `account:<id>` or `all`. */
function invalidateApiCache(payload: string) {
  state.generation++;
  const [kind, id] = payload.split(":");
  if (kind === "key") {
    const hash = state.keyHashById.get(Number(id));
    if (hash !== undefined) state.keys.delete(hash);
  } else if (kind === "account") {
    const accountId = Number(id);
    state.accounts.delete(accountId);
    for (const [externalId, entry] of state.externalIds) {
      if (entry.value === accountId || entry.value === null) state.externalIds.delete(externalId);
    }
  } else {
    dropAccounts();
  }
}

function dropEverything() {
  state.generation++;
  state.keys.clear();
  state.keyHashById.clear();
  dropAccounts();
}

const handlers: CatalogChangeHandlers = {
  onChange: invalidateApiCache,
  onListening() {
    state.listening = true;
    dropEverything(); // changes sent while not listening were missed
  },
  onLost() {
    state.listening = false;
  },
  onClosed() {
    state.listening = false;
    state.starting = undefined;
    dropEverything();
  },
};

function startListening(): Promise<unknown> {
  state.starting ??= listenForApiCacheChanges(handlers).then(
    (listener) => {
      if (!listener) state.listening = null;
    },
    (error: unknown) => {
      logger.warn({ err: error }, "could not listen for API cache changes");
      state.starting = undefined;
    },
  );
  return state.starting;
}

async function throughCache<K, T>(
  map: Map<K, Entry<T>>,
  key: K,
  load: () => Promise<T>,
  keep: (value: T) => boolean = () => true,
): Promise<T> {
  await startListening();
  const now = Date.now();
  const hit = map.get(key);
  if (hit && hit.expiresAt > now) return hit.value;
  const generation = state.generation;
  const value = await load();
  if (state.listening === true && state.generation === generation && keep(value)) {
    if (map.size >= MAX_ENTRIES) map.clear();
    map.set(key, { value, expiresAt: now + TTL_MS });
  }
  return value;
}

/** The API key with this secret hash; unknown hashes are not kept (guessing must not fill memory). */
export function cachedApiKey<T extends { id: number }>(hash: string, load: () => Promise<T | null>) {
  return throughCache(state.keys as Map<string, Entry<T | null>>, hash, load, (key) => {
    if (key) state.keyHashById.set(key.id, hash);
    return key !== null;
  });
}

/** An account's entitlements (null: no such account). */
export function cachedAccount<T>(accountId: number, load: () => Promise<T | null>) {
  return throughCache(state.accounts as Map<number, Entry<T | null>>, accountId, load, (value) => value !== null);
}

/** The account with this external id (null: none, kept until any account changes). */
export function cachedExternalId(externalId: string, load: () => Promise<number | null>) {
  return throughCache(state.externalIds, externalId, load);
}

/**
 * Drops what this instance holds about an account it just changed: the NOTIFY reaches the other
 * instances within a second, but this one answers its caller's next request at once.
 */
export function forgetCachedAccount(accountId: number) {
  invalidateApiCache(`account:${accountId}`);
}
