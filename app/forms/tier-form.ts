// The tier form's fields and their rules, shared by the browser (conform shows errors as you type)
// and the server (which also checks what needs the database: duplicate keys, lookup keys owned by
// another tier). Messages are written for the admin filling the form.
import { z } from "zod";
import { echoValue, plainText } from "~/utils/validation.ts";
import { FREE_TIER_KEY } from "~/rules/tiers.ts";

export const BILLING_PROVIDER_OPTIONS = [
  { value: "stripe", label: "Stripe" },
  { value: "whop", label: "Whop" },
  { value: "exempt", label: "Exempt (no payment)" },
] as const;

const TIER_KEY_PATTERN = /^[a-z0-9]+(?:[-_][a-z0-9]+)*$/;

/**
 * Keys a tier cannot have: its page is /admin/tiers/:key, and these are the static pages beside it
 * (/admin/tiers/new is the create form). tests/unit/tier-form.test.ts holds this equal to app/routes/.
 */
export const RESERVED_TIER_KEYS: readonly string[] = ["new"];

const MAX_LOOKUP_KEYS = 20;

/** Each field's longest value, which is also the most of it a refused form shows again. */
export const TIER_FIELD_MAX = {
  name: 64,
  key: 32,
  description: 500,
  userLimit: 7,
  whopProductKey: 128,
  fallbackPrice: 32,
  lookupKeys: MAX_LOOKUP_KEYS * 202,
} as const;
const LOOKUP_KEY_PATTERN = /^[A-Za-z0-9_.-]+$/;

/** Lookup keys as typed: one per line, blank lines ignored, order kept. */
function splitLookupKeys(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter(Boolean);
}

const optionalText = (max: number, message: string) =>
  plainText(z.string().trim().max(max, message))
    .optional()
    .transform((value) => value || null);

export const TierFormSchema = z
  .object({
    name: plainText(
      z
        .string({ error: "Name is required." })
        .trim()
        .min(1, "Name is required.")
        .max(TIER_FIELD_MAX.name, `Use at most ${TIER_FIELD_MAX.name} characters.`),
    ),
    key: z
      .string({ error: "Key is required." })
      .trim()
      .min(1, "Key is required.")
      .max(TIER_FIELD_MAX.key, `Use at most ${TIER_FIELD_MAX.key} characters.`)
      .regex(
        TIER_KEY_PATTERN,
        "Use lowercase letters and digits, separated by single dashes or underscores (a slug like pro-annual).",
      )
      .refine((key) => !RESERVED_TIER_KEYS.includes(key), {
        error: (issue) => `/admin/tiers/${String(issue.input)} is another page's address: choose another key.`,
      }),
    description: optionalText(TIER_FIELD_MAX.description, `Use at most ${TIER_FIELD_MAX.description} characters.`),
    // Decimal digits only: Number("0x10") is 16 and Number("1e3") is 1000, neither what was meant.
    userLimit: z
      .string({ error: "User limit is required." })
      .trim()
      .regex(/^\d+$/, "User limit must be a whole number, in digits (like 5).")
      .transform(Number)
      .pipe(z.number().min(1, "User limit must be at least 1.").max(1_000_000, "User limit is too large.")),
    isCustomerFacing: z.boolean().default(false),
    billingProvider: z.enum(["stripe", "whop", "exempt"], { error: "Choose Stripe, Whop or Exempt." }),
    isBillingExempt: z.boolean().default(false),
    whopProductKey: optionalText(
      TIER_FIELD_MAX.whopProductKey,
      `Use at most ${TIER_FIELD_MAX.whopProductKey} characters.`,
    ),
    fallbackPrice: plainText(
      z.string().trim().max(TIER_FIELD_MAX.fallbackPrice, `Use at most ${TIER_FIELD_MAX.fallbackPrice} characters.`),
    )
      .optional()
      .default(""),
    lookupKeys: z
      .string()
      .max(TIER_FIELD_MAX.lookupKeys, `List at most ${MAX_LOOKUP_KEYS} lookup keys.`)
      .optional()
      .default("")
      .transform(splitLookupKeys)
      .superRefine((keys, ctx) => {
        if (keys.length > MAX_LOOKUP_KEYS) {
          ctx.addIssue({ code: "custom", message: `List at most ${MAX_LOOKUP_KEYS} lookup keys.` });
          return;
        }
        for (const key of keys) {
          if (key.length > 200)
            ctx.addIssue({ code: "custom", message: `"${echoValue(key, 40)}…" is longer than 200 characters.` });
          else if (!LOOKUP_KEY_PATTERN.test(key)) {
            ctx.addIssue({
              code: "custom",
              message: `"${echoValue(key, 200)}" may use only letters, digits, "_", "." and "-".`,
            });
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
