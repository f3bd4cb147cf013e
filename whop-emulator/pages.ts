// Whop's hosted pages, emulated: a checkout (a checkout configuration's `purchase_url`, or a plan's own
// purchase link) and a membership's manage page (`manage_url`). Plain forms, no JavaScript, easy to
// drive from Playwright: an "Email" field and a "Pay" button; "Cancel at period end", "Cancel now" and
// "Resume" buttons. Each action waits for the webhooks it caused before redirecting or answering.
import express from "express";
import { caught, escapeHtml, pageLayout, sendHtml as html } from "../emulator-kit/pages.ts";
import type { Account } from "./account.ts";
import type { CheckoutConfiguration, EventRecord, Membership, Plan } from "./types.ts";
import { WhopEmulatorError } from "./errors.ts";

const money = (amount: number, currency: string) => {
  try {
    return new Intl.NumberFormat("en-GB", {
      style: "currency",
      currency: currency.toUpperCase(),
      currencyDisplay: "narrowSymbol",
    }).format(amount);
  } catch {
    return `${amount} ${currency.toUpperCase()}`;
  }
};

const period = (days: number | null) =>
  !days ? "one-off" : days === 7 ? "week" : days >= 28 && days <= 31 ? "month" : days === 365 ? "year" : `${days} days`;

const formatDate = (iso: string | null) =>
  iso
    ? new Date(iso).toLocaleDateString("en-GB", { day: "numeric", month: "long", year: "numeric", timeZone: "UTC" })
    : "—";

const STYLE = `body{margin:0;font:16px/1.5 system-ui,sans-serif;background:#f7f7f8;color:#141414}
.banner{background:#ff6243;color:#fff;text-align:center;padding:.5rem;font-weight:600}
main{max-width:34rem;margin:2rem auto;padding:0 1rem}
.card{background:#fff;border:1px solid #e4e4e7;border-radius:10px;padding:1.25rem 1.5rem;margin-bottom:1rem}
.row{display:flex;justify-content:space-between;gap:1rem;margin:.5rem 0}.muted{color:#6b7280}
.amount{font-size:2rem;font-weight:700}input{width:100%;padding:.6rem;font-size:1rem;box-sizing:border-box}
button{font:inherit;cursor:pointer;border-radius:8px;border:1px solid #d4d4d8;background:#fff;padding:.5rem .9rem;margin:.25rem 0}
button.primary{background:#ff6243;border-color:#ff6243;color:#fff;width:100%;padding:.85rem;font-weight:600}
.notice{background:#e7f7ee;padding:.6rem;margin-bottom:1rem}.error{background:#fdecef;padding:.6rem;margin-bottom:1rem}`;

const page = pageLayout("Whop emulator", STYLE);

const notFoundPage = (what: string) =>
  page("Not found", `<div class="card"><h1>Not found</h1><p>${escapeHtml(what)}</p></div>`);

function priceLine(
  plan: Pick<
    Plan,
    "plan_type" | "initial_price" | "renewal_price" | "currency" | "billing_period" | "trial_period_days"
  >,
): string {
  if (plan.plan_type !== "renewal") return `${money(plan.initial_price, plan.currency)} one-off`;
  const renewal = `${money(plan.renewal_price, plan.currency)} / ${period(plan.billing_period)}`;
  const trial = plan.trial_period_days ? `${plan.trial_period_days}-day free trial, then ` : "";
  const first =
    plan.initial_price !== plan.renewal_price ? ` (first payment ${money(plan.initial_price, plan.currency)})` : "";
  return `${trial}${renewal}${first}`;
}

function checkoutPage(account: Account, plan: Plan, action: string, error?: string): string {
  const product = account.catalog.products.get(plan.product.id);
  return page(
    `Join ${product?.title ?? plan.product.title}`,
    `<div class="card">
<h1>Join ${escapeHtml(product?.title ?? plan.product.title)}</h1>
<p class="muted">${escapeHtml(account.company.title)}</p>
<div class="amount">${escapeHtml(money(plan.initial_price, plan.currency))}</div>
<p class="plan-price">${escapeHtml(priceLine(plan))}</p>
</div>
<div class="card">
${error ? `<div class="error" role="alert">${escapeHtml(error)}</div>` : ""}
<form method="post" action="${escapeHtml(action)}">
<label for="email">Email</label><input id="email" name="email" type="email" required autocomplete="email">
<div class="row"><span class="muted">Card</span><span>Emulated test card •••• 4242</span></div>
<button type="submit" class="primary">Pay</button>
</form>
</div>`,
  );
}

function completePage(membership: Membership | undefined, redirectUrl: string | null): string {
  const next = redirectUrl ? `<p><a href="${escapeHtml(redirectUrl)}">Continue</a></p>` : "";
  const manage = membership ? `<p><a href="${escapeHtml(membership.manage_url)}">Manage your membership</a></p>` : "";
  return page(
    "You're in",
    `<div class="card"><h1>You're in</h1><p>This checkout is complete; you have not been charged again.</p>${next}${manage}</div>`,
  );
}

function managePage(account: Account, membership: Membership, message?: { notice?: string; error?: string }): string {
  const id = encodeURIComponent(membership.id);
  const plan = account.catalog.plans.get(membership.plan.id);
  const live = ["active", "trialing", "past_due"].includes(membership.status);
  const when =
    membership.status === "canceling"
      ? `Ends on ${formatDate(membership.renewal_period_end)}`
      : live && membership.renewal_period_end
        ? `Renews on ${formatDate(membership.renewal_period_end)}`
        : "";
  const actions = live
    ? `<form method="post" action="/billing/manage/${id}/cancel"><input type="hidden" name="when" value="period_end"><button type="submit">Cancel at period end</button></form>
<form method="post" action="/billing/manage/${id}/cancel"><input type="hidden" name="when" value="now"><button type="submit">Cancel now</button></form>`
    : membership.status === "canceling"
      ? `<form method="post" action="/billing/manage/${id}/resume"><button type="submit">Resume membership</button></form>`
      : "";
  return page(
    "Your membership",
    `<div class="card">
<h1>${escapeHtml(membership.product.title)}</h1>
${message?.notice ? `<div class="notice" role="status">${escapeHtml(message.notice)}</div>` : ""}
${message?.error ? `<div class="error" role="alert">${escapeHtml(message.error)}</div>` : ""}
<div class="row"><span class="muted">Member</span><span class="member-email">${escapeHtml(membership.user.email)}</span></div>
<div class="row"><span class="muted">Plan</span><span>${plan ? escapeHtml(priceLine(plan)) : escapeHtml(membership.plan.id)}</span></div>
<div class="row"><span class="muted">Status</span><span class="status" data-testid="membership-status">${escapeHtml(membership.status)}</span></div>
${when ? `<p class="muted renewal">${escapeHtml(when)}</p>` : ""}
${actions}
</div>`,
  );
}

export function pagesRouter(account: Account, deliver: (records: EventRecord[]) => Promise<unknown>) {
  const router = express.Router();
  router.use(express.urlencoded({ extended: false, limit: "16kb" }));
  const field = (req: express.Request, name: string) => {
    const value = (req.body as Record<string, unknown> | undefined)?.[name];
    return typeof value === "string" ? value : undefined;
  };
  const configurationOf = (id: string): CheckoutConfiguration | undefined => account.checkoutConfigurations.get(id);
  /** A checkout configuration's page: the form, or its outcome once paid (paying again charges nothing). */
  const configurationPage = (configuration: CheckoutConfiguration, error?: string) =>
    configuration.membership_id
      ? completePage(account.memberships.get(configuration.membership_id), configuration.redirect_url)
      : checkoutPage(
          account,
          account.catalog.plan(configuration.plan.id),
          `/checkout/${encodeURIComponent(configuration.id)}/pay`,
          error,
        );

  router.get("/checkout/plan/:planId", (req, res) => {
    const plan = account.catalog.plans.get(req.params.planId ?? "");
    if (!plan) return html(res, 404, notFoundPage("This plan does not exist."));
    html(res, 200, checkoutPage(account, plan, `/checkout/plan/${encodeURIComponent(plan.id)}/pay`));
  });

  router.post(
    "/checkout/plan/:planId/pay",
    caught(async (req, res) => {
      const plan = account.catalog.plans.get(req.params.planId ?? "");
      if (!plan) return html(res, 404, notFoundPage("This plan does not exist."));
      try {
        const { membership, events } = account.memberships.purchase(plan.id, { email: field(req, "email") });
        await deliver(events);
        html(res, 200, completePage(membership, null));
      } catch (error) {
        if (!(error instanceof WhopEmulatorError)) throw error;
        html(res, 400, checkoutPage(account, plan, `/checkout/plan/${encodeURIComponent(plan.id)}/pay`, error.message));
      }
    }),
  );

  router.get("/checkout/:id", (req, res) => {
    const configuration = configurationOf(req.params.id ?? "");
    if (!configuration) return html(res, 404, notFoundPage("This checkout does not exist."));
    html(res, 200, configurationPage(configuration));
  });

  router.post(
    "/checkout/:id/pay",
    caught(async (req, res) => {
      const configuration = configurationOf(req.params.id ?? "");
      if (!configuration) return html(res, 404, notFoundPage("This checkout does not exist."));
      // Double submits and back-button resubmits land here: show the outcome, charge nothing.
      if (configuration.membership_id) return html(res, 200, configurationPage(configuration));
      try {
        const { membership, events } = account.checkoutConfigurations.complete(configuration.id, {
          email: field(req, "email"),
        });
        await deliver(events);
        if (configuration.redirect_url) return void res.redirect(303, configuration.redirect_url);
        html(res, 200, completePage(membership, null));
      } catch (error) {
        if (!(error instanceof WhopEmulatorError)) throw error;
        html(res, 400, configurationPage(configuration, error.message));
      }
    }),
  );

  router.get("/billing/manage/:id", (req, res) => {
    const membership = account.memberships.get(req.params.id ?? "");
    if (!membership) return html(res, 404, notFoundPage("This membership does not exist."));
    html(res, 200, managePage(account, membership));
  });

  router.post(
    "/billing/manage/:id/cancel",
    caught(async (req, res) => {
      const membership = account.memberships.get(req.params.id ?? "");
      if (!membership) return html(res, 404, notFoundPage("This membership does not exist."));
      try {
        const { events } = account.memberships.cancel(membership.id, { atPeriodEnd: field(req, "when") !== "now" });
        await deliver(events);
        const notice =
          membership.status === "canceling"
            ? "Your membership ends at the end of the period."
            : "Your membership has ended.";
        html(res, 200, managePage(account, membership, { notice }));
      } catch (error) {
        if (!(error instanceof WhopEmulatorError)) throw error;
        html(res, 400, managePage(account, membership, { error: error.message }));
      }
    }),
  );

  router.post(
    "/billing/manage/:id/resume",
    caught(async (req, res) => {
      const membership = account.memberships.get(req.params.id ?? "");
      if (!membership) return html(res, 404, notFoundPage("This membership does not exist."));
      if (membership.status !== "canceling")
        return html(
          res,
          400,
          managePage(account, membership, { error: "Only a membership set to cancel can be resumed." }),
        );
      const { events } = account.memberships.setStatus(membership.id, "active");
      await deliver(events);
      html(res, 200, managePage(account, membership, { notice: "Your membership continues." }));
    }),
  );

  return router;
}
