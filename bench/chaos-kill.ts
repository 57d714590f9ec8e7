// Crash testing (`npm run chaos:kill -- [--kills N] [--seed S] [--max-kills-per-update K] [--clean-runs C] [--spread time|stage] [--keep] [--quiet]`):
// the keeper (`node bot/cli.ts run --once`, a child process) against a chain on 127.0.0.1,
// SIGKILLed at seeded random points of its pipeline and restarted until each update is confirmed,
// N kills in all (default 50). Prints kills by stage, duplicate submissions, lost or corrupt
// records, updates never completed, and a JSON line; exits 1 unless all three counts are 0.
// The loop itself is test/reliability/support/crash-loop.ts (the CI test runs it with a few kills).
import { parseArgs } from "node:util";
import { crashReportJson, formatCrashReport, runCrashLoop } from "../test/reliability/support/crash-loop.ts";

const { values } = parseArgs({
  options: {
    kills: { type: "string", default: "50" },
    seed: { type: "string", default: "9" },
    "max-kills-per-update": { type: "string", default: "3" },
    "clean-runs": { type: "string", default: "1" },
    spread: { type: "string", default: "time" },
    keep: { type: "boolean", default: false },
    quiet: { type: "boolean", default: false },
  },
});
const int = (name: keyof typeof values, min: number): number => {
  const n = Number(values[name]);
  if (!Number.isSafeInteger(n) || n < min) {
    console.error(`chaos-kill: --${name} must be an integer >= ${min}`);
    process.exit(2);
  }
  return n;
};

// Exit (not die) on ^C, so the loop's exit hook takes the keeper children with it.
process.once("SIGINT", () => process.exit(130));
process.once("SIGTERM", () => process.exit(143));

if (values.spread !== "time" && values.spread !== "stage") {
  console.error("chaos-kill: --spread must be time (uniform over a clean run) or stage (uniform over its stage windows)");
  process.exit(2);
}

const report = await runCrashLoop({
  spread: values.spread,
  kills: int("kills", 1),
  seed: int("seed", 0),
  killsPerUpdate: [1, int("max-kills-per-update", 1)],
  cleanRuns: int("clean-runs", 1),
  keepDir: values.keep,
  ...(values.quiet ? {} : { log: (line: string) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${line}`) }),
});
console.log(formatCrashReport(report));
if (values.keep) console.log(`state, evidence and config kept in ${report.dir}`);
console.log(crashReportJson(report));
const ok = report.audit.duplicates === 0 && report.audit.lostOrCorrupt === 0 && report.audit.incomplete === 0 && report.kills.length >= report.killsRequested;
process.exitCode = ok ? 0 : 1;
