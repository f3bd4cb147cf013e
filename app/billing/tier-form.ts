// The tier form's fields and their rules, shared by the browser (conform shows errors as you type)
// and the server (which also checks what needs the database: duplicate keys, lookup keys owned by
// another tier). Messages are written for the admin filling the form.
import { z } from "zod";
import { FREE_TIER_KEY } from "./rules.ts";

export const BILLING_PROVIDER_OPTIONS = [
  { value: "stripe", label: "Stripe" },
  { value: "whop", label: "Whop" },
  { value: "exempt", label: "Exempt (no payment)" },
] as const;

export const TIER_KEY_PATTERN = /^[a-z0-9]+(?:[-_][a-z0-9]+)*$/;
export const LOOKUP_KEY_PATTERN = /^[A-Za-z0-9_.-]+$/;

/** Lookup keys as typed: one per line, blank lines ignored, order kept. */
export function splitLookupKeys(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter(Boolean);
}

const optionalText = (max: number, message: string) =>
  z
    .string()
    .trim()
    .max(max, message)
    .optional()
    .transform((value) => value || null);

export const TierFormSchema = z
  .object({
    name: z
      .string({ error: "Name is required." })
      .trim()
      .min(1, "Name is required.")
      .max(64, "Use at most 64 characters."),
    key: z
      .string({ error: "Key is required." })
      .trim()
      .min(1, "Key is required.")
      .max(32, "Use at most 32 characters.")
      .regex(
        TIER_KEY_PATTERN,
        "Use lowercase letters and digits, separated by single dashes or underscores (a slug like pro-annual).",
      ),
    description: optionalText(500, "Use at most 500 characters."),
    userLimit: z.coerce
      .number({ error: "User limit must be a whole number." })
      .int("User limit must be a whole number.")
      .min(1, "User limit must be at least 1.")
      .max(1_000_000, "User limit is too large."),
    isCustomerFacing: z.boolean().default(false),
    billingProvider: z.enum(["stripe", "whop", "exempt"], { error: "Choose Stripe, Whop or Exempt." }),
    isBillingExempt: z.boolean().default(false),
    whopProductKey: optionalText(128, "Use at most 128 characters."),
    fallbackPrice: z.string().trim().max(32, "Use at most 32 characters.").optional().default(""),
    lookupKeys: z
      .string()
      .optional()
      .default("")
      .transform(splitLookupKeys)
      .superRefine((keys, ctx) => {
        for (const key of keys) {
          if (key.length > 200)
            ctx.addIssue({ code: "custom", message: `"${key.slice(0, 40)}…" is longer than 200 characters.` });
          else if (!LOOKUP_KEY_PATTERN.test(key)) {
            ctx.addIssue({ code: "custom", message: `"${key}" may use only letters, digits, "_", "." and "-".` });
          }
        }
        const seen = new Set<string>();
        for (const key of keys) {
          if (seen.has(key)) ctx.addIssue({ code: "custom", message: `"${key}" is listed twice.` });
          seen.add(key);
        }
      }),
    permissions: z.array(z.string()).optional().default([]),
  })
  .superRefine((tier, ctx) => {
    if (tier.billingProvider === "whop" && !tier.whopProductKey) {
      ctx.addIssue({ code: "custom", path: ["whopProductKey"], message: "A Whop tier needs a Whop product key." });
    }
    if (tier.billingProvider === "stripe" && !tier.isBillingExempt && !tier.lookupKeys.length) {
      ctx.addIssue({ code: "custom", path: ["lookupKeys"], message: "A Stripe tier needs at least one lookup key." });
    }
    if (tier.key === FREE_TIER_KEY && tier.billingProvider !== "exempt") {
      ctx.addIssue({
        code: "custom",
        path: ["billingProvider"],
        message: "The free tier is where lapsed subscriptions land: it must stay exempt.",
      });
    }
  });

export type TierFormValues = z.output<typeof TierFormSchema>;
