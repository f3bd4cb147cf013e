// Tierdesk's HTTP server: Express serving the Remix build.
// On the embedded defaults (no DATABASE_URL) it migrates and seeds the PGlite database first.
import path from "node:path";
import { pathToFileURL } from "node:url";
import { createRequestHandler } from "@remix-run/express";
import { broadcastDevReady, type ServerBuild } from "@remix-run/node";
import express from "express";
import { seed } from "./prisma/seed.ts";
import { hashPassword } from "./app/models/user.server.ts";
import { closeDatabase, embeddedDataDir, prepareDatabase } from "./app/utils/db.server.ts";
import { ConfigurationError, readEnv } from "./app/utils/env.server.ts";

async function main() {
  const env = readEnv();
  const db = await prepareDatabase();
  if (db.kind === "pglite") {
    await seed(db.prisma, { hashPassword });
    console.log(`Embedded database at ${embeddedDataDir()} (demo data seeded).`);
  }

  const buildPath = path.resolve("build/index.js");
  const build = (await import(pathToFileURL(buildPath).href)) as ServerBuild;

  const app = express();
  app.disable("x-powered-by");
  if (env.TRUST_PROXY) app.set("trust proxy", /^\d+$/.test(env.TRUST_PROXY) ? Number(env.TRUST_PROXY) : env.TRUST_PROXY);
  // Fingerprinted assets can be cached forever; everything else in public/ briefly.
  app.use("/build", express.static("public/build", { immutable: true, maxAge: "1y" }));
  app.use(express.static("public", { maxAge: "1h" }));
  app.all(
    "*",
    createRequestHandler({
      build,
      mode: build.mode,
      getLoadContext: (req) => ({ clientIp: req.ip ?? req.socket.remoteAddress ?? "unknown" }),
    }),
  );

  const server = app.listen(env.PORT, () => {
    console.log(`Tierdesk listening on http://localhost:${env.PORT}`);
    if (process.env.NODE_ENV === "development" && process.env.REMIX_DEV_ORIGIN) broadcastDevReady(build);
  });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: shutting down`);
    server.close();
    server.closeAllConnections();
    // PGlite must be closed cleanly or its data folder needs recovery next time.
    await closeDatabase().catch((error) => console.error(error));
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}

main().catch(async (error) => {
  if (error instanceof ConfigurationError) console.error(`Tierdesk cannot start. ${error.message}`);
  else console.error(error);
  await closeDatabase().catch(() => {});
  process.exit(1);
});
