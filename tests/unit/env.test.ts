import { expect, it } from "vitest";
import { ConfigurationError, readEnv } from "../../app/utils/env.server.ts";

it("refuses to start in production without SESSION_SECRET, with a clear message", () => {
  expect(() => readEnv({ NODE_ENV: "production" })).toThrow(ConfigurationError);
  expect(() => readEnv({ NODE_ENV: "production" })).toThrow(/SESSION_SECRET is required in production/);
});

it("refuses a production SESSION_SECRET made only of separators and blanks", () => {
  expect(() => readEnv({ NODE_ENV: "production", SESSION_SECRET: " , " })).toThrow(/SESSION_SECRET is required/);
});

it("accepts production with a secret, and development without one", () => {
  expect(readEnv({ NODE_ENV: "production", SESSION_SECRET: "s3cret" }).SESSION_SECRET).toBe("s3cret");
  expect(readEnv({}).NODE_ENV).toBe("development");
  expect(readEnv({ PORT: "4123" }).PORT).toBe(4123);
});

it("names the variable that is malformed", () => {
  expect(() => readEnv({ PORT: "not-a-port" })).toThrow(/PORT/);
  expect(() => readEnv({ STRIPE_API_BASE: "nope" })).toThrow(/STRIPE_API_BASE/);
});

it("treats empty variables (as in .env.example) as unset", () => {
  const env = readEnv({ APP_URL: "", PORT: "", DATABASE_URL: "", STRIPE_API_BASE: "" });
  expect(env.PORT).toBe(3000);
  expect(env.APP_URL).toBeUndefined();
});
