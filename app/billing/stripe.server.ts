// The one Stripe client, built from the environment:
//   STRIPE_API_KEY          secret (sk_…) or restricted (rk_…) key; unset → billing disabled
//   STRIPE_WEBHOOK_SECRET   whsec_…, or several comma-separated while rotating (any one verifies)
//   STRIPE_API_BASE         optional base URL of a Stripe double, e.g. the bundled emulator
// In development the server starts the emulator and sets these (see server.ts); in production a
// missing key disables billing loudly instead of faking it.
import Stripe from "stripe";
import { parseSecrets } from "~/utils/env.server.ts";
import { singleton } from "~/utils/singleton.server.ts";

export const STRIPE_API_VERSION = "2026-10-28.endive";
const REQUEST_TIMEOUT_MS = 10_000;

export type BillingMode = "stripe" | "emulator" | "disabled";

export class BillingDisabledError extends Error {
  name = "BillingDisabledError";
  constructor() {
    super("Billing is not available right now: this Tierdesk instance has no Stripe API key configured.");
  }
}

type StripeClientState = { key: string; base: string | undefined; client: Stripe };
const state = singleton("stripe-client", () => ({ current: undefined as StripeClientState | undefined }));

export function billingMode(): BillingMode {
  if (!process.env.STRIPE_API_KEY) return "disabled";
  return process.env.TIERDESK_STRIPE_EMULATOR === "1" ? "emulator" : "stripe";
}

function validateKey(key: string) {
  if (!/^(sk|rk)_[A-Za-z0-9_]+$/.test(key)) {
    throw new Error("STRIPE_API_KEY must be a secret (sk_…) or restricted (rk_…) Stripe key.");
  }
}

function connectionOptions(base: string | undefined): Stripe.StripeConfig {
  if (!base) return {};
  const url = new URL(base);
  const protocol = url.protocol.replace(":", "");
  if (protocol !== "http" && protocol !== "https") throw new Error("STRIPE_API_BASE must be an http(s) URL.");
  return { host: url.hostname, port: url.port || (protocol === "https" ? 443 : 80), protocol };
}

/** The Stripe client; throws BillingDisabledError when no key is configured. */
export function getStripe(): Stripe {
  const key = process.env.STRIPE_API_KEY;
  if (!key) throw new BillingDisabledError();
  const base = process.env.STRIPE_API_BASE;
  // Rebuilt only when the configuration changes (tests point it at a fresh emulator).
  if (state.current?.key !== key || state.current.base !== base) {
    validateKey(key);
    const client = new Stripe(key, {
      apiVersion: STRIPE_API_VERSION,
      timeout: REQUEST_TIMEOUT_MS,
      maxNetworkRetries: 2,
      appInfo: { name: "Tierdesk" },
      ...connectionOptions(base),
    });
    state.current = { key, base, client };
  }
  return state.current.client;
}

export function webhookSecrets(): string[] {
  return parseSecrets(process.env.STRIPE_WEBHOOK_SECRET);
}

/** Stripe objects are often either an id or the expanded object. */
export function idOf(value: string | { id: string } | null | undefined): string | null {
  if (!value) return null;
  return typeof value === "string" ? value : value.id;
}
