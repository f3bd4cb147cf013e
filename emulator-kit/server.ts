// Serving an emulator, whatever the provider: its API, the `/_emulator` controls and the hosted
// pages in an Express app that never caches, on a port (0: a free one), with the URL clients should use.
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import express, { type Router } from "express";

export interface Listening {
  /** http://HOST:PORT; a wildcard bind answers on loopback, so that is what clients get. */
  url: string;
  /** Stops listening and drops open connections (the SDKs' keep-alive sockets would hold it open). */
  close(): Promise<void>;
}

export interface EmulatorRoutes {
  /** Where the provider's API is served ("/v1", "/api/v1"), and its router. */
  api: readonly [path: string, router: Router];
  control: Router;
  pages: Router;
}

/** Serves `routes` on `port` and `host` (default 127.0.0.1); logs "<name> listening on <url>". */
export async function serveEmulator(
  name: string,
  routes: EmulatorRoutes,
  { port = 0, host = "127.0.0.1", log }: { port?: number; host?: string; log: (message: string) => void },
): Promise<Listening> {
  const app = express();
  app.disable("x-powered-by");
  app.disable("etag");
  app.use(...routes.api);
  app.use("/_emulator", routes.control);
  app.use(routes.pages);
  const server = await new Promise<Server>((resolve, reject) => {
    const listening = app.listen(port, host, () => resolve(listening));
    listening.once("error", reject);
  });
  const { address, port: bound } = server.address() as AddressInfo;
  const loopback = address === "0.0.0.0" || address === "::" ? "127.0.0.1" : address;
  const listening: Listening = {
    url: `http://${loopback.includes(":") ? `[${loopback}]` : loopback}:${bound}`,
    close: () =>
      new Promise((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
  log(`${name} listening on ${listening.url}`);
  return listening;
}
