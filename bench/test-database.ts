// How long a test file waits for its own migrated database: migrating a fresh PGlite (baseline)
// versus loading the dumped, already-migrated data folder the test setup uses.
// Run: npx tsx bench/test-database.ts [rounds]
import { PGlite } from "@electric-sql/pglite";
import { applyMigrations } from "../app/db/migrations.server.ts";

const rounds = Number(process.argv[2] ?? 5);

async function time(fn: () => Promise<void>) {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const template = await PGlite.create();
await applyMigrations(template);
const dump = await template.dumpDataDir("none"); // as tests/setup/global-setup.ts
await template.close();

const fresh: number[] = [];
const loaded: number[] = [];
for (let i = 0; i < rounds; i++) {
  fresh.push(
    await time(async () => {
      const db = await PGlite.create();
      await applyMigrations(db);
      await db.close();
    }),
  );
  loaded.push(
    await time(async () => {
      const db = await PGlite.create({ loadDataDir: dump });
      await db.query("SELECT count(*) FROM users");
      await db.close();
    }),
  );
}
const baseline = median(fresh);
const candidate = median(loaded);
console.log(`fresh PGlite + migrations (baseline): ${baseline.toFixed(0)} ms (median of ${rounds})`);
console.log(`load migrated dump (test setup):      ${candidate.toFixed(0)} ms (median of ${rounds})`);
console.log(`ratio: ${(baseline / candidate).toFixed(1)}x faster than migrating per test file`);
