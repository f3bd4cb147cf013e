// GET /healthz: 200 when the database answers, 503 otherwise (for load balancers and probes).
import { prisma } from "~/utils/db.server.ts";

export async function loader() {
  const headers = { "Cache-Control": "no-store", "Content-Type": "application/json; charset=utf-8" };
  try {
    await Promise.race([
      prisma.$queryRaw`SELECT 1`,
      new Promise((_, reject) => setTimeout(() => reject(new Error("database timeout")), 3000)),
    ]);
    return new Response(JSON.stringify({ status: "ok", database: "up" }), { status: 200, headers });
  } catch (error) {
    // The cause goes to the log, not to anonymous callers.
    console.error("healthz: database check failed:", (error as Error).message);
    return new Response(JSON.stringify({ status: "error", database: "down" }), {
      status: 503,
      headers,
    });
  }
}
