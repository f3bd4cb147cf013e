import { expect, it } from "vitest";
import * as healthz from "../../app/routes/healthz.ts";
import { postgresDatabase, useDatabase } from "../../app/db/db.server.ts";
import { testDb } from "../setup/database.ts";

it("answers 200 while the database answers", async () => {
  const response = await healthz.loader();
  expect(response.status).toBe(200);
  expect(await response.json()).toMatchObject({ status: "ok", database: "up" });
});

it("answers 503 when the database does not", async () => {
  const healthy = testDb();
  // Nothing listens on port 9: connecting fails at once.
  const unreachable = postgresDatabase("postgresql://postgres@127.0.0.1:9/none?connect_timeout=2");
  useDatabase(unreachable);
  try {
    const response = await healthz.loader();
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ status: "error", database: "down" });
  } finally {
    useDatabase(healthy);
    await unreachable.close();
  }
});
