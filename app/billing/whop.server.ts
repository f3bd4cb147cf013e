// The one Whop module: the connection, the few REST API v1 calls Tierdesk makes (with fetch), and
// webhook signature checks (Standard Webhooks, with the `standardwebhooks` library).
//
// Its connection comes from the config (WHOP_API_KEY, WHOP_API_BASE, WHOP_WEBHOOK_SECRET) unless the
// server started the bundled Whop emulator and said so with `useWhopConnection` (development without a
// key), or a test points it at its own emulator. Without a key Whop tiers cannot be bought and Whop is
// not asked anything (WhopDisabledError), loudly, never faked.
//
// Not the official @whop/sdk: it is generated, and its webhook helper's key handling has changed between
// releases. Whop's `ws_…` secret is used as its literal UTF-8 bytes, which this module alone decides.
import { Webhook, WebhookVerificationError } from "standardwebhooks";
import { z } from "zod";
import { config } from "~/utils/config.server.ts";
import { singleton } from "~/utils/singleton.server.ts";
import type { WhopPlanFact, WhopProductFact } from "./rules.ts";

export const WHOP_API_BASE = "https://api.whop.com/api/v1";
export const WHOP_SANDBOX_API_BASE = "https://sandbox-api.whop.com/api/v1";
/** Where Whop's hosted checkout pages live (a form post's redirect must be allowed to reach them). */
export const WHOP_HOSTED_PAGES = ["https://whop.com", "https://sandbox.whop.com"];
const REQUEST_TIMEOUT_MS = 10_000;
/** Standard Webhooks' tolerance, which `standardwebhooks` applies: 5 minutes either way. */
export const WHOP_SIGNATURE_TOLERANCE_SECONDS = 300;

export type WhopMode = "whop" | "emulator" | "disabled";

export type WhopConnection = Readonly<{
  mode: WhopMode;
  /** null only when mode is "disabled". */
  apiKey: string | null;
  /** Base URL of the REST API v1 (the emulator's, the sandbox's); null → https://api.whop.com/api/v1. */
  apiBase: string | null;
  /** Whop's `ws_…` secrets: any one verifies (rotation). */
  webhookSecrets: readonly string[];
}>;

export class WhopDisabledError extends Error {
  name = "WhopDisabledError";
  constructor() {
    super("Whop is not available: this Tierdesk instance has no Whop API key configured (WHOP_API_KEY).");
  }
}

/** Whop answered with an error status (or something that is not what the API documents). */
export class WhopApiError extends Error {
  name = "WhopApiError";
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const state = singleton("whop-connection", () => ({ connection: undefined as WhopConnection | undefined }));

function connectionFromConfig(): WhopConnection {
  const { apiKey, apiBase, webhookSecrets } = config().whop;
  return { mode: apiKey ? "whop" : "disabled", apiKey, apiBase, webhookSecrets };
}

/** Uses this Whop connection from now on (the server's emulator, a test's own). */
export function useWhopConnection(connection: WhopConnection) {
  state.connection = Object.freeze({ ...connection, webhookSecrets: [...connection.webhookSecrets] });
}

export function whopConnection(): WhopConnection {
  return (state.connection ??= connectionFromConfig());
}

export function whopMode(): WhopMode {
  return whopConnection().mode;
}

/** One line for the log: an outage is expected, not a bug with a stack. */
export function describeWhopError(error: unknown): Record<string, unknown> {
  if (error instanceof WhopApiError) return { status: error.status, message: error.message };
  return { message: error instanceof Error ? error.message : String(error) };
}

// ---------------------------------------------------------------------------------------------
// Webhook signatures

/**
 * The key `standardwebhooks` should use for a Whop secret: the library base64-decodes its key (the
 * `whsec_` convention), while Whop's `ws_…` secret is used as its literal UTF-8 bytes.
 */
export function standardWebhooksKey(secret: string): string {
  return Buffer.from(secret, "utf8").toString("base64");
}

export type WebhookHeaders = { "webhook-id": string; "webhook-timestamp": string; "webhook-signature": string };

/** The three Standard Webhooks headers, or null when one is missing. */
export function webhookHeadersOf(headers: Headers): WebhookHeaders | null {
  const id = headers.get("webhook-id");
  const timestamp = headers.get("webhook-timestamp");
  const signature = headers.get("webhook-signature");
  if (!id || !timestamp || !signature) return null;
  return { "webhook-id": id, "webhook-timestamp": timestamp, "webhook-signature": signature };
}

/** Whether any of `secrets` signed this payload (and its timestamp is within 5 minutes of now). */
export function hasValidWhopSignature(payload: string, headers: WebhookHeaders, secrets: readonly string[]): boolean {
  return secrets.some((secret) => {
    try {
      // Only the signature: reading the body is the caller's job (a signed body that is not JSON is a 400, not a 401).
      new Webhook(standardWebhooksKey(secret)).verify(payload, headers, { jsonParse: false });
      return true;
    } catch (error) {
      if (error instanceof WebhookVerificationError) return false;
      throw error;
    }
  });
}

/** Signs like Whop does (for the emulator's tests and our own): `v1,<base64 HMAC-SHA256>`. */
export function signWhopPayload(secret: string, id: string, timestampSeconds: number, payload: string): string {
  return new Webhook(standardWebhooksKey(secret)).sign(id, new Date(timestampSeconds * 1000), payload);
}

// ---------------------------------------------------------------------------------------------
// The REST API: only what Tierdesk uses, parsed into the shapes it needs.

const WhopId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "is not a Whop id");

const ProductShape = z.object({
  id: WhopId,
  title: z.string(),
  visibility: z.string(),
  company: z.object({ id: WhopId }).nullish(),
});

const PlanShape = z.object({
  id: WhopId,
  title: z.string().nullish(),
  visibility: z.string(),
  release_method: z.string().nullish(),
  plan_type: z.string(),
  currency: z.string(),
  initial_price: z.number(),
  renewal_price: z.number(),
  billing_period: z.number().nullish(),
  trial_period_days: z.number().nullish(),
  purchase_url: z.string().nullish(),
  product: z.object({ id: WhopId }).nullish(),
});

const PageInfo = z.object({ end_cursor: z.string().nullish(), has_next_page: z.boolean().nullish() }).nullish();

/** Whop's timestamps are ISO 8601 strings (older payloads: Unix seconds). */
const WhopTime = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const date = typeof value === "number" ? new Date(value * 1000) : new Date(value);
  if (Number.isNaN(date.getTime())) {
    ctx.addIssue({ code: "custom", message: "is not a time" });
    return z.NEVER;
  }
  return date;
});

/** A membership as Tierdesk reads it (from a webhook or the API). */
export const MembershipShape = z.object({
  id: WhopId,
  status: z.string().regex(/^[a-z_]{1,32}$/, "is not a membership status"),
  created_at: WhopTime.nullish(),
  updated_at: WhopTime.nullish(),
  cancel_at_period_end: z.boolean().nullish(),
  renewal_period_end: WhopTime.nullish(),
  manage_url: z.string().max(512).nullish(),
  metadata: z.record(z.string(), z.unknown()).nullish(),
  product: z.object({ id: WhopId, title: z.string().nullish() }),
  plan: z.object({ id: WhopId }).nullish(),
  user: z.object({ id: WhopId, email: z.string().max(254).nullish(), username: z.string().nullish() }).nullish(),
});
export type WhopMembership = z.output<typeof MembershipShape>;

const CheckoutConfigurationShape = z.object({ id: WhopId, purchase_url: z.string().url() });

type Query = Record<string, string | number | readonly string[] | undefined>;

/** Whop's query style (qs "brackets"): `product_ids[]=a&product_ids[]=b`. */
function queryString(query: Query): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) params.append(`${name}[]`, String(item));
    else params.append(name, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

async function request(
  method: "GET" | "POST",
  path: string,
  { query = {}, body }: { query?: Query; body?: unknown } = {},
) {
  const { mode, apiKey, apiBase } = whopConnection();
  if (mode === "disabled" || !apiKey) throw new WhopDisabledError();
  const url = `${apiBase ?? WHOP_API_BASE}${path}${queryString(query)}`;
  const response = await fetch(url, {
    method,
    headers: {
      Authorization: `Bearer ${apiKey}`,
      Accept: "application/json",
      "User-Agent": "Tierdesk",
      ...(body === undefined ? {} : { "Content-Type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await response.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // A proxy's HTML error page: reported with the status below.
  }
  if (!response.ok) {
    const error = (json as { error?: { message?: unknown } } | null)?.error;
    const message = typeof error?.message === "string" ? error.message : text.slice(0, 200) || response.statusText;
    throw new WhopApiError(response.status, `Whop answered ${response.status} to ${method} ${path}: ${message}`);
  }
  return json;
}

function parse<T>(shape: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = shape.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new WhopApiError(
      502,
      `Whop sent an unexpected ${what}: ${issue ? `${issue.path.join(".")} ${issue.message}` : "?"}`,
    );
  }
  return parsed.data;
}

const isNotFound = (error: unknown) => error instanceof WhopApiError && error.status === 404;

export type WhopProduct = z.output<typeof ProductShape>;

/** A product, or null when Whop knows none with this id. */
export async function retrieveProduct(productId: string): Promise<WhopProduct | null> {
  try {
    return parse(ProductShape, await request("GET", `/products/${encodeURIComponent(productId)}`), "product");
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
}

/** A plan from a listing, with the product it belongs to. */
export type ListedPlan = WhopPlanFact & { productId: string | null };

const PLANS_PAGE_SIZE = 100;
const PLANS_MAX_PAGES = 5;

/**
 * Every plan of these products (cursor-paged, at most 500). Whop lists plans per company: pass the
 * products' company (`company_id`, named `account_id` in newer API versions).
 */
export async function listPlans(productIds: readonly string[], companyId: string | null): Promise<ListedPlan[]> {
  const plans: ListedPlan[] = [];
  let after: string | undefined;
  for (let page = 0; page < PLANS_MAX_PAGES; page++) {
    const body = await request("GET", "/plans", {
      query: {
        product_ids: productIds,
        ...(companyId ? { company_id: companyId, account_id: companyId } : {}),
        first: PLANS_PAGE_SIZE,
        after,
      },
    });
    const list = parse(z.object({ data: z.array(z.unknown()), page_info: PageInfo }), body, "plan list");
    for (const item of list.data) {
      const plan = parse(PlanShape, item, "plan");
      plans.push({ ...toPlanFact(plan), productId: plan.product?.id ?? null });
    }
    const cursor = list.page_info?.end_cursor;
    if (!list.page_info?.has_next_page || !cursor) break;
    after = cursor;
  }
  return plans;
}

function toPlanFact(plan: z.output<typeof PlanShape>): WhopPlanFact {
  return {
    id: plan.id,
    title: plan.title ?? null,
    visibility: plan.visibility,
    releaseMethod: plan.release_method ?? "buy_now",
    planType: plan.plan_type,
    currency: plan.currency,
    initialPrice: plan.initial_price,
    renewalPrice: plan.renewal_price,
    billingPeriod: plan.billing_period ?? null,
    trialPeriodDays: plan.trial_period_days ?? null,
    purchaseUrl: plan.purchase_url ?? null,
  };
}

/** The plans of a listing that belong to `productId`, without the listing's bookkeeping. */
export function plansOf(plans: readonly ListedPlan[], productId: string): WhopPlanFact[] {
  return plans.filter((plan) => plan.productId === productId).map(({ productId: _product, ...plan }) => plan);
}

/** A product with its plans, as the dashboard and /pricing use it. */
export function toProductFact(product: WhopProduct, plans: WhopPlanFact[]): NonNullable<WhopProductFact> {
  return {
    id: product.id,
    title: product.title,
    visibility: product.visibility,
    companyId: product.company?.id ?? null,
    plans,
  };
}

/** A membership as Whop has it now, or null when Whop knows none with this id. */
export async function retrieveMembership(membershipId: string): Promise<WhopMembership | null> {
  try {
    return parse(
      MembershipShape,
      await request("GET", `/memberships/${encodeURIComponent(membershipId)}`),
      "membership",
    );
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
}

/** Memberships filtered by Whop user, product and status (first page of up to 50, newest first). */
export async function listMemberships(filter: {
  userIds?: readonly string[];
  productIds?: readonly string[];
  statuses?: readonly string[];
}): Promise<WhopMembership[]> {
  const body = await request("GET", "/memberships", {
    query: { user_ids: filter.userIds, product_ids: filter.productIds, statuses: filter.statuses, first: 50 },
  });
  const list = parse(z.object({ data: z.array(MembershipShape), page_info: PageInfo }), body, "membership list");
  return list.data;
}

/**
 * A checkout configuration for one plan: Whop copies `metadata` onto the membership and its payments,
 * and sends the buyer to `redirectUrl` afterwards. Returns Whop's hosted `purchase_url`.
 */
export async function createCheckoutConfiguration(input: {
  planId: string;
  metadata: Record<string, string>;
  redirectUrl: string;
}): Promise<{ id: string; purchaseUrl: string }> {
  const body = await request("POST", "/checkout_configurations", {
    body: { plan_id: input.planId, metadata: input.metadata, redirect_url: input.redirectUrl },
  });
  const configuration = parse(CheckoutConfigurationShape, body, "checkout configuration");
  return { id: configuration.id, purchaseUrl: configuration.purchase_url };
}
