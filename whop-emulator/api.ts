// Whop's REST API v1, the part Tierdesk uses: products, plans, memberships and checkout
// configurations. Bearer auth, Whop's query style (`product_ids[]=…`), cursor pages (`data`,
// `page_info`), errors as `{ error: { type, message } }`. Each answer `satisfies` the official
// @whop/sdk's response type for its endpoint (the objects themselves conform in types.ts).
import type { Whop } from "@whop/sdk";
import express, { type NextFunction, type Request, type Response } from "express";
import type { Account } from "./account.ts";
import { type EventRecord, MEMBERSHIP_STATUSES } from "./types.ts";
import { invalid, notFound, sendError, WhopEmulatorError } from "./errors.ts";

const MAX_PAGE = 100;

/** An array query param (`ids[]=a&ids[]=b`, or a single `ids=a`); undefined when absent. */
function arrayParam(req: Request, name: string): string[] | undefined {
  const value = req.query[name];
  if (value === undefined) return undefined;
  const items = Array.isArray(value) ? value : [value];
  if (!items.every((item): item is string => typeof item === "string"))
    throw invalid(`${name} must be a list of strings`);
  return items;
}

function stringParam(req: Request, name: string): string | undefined {
  const value = req.query[name];
  if (value === undefined) return undefined;
  if (typeof value !== "string") throw invalid(`${name} must be a string`);
  return value;
}

/** A list answer: the page's items and Whop's `page_info`. */
type Page<Item> = { data: Item[]; page_info: Whop.PageInfo };

/** One cursor page: the cursor is the position after the page's last item. */
function page<T>(items: T[], req: Request): Page<T> {
  const first = stringParam(req, "first");
  const size = first === undefined ? 10 : Number(first);
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE) throw invalid(`first must be between 1 and ${MAX_PAGE}`);
  const after = stringParam(req, "after");
  const start = after ? Number(Buffer.from(after, "base64url").toString("utf8")) : 0;
  if (!Number.isInteger(start) || start < 0) throw invalid("after is not a cursor");
  const data = items.slice(start, start + size);
  const end = start + data.length;
  return {
    data,
    page_info: {
      start_cursor: data.length ? Buffer.from(String(start), "utf8").toString("base64url") : null,
      end_cursor: data.length ? Buffer.from(String(end), "utf8").toString("base64url") : null,
      has_next_page: end < items.length,
      has_previous_page: start > 0,
    },
  };
}

export function apiRouter({
  account,
  apiKey,
  deliverLater,
}: {
  account: Account;
  /** When set, the only Bearer token accepted; otherwise any non-empty one. */
  apiKey: string | null;
  deliverLater: (records: EventRecord[]) => void;
}) {
  const router = express.Router();
  router.use(express.json({ limit: "100kb" }));
  router.use((req, _res, next) => {
    const token = req.get("authorization")?.match(/^Bearer (\S+)$/)?.[1];
    if (!token || (apiKey !== null && token !== apiKey)) {
      return next(
        new WhopEmulatorError(401, "unauthorized", "Invalid or missing API key: send Authorization: Bearer <key>."),
      );
    }
    next();
  });

  router.get("/products/:id", (req, res) => {
    const product = account.catalog.products.get(req.params.id ?? "");
    if (!product) throw notFound("Product", req.params.id ?? "");
    res.json(product satisfies Whop.Product);
  });

  router.get("/plans", (req, res) => {
    // Whop lists plans per company (`company_id`; `account_id` in newer API versions).
    const company = stringParam(req, "company_id") ?? stringParam(req, "account_id");
    if (!company) throw invalid("company_id is required");
    const productIds = arrayParam(req, "product_ids");
    const visibilities = arrayParam(req, "visibilities");
    const plans =
      company === account.company.id ? [...account.catalog.plans.keys()].map((id) => account.catalog.plan(id)) : [];
    const matching = plans.filter(
      (plan) =>
        (!productIds || productIds.includes(plan.product.id)) &&
        (!visibilities || visibilities.includes(plan.visibility)),
    );
    res.json(page(matching, req) satisfies Page<Whop.PlanListResponse>);
  });

  router.get("/plans/:id", (req, res) => {
    res.json(account.catalog.plan(req.params.id ?? "") satisfies Whop.Plan);
  });

  router.get("/memberships", (req, res) => {
    const userIds = arrayParam(req, "user_ids");
    const productIds = arrayParam(req, "product_ids");
    const planIds = arrayParam(req, "plan_ids");
    const statuses = arrayParam(req, "statuses");
    const unknown = statuses?.find((status) => !(MEMBERSHIP_STATUSES as readonly string[]).includes(status));
    if (unknown) throw invalid(`statuses: ${unknown} is not a membership status`);
    const memberships = account.memberships
      .all()
      .filter(
        (membership) =>
          (!userIds || userIds.includes(membership.user.id)) &&
          (!productIds || productIds.includes(membership.product.id)) &&
          (!planIds || planIds.includes(membership.plan.id)) &&
          (!statuses || statuses.includes(membership.status)),
      );
    res.json(page(memberships, req) satisfies Page<Whop.MembershipListResponse>);
  });

  router.get("/memberships/:id", (req, res) => {
    res.json(account.memberships.require(req.params.id ?? "") satisfies Whop.Membership);
  });

  router.post("/memberships/:id/cancel", (req, res) => {
    const mode = (req.body as { cancellation_mode?: unknown } | undefined)?.cancellation_mode;
    if (mode !== undefined && mode !== null && mode !== "at_period_end" && mode !== "immediate") {
      throw invalid("cancellation_mode must be at_period_end or immediate");
    }
    const { membership, events } = account.memberships.cancel(req.params.id ?? "", {
      atPeriodEnd: mode !== "immediate",
    });
    deliverLater(events);
    res.json(membership satisfies Whop.Membership);
  });

  router.post("/checkout_configurations", (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const configuration = account.checkoutConfigurations.create({
      planId: body.plan_id,
      metadata: body.metadata,
      redirectUrl: body.redirect_url,
    });
    const { membership_id: _internal, ...wire } = configuration;
    res.json(wire satisfies Whop.CheckoutConfigurationCreateResponse);
  });

  router.get("/checkout_configurations/:id", (req, res) => {
    const configuration = account.checkoutConfigurations.get(req.params.id ?? "");
    if (!configuration) throw notFound("Checkout configuration", req.params.id ?? "");
    const { membership_id: _internal, ...wire } = configuration;
    res.json(wire satisfies Whop.CheckoutConfigurationRetrieveResponse);
  });

  router.use((req) => {
    throw new WhopEmulatorError(404, "not_found", `The Whop emulator does not serve ${req.method} /api/v1${req.path}`);
  });
  router.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => sendError(error, res));
  return router;
}
