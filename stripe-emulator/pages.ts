// Hosted Checkout and Customer Portal pages: plain forms, no JavaScript, easy to drive from
// Playwright (buttons "Pay", "Cancel subscription", "Switch to …"; a "Cancel" link). Every action
// waits for the webhooks it caused before redirecting, so the app has seen them when the browser
// comes back; an unreachable app only shows in the delivery log.
import express, { type RequestHandler } from "express";
import type { Account } from "./account.ts";
import { StripeApiError } from "./errors.ts";
import type { CheckoutSession, EventRecord, Price, PortalSession, Subscription } from "./types.ts";

const escapeHtml = (value: string) =>
  value.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c);

const money = (amount: number | null, currency: string | null) =>
  new Intl.NumberFormat("en-GB", { style: "currency", currency: (currency ?? "gbp").toUpperCase() }).format(
    (amount ?? 0) / 100,
  );

/** "£29.00 / month", "£10.00 / 3 months". */
const formatPrice = ({ unit_amount, currency, recurring: { interval, interval_count } }: Price) =>
  `${money(unit_amount, currency)} / ${interval_count === 1 ? interval : `${interval_count} ${interval}s`}`;

/** "monthly", "every 3 months". */
const cadence = ({ recurring: { interval, interval_count } }: Price) =>
  interval_count === 1
    ? { day: "daily", week: "weekly", month: "monthly", year: "yearly" }[interval]
    : `every ${interval_count} ${interval}s`;

const formatDate = (seconds: number) =>
  new Date(seconds * 1000).toLocaleDateString("en-GB", {
    day: "numeric",
    month: "long",
    year: "numeric",
    timeZone: "UTC",
  });

const successUrl = (session: CheckoutSession) =>
  (session.success_url ?? "").replace(/\{CHECKOUT_SESSION_ID\}/g, encodeURIComponent(session.id));

const STYLE = `body{margin:0;font:16px/1.5 system-ui,sans-serif;background:#f6f8fa;color:#1a1f36}
.banner{background:#ffd33d;text-align:center;padding:.5rem;font-weight:600}
main{max-width:34rem;margin:2rem auto;padding:0 1rem}
.card{background:#fff;border:1px solid #e3e8ee;border-radius:8px;padding:1.25rem 1.5rem;margin-bottom:1rem}
.row{display:flex;justify-content:space-between;gap:1rem;margin:.5rem 0}.muted{color:#697386}
.amount{font-size:2rem;font-weight:700}input{width:100%;padding:.6rem;font-size:1rem;box-sizing:border-box}
button{font:inherit;cursor:pointer;border-radius:6px;border:1px solid #cfd7df;background:#fff;padding:.5rem .9rem;margin:.25rem 0}
button.primary{background:#635bff;color:#fff;width:100%;padding:.85rem;font-weight:600}
.notice{background:#e6f6ee;padding:.6rem;margin-bottom:1rem}.error{background:#fdecef;padding:.6rem;margin-bottom:1rem}`;

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Stripe emulator</title><style>${STYLE}</style></head>
<body>
<div class="banner" role="note">Stripe emulator — no real payment</div>
<main>
${body}
</main>
</body>
</html>`;
}

const notFound = (what: string) =>
  page("Not found", `<div class="card"><h1>Not found</h1><p>${escapeHtml(what)}</p></div>`);

function checkoutPage(account: Account, session: CheckoutSession, error?: string): string {
  const id = encodeURIComponent(session.id);
  const lineItems = account.checkoutSessions.get(session.id)?.lineItems ?? [];
  const names = lineItems.map((li) => li.description ?? li.price.id);
  const items = lineItems.map(
    (li) => `<div class="row"><div><strong class="product-name">${escapeHtml(li.description ?? li.price.id)}</strong>
<div class="muted">Billed ${escapeHtml(cadence(li.price))}</div></div><div class="price">${escapeHtml(formatPrice(li.price))}</div></div>`,
  );
  const email = account.checkoutEmail(session);
  const emailField = email
    ? `<div class="row"><span class="muted">Email</span><span class="customer-email">${escapeHtml(email)}</span></div>`
    : `<label for="email">Email</label><input id="email" name="email" type="email" required autocomplete="email">`;
  const cancel = session.cancel_url
    ? `<p><a href="/checkout/${id}/cancel">Cancel</a> and return without paying</p>`
    : "";
  return page(
    `Subscribe to ${names.join(", ")}`,
    `<div class="card">
<h1>Subscribe to ${escapeHtml(names.join(" + "))}</h1>
<div class="amount">${escapeHtml(money(session.amount_total, session.currency))}</div>
<p class="muted">Total due today, then renews automatically.</p>
${items.join("\n")}
</div>
<div class="card">
${error ? `<div class="error" role="alert">${escapeHtml(error)}</div>` : ""}
<form method="post" action="/checkout/${id}/pay">
${emailField}
<div class="row"><span class="muted">Card</span><span>Emulated test card •••• 4242</span></div>
<button type="submit" class="primary">Pay</button>
</form>
${cancel}
</div>`,
  );
}

/** A completed session: paying again charges nothing. */
function checkoutCompletePage(session: CheckoutSession): string {
  return page(
    "Payment complete",
    `<div class="card"><h1>Payment complete</h1><p>This checkout session is already complete. You have not been charged again.
<a href="${escapeHtml(successUrl(session))}">Continue</a></p></div>`,
  );
}

function portalPage(account: Account, portal: PortalSession, messages: { notice?: string; error?: string }): string {
  const pid = encodeURIComponent(portal.id);
  const planName = (price: Price) =>
    `${account.products.get(price.product)?.name ?? price.product} (${cadence(price)})`;
  const subscriptions = [...account.subscriptions.values()].filter((s) => s.customer === portal.customer).reverse();
  const ended = (s: Subscription) => s.status === "canceled" || s.status === "incomplete_expired";
  // The prices the app sells (those with lookup keys), like a portal configuration's product list.
  const offered = [...account.prices.values()].filter((p) => p.active && p.lookup_key);

  const cards = subscriptions
    .filter((s) => !ended(s))
    .map((sub) => {
      const item = sub.items.data[0];
      if (!item) return "";
      const sid = encodeURIComponent(sub.id);
      const renewal =
        sub.cancel_at !== null
          ? `Cancels on ${formatDate(sub.cancel_at)}`
          : sub.status === "past_due"
            ? "Payment failed — please update your payment method"
            : `Renews on ${formatDate(item.current_period_end)}`;
      const switches = offered
        .filter((p) => p.id !== item.price.id && p.currency === sub.currency)
        .map(
          (p) => `<form method="post" action="/portal/${pid}/subscriptions/${sid}/switch">
<input type="hidden" name="price" value="${escapeHtml(p.id)}">
<button type="submit">Switch to ${escapeHtml(planName(p))}</button> <span class="muted">${escapeHtml(formatPrice(p))}</span>
</form>`,
        );
      return `<section class="card subscription" data-subscription-id="${escapeHtml(sub.id)}">
<h2 class="plan-name">${escapeHtml(planName(item.price))}</h2>
<div class="row"><span class="price">${escapeHtml(formatPrice(item.price))}</span><span class="status">${escapeHtml(sub.status)}</span></div>
<div class="muted renewal">${escapeHtml(renewal)}</div>
<form method="post" action="/portal/${pid}/subscriptions/${sid}/cancel"><button type="submit">Cancel subscription</button></form>
${switches.join("\n")}
</section>`;
    });
  const past = subscriptions.filter(ended).map((s) => {
    const price = s.items.data[0]?.price;
    return `<li>${escapeHtml(price ? planName(price) : s.id)} — ended ${escapeHtml(formatDate(s.ended_at ?? s.created))}</li>`;
  });
  const email = account.customers.get(portal.customer)?.email;
  const returnLink = portal.return_url
    ? `<p><a href="${escapeHtml(portal.return_url)}" class="return-link">Return to ${escapeHtml(URL.canParse(portal.return_url) ? new URL(portal.return_url).host : portal.return_url)}</a></p>`
    : "";
  return page(
    "Billing portal",
    `<h1>Billing portal</h1>
${email ? `<p class="muted">Signed in as <span class="customer-email">${escapeHtml(email)}</span></p>` : ""}
${messages.notice ? `<div class="notice" role="status">${escapeHtml(messages.notice)}</div>` : ""}
${messages.error ? `<div class="error" role="alert">${escapeHtml(messages.error)}</div>` : ""}
${cards.length ? cards.join("\n") : '<div class="card"><p>You have no active subscriptions.</p></div>'}
${past.length ? `<div class="card"><h2>Past subscriptions</h2><ul>${past.join("")}</ul></div>` : ""}
${returnLink}`,
  );
}

export function pagesRouter(account: Account, deliver: (records: EventRecord[]) => Promise<unknown>) {
  const router = express.Router();
  router.use(express.text({ type: "application/x-www-form-urlencoded", limit: "64kb" }));
  const html = (res: express.Response, status: number, body: string) =>
    void res.status(status).set("Cache-Control", "no-store").type("html").send(body);
  const form = (req: express.Request, key: string) =>
    new URLSearchParams(typeof req.body === "string" ? req.body : "").get(key) ?? undefined;
  const caught =
    (handler: (req: express.Request, res: express.Response) => Promise<void>): RequestHandler =>
    (req, res, next) =>
      void handler(req, res).catch(next);

  router.get("/checkout/:id", (req, res) => {
    const session = account.checkoutSessions.get(req.params.id ?? "")?.session;
    if (!session) return html(res, 404, notFound("This checkout session does not exist."));
    html(res, 200, session.status === "open" ? checkoutPage(account, session) : checkoutCompletePage(session));
  });

  router.post(
    "/checkout/:id/pay",
    caught(async (req, res) => {
      const session = account.checkoutSessions.get(req.params.id ?? "")?.session;
      if (!session) return html(res, 404, notFound("This checkout session does not exist."));
      // Double submits and back-button resubmits land here: show the outcome, charge nothing.
      if (session.status !== "open") return html(res, 200, checkoutCompletePage(session));
      try {
        const { events } = account.completeCheckout(session.id, { email: form(req, "email") });
        await deliver(events);
        res.redirect(303, successUrl(session));
      } catch (error) {
        if (!(error instanceof StripeApiError)) throw error;
        html(
          res,
          400,
          checkoutPage(account, session, error.param === "email" ? "Please enter your email address." : error.message),
        );
      }
    }),
  );

  // Like Stripe, leaving checkout does not expire the session.
  router.get("/checkout/:id/cancel", (req, res) => {
    const session = account.checkoutSessions.get(req.params.id ?? "")?.session;
    if (!session?.cancel_url) return html(res, 404, notFound("This checkout session has nowhere to return to."));
    res.redirect(303, session.cancel_url);
  });

  router.get("/portal/:id", (req, res) => {
    const portal = account.portalSessions.get(req.params.id ?? "");
    if (!portal) return html(res, 404, notFound("This billing portal session does not exist."));
    // Notices come from a fixed set, never echoed from the query string.
    const price = account.prices.get(String(req.query.price));
    const notice =
      req.query.notice === "canceled"
        ? "Your subscription has been canceled."
        : req.query.notice === "switched" && price
          ? `Your plan has been switched to ${account.products.get(price.product)?.name ?? price.product} (${cadence(price)}).`
          : undefined;
    html(res, 200, portalPage(account, portal, { notice }));
  });

  /** A portal action on one of the portal customer's subscriptions, then back to the portal. */
  const portalAction = (
    action: (req: express.Request, sub: Subscription) => { events: EventRecord[]; notice: Record<string, string> },
  ) =>
    caught(async (req, res) => {
      const portal = account.portalSessions.get(req.params.id ?? "");
      const sub = account.subscriptions.get(req.params.sub ?? "");
      if (!portal || sub?.customer !== portal.customer) {
        return html(res, 404, notFound("This subscription does not exist."));
      }
      try {
        const { events, notice } = action(req, sub);
        await deliver(events);
        res.redirect(303, `/portal/${encodeURIComponent(portal.id)}?${new URLSearchParams(notice)}`);
      } catch (error) {
        if (!(error instanceof StripeApiError)) throw error;
        html(res, 400, portalPage(account, portal, { error: error.message }));
      }
    });

  router.post(
    "/portal/:id/subscriptions/:sub/cancel",
    portalAction((_req, sub) => ({
      events: account.cancelSubscription(sub.id).events,
      notice: { notice: "canceled" },
    })),
  );

  router.post(
    "/portal/:id/subscriptions/:sub/switch",
    portalAction((req, sub) => {
      const price = account.prices.get(form(req, "price") ?? "");
      if (!price?.active || !price.lookup_key) {
        throw new StripeApiError(400, "invalid_request_error", "That plan is not available.");
      }
      const { events } = account.updateSubscription(sub.id, { items: [{ id: sub.items.data[0]?.id, price }] });
      return { events, notice: { notice: "switched", price: price.id } };
    }),
  );

  router.use((_req, res) => html(res, 404, notFound("Nothing here.")));
  return router;
}
