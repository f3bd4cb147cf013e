// The one Stripe client. Its connection comes from the config (STRIPE_API_KEY, STRIPE_API_BASE,
// STRIPE_WEBHOOK_SECRET) unless the server started the bundled emulator and said so with
// `useStripeConnection` (development without a key), or a test points it at its own emulator.
// Without a key, billing is disabled loudly (BillingDisabledError), never faked.
import Stripe from "stripe";
import { config } from "~/utils/config.server.ts";
import { singleton } from "~/utils/singleton.server.ts";

// The API version this SDK release is typed for: objects match the SDK's types exactly.
const STRIPE_API_VERSION = Stripe.API_VERSION;
const REQUEST_TIMEOUT_MS = 10_000;

export type BillingMode = "stripe" | "emulator" | "disabled";

export type StripeConnection = Readonly<{
  mode: BillingMode;
  /** null only when mode is "disabled". */
  apiKey: string | null;
  /** Base URL of a Stripe double (the emulator); null → api.stripe.com. */
  apiBase: string | null;
  webhookSecrets: readonly string[];
  /** Retries of a failed request (default 2, with backoff); tests of an unreachable Stripe use 0. */
  maxNetworkRetries?: number;
}>;

export class BillingDisabledError extends Error {
  name = "BillingDisabledError";
  constructor() {
    super("Billing is not available right now: this Tierdesk instance has no Stripe API key configured.");
  }
}

const state = singleton("stripe-client", () => ({
  connection: undefined as StripeConnection | undefined,
  client: undefined as Stripe | undefined,
}));

function connectionFromConfig(): StripeConnection {
  const { apiKey, apiBase, webhookSecrets } = config().stripe;
  return { mode: apiKey ? "stripe" : "disabled", apiKey, apiBase, webhookSecrets };
}

/** Uses this Stripe connection from now on (the server's emulator, a test's own). */
export function useStripeConnection(connection: StripeConnection) {
  state.connection = Object.freeze({ ...connection });
  state.client = undefined;
}

export function stripeConnection(): StripeConnection {
  return (state.connection ??= connectionFromConfig());
}

export function billingMode(): BillingMode {
  return stripeConnection().mode;
}

export function webhookSecrets(): readonly string[] {
  return stripeConnection().webhookSecrets;
}

function connectionOptions(base: string | null): Stripe.StripeConfig {
  if (!base) return {};
  const url = new URL(base);
  const protocol = url.protocol === "https:" ? "https" : "http";
  return { host: url.hostname, port: url.port || (protocol === "https" ? 443 : 80), protocol };
}

/** The Stripe client; throws BillingDisabledError when no key is configured. */
export function getStripe(): Stripe {
  const { mode, apiKey, apiBase, maxNetworkRetries = 2 } = stripeConnection();
  if (mode === "disabled" || !apiKey) throw new BillingDisabledError();
  return (state.client ??= new Stripe(apiKey, {
    apiVersion: STRIPE_API_VERSION,
    timeout: REQUEST_TIMEOUT_MS,
    maxNetworkRetries,
    appInfo: { name: "Tierdesk" },
    ...connectionOptions(apiBase),
  }));
}

/** A failed Stripe call in one line for the log: an outage is expected, not a bug with a stack. */
export function describeStripeError(error: unknown): Record<string, unknown> {
  if (error instanceof Stripe.errors.StripeError) {
    return {
      type: error.type,
      code: error.code,
      status: error.statusCode,
      message: error.message,
      requestId: error.requestId,
    };
  }
  return { message: error instanceof Error ? error.message : String(error) };
}

/** Stripe objects are often either an id or the expanded object. */
export function idOf(value: string | { id: string } | null | undefined): string | null {
  if (!value) return null;
  return typeof value === "string" ? value : value.id;
}
