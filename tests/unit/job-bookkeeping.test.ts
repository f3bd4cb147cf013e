// pg-boss 10.4 records a step's completion or failure without awaiting it: with the database down,
// that rejection must not end the instance (tests/integration/faults-database-outage.test.ts saw it
// happen), while every other unhandled rejection still does.
import { expect, it } from "vitest";
import { isJobBookkeepingFailure } from "../../app/services/jobs/queue.server.ts";

function errorWithStack(stack: string) {
  const error = new Error("connect ECONNREFUSED 127.0.0.1:43971");
  error.stack = `Error: connect ECONNREFUSED 127.0.0.1:43971\n${stack}`;
  return error;
}

it("recognises pg-boss's unawaited complete and fail calls, and nothing else", () => {
  expect(
    isJobBookkeepingFailure(
      errorWithStack(
        "    at async Db.executeSql (/app/node_modules/pg-boss/src/db.js:42:14)\n" +
          "    at async Manager.fail (/app/node_modules/pg-boss/src/manager.js:493:20)",
      ),
    ),
  ).toBe(true);
  expect(
    isJobBookkeepingFailure(
      errorWithStack("    at async Manager.complete (C:\\app\\node_modules\\pg-boss\\src\\manager.js:470:20)"),
    ),
  ).toBe(true);
  // The same connection error from the app's own code, or pg-boss elsewhere, is not excused.
  expect(isJobBookkeepingFailure(errorWithStack("    at async purgeExpiredEvents (/app/build/index.js:1:1)"))).toBe(
    false,
  );
  expect(
    isJobBookkeepingFailure(
      errorWithStack("    at async Manager.send (/app/node_modules/pg-boss/src/manager.js:300:1)"),
    ),
  ).toBe(false);
  expect(isJobBookkeepingFailure("Manager.fail (pg-boss/src/manager.js)")).toBe(false);
  expect(isJobBookkeepingFailure(undefined)).toBe(false);
});
