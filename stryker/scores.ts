// `npm run test:mutation` ends here: both runs' mutation scores from their JSON reports, as Stryker
// counts its "total" column: killed + timeout over every valid mutant (covered or not; compile and
// runtime errors and ignored mutants are not valid). Exits 1 when a run is below its goal.
import fs from "node:fs";

type Mutant = {
  status: string;
  mutatorName: string;
  replacement?: string;
  location: { start: { line: number } };
};
type Report = { files: Record<string, { mutants: Mutant[] }> };

const RUNS = [
  { name: "rules", report: "reports/mutation/rules.json", goal: 85 },
  { name: "pipeline", report: "reports/mutation/pipeline.json", goal: 70 },
];
const INVALID = new Set(["CompileError", "RuntimeError", "Ignored"]);

function score(mutants: Mutant[]) {
  const valid = mutants.filter((mutant) => !INVALID.has(mutant.status));
  const detected = valid.filter((mutant) => mutant.status === "Killed" || mutant.status === "Timeout").length;
  return { detected, valid: valid.length, percent: valid.length ? (100 * detected) / valid.length : 0 };
}

// `--survivors` lists every surviving or uncovered mutant under its file, for the report.
const listSurvivors = process.argv.includes("--survivors");
let belowGoal = false;
for (const run of RUNS) {
  if (!fs.existsSync(run.report)) {
    console.log(`${run.name}: no report at ${run.report} (run npm run test:mutation:${run.name})`);
    belowGoal = true;
    continue;
  }
  const report = JSON.parse(fs.readFileSync(run.report, "utf8")) as Report;
  const all = score(Object.values(report.files).flatMap((file) => file.mutants));
  const ok = all.percent >= run.goal;
  belowGoal ||= !ok;
  console.log(
    `${run.name}: ${all.percent.toFixed(2)}% of mutants killed (${all.detected}/${all.valid}; goal ≥ ${run.goal}%) ${ok ? "ok" : "BELOW GOAL"}`,
  );
  for (const [file, { mutants }] of Object.entries(report.files)) {
    const each = score(mutants);
    console.log(`  ${file}: ${each.percent.toFixed(2)}% (${each.detected}/${each.valid})`);
    if (!listSurvivors) continue;
    for (const mutant of mutants.filter((m) => m.status === "Survived" || m.status === "NoCoverage")) {
      const replacement = (mutant.replacement ?? "").replace(/\s+/g, " ").slice(0, 80);
      console.log(`    ${mutant.status} line ${mutant.location.start.line} ${mutant.mutatorName}: ${replacement}`);
    }
  }
}
process.exit(belowGoal ? 1 : 0);
