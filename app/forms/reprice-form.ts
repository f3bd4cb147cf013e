// The "change price" form of a tier's lookup key, shared by the browser and the server: a new amount
// in the currency's main unit ("35" or "35.00"), optionally another billing interval or currency, and
// the nonce that makes a repeated confirmation (a double click) one request to Stripe.
import { z } from "zod";

export const PRICE_INTERVALS = ["day", "week", "month", "year"] as const;

export const RepriceFormSchema = z.object({
  lookupKey: z.string({ error: "Choose a lookup key." }).trim().min(1).max(200),
  amount: z
    .string({ error: "Enter the new amount." })
    .trim()
    .regex(/^\d{1,8}(\.\d{1,2})?$/, "Enter an amount such as 35 or 35.00."),
  interval: z.enum(PRICE_INTERVALS, { error: "Choose day, week, month or year." }),
  intervalCount: z.coerce
    .number({ error: "Enter how many intervals." })
    .int("Enter a whole number.")
    .min(1, "At least 1.")
    .max(365, "At most 365."),
  currency: z
    .string({ error: "Enter a currency." })
    .trim()
    .toLowerCase()
    .regex(/^[a-z]{3}$/, "Enter a three-letter currency code such as GBP."),
  nonce: z.uuid("Reload the page and try again."),
});

export type RepriceFormValues = z.output<typeof RepriceFormSchema>;

/** Each field's longest value, which is also the most of it a refused form shows again. */
export const REPRICE_FIELD_MAX = { lookupKey: 200, amount: 20, interval: 10, intervalCount: 5, currency: 3, nonce: 36 };
