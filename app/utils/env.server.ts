// Configuration from the environment, checked once at start-up. `.env.example` and the README's
// configuration table list the same variables.
import { z } from "zod";

const EnvSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  PORT: z.coerce.number().int().positive().default(3000),
  DATABASE_URL: z.string().optional(),
  SESSION_SECRET: z.string().optional(),
  APP_URL: z.string().url().optional(),
  TRUST_PROXY: z.string().optional(),
  STRIPE_API_KEY: z.string().optional(),
  STRIPE_WEBHOOK_SECRET: z.string().optional(),
  STRIPE_API_BASE: z.string().url().optional(),
});

export type Env = z.infer<typeof EnvSchema>;

export class ConfigurationError extends Error {
  name = "ConfigurationError";
}

export function readEnv(source: Record<string, string | undefined> = process.env): Env {
  // An empty variable (`APP_URL=` copied from .env.example) means "not set", not "invalid".
  const present = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== undefined && value !== ""));
  const parsed = EnvSchema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
    throw new ConfigurationError(`Invalid configuration:\n  ${problems.join("\n  ")}`);
  }
  const env = parsed.data;
  if (env.NODE_ENV === "production" && !parseSecrets(env.SESSION_SECRET).length) {
    throw new ConfigurationError(
      "SESSION_SECRET is required in production: set it to a long random string (e.g. `openssl rand -hex 32`).",
    );
  }
  return env;
}

// The Remix compiler inlines `process.env.NODE_ENV` as "production" in every build, so the
// deployment's real NODE_ENV is read through a computed key.
const NODE_ENV_KEY = "NODE_ENV";
export const isProduction = () => process.env[NODE_ENV_KEY] === "production";

/** A comma-separated list of secrets (first signs, all verify), blanks dropped. */
export function parseSecrets(value: string | undefined): string[] {
  return (value ?? "").split(",").map((secret) => secret.trim()).filter(Boolean);
}
