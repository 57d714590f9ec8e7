// SVI benchmark over every expiry of every Deribit snapshot: `npm run bench:smile`.
// Per snapshot and currency: slices fitted, median and worst RMSE (vol points), share
// butterfly-free, calendar violations, and mean fit time per slice; then the totals.
import { readdirSync } from "node:fs";
import path from "node:path";
import { readCsv } from "../bot/commands/calibrate.ts";
import { quotesFromTable } from "../bot/commands/smile.ts";
import { fitSmile } from "../bot/models/index.ts";
import { sharedDataPath } from "../test/support/shared-data.ts";

const index = sharedDataPath("deribit-options-snapshots/_snapshot_index.csv");
if (!index) {
  console.log("deribit-options-snapshots not found: set RISKKEEPER_SHARED_DATA");
  process.exit(0);
}
const dir = path.dirname(index);
const files = readdirSync(dir).filter((f) => f.startsWith("deribit_options_snapshot_")).sort();
const median = (x: number[]) => { const s = [...x].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : 0.5 * (s[s.length / 2 - 1] + s[s.length / 2]); };
const enforce = process.argv.includes("--enforce-butterfly");
console.log(enforce ? "(butterfly enforced by penalty where the plain fit breaks it)" : "(plain fit; pass --enforce-butterfly for the penalised refit)");
const all: { rmse: number; bfly: boolean }[] = [];
let totalCalendar = 0, totalMs = 0, totalSkipped = 0;
console.log(`${"snapshot".padEnd(17)} ${"cur".padEnd(4)} ${"slices".padStart(6)} ${"skip".padStart(4)} ${"med rmse".padStart(9)} ${"worst".padStart(7)} ${"bfly-free".padStart(9)} ${"cal viol".padStart(8)} ${"ms/slice".padStart(9)}`);
for (const file of files) {
  const byCur = quotesFromTable(readCsv(path.join(dir, file)));
  for (const [cur, quotes] of [...byCur.entries()].sort()) {
    const t0 = performance.now();
    const smile = fitSmile(quotes, { enforceButterfly: enforce });
    const ms = performance.now() - t0;
    const rmse = smile.slices.map((s) => s.rmseVolPoints);
    const free = smile.slices.filter((s) => s.butterflyFree).length;
    smile.slices.forEach((s) => all.push({ rmse: s.rmseVolPoints, bfly: s.butterflyFree }));
    totalCalendar += smile.calendarViolations.length;
    totalMs += ms;
    totalSkipped += smile.skipped.length;
    console.log(`${file.slice(25, 41).padEnd(17)} ${cur.padEnd(4)} ${String(smile.slices.length).padStart(6)} ${String(smile.skipped.length).padStart(4)} ${median(rmse).toFixed(2).padStart(9)} ${Math.max(...rmse).toFixed(2).padStart(7)} ${`${free}/${smile.slices.length}`.padStart(9)} ${String(smile.calendarViolations.length).padStart(8)} ${(ms / Math.max(smile.slices.length, 1)).toFixed(1).padStart(9)}`);
  }
}
const rmseAll = all.map((s) => s.rmse).sort((a, b) => a - b);
console.log(`\nall: ${all.length} slices in ${files.length} snapshots (${totalSkipped} skipped: < 5 quoted strikes or T < 1 h)`);
console.log(`RMSE vol points: median ${median(rmseAll).toFixed(2)}, p90 ${rmseAll[Math.floor(0.9 * rmseAll.length)].toFixed(2)}, worst ${rmseAll[rmseAll.length - 1].toFixed(2)}`);
console.log(`butterfly-free: ${all.filter((s) => s.bfly).length}/${all.length} (${((100 * all.filter((s) => s.bfly).length) / all.length).toFixed(1)}%)`);
console.log(`calendar violations (consecutive expiry pairs): ${totalCalendar}`);
console.log(`time per slice: ${(totalMs / all.length).toFixed(1)} ms (includes chain grouping)`);
