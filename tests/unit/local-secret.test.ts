// The quick start's unconfigured secrets (development session, emulators' webhooks) are random per
// data folder and survive a restart.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, expect, it } from "vitest";
import { localSecret } from "../../app/utils/local-secret.server.ts";

const folders: string[] = [];
const dataFolder = () => {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), "tierdesk-local-secret-"));
  folders.push(folder);
  return folder;
};
afterEach(() => {
  for (const folder of folders.splice(0)) fs.rmSync(folder, { recursive: true, force: true });
});

it("gives two data folders different emulator webhook secrets", () => {
  const first = localSecret(dataFolder(), "stripe-emulator-webhook-secret", "whsec_");
  const second = localSecret(dataFolder(), "stripe-emulator-webhook-secret", "whsec_");
  expect(first).toMatch(/^whsec_[0-9a-f]{64}$/);
  expect(second).toMatch(/^whsec_[0-9a-f]{64}$/);
  expect(first).not.toBe(second);
  expect(first).not.toBe("whsec_emulator");
});

it("keeps the same secret across a restart, in a file only its owner can read", () => {
  const folder = dataFolder();
  const first = localSecret(folder, "whop-emulator-webhook-secret", "ws_");
  expect(localSecret(folder, "whop-emulator-webhook-secret", "ws_")).toBe(first);
  const file = path.join(folder, "whop-emulator-webhook-secret");
  expect(fs.readFileSync(file, "utf8").trim()).toBe(first);
  expect(fs.statSync(file).mode & 0o077).toBe(0);
});

it("replaces a file that holds no usable secret (empty, too short or of the wrong kind)", () => {
  const folder = dataFolder();
  fs.writeFileSync(path.join(folder, "stripe-emulator-webhook-secret"), "whsec_emulator\n");
  const secret = localSecret(folder, "stripe-emulator-webhook-secret", "whsec_");
  expect(secret).toMatch(/^whsec_[0-9a-f]{64}$/);
});
