// How the checkout and portal routes answer. fetch() callers (JSON body or Accept: application/json)
// get `{ url }` or `{ error }` with the status. Plain form posts get a 303 to Stripe (with the same
// JSON body for API clients that do not follow redirects), and on error the status with a short
// HTML page for browsers without JavaScript, or JSON for anything else.
import { jsonResponse, wantsJson } from "~/utils/http.server.ts";
import { BillingRequestError } from "./checkout.server.ts";

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

function errorPage(status: number, message: string, backTo: { href: string; label: string }) {
  const body = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Billing · Tierdesk</title><link rel="icon" href="/favicon.svg" type="image/svg+xml"></head>
<body style="font-family: system-ui, sans-serif; max-width: 36rem; margin: 4rem auto; padding: 0 1rem; color: #1d2433">
<h1 style="font-size: 1.5rem">We could not do that</h1>
<p role="alert" data-testid="billing-error" style="background: #fef3f2; color: #b42318; border: 1px solid #fecdca; border-radius: 6px; padding: 0.6rem 0.8rem">${escapeHtml(message)}</p>
<p><a href="${backTo.href}">${escapeHtml(backTo.label)}</a></p></body></html>`;
  return new Response(body, { status, headers: { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store" } });
}

export async function respondWithStripeUrl(
  request: Request,
  produce: () => Promise<{ url: string }>,
  backTo: { href: string; label: string },
): Promise<Response> {
  const json = wantsJson(request);
  try {
    const { url } = await produce();
    if (json) return jsonResponse({ url });
    return jsonResponse({ url }, 303, { Location: url });
  } catch (error) {
    if (!(error instanceof BillingRequestError)) throw error;
    const browser = (request.headers.get("Accept") ?? "").includes("text/html");
    if (browser && !json) return errorPage(error.status, error.message, backTo);
    return jsonResponse({ error: error.message, ...error.extra }, error.status);
  }
}
