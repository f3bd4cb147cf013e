// Secrets the quick start needs but nobody configured (the development session secret, the emulators'
// webhook signing secrets): random on first use and kept in the git-ignored data folder, so a restart
// keeps them and each data folder has its own. A published default would let anyone forge with it.
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

const MIN_STORED_LENGTH = 32;

/** The secret kept in `dataDir/fileName`, created (`prefix` + 64 hex characters, mode 0600) if absent. */
export function localSecret(dataDir: string, fileName: string, prefix = ""): string {
  const file = path.resolve(dataDir, fileName);
  try {
    const existing = fs.readFileSync(file, "utf8").trim();
    if (existing.length >= MIN_STORED_LENGTH && existing.startsWith(prefix)) return existing;
  } catch {
    // not created yet
  }
  const secret = `${prefix}${randomBytes(32).toString("hex")}`;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}
