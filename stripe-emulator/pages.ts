/**
 * HTML for the hosted Checkout and Customer Portal pages. Plain forms, no
 * JavaScript, so they work in any browser and are easy to drive from
 * Playwright (buttons: "Pay", "Cancel", "Cancel subscription", "Switch to …").
 */
import { formatMinor } from './objects.ts';
import type { CheckoutLineItem, CheckoutSession, Price, Product, Subscription } from './types.ts';

export function escapeHtml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** "£29.00 / month", "£290.00 / year", "£10.00 / 3 months". */
export function formatPrice(price: Price): string {
  const { interval, interval_count } = price.recurring;
  const per = interval_count === 1 ? interval : `${interval_count} ${interval}s`;
  return `${formatMinor(price.unit_amount, price.currency)} / ${per}`;
}

/** "monthly", "yearly", "every 3 months". */
export function cadence(price: Price): string {
  const { interval, interval_count } = price.recurring;
  if (interval_count === 1) return { day: 'daily', week: 'weekly', month: 'monthly', year: 'yearly' }[interval];
  return `every ${interval_count} ${interval}s`;
}

export function formatDate(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toLocaleDateString('en-GB', {
    day: 'numeric',
    month: 'long',
    year: 'numeric',
    timeZone: 'UTC',
  });
}

const STYLE = `
  *{box-sizing:border-box}
  body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;background:#f6f8fa;color:#1a1f36}
  .banner{background:#ffd33d;color:#3d2e00;text-align:center;padding:.5rem 1rem;font-weight:600}
  main{max-width:34rem;margin:2rem auto;padding:0 1rem}
  .card{background:#fff;border:1px solid #e3e8ee;border-radius:8px;padding:1.25rem 1.5rem;margin-bottom:1rem}
  h1{font-size:1.4rem;margin:0 0 1rem}
  h2{font-size:1.1rem;margin:0 0 .25rem}
  .muted{color:#697386}
  .amount{font-size:2rem;font-weight:700;margin:.25rem 0}
  .row{display:flex;justify-content:space-between;gap:1rem;margin:.5rem 0}
  label{display:block;font-weight:600;margin:.75rem 0 .25rem}
  input[type=email]{width:100%;padding:.6rem;border:1px solid #cfd7df;border-radius:6px;font-size:1rem}
  button{font:inherit;cursor:pointer;border-radius:6px;border:1px solid #cfd7df;background:#fff;padding:.5rem .9rem}
  button.primary{background:#635bff;border-color:#635bff;color:#fff;width:100%;padding:.85rem;font-size:1.1rem;font-weight:600;margin-top:1rem}
  button.danger{color:#c0123c;border-color:#f5b5c3}
  .notice{background:#e6f6ee;border:1px solid #9ad8b6;border-radius:6px;padding:.6rem .9rem;margin-bottom:1rem}
  .error{background:#fdecef;border:1px solid #f5b5c3;border-radius:6px;padding:.6rem .9rem;margin-bottom:1rem}
  .badge{display:inline-block;font-size:.8rem;font-weight:600;border-radius:4px;padding:0 .4rem;background:#e3e8ee}
  .badge.active{background:#d7f7c2;color:#05690d}.badge.past_due{background:#fde2dd;color:#a41c0e}
  .actions{display:flex;flex-wrap:wrap;gap:.5rem;margin-top:1rem}
  .actions form{margin:0}
  a{color:#635bff}
`;

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Stripe emulator</title>
<style>${STYLE}</style>
</head>
<body>
<div class="banner" role="note">Stripe emulator — no real payment</div>
<main>
${body}
</main>
</body>
</html>`;
}

export interface CheckoutView {
  session: CheckoutSession;
  lineItems: CheckoutLineItem[];
  products: Map<string, Product>;
  email: string | null;
  error?: string;
}

export function renderCheckoutPage(view: CheckoutView): string {
  const { session, lineItems, products, email } = view;
  const id = encodeURIComponent(session.id);
  const names = lineItems.map((li) => products.get(li.price.product)?.name ?? li.description);
  const items = lineItems
    .map(
      (li, i) => `<div class="row">
  <div><strong class="product-name">${escapeHtml(names[i])}</strong>${li.quantity > 1 ? ` <span class="muted">× ${li.quantity}</span>` : ''}
  <div class="muted">Billed ${escapeHtml(cadence(li.price))}</div></div>
  <div class="price">${escapeHtml(formatPrice(li.price))}</div>
</div>`,
    )
    .join('\n');
  const emailField = email
    ? `<div class="row"><span class="muted">Email</span><span class="customer-email">${escapeHtml(email)}</span></div>`
    : `<label for="email">Email</label><input id="email" name="email" type="email" required autocomplete="email">`;
  const cancel = session.cancel_url
    ? `<p style="text-align:center"><a href="/checkout/${id}/cancel">Cancel</a> and return without paying</p>`
    : '';
  return layout(
    `Subscribe to ${names.join(', ')}`,
    `<div class="card">
<h1>Subscribe to ${escapeHtml(names.join(' + '))}</h1>
<div class="amount">${escapeHtml(formatMinor(session.amount_total, session.currency))}</div>
<p class="muted">Total due today, then renews automatically.</p>
${items}
</div>
<div class="card">
${view.error ? `<div class="error" role="alert">${escapeHtml(view.error)}</div>` : ''}
<form method="post" action="/checkout/${id}/pay">
${emailField}
<div class="row"><span class="muted">Card</span><span>Emulated test card •••• 4242</span></div>
<button type="submit" class="primary">Pay</button>
</form>
${cancel}
</div>`,
  );
}

export function renderCheckoutClosed(session: CheckoutSession): string {
  const complete = session.status === 'complete';
  const title = complete ? 'Payment complete' : 'Checkout session expired';
  const link = complete
    ? `<p><a href="${escapeHtml(session.success_url.replace(/\{CHECKOUT_SESSION_ID\}/g, encodeURIComponent(session.id)))}">Continue</a></p>`
    : session.cancel_url
      ? `<p><a href="${escapeHtml(session.cancel_url)}">Return</a></p>`
      : '';
  return layout(
    title,
    `<div class="card">
<h1>${title}</h1>
<p>${complete ? 'This checkout session is already complete. You have not been charged again.' : 'This checkout session has expired and can no longer be paid.'}</p>
${link}
</div>`,
  );
}

export interface PortalView {
  portalId: string;
  customerEmail: string | null;
  returnUrl: string | null;
  subscriptions: Subscription[];
  products: Map<string, Product>;
  /** Prices a subscription can switch to (active, recurring, same currency). */
  prices: Price[];
  notice?: string;
  error?: string;
}

export function renderPortalPage(view: PortalView): string {
  const portal = encodeURIComponent(view.portalId);
  const current = view.subscriptions.filter((s) => s.status !== 'canceled' && s.status !== 'incomplete_expired');
  const ended = view.subscriptions.filter((s) => s.status === 'canceled' || s.status === 'incomplete_expired');
  const planName = (price: Price) => `${view.products.get(price.product)?.name ?? price.product} (${cadence(price)})`;

  const cards = current.map((sub) => {
    const item = sub.items.data[0];
    const sid = encodeURIComponent(sub.id);
    const renewal =
      sub.cancel_at !== null
        ? `Cancels on ${formatDate(sub.cancel_at)}`
        : sub.status === 'past_due'
          ? `Payment failed — please update your payment method`
          : `Renews on ${formatDate(item.current_period_end)}`;
    const switches = view.prices
      .filter((p) => p.id !== item.price.id && p.currency === sub.currency)
      .map(
        (p) => `<form method="post" action="/portal/${portal}/subscriptions/${sid}/switch">
<input type="hidden" name="price" value="${escapeHtml(p.id)}">
<button type="submit">Switch to ${escapeHtml(planName(p))}</button> <span class="muted">${escapeHtml(formatPrice(p))}</span>
</form>`,
      )
      .join('\n');
    return `<section class="card subscription" data-subscription-id="${escapeHtml(sub.id)}">
<h2 class="plan-name">${escapeHtml(planName(item.price))}</h2>
<div class="row"><span class="price">${escapeHtml(formatPrice(item.price))}</span><span class="badge ${escapeHtml(sub.status)}">${escapeHtml(sub.status)}</span></div>
<div class="muted renewal">${escapeHtml(renewal)}</div>
<div class="actions">
<form method="post" action="/portal/${portal}/subscriptions/${sid}/cancel"><button type="submit" class="danger">Cancel subscription</button></form>
</div>
<div class="actions">
${switches}
</div>
</section>`;
  });

  const past = ended.length
    ? `<div class="card"><h2>Past subscriptions</h2><ul>${ended
        .map(
          (s) =>
            `<li>${escapeHtml(planName(s.items.data[0].price))} — ended ${escapeHtml(formatDate(s.ended_at ?? s.canceled_at ?? s.created))}</li>`,
        )
        .join('')}</ul></div>`
    : '';

  let returnLink = '';
  if (view.returnUrl) {
    let host = view.returnUrl;
    try {
      host = new URL(view.returnUrl).host;
    } catch {
      // Keep the raw URL as the label.
    }
    returnLink = `<p><a href="${escapeHtml(view.returnUrl)}" class="return-link">Return to ${escapeHtml(host)}</a></p>`;
  }

  return layout(
    'Billing portal',
    `<h1>Billing portal</h1>
${view.customerEmail ? `<p class="muted">Signed in as <span class="customer-email">${escapeHtml(view.customerEmail)}</span></p>` : ''}
${view.notice ? `<div class="notice" role="status">${escapeHtml(view.notice)}</div>` : ''}
${view.error ? `<div class="error" role="alert">${escapeHtml(view.error)}</div>` : ''}
${cards.length ? cards.join('\n') : '<div class="card"><p>You have no active subscriptions.</p></div>'}
${past}
${returnLink}`,
  );
}

export function renderNotFound(what: string): string {
  return layout('Not found', `<div class="card"><h1>Not found</h1><p>${escapeHtml(what)}</p></div>`);
}
