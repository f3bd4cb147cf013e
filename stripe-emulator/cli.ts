// Standalone emulator (`npm run stripe:emulator`). Environment: STRIPE_EMULATOR_PORT (12111),
// STRIPE_EMULATOR_HOST (127.0.0.1), STRIPE_EMULATOR_WEBHOOK_URL (the app's webhook route; "none"
// records events without sending them), STRIPE_WEBHOOK_SECRET (must match the app's;
// unset: a random one, printed),
// STRIPE_EMULATOR_STATE_FILE (a JSON file keeping the account across restarts; unset: memory only),
// STRIPE_EMULATOR_RATE_LIMIT (requests per second on /v1, then 429 `rate_limit`; unset or 0: none),
// or `--rate-limit <n>`.
import { parseRateLimit } from "./rate-limit.ts";
import { startStripeEmulator } from "./emulator.ts";

const env = process.env;
const flag = process.argv.indexOf("--rate-limit");
const rateLimitPerSecond = parseRateLimit(flag >= 0 ? process.argv[flag + 1] : env.STRIPE_EMULATOR_RATE_LIMIT);
const webhookUrl = env.STRIPE_EMULATOR_WEBHOOK_URL ?? "http://127.0.0.1:3000/api/stripe/webhook";
const emulator = await startStripeEmulator({
  port: Number(env.STRIPE_EMULATOR_PORT ?? 12111),
  host: env.STRIPE_EMULATOR_HOST || "127.0.0.1",
  webhookUrl: webhookUrl === "none" || webhookUrl === "" ? null : webhookUrl,
  webhookSecret: env.STRIPE_WEBHOOK_SECRET || undefined,
  stateFile: env.STRIPE_EMULATOR_STATE_FILE || null,
  rateLimitPerSecond,
  log: (message) => console.log(`[stripe-emulator] ${message}`),
});
console.log(
  `Stripe emulator (no real payments): STRIPE_API_BASE=${emulator.url} STRIPE_WEBHOOK_SECRET=${emulator.webhookSecret}`,
);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => void emulator.close().finally(() => process.exit(0)));
}
