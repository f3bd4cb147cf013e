// `npm run worker`: a process that only works the job queue (no HTTP), beside app instances started
// with WORKER_ENABLED=false or as extra capacity. Needs DATABASE_URL (the embedded database belongs to
// the one app process that opened it) and the same Stripe and Whop settings as the app.
import { closeDatabase, prepareDatabase } from "../app/db/db.server.ts";
import { stopJobQueue } from "../app/services/jobs/queue.server.ts";
import { startJobWorker } from "../app/services/jobs/worker.server.ts";
import { ConfigurationError, parseConfig, useConfig } from "../app/utils/config.server.ts";
import { logger, setLogLevel } from "../app/utils/logger.server.ts";

async function main() {
  const config = parseConfig();
  useConfig(config);
  setLogLevel(config.logLevel);
  if (!config.databaseUrl) {
    throw new ConfigurationError(
      "npm run worker needs DATABASE_URL: on the embedded database the app instance is the worker.",
    );
  }
  await prepareDatabase();
  await startJobWorker();

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info(`${signal}: worker shutting down`);
    await stopJobQueue().catch((error) => logger.error({ err: error }, "stopping the job queue failed"));
    await closeDatabase().catch((error) => logger.error({ err: error }, "closing the database failed"));
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}

main().catch(async (error) => {
  if (error instanceof ConfigurationError) logger.fatal(`Tierdesk's worker cannot start. ${error.message}`);
  else logger.fatal({ err: error }, "Tierdesk's worker cannot start");
  await closeDatabase().catch(() => {});
  process.exit(1);
});
