// Builds Tierdesk's Express app around a Remix build: security headers, the request log, static
// files, the cross-site POST guard, then Remix. server/index.ts runs it; tests can build their own.
import crypto from "node:crypto";
import http, { type IncomingMessage, type RequestListener, type ServerResponse, STATUS_CODES } from "node:http";
import { createRequestHandler } from "@remix-run/express";
import type { ServerBuild } from "@remix-run/node";
import express, { type ErrorRequestHandler, type Response } from "express";
import helmet from "helmet";
import { pinoHttp } from "pino-http";
import { stripeConnection } from "../app/services/stripe/client.server.ts";
import { WHOP_HOSTED_PAGES, whopConnection } from "../app/services/whop/client.server.ts";
import type { Config } from "../app/utils/config.server.ts";
import { isCrossSiteRequest } from "../app/utils/cross-site.server.ts";
import { FORM_BODY_LIMIT, WEBHOOK_BODY_LIMIT } from "../app/utils/http.server.ts";
import { hasControlCharacter } from "../app/utils/validation.ts";
import { logger, pathOf } from "../app/utils/logger.server.ts";
import { problem } from "../app/web/problem.server.ts";
import { getLoadContext } from "./load-context.ts";

const STRIPE_WEBHOOK_PATH = "/api/stripe/webhook";
// Where /api/stripe/checkout and /api/stripe/portal send a plain form post (303). Chromium applies
// form-action to the redirect too, so these must be allowed or the no-JavaScript flow breaks.
const STRIPE_HOSTED_PAGES = ["https://checkout.stripe.com", "https://billing.stripe.com"];

export type AppOptions = { build: ServerBuild; config: Config };

/** The origins a form post may end up at: this site, Stripe's hosted pages, and a Stripe double's. */
export function formActionSources(): string[] {
  const sources = ["'self'", ...STRIPE_HOSTED_PAGES];
  // The emulator (or another double) serves its hosted checkout and portal from its own origin.
  const { apiBase } = stripeConnection();
  if (apiBase) sources.push(new URL(apiBase).origin);
  // /api/whop/checkout sends a plain form post on to Whop's hosted checkout (or the Whop emulator's).
  sources.push(...WHOP_HOSTED_PAGES);
  const whopBase = whopConnection().apiBase;
  if (whopBase) sources.push(new URL(whopBase).origin);
  return sources;
}

function securityHeaders(config: Config) {
  const nonce = (_req: IncomingMessage, res: ServerResponse) => `'nonce-${(res as Response).locals.cspNonce}'`;
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        "default-src": ["'self'"],
        // No 'unsafe-inline': Remix's and React's inline scripts carry this response's nonce. No
        // 'strict-dynamic': it switches 'self' off, and Remix 2's <link rel="modulepreload"> (no nonce) then
        // only loads through the preload loophole that also lets injected markup in (w3c/webappsec-csp#823).
        "script-src": ["'self'", nonce],
        "script-src-attr": ["'none'"],
        // Inline style attributes (the billing error page, React's style props) are harmless enough.
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        // The Remix dev server's live reload talks over a WebSocket on another port.
        "connect-src": config.production ? ["'self'"] : ["'self'", "ws:"],
        // Per response: the server starts the emulator (and says so to the Stripe module) after listening.
        "form-action": [() => formActionSources().join(" ")],
        "frame-ancestors": ["'none'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        // Would turn http://localhost subresources into failing https:// requests in development.
        "upgrade-insecure-requests": config.production ? [] : null,
      },
    },
    crossOriginOpenerPolicy: { policy: "same-origin" },
    referrerPolicy: { policy: "same-origin" },
    // Browsers ignore HSTS over plain http, and on localhost it would pin the name to https for a year.
    strictTransportSecurity: config.production ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    xFrameOptions: { action: "deny" },
  });
}

// Express strips a mount path ("/build") from req.url inside that middleware; originalUrl keeps it.
const urlOf = (req: IncomingMessage) => (req as { originalUrl?: string }).originalUrl ?? req.url ?? "";

function requestLog() {
  return pinoHttp({
    logger,
    // Whitelists: never headers (cookies, authorization), bodies, or the query string (it can carry tokens).
    serializers: {
      req: (req: { method: string; url: string }) => ({ method: req.method, path: pathOf(req.url) }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
    customAttributeKeys: { responseTime: "durationMs" },
    quietReqLogger: true,
    customLogLevel: (req, res, error) => {
      if (error || res.statusCode >= 500) return "error";
      // Fingerprinted assets and public files are noise unless asked for.
      if (res.statusCode < 400 && /^\/(build\/|favicon)/.test(urlOf(req))) return "debug";
      return "info";
    },
    customSuccessMessage: (req, res) => `${req.method} ${pathOf(urlOf(req))} ${res.statusCode}`,
    customErrorMessage: (req, res) => `${req.method} ${pathOf(urlOf(req))} ${res.statusCode}`,
    // A 5xx without a thrown error gets a made-up Error from pino-http: its stack says nothing.
    customErrorObject: (_req, _res, error, value) =>
      /^failed with status code \d+$/.test(error.message) ? { ...value, err: undefined } : value,
  });
}

const isApiV1 = (path: string) => path.startsWith("/api/v1/");

/** Sends a problem-details answer through Express (/api/v1's errors outside its routes). */
function sendProblem(res: Response, answer: globalThis.Response) {
  res.status(answer.status).set(Object.fromEntries(answer.headers));
  void answer.text().then((body) => res.end(body));
}

/** Refuses state-changing requests from other sites (Stripe's signed webhooks excepted). */
function crossSiteGuard(config: Config): express.RequestHandler {
  return (req, res, next) => {
    // Stripe's webhooks are server-to-server and signed; every other POST must come from this site.
    if (req.path === STRIPE_WEBHOOK_PATH) return next();
    // /api/v1 authenticates with a Bearer key and never reads a cookie: no browser can be made to use it.
    if (isApiV1(req.path)) return next();
    // Behind a proxy that rewrites Host, APP_URL names the public host.
    const ownHosts = config.appUrl ? [new URL(config.appUrl).host] : [req.get("host") ?? ""];
    if (config.trustProxy !== null && req.get("x-forwarded-host")) ownHosts.push(req.get("x-forwarded-host")!);
    const headers = { get: (name: string) => req.get(name) };
    if (isCrossSiteRequest(req.method, headers, ownHosts)) {
      res.status(403).json({ error: "Cross-site requests are not allowed." });
      return;
    }
    next();
  };
}

const WEBHOOK_ROUTE = /^\/api\/(stripe|whop)\/webhook\/?$/i;

/** The most a request to this path may send: webhooks up to 1 MiB, every form and JSON call 64 KiB. */
export function bodyLimitFor(path: string): number {
  return WEBHOOK_ROUTE.test(path) ? WEBHOOK_BODY_LIMIT : FORM_BODY_LIMIT;
}

const declaredLength = (req: IncomingMessage) => Number(req.headers["content-length"] ?? "0");

// After a refused body's answer, Node reads the rest and drops it (so the sender sees the answer
// rather than a reset connection); past this much the connection is cut instead.
const REFUSED_BODY_DRAIN_LIMIT = 1024 * 1024 * 1024;

function refuseLargeBody(req: IncomingMessage, res: ServerResponse, limit: number) {
  let drained = 0;
  req.on("data", (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > REFUSED_BODY_DRAIN_LIMIT) req.socket.destroy();
  });
  const detail = `The request body is larger than ${limit / 1024} KiB.`;
  if (req.url?.startsWith("/api/v1/")) {
    // /api/v1 answers every error as problem details, this one too.
    const answer = problem("payload_too_large", detail);
    res.writeHead(413, Object.fromEntries(answer.headers));
    void answer.text().then((body) => res.end(body));
    return;
  }
  res.writeHead(413, { "Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store" });
  res.end(JSON.stringify({ error: detail }));
}

/**
 * Bodies over their route's limit are answered 413 from their Content-Length, before a byte of them is
 * read (a body without a length is cut at the same limit by the route's reader, app/utils/http.server.ts).
 */
function bodyLimits(): express.RequestHandler {
  return (req, res, next) => {
    const limit = bodyLimitFor(req.path);
    if (declaredLength(req) > limit) refuseLargeBody(req, res, limit);
    else next();
  };
}

/** A NUL or other control character in the path or query string is a 400, before any route reads it. */
function refuseControlCharacters(): express.RequestHandler {
  return (req, res, next) => {
    let decoded: string;
    try {
      decoded = decodeURIComponent(urlOf(req).replaceAll("+", " "));
    } catch {
      return next(); // a malformed escape: Express answers it as the client error it is
    }
    if (!hasControlCharacter(decoded) && !/[\n\r\t]/.test(decoded)) return next();
    if (isApiV1(req.path)) {
      return sendProblem(res, problem("invalid_request", "The address contains a control character (such as %00)."));
    }
    res
      .status(400)
      .type("text/plain")
      .send("Bad request: the address contains a control character (such as %00), which no page accepts.");
  };
}

// Last resort for errors outside Remix's own handling. Express marks client errors (a malformed
// %-escape in the path) with a 4xx status: those answer as such, without a stack in the log.
const lastResort: ErrorRequestHandler = (error, req, res, next) => {
  const status = Number((error as { status?: unknown }).status);
  const clientError = status >= 400 && status < 500;
  if (clientError) req.log.info({ status }, (error as Error).message);
  else req.log.error({ err: error }, "unhandled error");
  if (res.headersSent) return next(error);
  if (isApiV1(req.path)) {
    const answer = clientError
      ? problem("invalid_request", "The request is malformed (such as a broken %-escape in the path).")
      : problem("internal_error", "Something went wrong on our side; the request can be retried.");
    return sendProblem(res, answer);
  }
  const code = clientError ? status : 500;
  res.status(code).type("text/plain").send(STATUS_CODES[code]);
};

// The webhook route refuses bodies over 1 MiB; a byte more is all it needs to see to say so.
const WEBHOOK_READ_LIMIT = 1024 * 1024 + 1;
// How much of a refused body is read (and dropped) so its answer arrives; beyond it, the connection is cut.
const DRAIN_LIMIT = 16 * 1024 * 1024;
type WebhookAnswer = { status: number; headers: Record<string, string>; body: string };
type DeliverWebhook = (
  delivery: { signature: string | null; body: Buffer } | { signature: string | null; tooLarge: true },
) => Promise<WebhookAnswer>;

/** A JSON answer to a server-to-server call: nothing in it may run, be framed or be sniffed. */
function apiSecurityHeaders(config: Config): Record<string, string> {
  return {
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    ...(config.production ? { "Strict-Transport-Security": "max-age=31536000; includeSubDomains" } : {}),
  };
}

/**
 * Stripe's deliveries go straight to the webhook route's `deliver` (the same answers as its action:
 * the route decides them), before Express, the nonce, helmet, the request-log middleware and Remix:
 * Stripe delivers in bursts, and that plumbing and Fetch's Request/Response cost more than the
 * webhook's own work (bench/webhook.ts). Static security headers for a JSON answer, the same log line.
 */
function stripeWebhookDirect(build: ServerBuild, config: Config): RequestListener | null {
  const route = build.routes["routes/api.stripe.webhook"]?.module as { deliver?: DeliverWebhook } | undefined;
  const deliver = route?.deliver;
  if (!deliver) return null;
  const securityHeaders = apiSecurityHeaders(config);
  return (req, res) => {
    const started = performance.now();
    const chunks: Buffer[] = [];
    let size = 0;
    const header = req.headers["stripe-signature"];
    const signature = (Array.isArray(header) ? header.join(", ") : header) || null;
    const respond = async () => {
      req.removeListener("data", collect).removeListener("end", respond);
      let status = 500;
      try {
        const delivery = {
          signature,
          ...(size >= WEBHOOK_READ_LIMIT ? { tooLarge: true as const } : { body: Buffer.concat(chunks) }),
        };
        const answer = await deliver(delivery);
        status = answer.status;
        res.writeHead(status, { ...securityHeaders, ...answer.headers });
        res.end(answer.body);
      } catch (error) {
        logger.error({ err: error }, "unhandled error");
        const detail = JSON.stringify({
          type: "urn:tierdesk:problem:internal_error",
          title: "Internal error",
          status: 500,
          detail: "Something went wrong on our side; the request can be retried.",
          code: "internal_error",
        });
        if (!res.headersSent) res.writeHead(500, { ...securityHeaders, "Content-Type": "application/problem+json" });
        res.end(detail);
      }
      const line = {
        req: { method: req.method, path: STRIPE_WEBHOOK_PATH },
        res: { statusCode: status },
        durationMs: Math.round(performance.now() - started),
      };
      logger[status >= 500 ? "error" : "info"](line, `${req.method} ${STRIPE_WEBHOOK_PATH} ${status}`);
    };
    // A body that will be refused (unsigned, or over 1 MiB) is read to its end without being kept, so
    // the answer reaches the sender before the connection closes: closing on unread bytes resets it,
    // and the sender sees a broken connection instead of the 4xx. Past DRAIN_LIMIT it is cut short.
    const collect = (chunk: Buffer) => {
      size += chunk.length;
      if (signature && size < WEBHOOK_READ_LIMIT) chunks.push(chunk);
      if (size > DRAIN_LIMIT) {
        void respond().then(() => req.socket.destroy());
      }
    };
    req.on("data", collect).on("end", respond);
  };
}

type ApiAnswer = (authorization: string | null, input: string) => Promise<globalThis.Response>;
const API_CHECK_PATH = "/api/v1/check";
const API_ENTITLEMENTS_PATH = /^\/api\/v1\/accounts\/([^/?#]+)\/entitlements$/;

/**
 * /api/v1's hot path (a product asks on every request of its own): `POST /api/v1/check` and
 * `GET /api/v1/accounts/{ref}/entitlements` go straight to their routes' `answer`, as Stripe's webhooks
 * do (the same answers as their loader and action: the routes decide them), skipping Express's
 * plumbing and Remix's matching (bench/api.ts). Static security headers, the same log line. Null when
 * the build lacks them; anything else under /api/v1 (another method, a query string) goes through Express.
 */
function apiDirect(
  build: ServerBuild,
  config: Config,
): ((req: IncomingMessage, res: ServerResponse) => boolean) | null {
  const check = (build.routes["routes/api.v1.check"]?.module as { answer?: ApiAnswer } | undefined)?.answer;
  const entitlements = (
    build.routes["routes/api.v1.accounts.$ref.entitlements"]?.module as { answer?: ApiAnswer } | undefined
  )?.answer;
  if (!check || !entitlements) return null;
  const securityHeaders = apiSecurityHeaders(config);
  const send = (
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    started: number,
    answer: Promise<globalThis.Response>,
  ) => {
    let status = 500;
    void answer
      .then(async (response) => {
        status = response.status;
        const body = await response.text();
        res.writeHead(status, { ...securityHeaders, ...Object.fromEntries(response.headers) });
        res.end(body);
      })
      .catch((error: unknown) => {
        logger.error({ err: error }, "unhandled error");
        const detail = JSON.stringify({
          type: "urn:tierdesk:problem:internal_error",
          title: "Internal error",
          status: 500,
          detail: "Something went wrong on our side; the request can be retried.",
          code: "internal_error",
        });
        if (!res.headersSent) res.writeHead(500, { ...securityHeaders, "Content-Type": "application/problem+json" });
        res.end(detail);
      })
      .finally(() => {
        const line = {
          req: { method: req.method, path },
          res: { statusCode: status },
          durationMs: Math.round(performance.now() - started),
        };
        logger[status >= 500 ? "error" : "info"](line, `${req.method} ${path} ${status}`);
      });
  };
  const authorizationOf = (req: IncomingMessage) => req.headers.authorization ?? null;
  return (req, res) => {
    const url = req.url ?? "";
    const started = performance.now();
    if (req.method === "GET") {
      const match = API_ENTITLEMENTS_PATH.exec(url);
      if (!match) return false;
      let ref: string;
      try {
        ref = decodeURIComponent(match[1]!);
      } catch {
        return false; // Express answers a malformed escape as it always does
      }
      if (hasControlCharacter(ref) || /[\n\r\t]/.test(ref)) return false; // refused by Express, as any path
      send(req, res, url, started, entitlements(authorizationOf(req), ref));
      return true;
    }
    if (req.method !== "POST" || url !== API_CHECK_PATH) return false;
    // A declared body over the limit is refused by Express's bodyLimits before a byte is read.
    if (declaredLength(req) > FORM_BODY_LIMIT) return false;
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= FORM_BODY_LIMIT) chunks.push(chunk);
      else if (size > DRAIN_LIMIT) req.socket.destroy();
    });
    req.on("end", () => {
      const body = size > FORM_BODY_LIMIT ? null : Buffer.concat(chunks).toString("utf8");
      send(
        req,
        res,
        url,
        started,
        body === null
          ? Promise.resolve(problem("payload_too_large", `Send at most ${FORM_BODY_LIMIT} bytes.`))
          : check(authorizationOf(req), body),
      );
    });
    return true;
  };
}

export function createApp({ build, config }: AppOptions): express.Express {
  const app = express();
  app.disable("x-powered-by");
  if (config.trustProxy !== null) app.set("trust proxy", config.trustProxy);

  // A fresh nonce per response, before helmet writes it into the CSP header.
  app.use((_req, res, next) => {
    res.locals.cspNonce = crypto.randomBytes(16).toString("base64");
    next();
  });
  app.use(securityHeaders(config));
  app.use(requestLog());
  app.use(refuseControlCharacters());
  app.use(bodyLimits());

  // Fingerprinted assets can be cached forever; everything else in public/ briefly.
  app.use("/build", express.static("public/build", { immutable: true, maxAge: "1y" }));
  app.use(express.static("public", { maxAge: "1h" }));
  app.use(crossSiteGuard(config));
  app.all("*", createRequestHandler({ build, mode: build.mode, getLoadContext }));
  app.use(lastResort);
  return app;
}

/**
 * The server's request listener: Stripe's webhook deliveries (POST to exactly /api/stripe/webhook)
 * and /api/v1's check and entitlements straight to their routes, before Express; everything else, including other spellings of that path,
 * through the app (where the same route answers them).
 */
export function createRequestListener(options: AppOptions): RequestListener {
  const app = createApp(options);
  const webhook = stripeWebhookDirect(options.build, options.config);
  const api = apiDirect(options.build, options.config);
  return (req, res) => {
    if (webhook && req.method === "POST" && req.url === STRIPE_WEBHOOK_PATH) webhook(req, res);
    else if (!api?.(req, res)) app(req, res);
  };
}

/**
 * Tierdesk's HTTP server. A client that asks before sending its body (`Expect: 100-continue`, as curl
 * does for large uploads) is told 413 at once when the body would be over its route's limit.
 */
export function createServer(options: AppOptions): http.Server {
  const listener = createRequestListener(options);
  const server = http.createServer(listener);
  server.on("checkContinue", (req: IncomingMessage, res: ServerResponse) => {
    const limit = bodyLimitFor(new URL(req.url ?? "/", "http://tierdesk.invalid").pathname);
    if (declaredLength(req) > limit) {
      res.shouldKeepAlive = false; // the client may send the body anyway: do not parse it as a request
      refuseLargeBody(req, res, limit);
      return;
    }
    res.writeContinue();
    listener(req, res);
  });
  return server;
}
