// The /v1 routes, one block per resource, form-encoded like the SDK sends them. Every request goes
// through requests.ts (API key, idempotency, params); `expand[]` and pagination are here; the billing
// rules are in the account's resources (account.ts).
import express, { type NextFunction, type Request, type Response } from "express";
import type { Account } from "./account.ts";
import { invalid, missingParam, noSuch, raise, sendError, StripeApiError } from "./errors.ts";
import { list, snapshot } from "./objects.ts";
import { isRecord, type Params } from "./params.ts";
import type { Interval } from "./periods.ts";
import type { PortalFlowInput } from "./portal.ts";
import type { RateLimiter } from "./rate-limit.ts";
import { requestHandling, requireApiKey } from "./requests.ts";
import type { SubscriptionChanges } from "./subscriptions.ts";
import type { EventRecord, List, PortalFlow, Price, SubscriptionStatus } from "./types.ts";

const STATUSES: ReadonlyArray<SubscriptionStatus | "all"> = [
  "active",
  "all",
  "canceled",
  "incomplete",
  "incomplete_expired",
  "past_due",
  "paused",
  "trialing",
  "unpaid",
];

const INTERVALS: readonly Interval[] = ["day", "week", "month", "year"];

export interface ApiContext {
  account: Account;
  /** Base URL of the hosted Checkout and Portal pages. */
  publicUrl: () => string;
  /** Webhooks for API-triggered events go out in the background, as with Stripe. */
  deliverLater: (records: EventRecord[]) => void;
  /** The optional requests-per-second limit (429s). */
  rateLimit: RateLimiter;
}

/** One /v1 request as answered: for tests that count what a client asked (and what was replayed). */
export interface ApiRequestRecord {
  method: string;
  /** Without the query string. */
  path: string;
  status: number;
  idempotencyKey: string | null;
  /** An idempotent POST answered with its first response, nothing done again. */
  replayed: boolean;
}

const REQUEST_LOG_SIZE = 100_000;

export function apiRouter({ account, publicUrl, deliverLater, rateLimit }: ApiContext) {
  const router = express.Router();
  const { handle, reset } = requestHandling();
  const requests: ApiRequestRecord[] = [];

  /** A copy of `root` with `expand[]` paths resolved; `includable` are properties only sent when expanded. */
  function expand(root: object, p: Params, includable: Record<string, () => object> = {}): object {
    const result = snapshot(root);
    p.expand().forEach((path, i) => {
      const fail = () => invalid(`expand[${i}]`, `This property cannot be expanded (${path}).`);
      const walk = (node: unknown, [key, ...rest]: string[], top: boolean): void => {
        if (Array.isArray(node)) return node.forEach((element) => walk(element, [key ?? "", ...rest], false));
        if (!isRecord(node) || key === undefined) return;
        const value = node[key];
        const include = top ? includable[key] : undefined;
        if (typeof value === "string") node[key] = snapshot(account.findById(value) ?? raise(fail()));
        else if (value === undefined && include) node[key] = snapshot(include());
        else if (value === undefined || (!rest.length && value !== null && !(isRecord(value) && "object" in value))) {
          throw fail();
        }
        if (rest.length) walk(node[key], rest, false);
      };
      walk(result, path.split("."), true);
    });
    return result;
  }

  function paginate<T extends { id: string }>(items: T[], p: Params, url: string, kind: string): List<T> {
    const limit = p.integer("limit", 1, 100) ?? 10;
    const after = p.string("starting_after");
    let start = 0;
    if (after) {
      start = items.findIndex((item) => item.id === after) + 1;
      if (start === 0) throw noSuch(kind, after, "starting_after");
    }
    return list(items.slice(start, start + limit), url, start + limit < items.length);
  }

  function activePrice(id: string, param: string): Price {
    const price = account.catalog.prices.get(id);
    if (!price) throw noSuch("price", id, param);
    if (!price.active) {
      throw invalid(param, `The price specified (${id}) is inactive. This field only accepts active prices.`);
    }
    return price;
  }

  function urlParam(p: Params, key: string, required: boolean): string | null {
    const value = required ? p.required(key) : p.string(key) || null;
    // `{CHECKOUT_SESSION_ID}` is a placeholder, not URL syntax.
    if (value && !(/^https?:\/\//.test(value) && URL.canParse(value.replace(/\{CHECKOUT_SESSION_ID\}/g, "x")))) {
      throw invalid(p.name(key), `Not a valid URL: ${p.name(key)} must be an absolute http(s) URL.`, "url_invalid");
    }
    return value;
  }

  router.use((req, res, next) => {
    res.once("finish", () => {
      if (requests.length >= REQUEST_LOG_SIZE) requests.shift();
      requests.push({
        method: req.method,
        path: req.originalUrl.split("?")[0] ?? "",
        status: res.statusCode,
        idempotencyKey: req.get("Idempotency-Key") ?? null,
        replayed: res.get("Idempotent-Replayed") === "true",
      });
    });
    next();
  });
  router.use(requireApiKey);
  router.use(rateLimit.middleware);
  router.use(express.text({ type: "application/x-www-form-urlencoded", limit: "1mb" }));

  router.get(
    "/prices",
    handle((p) => {
      const lookupKeys = p.strings("lookup_keys");
      if (lookupKeys && lookupKeys.length > 10) {
        throw invalid("lookup_keys", `You may only specify up to 10 lookup_keys, but ${lookupKeys.length} were given.`);
      }
      // As Stripe: without `active`, inactive (archived) prices are listed too.
      const active = p.boolean("active");
      const product = p.string("product");
      const prices = [...account.catalog.prices.values()].filter(
        (price) =>
          (active === undefined || price.active === active) &&
          (product === undefined || price.product === product) &&
          (!lookupKeys || (price.lookup_key !== null && lookupKeys.includes(price.lookup_key))),
      );
      return expand(paginate(prices, p, "/v1/prices", "price"), p);
    }),
  );

  router.post(
    "/prices",
    handle((p, _path, request) => {
      const recurring = p.hash("recurring");
      if (!recurring) throw missingParam("recurring");
      const interval = recurring.required("interval");
      if (!INTERVALS.some((i) => i === interval)) {
        throw invalid(
          recurring.name("interval"),
          `Invalid recurring[interval]: must be one of ${INTERVALS.join(", ")}`,
        );
      }
      const currency = p.required("currency").toLowerCase();
      if (!/^[a-z]{3}$/.test(currency)) throw invalid("currency", `Invalid currency: ${currency}`);
      const { price, events } = account.catalog.createPrice(
        {
          product: p.required("product"),
          currency,
          unitAmount: p.integer("unit_amount", 0, 99_999_999) ?? raise(missingParam("unit_amount")),
          interval: interval as Interval,
          intervalCount: recurring.integer("interval_count", 1, 365) ?? 1,
          lookupKey: p.string("lookup_key") || null,
          transferLookupKey: p.boolean("transfer_lookup_key") ?? false,
          nickname: p.string("nickname") || null,
          active: p.boolean("active") ?? true,
          metadata: p.metadata(),
        },
        request,
      );
      deliverLater(events);
      return expand(price, p);
    }),
  );

  router.post(
    "/customers",
    handle((p, _params, request) => {
      const customer = account.customers.create({
        email: p.string("email") || null,
        name: p.string("name") || null,
        metadata: p.metadata(),
      });
      // As Stripe does: every customer created through the API is announced.
      deliverLater([account.events.create("customer.created", customer, { request })]);
      return expand(customer, p);
    }),
  );

  router.get(
    "/customers",
    handle((p) => {
      const email = p.string("email");
      // Newest first, as Stripe lists them; deleted customers are not listed.
      const customers = account.customers
        .all()
        .reverse()
        .sort((a, b) => b.created - a.created)
        .filter((customer) => email === undefined || customer.email === email);
      return expand(paginate(customers, p, "/v1/customers", "customer"), p);
    }),
  );

  router.get(
    "/customers/:id",
    handle((p, { id = "" }) =>
      expand(account.customers.get(id) ?? account.customers.deleted(id) ?? raise(noSuch("customer", id)), p),
    ),
  );

  router.delete(
    "/customers/:id",
    handle((_p, { id = "" }, request) => {
      const { deleted, events } = account.customers.delete(id, request);
      deliverLater(events);
      return deleted;
    }),
  );

  router.post(
    "/checkout/sessions",
    handle((p) => {
      const mode = p.required("mode");
      if (mode !== "subscription") {
        throw invalid("mode", `The Stripe emulator only supports mode=subscription, not ${mode}.`);
      }
      const lineItems = (p.hashes("line_items") ?? []).map((li) => ({
        price: activePrice(li.required("price"), li.name("price")),
        quantity: li.integer("quantity", 1, 999_999) ?? raise(missingParam(li.name("quantity"))),
      }));
      const first = lineItems[0];
      if (!first) throw missingParam("line_items");
      if (lineItems.some(({ price }) => price.currency !== first.price.currency)) {
        throw invalid("line_items", "All line items must use the same currency.");
      }
      const customer = p.string("customer") || null;
      const customerEmail = p.string("customer_email") || null;
      if (customer && customerEmail) {
        throw invalid("customer_email", "You may only specify one of these parameters: customer, customer_email.");
      }
      if (customer && !account.customers.has(customer)) throw noSuch("customer", customer, "customer");
      const session = account.checkoutSessions.create(
        {
          lineItems,
          successUrl: urlParam(p, "success_url", true) ?? "",
          cancelUrl: urlParam(p, "cancel_url", false),
          customer,
          customerEmail,
          clientReferenceId: p.string("client_reference_id") || null,
          allowPromotionCodes: p.boolean("allow_promotion_codes") ?? null,
          metadata: p.metadata(),
          subscriptionMetadata: p.hash("subscription_data")?.metadata() ?? {},
        },
        (id) => `${publicUrl()}/checkout/${id}`,
      );
      return expand(session, p);
    }),
  );

  router.get(
    "/checkout/sessions",
    handle((p) => {
      const status = p.string("status");
      if (status !== undefined && !["open", "complete", "expired"].includes(status)) {
        throw invalid("status", "Invalid status: must be one of open, complete, or expired");
      }
      const sessions = account.checkoutSessions.list({ customer: p.string("customer"), status });
      return expand(paginate(sessions, p, "/v1/checkout/sessions", "checkout.session"), p);
    }),
  );

  router.post(
    "/checkout/sessions/:id/expire",
    handle((p, { id = "" }) => {
      const { session, events } = account.checkoutSessions.expire(id);
      deliverLater(events);
      return expand(session, p);
    }),
  );

  router.get(
    "/checkout/sessions/:id",
    handle((p, { id = "" }) => {
      const record = account.checkoutSessions.get(id) ?? raise(noSuch("checkout.session", id));
      return expand(record.session, p, {
        line_items: () => list(record.lineItems, `/v1/checkout/sessions/${id}/line_items`),
      });
    }),
  );

  /** `flow_data`: only `subscription_update_confirm` (one item switched to an active price), as the app uses it. */
  function portalFlow(p: Params, customer: string): PortalFlowInput | null {
    const flow = p.hash("flow_data");
    if (!flow) return null;
    const type = flow.required("type");
    if (type !== "subscription_update_confirm") {
      throw invalid(
        flow.name("type"),
        `The Stripe emulator only supports flow_data[type]=subscription_update_confirm, not ${type}.`,
      );
    }
    const confirm =
      flow.hash("subscription_update_confirm") ?? raise(missingParam(flow.name("subscription_update_confirm")));
    const subscriptionId = confirm.required("subscription");
    const subscription = account.subscriptions.get(subscriptionId);
    if (!subscription || subscription.customer !== customer) {
      throw noSuch("subscription", subscriptionId, confirm.name("subscription"));
    }
    if (subscription.status === "canceled" || subscription.status === "incomplete_expired") {
      throw invalid(
        confirm.name("subscription"),
        `The subscription ${subscriptionId} has ended and cannot be updated.`,
      );
    }
    const items = confirm.hashes("items") ?? [];
    const [change, ...more] = items;
    if (!change) throw missingParam(confirm.name("items"));
    if (more.length)
      throw invalid(confirm.name("items"), "Only one item can be updated in a subscription_update_confirm flow.");
    const itemId = change.required("id");
    const item = subscription.items.data.find((it) => it.id === itemId);
    if (!item) throw invalid(change.name("id"), `Invalid subscription item id: ${itemId}`);
    const priceId = change.string("price");
    const price = priceId ? activePrice(priceId, change.name("price")) : item.price;

    const after = flow.hash("after_completion");
    const afterType = after?.string("type") ?? "portal_homepage";
    let afterCompletion: PortalFlow["after_completion"];
    if (afterType === "redirect") {
      const redirect = after?.hash("redirect") ?? raise(missingParam(`${flow.name("after_completion")}[redirect]`));
      const url = urlParam(redirect, "return_url", true) ?? "";
      afterCompletion = { type: "redirect", redirect: { return_url: url }, hosted_confirmation: null };
    } else if (afterType === "hosted_confirmation") {
      const message = after?.hash("hosted_confirmation")?.string("custom_message") ?? null;
      afterCompletion = {
        type: "hosted_confirmation",
        hosted_confirmation: { custom_message: message },
        redirect: null,
      };
    } else if (afterType === "portal_homepage") {
      afterCompletion = { type: "portal_homepage", hosted_confirmation: null, redirect: null };
    } else {
      throw invalid(`${flow.name("after_completion")}[type]`, `Invalid after_completion type: ${afterType}`);
    }
    return {
      subscription,
      item,
      price,
      quantity: change.integer("quantity", 1, 999_999) ?? item.quantity ?? 1,
      afterCompletion,
    };
  }

  router.post(
    "/billing_portal/sessions",
    handle((p) => {
      const customer = p.required("customer");
      if (!account.customers.has(customer)) throw noSuch("customer", customer, "customer");
      const returnUrl = urlParam(p, "return_url", false);
      const flow = portalFlow(p, customer);
      return expand(
        account.portalSessions.create(customer, returnUrl, (id) => `${publicUrl()}/portal/${id}`, flow),
        p,
      );
    }),
  );

  router.get(
    "/subscriptions",
    handle((p) => {
      const customer = p.string("customer");
      const price = p.string("price");
      const status = p.string("status");
      if (status !== undefined && !STATUSES.some((s) => s === status)) {
        throw invalid("status", `Invalid status: must be one of ${STATUSES.join(", ")}`);
      }
      const subscriptions = account.subscriptions
        .all()
        .reverse()
        .sort((a, b) => b.created - a.created)
        .filter(
          (s) =>
            (customer === undefined || s.customer === customer) &&
            (price === undefined || s.items.data.some((item) => item.price.id === price)) &&
            (status === undefined
              ? s.status !== "canceled" && s.status !== "incomplete_expired"
              : status === "all" || s.status === status),
        );
      return expand(paginate(subscriptions, p, "/v1/subscriptions", "subscription"), p);
    }),
  );

  router.get(
    "/subscriptions/:id",
    handle((p, { id = "" }) => expand(account.subscriptions.require(id), p)),
  );

  router.post(
    "/subscriptions/:id",
    handle((p, { id = "" }, request) => {
      account.subscriptions.require(id);
      const changes: SubscriptionChanges = { cancelAtPeriodEnd: p.boolean("cancel_at_period_end") };
      changes.items = p.hashes("items")?.map((item) => {
        const price = item.string("price");
        return {
          id: item.string("id") || undefined,
          price: price ? activePrice(price, item.name("price")) : undefined,
          quantity: item.integer("quantity", 1, 999_999),
          deleted: item.boolean("deleted"),
        };
      });
      const { subscription, events } = account.subscriptions.update(id, changes, request);
      deliverLater(events);
      return expand(subscription, p);
    }),
  );

  router.delete(
    "/subscriptions/:id",
    handle((p, { id = "" }, request) => {
      const { subscription, events } = account.subscriptions.cancel(id, request);
      deliverLater(events);
      return expand(subscription, p);
    }),
  );

  router.get(
    "/events/:id",
    handle((_p, { id = "" }) => (account.events.find(id) ?? raise(noSuch("event", id))).event),
  );

  router.use((req) => {
    const message = `Unrecognized request URL (${req.method}: ${req.originalUrl.split("?")[0]}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`;
    throw new StripeApiError(404, "invalid_request_error", message);
  });

  router.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => sendError(error, res));
  return {
    router,
    requests,
    reset() {
      reset();
      requests.length = 0;
    },
  };
}
