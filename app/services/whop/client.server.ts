// The Whop connection and the few REST API v1 calls Tierdesk makes (webhook signatures are in
// signatures.server.ts), all through Whop's official TypeScript library, @whop/sdk (pinned exactly: it is
// generated and pre-1.0, so an upgrade is a reviewed change; see docs/decisions/009).
//
// Its connection comes from the config (WHOP_API_KEY, WHOP_API_BASE, WHOP_WEBHOOK_SECRET) unless the
// server started the bundled Whop emulator and said so with `useWhopConnection` (development without a
// key), or a test points it at its own emulator. Without a key Whop tiers cannot be bought and Whop is
// not asked anything (WhopDisabledError), loudly, never faked.
//
// The SDK falls back to process.env (WHOP_API_KEY, WHOP_BASE_URL, WHOP_WEBHOOK_SECRET…) for any option
// it is not given: every such option is given here, so the config stays the one reader of the
// environment. What Whop sends is still checked (zod) for the fields Tierdesk reads: the SDK's types
// are not checked at run time, and some (a plan's `product`) are `unknown`.
import { APIConnectionError, APIError, Whop } from "@whop/sdk";
import { z } from "zod";
import { config } from "~/utils/config.server.ts";
import { singleton } from "~/utils/singleton.server.ts";
import type { WhopPlanFact, WhopProductFact } from "~/rules/whop.ts";

const WHOP_API_BASE = "https://api.whop.com/api/v1";
/** Where Whop's hosted checkout pages live (a form post's redirect must be allowed to reach them). */
export const WHOP_HOSTED_PAGES = ["https://whop.com", "https://sandbox.whop.com"];
/** The API version the pinned SDK's types describe, sent as `Api-Version-Date`. */
const WHOP_API_VERSION = "2026-07-20";
const REQUEST_TIMEOUT_MS = 10_000;

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

const state = singleton("whop-connection", () => ({
  connection: undefined as WhopConnection | undefined,
  client: undefined as { connection: WhopConnection; client: Whop } | undefined,
}));

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

/**
 * Every option the SDK would otherwise read from process.env, given. `logLevel: "off"`: failures
 * reach the caller as errors and are logged once, by the app's logger.
 */
export function sdkOptions(apiKey: string, apiBase: string | null) {
  return {
    apiKey,
    baseURL: apiBase ?? WHOP_API_BASE,
    webhookKey: null,
    appID: null,
    version: WHOP_API_VERSION,
    userTokenPublicKey: null,
    userTokenJwksUrl: null,
    logLevel: "off",
    timeout: REQUEST_TIMEOUT_MS,
    // No retries: the dashboard answers within ~3 s, and a webhook that needs Whop fails and is retried by Whop.
    maxRetries: 0,
  } as const;
}

/** The SDK client for the current connection (a new one when the connection changes). */
function whopClient(): Whop {
  const connection = whopConnection();
  if (connection.mode === "disabled" || !connection.apiKey) throw new WhopDisabledError();
  if (state.client?.connection !== connection) {
    state.client = { connection, client: new Whop(sdkOptions(connection.apiKey, connection.apiBase)) };
  }
  return state.client.client;
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
export const WhopTime = z.union([z.string(), z.number()]).transform((value, ctx) => {
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

/**
 * One SDK call, its failures in this module's terms: Whop's error answers are WhopApiError (with
 * Whop's own message), a Whop that cannot be reached says why (refused, timed out).
 */
async function callWhop<T>(what: string, send: (client: Whop) => PromiseLike<T>): Promise<T> {
  const client = whopClient();
  try {
    return await send(client);
  } catch (error) {
    if (error instanceof APIConnectionError) {
      // fetch's own reason ("fetch failed") and, under it, the network's (ECONNREFUSED, bad port).
      const cause = error.cause instanceof Error ? error.cause : null;
      const network = cause?.cause instanceof Error ? cause.cause : null;
      const detail = network ? ` (${"code" in network ? String(network.code) : network.message})` : "";
      throw new Error(`Whop did not answer ${what}: ${cause ? `${cause.message}${detail}` : error.message}`, {
        cause: error,
      });
    }
    if (error instanceof APIError && error.status !== undefined) {
      throw new WhopApiError(error.status, `Whop answered ${error.status} to ${what}: ${whopErrorMessage(error)}`);
    }
    throw error;
  }
}

/** Whop's `{ error: { message } }`, else what the SDK made of the answer (a proxy's page, say). */
function whopErrorMessage(error: APIError): string {
  const body = error.error as { error?: { message?: unknown } } | undefined;
  if (typeof body?.error?.message === "string") return body.error.message;
  return error.message.slice(0, 200);
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
    const product = await callWhop(`GET /products/${productId}`, (whop) => whop.products.retrieve(productId));
    return parse(ProductShape, product, "product");
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
 * products' company (`account_id` in the API version the SDK speaks).
 */
export async function listPlans(productIds: readonly string[], companyId: string | null): Promise<ListedPlan[]> {
  // Whop has no plan listing across companies, and every product belongs to one.
  if (!companyId) throw new WhopApiError(502, "Whop sent a product without its company: its plans cannot be listed");
  const plans: ListedPlan[] = [];
  const what = "GET /plans";
  let page = await callWhop(what, (whop) =>
    whop.plans.list({ account_id: companyId, product_ids: [...productIds], first: PLANS_PAGE_SIZE }),
  );
  for (let pages = 1; ; pages++) {
    for (const item of page.getPaginatedItems()) {
      const plan = parse(PlanShape, item, "plan");
      plans.push({ ...toPlanFact(plan), productId: plan.product?.id ?? null });
    }
    // Whop's `has_next_page`: the SDK's own check would ask once more for an empty page.
    const pageInfo = parse(PageInfo, page.page_info, "plan list");
    if (pages >= PLANS_MAX_PAGES || !pageInfo?.has_next_page || !pageInfo.end_cursor) break;
    const current = page;
    page = await callWhop(what, () => current.getNextPage());
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
    const membership = await callWhop(`GET /memberships/${membershipId}`, (whop) =>
      whop.memberships.retrieve(membershipId),
    );
    return parse(MembershipShape, membership, "membership");
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
}

/** Memberships filtered by Whop user, product and status (first page of up to 50, newest first). */
export async function listMemberships(filter: {
  userIds?: readonly string[];
  productIds?: readonly string[];
  statuses?: readonly Whop.MembershipStatus[];
}): Promise<WhopMembership[]> {
  const page = await callWhop("GET /memberships", (whop) =>
    whop.memberships.list({
      user_ids: filter.userIds && [...filter.userIds],
      product_ids: filter.productIds && [...filter.productIds],
      statuses: filter.statuses && [...filter.statuses],
      first: 50,
    }),
  );
  return parse(z.array(MembershipShape), page.getPaginatedItems(), "membership list");
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
  const created = await callWhop("POST /checkout_configurations", (whop) =>
    whop.checkoutConfigurations.create({
      plan_id: input.planId,
      metadata: input.metadata,
      redirect_url: input.redirectUrl,
    }),
  );
  // The SDK types `purchase_url` as optional; without it there is nowhere to send the buyer.
  const configuration = parse(CheckoutConfigurationShape, created, "checkout configuration");
  return { id: configuration.id, purchaseUrl: configuration.purchase_url };
}
