// The app's logger: one JSON object per line on stdout (pino). The server entry and the Remix build
// each bundle this module, so the instance lives on globalThis and both log through it.
// The level starts at "info"; the server sets `config().logLevel` at start-up (`setLogLevel`), which
// keeps this module free of configuration reads at import time (a bad config must fail in main()).
import { pino, type LevelWithSilent } from "pino";
import { singleton } from "./singleton.server.ts";

export const logger = singleton("logger", () =>
  pino(
    {
      level: "info",
      // Belt and braces: callers log whitelisted fields, but a stray header object must not leak secrets.
      redact: {
        paths: [
          "req.headers.cookie",
          "req.headers.authorization",
          "headers.cookie",
          "headers.authorization",
          'res.headers["set-cookie"]',
          "password",
          "*.password",
        ],
        censor: "[redacted]",
      },
    },
    // Written asynchronously: under a burst of requests, lines leave in batches rather than one
    // write(2) each on the event loop (bench/webhook.ts). pino flushes what is pending on exit.
    pino.destination({ dest: 1, sync: false }),
  ),
);

export function setLogLevel(level: LevelWithSilent) {
  logger.level = level;
}

/** The path of a request URL without its query string (queries can carry tokens). */
export function pathOf(url: string | undefined): string {
  if (!url) return "";
  const end = url.search(/[?#]/);
  return end === -1 ? url : url.slice(0, end);
}
