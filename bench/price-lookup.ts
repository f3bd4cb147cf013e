// What the in-process price cache saves on /pricing: resolving the demo tiers' lookup keys from
// Stripe (baseline, cache dropped each time) versus from the cache. Stripe is the bundled emulator
// on loopback, so the real saving against api.stripe.com is larger.
// Run: npx tsx bench/price-lookup.ts [rounds]
import { invalidatePriceCache, lookupPrices } from "../app/services/stripe/prices.server.ts";
import { useStripeConnection } from "../app/services/stripe/client.server.ts";
import { startStripeEmulator } from "../stripe-emulator/emulator.ts";

const rounds = Number(process.argv[2] ?? 200);
const KEYS = ["hobbyist_monthly", "hobbyist_yearly", "pro_monthly", "pro_yearly"];

const emulator = await startStripeEmulator({ port: 0 });
useStripeConnection({ mode: "emulator", apiKey: "sk_test_bench", apiBase: emulator.url, webhookSecrets: [] });

async function run(label: string, dropCache: boolean) {
  const start = performance.now();
  for (let i = 0; i < rounds; i++) {
    if (dropCache) invalidatePriceCache();
    const result = await lookupPrices(KEYS);
    if (result.unavailable || result.prices.size !== KEYS.length) throw new Error(`${label}: lookup failed`);
  }
  const perCall = (performance.now() - start) / rounds;
  console.log(`${label}: ${perCall.toFixed(3)} ms per lookup of ${KEYS.length} keys (${rounds} rounds)`);
  return perCall;
}

await run("warm-up", true);
const uncached = await run("uncached, asks Stripe (baseline)", true);
const cached = await run("cached", false);
console.log(`ratio: ${(uncached / cached).toFixed(0)}x faster from cache`);
await emulator.close();
