/**
 * Standalone emulator: `tsx stripe-emulator/cli.ts` (or `npm run stripe:emulator`).
 *
 *   STRIPE_EMULATOR_PORT          default 12111
 *   STRIPE_EMULATOR_HOST          default 127.0.0.1
 *   STRIPE_EMULATOR_WEBHOOK_URL   default http://localhost:3000/api/stripe/webhook ("" or "none" disables delivery)
 *   STRIPE_WEBHOOK_SECRET         default whsec_emulator (must match the app's)
 *   STRIPE_EMULATOR_PUBLIC_URL    optional base URL for hosted page links
 */
import { startStripeEmulator } from './emulator.ts';

const env = process.env;
const port = Number(env.STRIPE_EMULATOR_PORT ?? 12111);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  console.error(`STRIPE_EMULATOR_PORT must be a port number, got ${env.STRIPE_EMULATOR_PORT}`);
  process.exit(1);
}
const rawWebhookUrl = env.STRIPE_EMULATOR_WEBHOOK_URL ?? 'http://localhost:3000/api/stripe/webhook';
const webhookUrl = rawWebhookUrl === '' || rawWebhookUrl === 'none' ? null : rawWebhookUrl;

const emulator = await startStripeEmulator({
  port,
  host: env.STRIPE_EMULATOR_HOST || '127.0.0.1',
  webhookUrl,
  webhookSecret: env.STRIPE_WEBHOOK_SECRET || undefined,
  publicUrl: env.STRIPE_EMULATOR_PUBLIC_URL || undefined,
  log: (msg) => console.log(`[stripe-emulator] ${msg}`),
});

console.log(`Stripe emulator (no real payments) running at ${emulator.url}`);
console.log(`  API:      STRIPE_API_BASE=${emulator.url}`);
console.log(`  Webhooks: ${webhookUrl ?? 'not delivered (no URL)'}, secret ${emulator.webhookSecret}`);
console.log(`  Control:  ${emulator.url}/_emulator/health`);

let closing = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (closing) process.exit(1);
    closing = true;
    emulator.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
