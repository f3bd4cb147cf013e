// What every Remix loader and action receives as `context`, typed for the whole app.
import type { AppLoadContext } from "@remix-run/node";
import type { Request, Response } from "express";

declare module "@remix-run/node" {
  interface AppLoadContext {
    /** The client's address (behind a proxy, as `trust proxy` allows): login rate limits key on it. */
    clientIp: string;
    /** This response's Content-Security-Policy nonce, for entry.server's inline scripts. */
    cspNonce: string;
  }
}

// res.locals.cspNonce, set by server/app.ts before anything else runs.
declare module "express-serve-static-core" {
  interface Locals {
    cspNonce: string;
  }
}

export function getLoadContext(req: Request, res: Response): AppLoadContext {
  return { clientIp: req.ip ?? req.socket.remoteAddress ?? "unknown", cspNonce: res.locals.cspNonce };
}
