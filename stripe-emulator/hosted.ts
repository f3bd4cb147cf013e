/**
 * Routes for the hosted Checkout and Customer Portal pages.
 *
 * Every action awaits the webhook deliveries it caused before redirecting, so
 * by the time the browser lands back on the app, the app has seen the events.
 * A failing or unreachable app only shows up in the delivery log.
 */
import type { ServerResponse } from 'node:http';
import type { BillingState } from './billing.ts';
import { StripeApiError } from './errors.ts';
import { Router, redirect, sendHtml, type PathParams } from './http.ts';
import { cadence, renderCheckoutClosed, renderCheckoutPage, renderNotFound, renderPortalPage } from './pages.ts';
import type { EventRecord, PortalSession } from './types.ts';

export interface HostedContext {
  state: BillingState;
  /** Fields of a submitted urlencoded form. */
  form: URLSearchParams;
  query: URLSearchParams;
  res: ServerResponse;
  deliver: (records: EventRecord[]) => Promise<unknown>;
}

export type HostedHandler = (ctx: HostedContext, path: PathParams) => Promise<void> | void;

const NOTICES: Record<string, string> = {
  canceled: 'Your subscription has been canceled.',
};

export function buildHostedRouter(): Router<HostedHandler> {
  const router = new Router<HostedHandler>();

  router.add('GET', '/checkout/:id', ({ state, res }, { id }) => {
    const record = state.checkoutSessions.get(id);
    if (!record) return sendHtml(res, 404, renderNotFound('This checkout session does not exist.'));
    if (record.session.status !== 'open') return sendHtml(res, 200, renderCheckoutClosed(record.session));
    sendHtml(
      res,
      200,
      renderCheckoutPage({
        session: record.session,
        lineItems: record.lineItems,
        products: state.products,
        email: state.checkoutEmail(record),
      }),
    );
  });

  router.add('POST', '/checkout/:id/pay', async ({ state, form, res, deliver }, { id }) => {
    const record = state.checkoutSessions.get(id);
    if (!record) return sendHtml(res, 404, renderNotFound('This checkout session does not exist.'));
    // Double submits and back-button resubmits land here: show the outcome, charge nothing.
    if (record.session.status !== 'open') return sendHtml(res, 200, renderCheckoutClosed(record.session));
    try {
      const { session, events } = state.completeCheckout(id, { email: form.get('email') });
      await deliver(events);
      redirect(res, session.success_url.replace(/\{CHECKOUT_SESSION_ID\}/g, encodeURIComponent(session.id)));
    } catch (error) {
      if (!(error instanceof StripeApiError)) throw error;
      sendHtml(
        res,
        400,
        renderCheckoutPage({
          session: record.session,
          lineItems: record.lineItems,
          products: state.products,
          email: state.checkoutEmail(record),
          error: error.body.param === 'email' ? 'Please enter your email address.' : error.message,
        }),
      );
    }
  });

  const cancelCheckout: HostedHandler = ({ state, res }, { id }) => {
    const record = state.checkoutSessions.get(id);
    if (!record) return sendHtml(res, 404, renderNotFound('This checkout session does not exist.'));
    // Like Stripe, leaving checkout does not expire the session.
    if (!record.session.cancel_url) return sendHtml(res, 200, renderCheckoutClosed(record.session));
    redirect(res, record.session.cancel_url);
  };
  router.add('GET', '/checkout/:id/cancel', cancelCheckout);
  router.add('POST', '/checkout/:id/cancel', cancelCheckout);

  router.add('GET', '/portal/:id', ({ state, query, res }, { id }) => {
    const portal = state.portalSessions.get(id);
    if (!portal) return sendHtml(res, 404, renderNotFound('This billing portal session does not exist.'));
    sendHtml(res, 200, renderPortal(state, portal, { notice: noticeFor(state, query) }));
  });

  router.add('POST', '/portal/:id/subscriptions/:sub/cancel', async ({ state, res, deliver }, { id, sub }) => {
    const portal = state.portalSessions.get(id);
    const subscription = state.subscriptions.get(sub);
    if (!portal || !subscription || subscription.customer !== portal.customer) {
      return sendHtml(res, 404, renderNotFound('This subscription does not exist.'));
    }
    try {
      const { events } = state.cancelSubscription(sub);
      await deliver(events);
      redirect(res, `/portal/${encodeURIComponent(id)}?notice=canceled`);
    } catch (error) {
      if (!(error instanceof StripeApiError)) throw error;
      sendHtml(res, 400, renderPortal(state, portal, { error: error.message }));
    }
  });

  router.add('POST', '/portal/:id/subscriptions/:sub/switch', async ({ state, form, res, deliver }, { id, sub }) => {
    const portal = state.portalSessions.get(id);
    const subscription = state.subscriptions.get(sub);
    if (!portal || !subscription || subscription.customer !== portal.customer) {
      return sendHtml(res, 404, renderNotFound('This subscription does not exist.'));
    }
    const price = state.prices.get(form.get('price') ?? '');
    if (!price || !price.active) {
      return sendHtml(res, 400, renderPortal(state, portal, { error: 'That plan is not available.' }));
    }
    try {
      const itemId = subscription.items.data[0].id;
      const { events } = state.updateSubscription(sub, { items: [{ id: itemId, price }] });
      await deliver(events);
      redirect(res, `/portal/${encodeURIComponent(id)}?notice=switched&price=${encodeURIComponent(price.id)}`);
    } catch (error) {
      if (!(error instanceof StripeApiError)) throw error;
      sendHtml(res, 400, renderPortal(state, portal, { error: error.message }));
    }
  });

  return router;
}

function renderPortal(state: BillingState, portal: PortalSession, messages: { notice?: string; error?: string }): string {
  return renderPortalPage({
    portalId: portal.id,
    customerEmail: state.customers.get(portal.customer)?.email ?? null,
    returnUrl: portal.return_url,
    subscriptions: state.subscriptionsOf(portal.customer).reverse(),
    products: state.products,
    prices: [...state.prices.values()].filter((p) => p.active && state.products.get(p.product)?.active !== false),
    ...messages,
  });
}

/** Notices are looked up from a fixed set rather than echoed, so the query string cannot inject text. */
function noticeFor(state: BillingState, query: URLSearchParams): string | undefined {
  const notice = query.get('notice');
  if (notice === 'switched') {
    const price = state.prices.get(query.get('price') ?? '');
    if (!price) return 'Your plan has been updated.';
    return `Your plan has been switched to ${state.productName(price.product)} (${cadence(price)}).`;
  }
  return notice ? NOTICES[notice] : undefined;
}
