import { expect, it } from "vitest";
import { ConfigurationError, DEVELOPMENT_MAIL_FROM, parseConfig } from "../../app/utils/config.server.ts";

it("refuses to start in production without SESSION_SECRET, with a clear message", () => {
  expect(() => parseConfig({ NODE_ENV: "production" })).toThrow(ConfigurationError);
  expect(() => parseConfig({ NODE_ENV: "production" })).toThrow(/SESSION_SECRET is required in production/);
});

it("refuses a production SESSION_SECRET made only of separators and blanks", () => {
  expect(() => parseConfig({ NODE_ENV: "production", SESSION_SECRET: " , " })).toThrow(/SESSION_SECRET is required/);
});

it("accepts production with a secret, and development without one", () => {
  expect(parseConfig({ NODE_ENV: "production", SESSION_SECRET: "s3cret" }).sessionSecrets).toEqual(["s3cret"]);
  expect(parseConfig({}).nodeEnv).toBe("development");
  expect(parseConfig({}).sessionSecrets).toBeNull();
  expect(parseConfig({ PORT: "4123" }).port).toBe(4123);
});

it("names the variable that is malformed", () => {
  expect(() => parseConfig({ PORT: "not-a-port" })).toThrow(/PORT/);
  expect(() => parseConfig({ STRIPE_API_BASE: "nope" })).toThrow(/STRIPE_API_BASE/);
  expect(() => parseConfig({ STRIPE_API_KEY: "pk_live_123" })).toThrow(/STRIPE_API_KEY/);
});

it("treats empty variables (as in .env.example) as unset", () => {
  const config = parseConfig({ APP_URL: "", PORT: "", DATABASE_URL: "", STRIPE_API_BASE: "" });
  expect(config.port).toBe(3000);
  expect(config.appUrl).toBeNull();
  expect(config.databaseUrl).toBeNull();
});

it("splits rotated secrets, trims APP_URL, reads TRUST_PROXY as hops or addresses", () => {
  const config = parseConfig({
    STRIPE_WEBHOOK_SECRET: "whsec_new, whsec_old ,",
    SESSION_SECRET: "a,b",
    APP_URL: "https://billing.example.com/",
    TRUST_PROXY: "1",
  });
  expect(config.stripe.webhookSecrets).toEqual(["whsec_new", "whsec_old"]);
  expect(config.sessionSecrets).toEqual(["a", "b"]);
  expect(config.appUrl).toBe("https://billing.example.com");
  expect(config.trustProxy).toBe(1);
  expect(parseConfig({ TRUST_PROXY: "loopback" }).trustProxy).toBe("loopback");
});

it("is frozen: nothing can rewrite it at run time", () => {
  const config = parseConfig({ STRIPE_API_KEY: "sk_test_x" });
  expect(Object.isFrozen(config)).toBe(true);
  expect(Object.isFrozen(config.stripe)).toBe(true);
  expect(() => {
    (config.stripe as { apiKey: string | null }).apiKey = "sk_live_other";
  }).toThrow(TypeError);
});

it("keeps the embedded database in the data folder unless told otherwise", () => {
  expect(parseConfig({}).pgliteDataDir).toBe(".data/pglite");
  expect(parseConfig({ DATA_DIR: "/var/lib/tierdesk" }).pgliteDataDir).toBe("/var/lib/tierdesk/pglite");
  expect(parseConfig({ PGLITE_DATA_DIR: "/tmp/db" }).pgliteDataDir).toBe("/tmp/db");
});

it("listens on 127.0.0.1 unless HOST says otherwise, and names a malformed HOST", () => {
  expect(parseConfig({}).host).toBe("127.0.0.1");
  expect(parseConfig({ HOST: "" }).host).toBe("127.0.0.1");
  expect(parseConfig({ HOST: "0.0.0.0" }).host).toBe("0.0.0.0");
  expect(parseConfig({ HOST: "::" }).host).toBe("::");
  expect(() => parseConfig({ HOST: "0.0.0.0; rm -rf" })).toThrow(/HOST/);
});

it("runs a job queue worker unless WORKER_ENABLED says not to; JOB_TIMEOUT_SECONDS is at least 2", () => {
  expect(parseConfig({}).jobs).toEqual({ workerEnabled: true, timeoutSeconds: 60 });
  expect(parseConfig({ WORKER_ENABLED: "false", JOB_TIMEOUT_SECONDS: "5" }).jobs).toEqual({
    workerEnabled: false,
    timeoutSeconds: 5,
  });
  expect(parseConfig({ WORKER_ENABLED: "0" }).jobs.workerEnabled).toBe(false);
  expect(() => parseConfig({ WORKER_ENABLED: "no" })).toThrow(/WORKER_ENABLED/);
  expect(() => parseConfig({ JOB_TIMEOUT_SECONDS: "1" })).toThrow(/JOB_TIMEOUT_SECONDS/);
});

it("keeps finished events EVENT_RETENTION_DAYS days, 90 unless told, never less than one", () => {
  expect(parseConfig({}).events.retentionDays).toBe(90);
  expect(parseConfig({ EVENT_RETENTION_DAYS: "30" }).events.retentionDays).toBe(30);
  expect(() => parseConfig({ EVENT_RETENTION_DAYS: "0" })).toThrow(/EVENT_RETENTION_DAYS/);
  expect(() => parseConfig({ EVENT_RETENTION_DAYS: "ninety" })).toThrow(/EVENT_RETENTION_DAYS/);
});

it("reads SMTP_URL and MAIL_FROM, with a development sender when MAIL_FROM is unset", () => {
  const smtp = parseConfig({
    SMTP_URL: "smtps://user:pass@mail.example.com:465",
    MAIL_FROM: "Billing <billing@example.com>",
  });
  expect(smtp.mail).toEqual({
    smtpUrl: "smtps://user:pass@mail.example.com:465",
    from: "Billing <billing@example.com>",
  });
  expect(parseConfig({ MAIL_FROM: "billing@example.com" }).mail.from).toBe("billing@example.com");
  expect(parseConfig({}).mail).toEqual({ smtpUrl: null, from: DEVELOPMENT_MAIL_FROM });
  expect(parseConfig({ SMTP_URL: "smtp://127.0.0.1:2525" }).mail.from).toBe(DEVELOPMENT_MAIL_FROM);
});

it("refuses an SMTP_URL that is not smtp:// or smtps://, and a MAIL_FROM that is not an address", () => {
  expect(() => parseConfig({ SMTP_URL: "https://mail.example.com" })).toThrow(/SMTP_URL: must be an smtp:\/\//);
  expect(() => parseConfig({ SMTP_URL: "mail.example.com:587" })).toThrow(/SMTP_URL/);
  expect(() => parseConfig({ MAIL_FROM: "Tierdesk" })).toThrow(/MAIL_FROM: must be an address/);
  expect(() => parseConfig({ MAIL_FROM: "a@example.com\r\nBcc: b@example.com" })).toThrow(/MAIL_FROM/);
});

it("in production requires MAIL_FROM whenever SMTP_URL is set, and sends no mail without SMTP_URL", () => {
  const production = { NODE_ENV: "production", SESSION_SECRET: "s3cret" };
  expect(() => parseConfig({ ...production, SMTP_URL: "smtp://mail.example.com:587" })).toThrow(
    /MAIL_FROM is required in production when SMTP_URL is set/,
  );
  expect(
    parseConfig({ ...production, SMTP_URL: "smtp://mail.example.com:587", MAIL_FROM: "no-reply@example.com" }).mail,
  ).toEqual({ smtpUrl: "smtp://mail.example.com:587", from: "no-reply@example.com" });
  expect(parseConfig(production).mail).toEqual({ smtpUrl: null, from: null });
});
