// The emulator's state on disk (opt-in: `stateFile`), so a quick-start restart keeps its customers
// and subscriptions like a real Stripe account would. Saved after every change, coalesced to one
// write per burst of synchronous changes, atomically: a temporary file renamed over the old one, so
// a crash mid-write leaves the previous state, never half of one.
import fs from "node:fs";
import path from "node:path";
import type { AccountState } from "./account.ts";

const FORMAT = "tierdesk-stripe-emulator-state";
const VERSION = 1;

type StateFileContents = { format: typeof FORMAT; version: number; savedAt: string; state: AccountState };

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const STATE_LISTS: ReadonlyArray<keyof AccountState> = [
  "customers",
  "deletedCustomers",
  "subscriptions",
  "checkoutSessions",
  "portalSessions",
  "completedPortalFlows",
  "invoices",
  "events",
];

/** The saved state, checked for its shape (lists where lists belong); anything else is refused. */
function parseState(text: string): AccountState {
  const json: unknown = JSON.parse(text);
  if (!isRecord(json) || json.format !== FORMAT || json.version !== VERSION || !isRecord(json.state)) {
    throw new Error(`not a version ${VERSION} emulator state file`);
  }
  const state = json.state;
  const missing = STATE_LISTS.filter((key) => !Array.isArray(state[key]));
  if (missing.length) throw new Error(`missing ${missing.join(", ")}`);
  // The emulator wrote it, and the shape of every list was checked above.
  return state as unknown as AccountState;
}

export class StateFile {
  private scheduled = false;
  private closed = false;

  constructor(
    readonly file: string,
    private readonly read: () => AccountState,
    private readonly log: (message: string) => void,
  ) {}

  /** The saved state, or null when there is none yet (or it cannot be read: the emulator then starts empty). */
  load(): AccountState | null {
    let text: string;
    try {
      text = fs.readFileSync(this.file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw error;
    }
    try {
      return parseState(text);
    } catch (error) {
      this.log(
        `ignoring unreadable state file ${this.file}: ${error instanceof Error ? error.message : String(error)}`,
      );
      return null;
    }
  }

  /** Saves once the current synchronous work is done, so one operation's many changes make one write. */
  scheduleSave(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      if (!this.closed) this.save();
    });
  }

  save(): void {
    const contents: StateFileContents = {
      format: FORMAT,
      version: VERSION,
      savedAt: new Date().toISOString(),
      state: this.read(),
    };
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const temporary = `${this.file}.${process.pid}.tmp`;
    fs.writeFileSync(temporary, JSON.stringify(contents));
    fs.renameSync(temporary, this.file);
  }

  /** Writes what is pending and stops saving. */
  close(): void {
    if (this.closed) return;
    if (this.scheduled) this.save();
    this.closed = true;
  }
}

/** Deletes a state file (the quick start's `npm run reset`); nothing to do when there is none. */
export function removeStateFile(file: string): void {
  fs.rmSync(file, { force: true });
}

/**
 * Where the quick start keeps the emulator's state: beside the embedded database, so the two stay in
 * step. The default database folder `<dataDir>/pglite` gets `<dataDir>/stripe-emulator.json`; another
 * folder (PGLITE_DATA_DIR, e.g. the e2e suite's) gets its own file next to it, so runs never share
 * customers. With PostgreSQL, `<dataDir>/stripe-emulator.json`.
 */
export function emulatorStateFile(database: {
  dataDir: string;
  pgliteDataDir: string;
  databaseUrl: string | null;
}): string {
  const defaultFile = path.resolve(database.dataDir, "stripe-emulator.json");
  if (database.databaseUrl) return defaultFile;
  const folder = path.resolve(database.pgliteDataDir);
  if (folder === path.resolve(database.dataDir, "pglite")) return defaultFile;
  return `${folder}-stripe-emulator.json`;
}
