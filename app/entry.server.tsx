// Remix's default Node entry (classic compiler), plus the Content-Security-Policy nonce: React's and
// Remix's inline scripts carry the nonce the server put in this response's CSP header. Errors are
// logged once, through the app's logger.
import { PassThrough } from "node:stream";
import type { ActionFunctionArgs, AppLoadContext, EntryContext, LoaderFunctionArgs } from "@remix-run/node";
import { createReadableStreamFromReadable } from "@remix-run/node";
import { isRouteErrorResponse, RemixServer } from "@remix-run/react";
import { isbot } from "isbot";
import { renderToPipeableStream } from "react-dom/server";
import { logger } from "~/utils/logger.server.ts";
import { NonceProvider } from "~/utils/nonce.tsx";

const ABORT_DELAY = 5_000;

export default function handleRequest(
  request: Request,
  responseStatusCode: number,
  responseHeaders: Headers,
  remixContext: EntryContext,
  loadContext: AppLoadContext,
) {
  // Bots (and SPA mode) get the whole document at once; browsers get the shell as soon as it is ready.
  const waitForAll = isbot(request.headers.get("user-agent") ?? "") || remixContext.isSpaMode;
  return render(request, responseStatusCode, responseHeaders, remixContext, loadContext.cspNonce, waitForAll);
}

function render(
  request: Request,
  responseStatusCode: number,
  responseHeaders: Headers,
  remixContext: EntryContext,
  nonce: string,
  waitForAll: boolean,
) {
  return new Promise<Response>((resolve, reject) => {
    let shellRendered = false;
    const ready = () => {
      shellRendered = true;
      const body = new PassThrough();
      const stream = createReadableStreamFromReadable(body);
      responseHeaders.set("Content-Type", "text/html");
      resolve(new Response(stream, { headers: responseHeaders, status: responseStatusCode }));
      pipe(body);
    };
    const { pipe, abort } = renderToPipeableStream(
      <NonceProvider value={nonce}>
        <RemixServer context={remixContext} url={request.url} abortDelay={ABORT_DELAY} />
      </NonceProvider>,
      {
        nonce,
        ...(waitForAll ? { onAllReady: ready } : { onShellReady: ready }),
        onShellError(error: unknown) {
          reject(error);
        },
        onError(error: unknown) {
          responseStatusCode = 500;
          // Errors in the shell reject and reach handleError; only streamed ones are logged here.
          if (shellRendered && !request.signal.aborted) {
            logger.error({ err: error, path: new URL(request.url).pathname }, "streaming render failed");
          }
        },
      },
    );
    setTimeout(abort, ABORT_DELAY);
  });
}

export function handleError(error: unknown, { request }: LoaderFunctionArgs | ActionFunctionArgs) {
  // The client went away: nothing went wrong on our side.
  if (request.signal.aborted) return;
  const where = { method: request.method, path: new URL(request.url).pathname };
  if (isRouteErrorResponse(error)) {
    // Remix's own 4xx (no route matches, method not allowed) wrap an Error whose stack says nothing.
    const inner = (error as { error?: unknown }).error;
    if (error.status < 500) {
      logger.info({ ...where, status: error.status }, inner instanceof Error ? inner.message : error.statusText);
      return;
    }
    error = inner ?? error;
  }
  logger.error({ ...where, err: error }, "request failed");
}
