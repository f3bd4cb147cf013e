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
import { isCrossSiteRequest } from "./app/utils/cross-site.server.ts";
import { ConfigurationError, isProduction, readEnv } from "./app/utils/env.server.ts";

const DEFAULT_EMULATOR_PORT = 12111;

/**
 * Without a Stripe key outside production, billing runs against the bundled Stripe emulator so the
 * quick start works offline. In production a missing key disables billing (loudly), never fakes it.
 */
async function configureStripe(appPort: number): Promise<(() => Promise<void>) | undefined> {
  if (process.env.STRIPE_API_KEY) return undefined;
  if (isProduction()) {
    console.warn("WARNING: STRIPE_API_KEY is not set: billing is DISABLED (checkout answers 503).");
    return undefined;
  }
  const { startStripeEmulator } = await import("./stripe-emulator/emulator.ts");
  const webhookSecret = process.env.STRIPE_WEBHOOK_SECRET?.split(",")[0]?.trim() || "whsec_emulator";
  const options = { webhookUrl: `http://127.0.0.1:${appPort}/api/stripe/webhook`, webhookSecret };
  const port = Number(process.env.STRIPE_EMULATOR_PORT ?? DEFAULT_EMULATOR_PORT);
  const emulator = await startStripeEmulator({ ...options, port }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== "EADDRINUSE") throw error;
    return startStripeEmulator({ ...options, port: 0 }); // another instance has the usual port
  });
  process.env.STRIPE_API_KEY = "sk_test_emulator";
  process.env.STRIPE_API_BASE = emulator.url;
  process.env.STRIPE_WEBHOOK_SECRET ??= webhookSecret;
  process.env.TIERDESK_STRIPE_EMULATOR = "1";
  console.log(`Stripe emulator at ${emulator.url} (no real payments); webhooks go to ${options.webhookUrl}`);
  return () => emulator.close();
}

async function main() {
  const env = readEnv();
  const db = await prepareDatabase();
  if (db.kind === "pglite") {
    if (isProduction()) {
      console.warn("WARNING: production on the embedded database: set DATABASE_URL to a PostgreSQL database.");
    }
    await seed(db.prisma, { hashPassword, demoUsers: !isProduction() });
    console.log(`Embedded database at ${embeddedDataDir()} (${isProduction() ? "tiers seeded, no demo users" : "demo data seeded"}).`);
  }

  const stopEmulator = await configureStripe(env.PORT);

  const buildPath = path.resolve("build/index.js");
  const build = (await import(pathToFileURL(buildPath).href)) as ServerBuild;

  const app = express();
  app.disable("x-powered-by");
  if (env.TRUST_PROXY) app.set("trust proxy", /^\d+$/.test(env.TRUST_PROXY) ? Number(env.TRUST_PROXY) : env.TRUST_PROXY);
  // Fingerprinted assets can be cached forever; everything else in public/ briefly.
  app.use("/build", express.static("public/build", { immutable: true, maxAge: "1y" }));
  app.use(express.static("public", { maxAge: "1h" }));
  app.use((req, res, next) => {
    // Stripe's webhooks are server-to-server and signed; every other POST must come from this site.
    if (req.path === "/api/stripe/webhook") return next();
    // Behind a proxy that rewrites Host, APP_URL names the public host.
    const ownHosts = env.APP_URL ? [new URL(env.APP_URL).host] : [req.get("host") ?? ""];
    if (env.TRUST_PROXY && req.get("x-forwarded-host")) ownHosts.push(req.get("x-forwarded-host")!);
    const headers = { get: (name: string) => req.get(name) };
    if (isCrossSiteRequest(req.method, headers, ownHosts)) {
      res.status(403).json({ error: "Cross-site requests are not allowed." });
      return;
    }
    next();
  });
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
    await stopEmulator?.().catch((error) => console.error(error));
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
