// Standalone Whop emulator (`npx tsx whop-emulator/cli.ts`). Environment: WHOP_EMULATOR_PORT (12112),
// WHOP_EMULATOR_HOST (127.0.0.1), WHOP_EMULATOR_WEBHOOK_URL (the app's webhook route; "none" records
// events without sending them), WHOP_WEBHOOK_SECRET (must match the app's;
// unset: a random one, printed).
import { startWhopEmulator } from "./emulator.ts";

const env = process.env;
const webhookUrl = env.WHOP_EMULATOR_WEBHOOK_URL ?? "http://127.0.0.1:3000/api/whop/webhook";
const emulator = await startWhopEmulator({
  port: Number(env.WHOP_EMULATOR_PORT ?? 12112),
  host: env.WHOP_EMULATOR_HOST || "127.0.0.1",
  webhookUrl: webhookUrl === "none" || webhookUrl === "" ? null : webhookUrl,
  webhookSecret: env.WHOP_WEBHOOK_SECRET?.split(",")[0]?.trim() || undefined,
  log: (message) => console.log(`[whop-emulator] ${message}`),
});
console.log(
  `Whop emulator (no real payments): WHOP_API_BASE=${emulator.apiBase} WHOP_WEBHOOK_SECRET=${emulator.webhookSecret} WHOP_API_KEY=<any>`,
);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => void emulator.close().finally(() => process.exit(0)));
}
