// What serving an emulator takes, whatever the provider: an Express app that never caches, and
// listening on a port (0: a free one) with the URL clients should use.
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import express, { type Express } from "express";

/** An Express app without `X-Powered-By` or ETags. */
export function emulatorApp(): Express {
  const app = express();
  app.disable("x-powered-by");
  app.disable("etag");
  return app;
}

export interface Listening {
  /** http://HOST:PORT; a wildcard bind answers on loopback, so that is what clients get. */
  url: string;
  /** Stops listening and drops open connections (the SDKs' keep-alive sockets would hold it open). */
  close(): Promise<void>;
}

export async function listen(app: Express, { port = 0, host = "127.0.0.1" }: { port?: number; host?: string }) {
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
  return listening;
}
