// The check that keeps server-level tests off a build older than the code they test.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { assertFreshBuild, staleBuildReason } from "../build-freshness.ts";

let root: string;
const HOUR = 3600;
const base = Math.floor(Date.now() / 1000) - 10 * HOUR;

function write(relative: string, secondsAfterBase: number) {
  const file = path.join(root, relative);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, "x");
  fs.utimesSync(file, base + secondsAfterBase, base + secondsAfterBase);
}

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "tierdesk-build-freshness-"));
  write("app/root.tsx", 0);
  write("app/routes/deep/page.tsx", 0);
  write("server/app.ts", 0);
  write("remix.config.js", 0);
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

it("accepts a build newer than every source", () => {
  write("build/index.js", HOUR);
  expect(staleBuildReason(root)).toBeNull();
  expect(() => assertFreshBuild(root)).not.toThrow();
});

it("refuses a build older than a file deep under app/, naming the file and the fix", () => {
  write("build/index.js", HOUR);
  write("app/routes/deep/page.tsx", 2 * HOUR);
  expect(staleBuildReason(root)).toBe("build/ is older than app/routes/deep/page.tsx: run npm run build");
  expect(() => assertFreshBuild(root)).toThrow("build/ is older than app/routes/deep/page.tsx: run npm run build");
});

it("refuses a build older than server/ or the Remix config", () => {
  write("build/index.js", HOUR);
  write("server/app.ts", 2 * HOUR);
  expect(staleBuildReason(root)).toBe("build/ is older than server/app.ts: run npm run build");
  write("server/app.ts", 0);
  write("remix.config.js", 2 * HOUR);
  expect(staleBuildReason(root)).toBe("build/ is older than remix.config.js: run npm run build");
});

it("refuses a missing build", () => {
  expect(staleBuildReason(root)).toBe("There is no production build (build/index.js): run npm run build");
});

it("ignores files outside the build's sources", () => {
  write("build/index.js", HOUR);
  write("tests/some.test.ts", 2 * HOUR);
  write("README.md", 2 * HOUR);
  expect(staleBuildReason(root)).toBeNull();
});
