// A test that cannot run here (no PostgreSQL, no PostgreSQL binaries) skips with its reason on a
// developer's machine, and fails in CI (CI set): a green CI run never hides a test that did not run.
import type { TestContext } from "vitest";

export function requireOrSkip(ctx: TestContext, met: boolean, requirement: string) {
  if (met) return;
  if (process.env.CI) throw new Error(`This test needs ${requirement}, and CI must run it rather than skip it.`);
  // The reporter shows a skip as a grey arrow only: say why where it is seen.
  console.warn(`SKIPPED "${ctx.task.name}": needs ${requirement}`);
  ctx.skip(`needs ${requirement}`);
}
