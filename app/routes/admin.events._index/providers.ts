/** Who sent an event: the log holds Stripe's and Whop's webhooks. */
export const PROVIDERS = ["stripe", "whop"] as const;
export const PROVIDER_LABEL: Record<(typeof PROVIDERS)[number], string> = { stripe: "Stripe", whop: "Whop" };
