// The Whop variables of the configuration: key, rotated secrets, API base.
import { expect, it } from "vitest";
import { parseConfig } from "../../app/utils/config.server.ts";

it("reads Whop's key, its rotated webhook secrets and an API base (the sandbox), trimmed", () => {
  const { whop } = parseConfig({
    WHOP_API_KEY: "apik_live_123",
    WHOP_WEBHOOK_SECRET: "ws_new, ws_old ,",
    WHOP_API_BASE: "https://sandbox-api.whop.com/api/v1/",
    WHOP_EMULATOR_PORT: "0",
  });
  expect(whop).toEqual({
    apiKey: "apik_live_123",
    webhookSecrets: ["ws_new", "ws_old"],
    apiBase: "https://sandbox-api.whop.com/api/v1",
    emulatorPort: 0,
  });
  expect(Object.isFrozen(whop)).toBe(true);
});

it("defaults to no key (the emulator in development, not purchasable in production) and port 12112", () => {
  expect(parseConfig({ WHOP_API_KEY: "", WHOP_WEBHOOK_SECRET: "" }).whop).toEqual({
    apiKey: null,
    webhookSecrets: [],
    apiBase: null,
    emulatorPort: 12_112,
  });
});

it("names the malformed Whop variable", () => {
  expect(() => parseConfig({ WHOP_API_BASE: "ftp://whop.example" })).toThrow(/WHOP_API_BASE/);
  expect(() => parseConfig({ WHOP_API_KEY: "two words" })).toThrow(/WHOP_API_KEY/);
});
