// Hosted Checkout and Customer Portal pages: plain forms, no JavaScript, easy to drive from
// Playwright (buttons "Pay", "Cancel subscription" → "Confirm cancellation" or "Cancel immediately
// instead", "Renew subscription", "Switch to …", a deep link's "Confirm"; a "Cancel" link). Every action
// waits for the webhooks it caused before redirecting, so the app has seen them when the browser
// comes back; an unreachable app only shows in the delivery log.
import express from "express";
import { caught, escapeHtml, pageLayout, sendHtml as html } from "../emulator-kit/pages.ts";
import type { Account } from "./account.ts";
import { StripeApiError } from "./errors.ts";
import type { CheckoutSession, EventRecord, Price, PortalSession, Subscription } from "./types.ts";

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

const page = pageLayout("Stripe emulator", STYLE);

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
  const email = account.checkoutSessions.email(session);
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
  if (session.status === "expired") {
    const back = session.cancel_url ? ` <a href="${escapeHtml(session.cancel_url)}">Go back</a>` : "";
    return page(
      "Checkout expired",
      `<div class="card"><h1>This checkout has expired</h1><p>Nothing was charged. Start again from the site.${back}</p></div>`,
    );
  }
  return page(
    "Payment complete",
    `<div class="card"><h1>Payment complete</h1><p>This checkout session is already complete. You have not been charged again.
<a href="${escapeHtml(successUrl(session))}">Continue</a></p></div>`,
  );
}

const planName = (account: Account, price: Price) =>
  `${account.catalog.products.get(price.product)?.name ?? price.product} (${cadence(price)})`;

function portalPage(account: Account, portal: PortalSession, messages: { notice?: string; error?: string }): string {
  const pid = encodeURIComponent(portal.id);
  const subscriptions = account.subscriptions
    .all()
    .filter((s) => s.customer === portal.customer)
    .reverse();
  const ended = (s: Subscription) => s.status === "canceled" || s.status === "incomplete_expired";
  // The prices the app sells (those with lookup keys), like a portal configuration's product list;
  // a product marked `portal: hidden` (the demo's not-yet-linked Team) is left out of it.
  const inPortal = (p: Price) => account.catalog.products.get(p.product)?.metadata.portal !== "hidden";
  const offered = [...account.catalog.prices.values()].filter((p) => p.active && p.lookup_key && inPortal(p));

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
<button type="submit">Switch to ${escapeHtml(planName(account, p))}</button> <span class="muted">${escapeHtml(formatPrice(p))}</span>
</form>`,
        );
      // Like Stripe's portal: a subscription set to cancel can be renewed; otherwise cancelling asks first.
      const cancelOrRenew = sub.cancel_at_period_end
        ? `<form method="post" action="/portal/${pid}/subscriptions/${sid}/resume"><button type="submit">Renew subscription</button></form>`
        : `<form method="get" action="/portal/${pid}/subscriptions/${sid}/cancel"><button type="submit">Cancel subscription</button></form>`;
      return `<section class="card subscription" data-subscription-id="${escapeHtml(sub.id)}">
<h2 class="plan-name">${escapeHtml(planName(account, item.price))}</h2>
<div class="row"><span class="price">${escapeHtml(formatPrice(item.price))}</span><span class="status">${escapeHtml(sub.status)}</span></div>
<div class="muted renewal">${escapeHtml(renewal)}</div>
${cancelOrRenew}
${switches.join("\n")}
</section>`;
    });
  const past = subscriptions.filter(ended).map((s) => {
    const price = s.items.data[0]?.price;
    return `<li>${escapeHtml(price ? planName(account, price) : s.id)} — ended ${escapeHtml(formatDate(s.ended_at ?? s.created))}</li>`;
  });
  const email = account.customers.get(portal.customer)?.email;
  return page(
    "Billing portal",
    `<h1>Billing portal</h1>
${email ? `<p class="muted">Signed in as <span class="customer-email">${escapeHtml(email)}</span></p>` : ""}
${messages.notice ? `<div class="notice" role="status">${escapeHtml(messages.notice)}</div>` : ""}
${messages.error ? `<div class="error" role="alert">${escapeHtml(messages.error)}</div>` : ""}
${cards.length ? cards.join("\n") : '<div class="card"><p>You have no active subscriptions.</p></div>'}
${past.length ? `<div class="card"><h2>Past subscriptions</h2><ul>${past.join("")}</ul></div>` : ""}
${returnLink(portal)}`,
  );
}

function returnLink(portal: PortalSession): string {
  if (!portal.return_url) return "";
  const host = URL.canParse(portal.return_url) ? new URL(portal.return_url).host : portal.return_url;
  return `<p><a href="${escapeHtml(portal.return_url)}" class="return-link">Return to ${escapeHtml(host)}</a></p>`;
}

/** Stripe's portal asks before cancelling: at the end of the period by default, or at once. */
function cancelConfirmationPage(account: Account, portal: PortalSession, sub: Subscription): string {
  const pid = encodeURIComponent(portal.id);
  const sid = encodeURIComponent(sub.id);
  const item = sub.items.data[0];
  const name = item ? planName(account, item.price) : sub.id;
  const end = formatDate(item?.current_period_end ?? sub.created);
  return page(
    "Cancel your subscription",
    `<div class="card">
<h1>Cancel your subscription</h1>
<p>Your <strong>${escapeHtml(name)}</strong> subscription will be canceled at the end of the current period,
on <strong class="period-end">${escapeHtml(end)}</strong>. You keep it until then, and can renew it before that date.</p>
<form method="post" action="/portal/${pid}/subscriptions/${sid}/cancel">
<input type="hidden" name="when" value="period_end">
<button type="submit" class="primary">Confirm cancellation</button>
</form>
<form method="post" action="/portal/${pid}/subscriptions/${sid}/cancel">
<input type="hidden" name="when" value="now">
<button type="submit">Cancel immediately instead</button> <span class="muted">ends it today, with no refund</span>
</form>
<p><a href="/portal/${pid}">Go back</a></p>
</div>`,
  );
}

/** A deep link's page (`flow_data[type]=subscription_update_confirm`): confirm one plan switch. */
function flowConfirmationPage(
  account: Account,
  portal: PortalSession,
  flow: NonNullable<ReturnType<Account["portalSessions"]["pendingFlow"]>>,
  error?: string,
): string {
  const pid = encodeURIComponent(portal.id);
  const current = flow.subscription.items.data.find((it) => it.id === flow.itemId)?.price;
  const cycleChanges =
    current &&
    (current.recurring.interval !== flow.price.recurring.interval ||
      current.recurring.interval_count !== flow.price.recurring.interval_count);
  const when = cycleChanges
    ? `The new billing period starts today and ${escapeHtml(formatPrice(flow.price))} is charged now.`
    : `Your renewal date stays the same; the next renewal is charged at the new price.`;
  const back = portal.return_url ? `<p><a href="${escapeHtml(portal.return_url)}">Go back</a></p>` : "";
  return page(
    "Confirm your new plan",
    `<div class="card">
<h1>Confirm your new plan</h1>
${error ? `<div class="error" role="alert">${escapeHtml(error)}</div>` : ""}
${current ? `<div class="row"><span class="muted">Current plan</span><span class="current-plan">${escapeHtml(planName(account, current))} — ${escapeHtml(formatPrice(current))}</span></div>` : ""}
<div class="row"><span class="muted">New plan</span><strong class="new-plan">${escapeHtml(planName(account, flow.price))} — ${escapeHtml(formatPrice(flow.price))}</strong></div>
<p class="muted">${when}</p>
<form method="post" action="/portal/${pid}/flow/confirm">
<button type="submit" class="primary">Confirm</button>
</form>
${back}
</div>`,
  );
}

function hostedConfirmationPage(portal: PortalSession, message: string | null): string {
  return page(
    "Plan updated",
    `<div class="card"><h1>Plan updated</h1><p role="status">${escapeHtml(message ?? "Your plan has been updated.")}</p>${returnLink(portal)}</div>`,
  );
}

export function pagesRouter(account: Account, deliver: (records: EventRecord[]) => Promise<unknown>) {
  const router = express.Router();
  router.use(express.text({ type: "application/x-www-form-urlencoded", limit: "64kb" }));
  const form = (req: express.Request, key: string) =>
    new URLSearchParams(typeof req.body === "string" ? req.body : "").get(key) ?? undefined;

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
        const { events } = account.checkoutSessions.complete(session.id, { email: form(req, "email") });
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
    const flow = account.portalSessions.pendingFlow(portal);
    if (flow) return html(res, 200, flowConfirmationPage(account, portal, flow));
    // Notices come from a fixed set, never echoed from the query string.
    const price = account.catalog.prices.get(String(req.query.price));
    const sub = account.subscriptions.get(String(req.query.subscription));
    const notice =
      req.query.notice === "canceled"
        ? "Your subscription has been canceled."
        : req.query.notice === "cancel_scheduled" && sub?.cancel_at
          ? `Your subscription will be canceled on ${formatDate(sub.cancel_at)}. You keep it until then.`
          : req.query.notice === "renewed"
            ? "Your subscription will renew as usual."
            : req.query.notice === "switched" && price
              ? `Your plan has been switched to ${planName(account, price)}.`
              : undefined;
    html(res, 200, portalPage(account, portal, { notice }));
  });

  router.post(
    "/portal/:id/flow/confirm",
    caught(async (req, res) => {
      const portal = account.portalSessions.get(req.params.id ?? "");
      if (!portal) return html(res, 404, notFound("This billing portal session does not exist."));
      const flow = account.portalSessions.pendingFlow(portal);
      // Confirmed already (a double submit, the back button): the homepage shows the outcome.
      if (!flow) return res.redirect(303, `/portal/${encodeURIComponent(portal.id)}`);
      try {
        const { events } = account.portalSessions.completeFlow(portal.id);
        await deliver(events);
      } catch (error) {
        if (!(error instanceof StripeApiError)) throw error;
        return html(res, 400, flowConfirmationPage(account, portal, flow, error.message));
      }
      const after = portal.flow?.after_completion;
      if (after?.type === "redirect" && after.redirect) return res.redirect(303, after.redirect.return_url);
      if (after?.type === "hosted_confirmation") {
        return html(res, 200, hostedConfirmationPage(portal, after.hosted_confirmation?.custom_message ?? null));
      }
      const notice = { notice: "switched", price: flow.price.id };
      res.redirect(303, `/portal/${encodeURIComponent(portal.id)}?${new URLSearchParams(notice)}`);
    }),
  );

  router.get("/portal/:id/subscriptions/:sub/cancel", (req, res) => {
    const portal = account.portalSessions.get(req.params.id ?? "");
    const sub = account.subscriptions.get(req.params.sub ?? "");
    if (!portal || sub?.customer !== portal.customer) {
      return html(res, 404, notFound("This subscription does not exist."));
    }
    if (sub.status === "canceled" || sub.cancel_at_period_end) {
      return res.redirect(303, `/portal/${encodeURIComponent(portal.id)}`);
    }
    html(res, 200, cancelConfirmationPage(account, portal, sub));
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

  // Stripe's portal cancels at the end of the period by default; `when=now` cancels at once.
  router.post(
    "/portal/:id/subscriptions/:sub/cancel",
    portalAction((req, sub): { events: EventRecord[]; notice: Record<string, string> } => {
      if (form(req, "when") === "now") {
        return { events: account.subscriptions.cancel(sub.id).events, notice: { notice: "canceled" } };
      }
      const { events } = account.subscriptions.update(sub.id, { cancelAtPeriodEnd: true });
      return { events, notice: { notice: "cancel_scheduled", subscription: sub.id } };
    }),
  );

  router.post(
    "/portal/:id/subscriptions/:sub/resume",
    portalAction((_req, sub) => ({
      events: account.subscriptions.update(sub.id, { cancelAtPeriodEnd: false }).events,
      notice: { notice: "renewed" },
    })),
  );

  router.post(
    "/portal/:id/subscriptions/:sub/switch",
    portalAction((req, sub) => {
      const price = account.catalog.prices.get(form(req, "price") ?? "");
      if (!price?.active || !price.lookup_key) {
        throw new StripeApiError(400, "invalid_request_error", "That plan is not available.");
      }
      const { events } = account.subscriptions.update(sub.id, { items: [{ id: sub.items.data[0]?.id, price }] });
      return { events, notice: { notice: "switched", price: price.id } };
    }),
  );

  router.use((_req, res) => html(res, 404, notFound("Nothing here.")));
  return router;
}
