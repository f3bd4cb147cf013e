// GET /healthz: 200 when the database answers, 503 otherwise (for load balancers and probes).
import { withDeadline } from "~/utils/deadline.ts";
import { pingDatabase } from "~/models/transaction.server.ts";
import { jsonResponse } from "~/utils/http.server.ts";
import { logger } from "~/utils/logger.server.ts";

export async function loader() {
  try {
    await withDeadline(pingDatabase(), 3000, "The database");
    return jsonResponse({ status: "ok", database: "up" });
  } catch (error) {
    // The cause goes to the log, not to anonymous callers.
    logger.error({ reason: error instanceof Error ? error.message : String(error) }, "healthz: database check failed");
    return jsonResponse({ status: "error", database: "down" }, 503);
  }
}
