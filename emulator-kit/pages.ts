// The hosted pages' common parts: escaping, the page around each emulator's content (its name in a
// banner that says no real payment happens), answering HTML and async form handlers.
import type { RequestHandler, Request, Response } from "express";

export const escapeHtml = (value: string) =>
  value.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c);

/** The page function of one emulator: `name` ("Stripe emulator") in title and banner, its stylesheet. */
export function pageLayout(name: string, style: string) {
  return (title: string, body: string): string => `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · ${name}</title><link rel="icon" href="data:,"><style>${style}</style></head>
<body>
<div class="banner" role="note">${name} — no real payment</div>
<main>
${body}
</main>
</body>
</html>`;
}

/** Answers a page; never cached, since it shows live state. */
export const sendHtml = (res: Response, status: number, body: string) =>
  void res.status(status).set("Cache-Control", "no-store").type("html").send(body);

/** An async handler whose failures reach Express's error handling. */
export const caught =
  (handler: (req: Request, res: Response) => Promise<void>): RequestHandler =>
  (req, res, next) =>
    void handler(req, res).catch(next);
