// Crash testing (issue 9), the CI size of `npm run chaos:kill`: the keeper as a child process
// (`node bot/cli.ts run --once`) against a chain on 127.0.0.1, SIGKILLed at seeded random points
// of its pipeline and restarted until every update is confirmed. Whatever the points, nothing is
// sent twice, no record is lost or corrupt, and no update is left unfinished. Also: a keeper
// killed while taking the state lock leaves no lock that refuses the restart.
import { expect } from "chai";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { acquireStateLock } from "../../bot/keeper/lock.ts";
import { createRng } from "../support/prng.ts";
import { formatCrashReport, runCrashLoop } from "./support/crash-loop.ts";
import { REPO_ROOT } from "./support/crash-rig.ts";

describe("crash loop: the keeper SIGKILLed at random points and restarted", function () {
  this.timeout(300_000);

  it("6 seeded kills: no duplicate submission, no lost or corrupt record, every update completed", async () => {
    // Kills pile on one update until a run outlives its kill time: fewer finishing runs.
    const report = await runCrashLoop({ kills: 6, seed: 6, killsPerUpdate: [6, 6] });
    const summary = formatCrashReport(report);
    expect(report.kills, summary).to.have.length(6);
    expect(report.audit.duplicates, summary).to.equal(0);
    expect(report.audit.lostOrCorrupt, summary).to.equal(0);
    expect(report.audit.incomplete, summary).to.equal(0);
    expect(report.runFailures, summary).to.deep.equal([]);
    expect(report.updatesConfirmed, summary).to.equal(report.cycles.length);
    expect(report.audit.keeperTxs, summary).to.equal(report.updatesConfirmed);
    expect(report.audit.lockLeft, summary).to.equal(false);
  });

  it("a keeper killed while taking the state lock never leaves a lock that refuses the restart", async () => {
    // Before bot/keeper/lock.ts linked a complete lock file into place, the lock existed empty
    // between its exclusive create and the write of its holder (5-10% of these reads), and a kill
    // there left STATE_LOCKED "unreadable holder" until someone removed the file by hand.
    const dir = await mkdtemp(path.join(os.tmpdir(), "rk-lock-kill-"));
    const stateFile = path.join(dir, "state.json");
    const rng = createRng(61);
    const refused: string[] = [];
    let reads = 0;
    let emptyReads = 0;
    try {
      for (let i = 0; i < 8; i++) {
        const child = spawn(process.execPath, [path.join(REPO_ROOT, "test", "reliability", "support", "lock-churn.ts"), stateFile], { stdio: ["ignore", "pipe", "inherit"] });
        try {
          await new Promise((resolve, reject) => { child.stdout!.once("data", resolve); child.once("error", reject); });
          // What a restart would find at any instant: the lock absent, or naming its holder.
          const until = performance.now() + rng.int(100, 300);
          while (performance.now() < until) {
            reads++;
            try {
              if (readFileSync(`${stateFile}.lock`, "utf8") === "") emptyReads++;
            } catch { /* no lock at this instant */ }
            if (reads % 500 === 0) await new Promise((resolve) => setImmediate(resolve));
          }
        } finally {
          child.kill("SIGKILL");
          await new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(undefined) : child.once("close", resolve)));
        }
        try {
          await (await acquireStateLock(stateFile)).release();
        } catch (error) {
          refused.push(`kill ${i + 1}: ${(error as Error).message}`);
          await rm(`${stateFile}.lock`, { force: true });
        }
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    expect(reads).to.be.greaterThan(1_000);
    expect({ emptyReads, refused }).to.deep.equal({ emptyReads: 0, refused: [] });
  });
});
