// The production build served as server/index.ts serves it (createServer), in the test
// process on a free port: tests that need the real server in front of the routes.
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { ServerBuild } from "@remix-run/node";
import type { Config } from "../app/utils/config.server.ts";
import { createServer } from "../server/app.ts";
import { assertFreshBuild } from "./build-freshness.ts";

const BUILD_FILE = path.resolve(import.meta.dirname, "../build/index.js");

export async function startProductionServer(
  config: Config,
): Promise<{ server: Server; origin: string; build: ServerBuild }> {
  assertFreshBuild();
  const build = (await import(pathToFileURL(BUILD_FILE).href)) as ServerBuild;
  const server = createServer({ build, config }).listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, build };
}
