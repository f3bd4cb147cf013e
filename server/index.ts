// Tierdesk's HTTP server: parses the configuration, prepares the database (on the embedded defaults,
// no DATABASE_URL, it migrates and seeds PGlite), connects billing, serves the Remix build, and works
// the job queue (unless WORKER_ENABLED=false).
import { once } from "node:events";
import fs from "node:fs";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { broadcastDevReady, type ServerBuild } from "@remix-run/node";
import { useStripeConnection } from "../app/services/stripe/client.server.ts";
import { useWhopConnection } from "../app/services/whop/client.server.ts";
import { hashPassword } from "../app/models/user.server.ts";
import { type Config, ConfigurationError, parseConfig, useConfig } from "../app/utils/config.server.ts";
import { closeDatabase, embeddedDataDir, prepareDatabase } from "../app/db/db.server.ts";
import { stopJobQueue } from "../app/services/jobs/queue.server.ts";
import { startJobWorker } from "../app/services/jobs/worker.server.ts";
import { localSecret } from "../app/utils/local-secret.server.ts";
import { logger, setLogLevel } from "../app/utils/logger.server.ts";
import { seed } from "../prisma/seed.ts";
import { emulatorStateFile, removeStateFile } from "../stripe-emulator/state.ts";
import { createServer } from "./app.ts";

type Emulator = { url: string; close(): Promise<void> };

// The emulators' webhook signing secrets when none is configured: random per data folder (a published
// constant would let anyone who reaches the app forge a cancellation), kept there across restarts.
const STRIPE_EMULATOR_SECRET_FILE = "stripe-emulator-webhook-secret";
const WHOP_EMULATOR_SECRET_FILE = "whop-emulator-webhook-secret";

/** How this machine reaches the server: the bound address, or loopback when it listens on every interface. */
function localHost(host: string): string {
  const name = ["0.0.0.0", "::", "[::]"].includes(host) ? "127.0.0.1" : host;
  return name.includes(":") && !name.startsWith("[") ? `[${name}]` : name;
}

/**
 * Without a Stripe key outside production, billing runs against the bundled Stripe emulator so the
 * quick start works offline. In production a missing key disables billing (loudly), never fakes it.
 * Started once the app listens: its webhooks need the app's port, which the OS may have picked.
 */
async function startEmulatorIfNeeded(
  config: Config,
  appOrigin: string,
  { freshDatabase }: { freshDatabase: boolean },
): Promise<Emulator | undefined> {
  if (config.stripe.apiKey) return undefined;
  if (config.production) {
    logger.warn("STRIPE_API_KEY is not set: billing is DISABLED (checkout answers 503).");
    return undefined;
  }
  const { startStripeEmulator } = await import("../stripe-emulator/emulator.ts");
  const webhookSecret =
    config.stripe.webhookSecrets[0] ?? localSecret(config.dataDir, STRIPE_EMULATOR_SECRET_FILE, "whsec_");
  const emulatorLog = logger.child({ component: "stripe-emulator" });
  // Its customers survive a restart, like a real Stripe account's; a new database starts it empty too.
  const stateFile = emulatorStateFile(config);
  if (freshDatabase) removeStateFile(stateFile);
  const options = {
    webhookUrl: `${appOrigin}/api/stripe/webhook`,
    webhookSecret,
    stateFile,
    log: (message: string) => emulatorLog.debug(message),
  };
  const emulator = await startStripeEmulator({ ...options, port: config.stripe.emulatorPort }).catch(
    (error: NodeJS.ErrnoException) => {
      if (error.code !== "EADDRINUSE") throw error;
      return startStripeEmulator({ ...options, port: 0 }); // another instance has the usual port
    },
  );
  // Said to the Stripe module directly: nothing rewrites the environment at start-up.
  useStripeConnection({
    mode: "emulator",
    apiKey: "sk_test_emulator",
    apiBase: emulator.url,
    webhookSecrets: [webhookSecret],
  });
  logger.info(
    `Stripe emulator at ${emulator.url} (no real payments); webhooks go to ${options.webhookUrl}; state in ${stateFile}`,
  );
  return emulator;
}

/**
 * Without a Whop key outside production, Whop tiers are sold through the bundled Whop emulator (the
 * same way as Stripe's). In production a missing key leaves Whop tiers not purchasable, loudly.
 */
async function startWhopEmulatorIfNeeded(config: Config, appOrigin: string): Promise<Emulator | undefined> {
  if (config.whop.apiKey) return undefined;
  if (config.production) {
    logger.warn("WHOP_API_KEY is not set: Whop tiers are NOT purchasable (shown as unavailable; Whop is not asked).");
    return undefined;
  }
  const { startWhopEmulator } = await import("../whop-emulator/emulator.ts");
  const webhookSecret = config.whop.webhookSecrets[0] ?? localSecret(config.dataDir, WHOP_EMULATOR_SECRET_FILE, "ws_");
  const emulatorLog = logger.child({ component: "whop-emulator" });
  const options = {
    webhookUrl: `${appOrigin}/api/whop/webhook`,
    webhookSecret,
    log: (message: string) => emulatorLog.debug(message),
  };
  const emulator = await startWhopEmulator({ ...options, port: config.whop.emulatorPort }).catch(
    (error: NodeJS.ErrnoException) => {
      if (error.code !== "EADDRINUSE") throw error;
      return startWhopEmulator({ ...options, port: 0 }); // another instance has the usual port
    },
  );
  useWhopConnection({
    mode: "emulator",
    apiKey: "whop_emulator_key",
    apiBase: emulator.apiBase,
    webhookSecrets: [webhookSecret],
  });
  logger.info(`Whop emulator at ${emulator.url} (no real payments); webhooks go to ${options.webhookUrl}`);
  return emulator;
}

async function main() {
  const config = parseConfig();
  useConfig(config);
  setLogLevel(config.logLevel);

  const freshDatabase = !config.databaseUrl && !fs.existsSync(embeddedDataDir());
  const db = await prepareDatabase();
  if (db.kind === "pglite") {
    if (config.production) {
      logger.warn("Production on the embedded database: set DATABASE_URL to a PostgreSQL database.");
    }
    await seed(db.prisma, { hashPassword, demoUsers: !config.production });
    const seeded = config.production ? "tiers seeded, no demo users" : "demo data seeded";
    logger.info(`Embedded database at ${embeddedDataDir()} (${seeded}).`);
  }

  const buildPath = path.resolve("build/index.js");
  const build = (await import(pathToFileURL(buildPath).href)) as ServerBuild;
  const server = createServer({ build, config });
  server.listen(config.port, config.host);
  await once(server, "listening"); // rejects on EADDRINUSE and the like
  const { port } = server.address() as AddressInfo;
  const origin = `http://${localHost(config.host)}:${port}`;
  const emulator = await startEmulatorIfNeeded(config, origin, { freshDatabase });
  const whopEmulator = await startWhopEmulatorIfNeeded(config, origin);
  // After the emulators: a job (a bulk replay) may call Stripe or Whop.
  if (config.jobs.workerEnabled) await startJobWorker();
  logger.info({ host: config.host, port }, `Tierdesk listening on ${origin}`);
  // Built by `remix dev` (which also sets REMIX_DEV_ORIGIN): tell it this build is being served.
  if (config.nodeEnv === "development" && build.mode === "development") {
    broadcastDevReady(build).catch((error) => logger.warn({ err: error }, "could not reach the Remix dev server"));
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info(`${signal}: shutting down`);
    server.close();
    server.closeAllConnections();
    // The worker finishes its step (or hands it back to the queue) while the database is still open.
    await stopJobQueue().catch((error) => logger.error({ err: error }, "stopping the job queue failed"));
    await emulator?.close().catch((error) => logger.error({ err: error }, "closing the Stripe emulator failed"));
    await whopEmulator?.close().catch((error) => logger.error({ err: error }, "closing the Whop emulator failed"));
    // PGlite must be closed cleanly or its data folder needs recovery next time.
    await closeDatabase().catch((error) => logger.error({ err: error }, "closing the database failed"));
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}

main().catch(async (error) => {
  if (error instanceof ConfigurationError) logger.fatal(`Tierdesk cannot start. ${error.message}`);
  else logger.fatal({ err: error }, "Tierdesk cannot start");
  await closeDatabase().catch(() => {});
  process.exit(1);
});
