// `npm run reset`: forgets the quick start's local state, the embedded database folder and the Stripe
// emulator's state file, so the next `npm start` begins again from the demo data. Stop the server
// first. PostgreSQL (DATABASE_URL) is never touched, and production refuses.
import fs from "node:fs";
import { ConfigurationError, parseConfig } from "../app/utils/config.server.ts";
import { emulatorStateFile, removeStateFile } from "../stripe-emulator/state.ts";

try {
  const config = parseConfig();
  if (config.production) {
    console.error("Refusing to reset in production (NODE_ENV=production).");
    process.exit(1);
  }
  const stateFile = emulatorStateFile(config);
  removeStateFile(stateFile);
  console.log(`Removed the Stripe emulator's state (${stateFile}).`);
  if (config.databaseUrl) {
    console.log("DATABASE_URL is set: the PostgreSQL database is left as it is.");
  } else {
    fs.rmSync(config.pgliteDataDir, { recursive: true, force: true });
    console.log(`Removed the embedded database (${config.pgliteDataDir}); \`npm start\` creates and seeds it again.`);
  }
} catch (error) {
  console.error(error instanceof ConfigurationError ? error.message : error);
  process.exit(1);
}
