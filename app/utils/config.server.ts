// Tierdesk's configuration: the environment, parsed once with zod into a typed, frozen object.
// This is the only module that reads `process.env`. `.env.example` and the README's configuration
// table list the same variables. Tests build their own with `parseConfig({...})` and `useConfig`.
import { z } from "zod";
import { singleton } from "./singleton.server.ts";

/** A comma-separated list of secrets (first signs, all verify), blanks dropped. */
function parseSecrets(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((secret) => secret.trim())
    .filter(Boolean);
}

/**
 * How transactions run on PostgreSQL (decision record 010; bench/webhook.ts --transactions compares
 * them in one run): `pg-pipelined` parameterized statements on a pooled pg connection, BEGIN and COMMIT
 * pipelined with them; `pg-params` the same, one round trip per statement; `prisma` Prisma's
 * interactive transactions, as on the embedded database.
 */
export const TRANSACTION_LAYERS = ["pg-pipelined", "pg-params", "prisma"] as const;
export type TransactionLayer = (typeof TRANSACTION_LAYERS)[number];

// "no-reply@example.com" or "Tierdesk <no-reply@example.com>" (no line breaks: it becomes a header).
const MAIL_FROM_PATTERN = /^(?:[^<>\r\n]*<[^\s<>@]+@[^\s<>@]+>|[^\s<>@]+@[^\s<>@]+)$/;

/** The sender outside production when MAIL_FROM is unset. */
export const DEVELOPMENT_MAIL_FROM = "Tierdesk <no-reply@tierdesk.localhost>";

const EnvSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
  // Loopback unless told otherwise: the quick start's emulators and demo users must not face the network.
  HOST: z
    .string()
    .regex(/^[A-Za-z0-9.:-]+$/, "must be an interface address or host name, e.g. 127.0.0.1 or 0.0.0.0")
    .default("127.0.0.1"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  DATABASE_URL: z.string().optional(),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(500).default(20),
  TRANSACTION_LAYER: z.enum(TRANSACTION_LAYERS).default("pg-pipelined"),
  DATA_DIR: z.string().default(".data"),
  PGLITE_DATA_DIR: z.string().optional(),
  SESSION_SECRET: z.string().optional(),
  APP_URL: z.url().optional(),
  TRUST_PROXY: z.string().optional(),
  STRIPE_API_KEY: z
    .string()
    .regex(/^(sk|rk)_[A-Za-z0-9_]+$/, "must be a secret (sk_…) or restricted (rk_…) Stripe key")
    .optional(),
  STRIPE_WEBHOOK_SECRET: z.string().optional(),
  STRIPE_API_BASE: z
    .url()
    .refine((url) => /^https?:/.test(url), "must be an http(s) URL")
    .optional(),
  // Sign-ups allowed per client IP in 15 minutes (an office or a test run behind one address may need more).
  SIGNUP_LIMIT_PER_IP: z.coerce.number().int().min(1).max(100_000).default(10),
  // Requests each /api/v1 key may make per minute, counted across every instance.
  API_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).max(10_000_000).default(6000),
  STRIPE_EMULATOR_PORT: z.coerce.number().int().min(0).max(65_535).default(12_111),
  // Requests per second background jobs (moving subscribers to a new price) make to Stripe; unset:
  // 80% of Stripe's limit for the key (25/s test mode, 100/s live).
  STRIPE_JOB_REQUESTS_PER_SECOND: z.coerce.number().int().min(1).max(1000).optional(),
  // Whop's company API key (Bearer token); unset outside production: the bundled Whop emulator runs.
  WHOP_API_KEY: z.string().regex(/^\S+$/, "must be a Whop API key (no spaces)").optional(),
  WHOP_WEBHOOK_SECRET: z.string().optional(),
  WHOP_API_BASE: z
    .url()
    .refine((url) => /^https?:/.test(url), "must be an http(s) URL")
    .optional(),
  WHOP_EMULATOR_PORT: z.coerce.number().int().min(0).max(65_535).default(12_112),
  // Each app instance works the job queue unless told not to (then run `npm run worker` somewhere).
  WORKER_ENABLED: z.enum(["true", "false", "1", "0"]).default("true"),
  // How long a worker may hold one step of a job before another instance takes it over (after a crash).
  JOB_TIMEOUT_SECONDS: z.coerce.number().int().min(2).max(3600).default(60),
  // How long an outgoing webhook is retried before it fails, and how long an endpoint may fail every
  // delivery before it is disabled (3 days; shorter only for tests that watch a delivery give up).
  WEBHOOK_RETRY_WINDOW_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .max(30 * 86_400)
    .default(3 * 86_400),
  // Processed, stale and ignored events older than this are removed by a job; failed and pending never.
  EVENT_RETENTION_DAYS: z.coerce.number().int().min(1).max(36_500).default(90),
  // Where mail goes: smtp://user:pass@host:587 (STARTTLS when offered) or smtps://…:465 (TLS from the start).
  SMTP_URL: z
    .url()
    .refine((url) => /^smtps?:\/\/[^/]/.test(url), "must be an smtp:// or smtps:// URL, e.g. smtp://user:pass@host:587")
    .optional(),
  MAIL_FROM: z
    .string()
    .regex(MAIL_FROM_PATTERN, "must be an address, or a name and an address: Tierdesk <no-reply@example.com>")
    .optional(),
});

export type Config = Readonly<{
  nodeEnv: "development" | "production" | "test";
  production: boolean;
  port: number;
  /** The interface the server listens on (127.0.0.1 unless HOST says otherwise; 0.0.0.0 for every one). */
  host: string;
  logLevel: z.infer<typeof EnvSchema>["LOG_LEVEL"];
  /** PostgreSQL connection string; null → the embedded PGlite database. */
  databaseUrl: string | null;
  databasePoolSize: number;
  /** How transactions run on PostgreSQL (TRANSACTION_LAYERS); the embedded database always uses Prisma's. */
  transactionLayer: TransactionLayer;
  /** The git-ignored folder for local state (embedded database, development secret). */
  dataDir: string;
  pgliteDataDir: string;
  /** Configured session secrets; null → a generated development secret (never in production). */
  sessionSecrets: readonly string[] | null;
  appUrl: string | null;
  signUpLimitPerIp: number;
  /** Requests per minute each API key may make (all instances together); over it, 429 with Retry-After. */
  apiRateLimitPerMinute: number;
  /** Express `trust proxy`: a hop count or a list of addresses/subnets. */
  trustProxy: number | string | null;
  stripe: Readonly<{
    apiKey: string | null;
    webhookSecrets: readonly string[];
    apiBase: string | null;
    emulatorPort: number;
    /** Requests per second a background job makes to Stripe; null: derived from the key (rules/prices.ts). */
    jobRequestsPerSecond: number | null;
  }>;
  whop: Readonly<{
    apiKey: string | null;
    /** Whop's `ws_…` signing secrets (first is current; all verify while rotating). */
    webhookSecrets: readonly string[];
    /** Base URL of the REST API v1; null → https://api.whop.com/api/v1. */
    apiBase: string | null;
    emulatorPort: number;
  }>;
  jobs: Readonly<{
    /** This instance runs a worker for the job queue (bulk replay, and what comes next). */
    workerEnabled: boolean;
    /** A step of a job not finished within this many seconds is taken over by another worker. */
    timeoutSeconds: number;
  }>;
  webhooks: Readonly<{
    /** An outgoing webhook is retried this long, then fails; an endpoint failing this long is disabled. */
    retryWindowSeconds: number;
  }>;
  events: Readonly<{
    /** Processed, stale and ignored events are kept this many days (failed and pending for good). */
    retentionDays: number;
  }>;
  mail: Readonly<{
    /** The SMTP server mail is sent through; null → the development outbox (/dev/mail), or no mail in production. */
    smtpUrl: string | null;
    /** The From header; null only in production without SMTP_URL (no mail is sent). */
    from: string | null;
  }>;
}>;

export class ConfigurationError extends Error {
  name = "ConfigurationError";
}

/** Parses an environment (by default the process's) into a frozen Config, or throws ConfigurationError. */
export function parseConfig(source: Record<string, string | undefined> = process.env): Config {
  // An empty variable (`APP_URL=` copied from .env.example) means "not set", not "invalid".
  const present = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== undefined && value !== ""));
  const parsed = EnvSchema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
    throw new ConfigurationError(`Invalid configuration:\n  ${problems.join("\n  ")}`);
  }
  const env = parsed.data;
  const production = env.NODE_ENV === "production";
  const sessionSecrets = parseSecrets(env.SESSION_SECRET);
  if (production && !sessionSecrets.length) {
    throw new ConfigurationError(
      "SESSION_SECRET is required in production: set it to a long random string (e.g. `openssl rand -hex 32`).",
    );
  }
  if (production && env.SMTP_URL && !env.MAIL_FROM) {
    throw new ConfigurationError(
      "MAIL_FROM is required in production when SMTP_URL is set: the address mail is sent from, e.g. `Tierdesk <no-reply@example.com>`.",
    );
  }
  const trustProxy = env.TRUST_PROXY
    ? /^\d+$/.test(env.TRUST_PROXY)
      ? Number(env.TRUST_PROXY)
      : env.TRUST_PROXY
    : null;
  return deepFreeze({
    nodeEnv: env.NODE_ENV,
    production,
    port: env.PORT,
    host: env.HOST,
    logLevel: env.LOG_LEVEL,
    databaseUrl: env.DATABASE_URL ?? null,
    databasePoolSize: env.DATABASE_POOL_SIZE,
    transactionLayer: env.TRANSACTION_LAYER,
    dataDir: env.DATA_DIR,
    pgliteDataDir: env.PGLITE_DATA_DIR ?? `${env.DATA_DIR}/pglite`,
    sessionSecrets: sessionSecrets.length ? sessionSecrets : null,
    appUrl: env.APP_URL?.replace(/\/+$/, "") ?? null,
    signUpLimitPerIp: env.SIGNUP_LIMIT_PER_IP,
    apiRateLimitPerMinute: env.API_RATE_LIMIT_PER_MINUTE,
    trustProxy,
    stripe: {
      apiKey: env.STRIPE_API_KEY ?? null,
      webhookSecrets: parseSecrets(env.STRIPE_WEBHOOK_SECRET),
      apiBase: env.STRIPE_API_BASE ?? null,
      emulatorPort: env.STRIPE_EMULATOR_PORT,
      jobRequestsPerSecond: env.STRIPE_JOB_REQUESTS_PER_SECOND ?? null,
    },
    whop: {
      apiKey: env.WHOP_API_KEY ?? null,
      webhookSecrets: parseSecrets(env.WHOP_WEBHOOK_SECRET),
      apiBase: env.WHOP_API_BASE?.replace(/\/+$/, "") ?? null,
      emulatorPort: env.WHOP_EMULATOR_PORT,
    },
    jobs: {
      workerEnabled: env.WORKER_ENABLED === "true" || env.WORKER_ENABLED === "1",
      timeoutSeconds: env.JOB_TIMEOUT_SECONDS,
    },
    webhooks: { retryWindowSeconds: env.WEBHOOK_RETRY_WINDOW_SECONDS },
    events: { retentionDays: env.EVENT_RETENTION_DAYS },
    mail: {
      smtpUrl: env.SMTP_URL ?? null,
      from: env.MAIL_FROM ?? (production && !env.SMTP_URL ? null : DEVELOPMENT_MAIL_FROM),
    },
  });
}

function deepFreeze<T extends object>(value: T): T {
  for (const child of Object.values(value)) if (child && typeof child === "object") deepFreeze(child as object);
  return Object.freeze(value);
}

// On globalThis: the server entry and the Remix build each bundle this module, and share one config.
const state = singleton("config", () => ({ current: undefined as Config | undefined }));

/** The app's configuration: parsed from the environment on first use, unless one was given. */
export function config(): Config {
  return (state.current ??= parseConfig());
}

/** Uses this configuration from now on (the server at start-up; tests with their own). */
export function useConfig(next: Config) {
  state.current = next;
}
