// Every /api/v1 request and response shape, as zod schemas in one module: the routes validate with
// them, and a later step generates the OpenAPI 3.1 document from the same schemas (zod-to-openapi).
import { z } from "zod";
import { CHECK_DENIALS, CHECK_WARNINGS } from "~/rules/api-check.ts";
import { plainText } from "~/utils/validation.ts";

/** The largest account id (PostgreSQL's int4): a bigger number names no account. */
const ACCOUNT_ID_MAX = 2_147_483_647;
// The product's own id: 1–200 characters (code points, as the column counts them), none of them a
// space, a control character (NUL cannot even be stored) or an invisible format character (U+202E…).
const EXTERNAL_ID = "[^\\s\\p{Cc}\\p{Cf}]{1,200}";
const EXTERNAL_REF = new RegExp(`^ext:${EXTERNAL_ID}$`, "u");
const ACCOUNT_REF = new RegExp(`^(?:[1-9][0-9]{0,9}|ext:${EXTERNAL_ID})$`, "u");
const REF_MESSAGE = `an account id (1–${ACCOUNT_ID_MAX}), or ext: and the product's id (1–200 characters; no spaces or control characters)`;

/** `{ref}`: Tierdesk's account id, or `ext:` + the product's own id for it. */
export const AccountRefSchema = z
  .string()
  .regex(ACCOUNT_REF, { message: REF_MESSAGE, abort: true })
  .refine((ref) => ref.startsWith("ext:") || Number(ref) <= ACCOUNT_ID_MAX, REF_MESSAGE);

export type AccountRef = { id: number } | { externalId: string };

/** The ref as the lookup it names. */
export function parseAccountRef(ref: z.output<typeof AccountRefSchema>): AccountRef {
  return ref.startsWith("ext:") ? { externalId: ref.slice(4) } : { id: Number(ref) };
}

export const EntitlementsParamsSchema = z.object({ ref: AccountRefSchema });

/** `{ref}` of PUT /accounts/{ref}: only `ext:` + the product's id (Tierdesk's ids are its own to make). */
const ExternalAccountRefSchema = z
  .string()
  .regex(EXTERNAL_REF, "ext: and the product's id (1–200 characters; no spaces or control characters)");
export const UpsertAccountParamsSchema = z.object({ ref: ExternalAccountRefSchema });

const EmailSchema = z.string().trim().toLowerCase().max(254).pipe(z.email("an email address"));

/** PUT /accounts/ext:{id}: the account's name and its owner (made one when they are not yet). */
export const UpsertAccountRequestSchema = z.object({
  name: plainText(z.string().trim().min(1, "a name").max(120)).refine(
    (name) => !/\p{Cf}/u.test(name),
    "Remove the invisible formatting character (such as a direction override).",
  ),
  ownerEmail: EmailSchema,
});

export const MembersParamsSchema = z.object({ ref: AccountRefSchema });
export const MemberParamsSchema = z.object({ ref: AccountRefSchema, email: EmailSchema });
export const AddMemberRequestSchema = z.object({ email: EmailSchema });

const SeatsSchema = z.object({
  /** Null: the tier sets no limit. */
  limit: z.number().int().nullable(),
  used: z.number().int(),
  /** Pending invitations: each holds a seat. */
  pending: z.number().int(),
});

export const MemberResponseSchema = z.object({
  member: z.object({
    email: z.string(),
    role: z.enum(["owner", "member"]).nullable(),
    /** `active`: a member now; `invited`: no Tierdesk user has this email yet, so an invitation was mailed. */
    status: z.enum(["active", "invited"]),
    /** Only when Tierdesk could not mail the invitation (no SMTP in production): the product passes it on. */
    invitationUrl: z.string().optional(),
  }),
  seats: SeatsSchema,
});

export const RemoveMemberResponseSchema = z.object({
  removed: z.enum(["member", "invitation"]),
  seats: SeatsSchema,
});

/** An absolute http(s) URL, as Stripe takes for its return addresses. */
const ReturnUrlSchema = z
  .string()
  .max(2048)
  .refine((value) => {
    try {
      return ["http:", "https:"].includes(new URL(value).protocol);
    } catch {
      return false;
    }
  }, "an absolute http(s) URL");

export const CheckoutRequestSchema = z.object({
  lookupKey: z.string().trim().min(1, "a price lookup key").max(200),
  /** Where Stripe sends the customer after paying; may hold `{CHECKOUT_SESSION_ID}`. */
  successUrl: ReturnUrlSchema,
  cancelUrl: ReturnUrlSchema,
});

export const PortalRequestSchema = z.object({ returnUrl: ReturnUrlSchema });

/** A Stripe-hosted page to send the customer to (Checkout or the Customer Portal). */
export const StripeUrlResponseSchema = z.object({ url: z.string() });

export const CheckRequestSchema = z.object({
  account: AccountRefSchema,
  permission: z.string().min(1).max(64),
});

const TierSchema = z.object({ key: z.string(), name: z.string() });

export const EntitlementsResponseSchema = z.object({
  account: z.object({ id: z.number().int(), externalId: z.string().nullable(), name: z.string() }),
  tier: TierSchema.nullable(),
  status: z.string().nullable(),
  permissions: z.array(z.string()),
  seats: SeatsSchema,
  source: z.object({ provider: z.enum(["stripe", "whop", "exempt"]).nullable(), reason: z.string() }),
});

export const CheckResponseSchema = z.object({
  allowed: z.boolean(),
  /** Null when allowed; else why not. */
  reason: z.object({ code: z.enum(CHECK_DENIALS), message: z.string() }).nullable(),
  tier: TierSchema.nullable(),
  /** Allowed, but worth telling: e.g. the account has more members than its plan allows (decision 017). */
  warnings: z.array(z.enum(CHECK_WARNINGS)),
});

export const TiersResponseSchema = z.object({
  /** False when Stripe could not be asked: prices are the last known ones (`asOf`), shown as such. */
  pricesLive: z.boolean(),
  asOf: z.string().nullable(),
  tiers: z.array(
    z.object({
      key: z.string(),
      name: z.string(),
      description: z.string().nullable(),
      userLimit: z.number().int(),
      permissions: z.array(z.string()),
      prices: z.array(
        z.object({
          lookupKey: z.string(),
          currency: z.string(),
          unitAmount: z.number().int().nullable(),
          interval: z.string().nullable(),
          intervalCount: z.number().int(),
        }),
      ),
    }),
  ),
});

export const ProblemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  code: z.string(),
  errors: z.record(z.string(), z.array(z.string())).optional(),
});

export type EntitlementsResponse = z.infer<typeof EntitlementsResponseSchema>;
export type MemberResponse = z.infer<typeof MemberResponseSchema>;
export type CheckResponse = z.infer<typeof CheckResponseSchema>;
export type TiersResponse = z.infer<typeof TiersResponseSchema>;
