// Tests that serve the production build must serve the code under test: a build/ older than the
// sources it is built from (app/, server/, the Remix config) is refused rather than tested.
import fs from "node:fs";
import path from "node:path";

const ROOT = path.resolve(import.meta.dirname, "..");
export const BUILD_SOURCES = ["app", "server", "remix.config.js"];
const BUILD_FILE = "build/index.js";

function newestFile(root: string, relative: string): { file: string; mtimeMs: number } | null {
  const full = path.join(root, relative);
  if (!fs.existsSync(full)) return null;
  const stat = fs.statSync(full);
  if (!stat.isDirectory()) return { file: relative, mtimeMs: stat.mtimeMs };
  let newest: { file: string; mtimeMs: number } | null = null;
  for (const entry of fs.readdirSync(full)) {
    const found = newestFile(root, path.join(relative, entry));
    if (found && (!newest || found.mtimeMs > newest.mtimeMs)) newest = found;
  }
  return newest;
}

/** Why the production build under `root` cannot be served as the current code, or null when it can. */
export function staleBuildReason(root = ROOT): string | null {
  const build = path.join(root, BUILD_FILE);
  if (!fs.existsSync(build)) return `There is no production build (${BUILD_FILE}): run npm run build`;
  const builtAt = fs.statSync(build).mtimeMs;
  for (const source of BUILD_SOURCES) {
    const newest = newestFile(root, source);
    if (newest && newest.mtimeMs > builtAt) return `build/ is older than ${newest.file}: run npm run build`;
  }
  return null;
}

/** Throws unless build/ is at least as new as every source it is built from. */
export function assertFreshBuild(root = ROOT) {
  const reason = staleBuildReason(root);
  if (reason) throw new Error(reason);
}
