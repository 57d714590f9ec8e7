// The crash loop of issue 9, shared by `npm run chaos:kill` (bench/chaos-kill.ts, 50+ kills) and
// test/reliability/crash-loop.test.ts (a few). Each cycle makes an update necessary (governance
// puts the managed parameters back, chain time passes the keeper's min delay), then runs the real
// keeper (`node bot/cli.ts run --once`, a child process) and SIGKILLs it after a seeded random
// delay drawn over a clean run's duration, `killsPerUpdate` times, then lets a run
// finish; the stage each kill hit is read from the state file. At the end crash-audit.ts counts
// duplicates, lost or corrupt records, and updates that never completed.
import { readStateSnapshot, type StateData } from "../../../bot/keeper/state.ts";
import { createRng } from "../../support/prng.ts";
import { auditCrashRun, submissionIdOf, type CrashAudit, type CycleSpan } from "./crash-audit.ts";
import { startCrashRig, type ChildRun, type CrashRig } from "./crash-rig.ts";

export interface CrashLoopOptions {
  /** SIGKILLs delivered to a live keeper (a kill drawn after the run ended does not count). */
  kills: number;
  seed: number;
  /** Kills per update, drawn in [min, max] (fewer when a run ends before its kill). Default [1, 3]. */
  killsPerUpdate?: readonly [min: number, max: number];
  /** Clean runs timed before the loop; kill delays are drawn in [0, the slowest]. Default 1. */
  cleanRuns?: number;
  /**
   * How kill delays are drawn over the clean run: "time" (default) uniform over its duration, so
   * kills fall where the time goes (mostly the fork gate); "stage" picks one of its stage windows
   * (start-up, each stage of the record, shutdown) uniformly, then a time inside it, so the short
   * windows around the submission get their share.
   */
  spread?: "time" | "stage";
  /** Runs allowed to finish a cycle's update after its kills. Default 3. */
  finishAttempts?: number;
  /** One keeper run longer than this is killed and counted as a failure. Default 180 s. */
  childTimeoutMs?: number;
  dataFile?: string;
  keepDir?: boolean;
  log?: (line: string) => void;
}

export interface KillRecord {
  cycle: number;
  delayMs: number;
  /** Last thing written before the kill (see `killStage`). */
  stage: string;
  updateId?: string;
  pid: number;
}

export interface CycleRecord {
  cycle: number;
  kills: number;
  /** Runs that ended on their own (a kill drawn too late, the finishing run, retries). */
  finishedRuns: number;
  confirmed?: { updateId: string; evidenceHash: string; txHash: string };
  ms: number;
}

export interface CrashLoopReport {
  seed: number;
  killsRequested: number;
  kills: KillRecord[];
  /** Kill delays drawn after the run had already ended (no kill; the run counted as finished). */
  missed: number;
  cycles: CycleRecord[];
  updatesConfirmed: number;
  cleanRunMs: number[];
  killWindowMs: number;
  spread: "time" | "stage";
  /** The clean run's stage windows (ms after spawn), as drawn from with spread "stage". */
  windows: Array<{ name: string; from: number; to: number }>;
  /** Spawn to state lock (node start, imports, config, prices, keystore), every run that got there. */
  startupMs: { median: number; max: number; runs: number };
  /** Failures of the loop itself (a run that timed out or exited non-zero). */
  runFailures: string[];
  audit: CrashAudit;
  wallMs: number;
  dir: string;
}

/** Kill stages in pipeline order, with the record's next step (what a kill there interrupts, or was about to start). */
export const KILL_STAGES: ReadonlyArray<{ stage: string; during: string }> = [
  { stage: "startup (before the state lock)", during: "node start, imports, config, prices, keystore" },
  { stage: "running, no record written", during: "chain reads, calibration, decision" },
  { stage: "closing an interrupted record", during: "a restart settling an earlier kill's record" },
  { stage: "observed", during: "recording the calibration" },
  { stage: "calibrated", during: "recording the bounded change" },
  { stage: "bounded", during: "backtest gate" },
  { stage: "backtested", during: "fork gate" },
  { stage: "fork-validated", during: "evidence bundle, marking submitted" },
  { stage: "submitted, journal: none", during: "checks, simulation, signing" },
  { stage: "submitted, journal: signed", during: "broadcast" },
  { stage: "submitted, journal: sent", during: "waiting for the block" },
  { stage: "submitted, journal: mined", during: "waiting for 2 confirmations" },
  { stage: "submitted, journal: confirmed", during: "read-back, marking confirmed" },
  { stage: "confirmed", during: "shutdown" },
  { stage: "rejected", during: "shutdown after a rejection" },
];

/**
 * Where a killed run was: before the state lock (start-up), or the state of the newest record it
 * wrote, or — when it wrote nothing — of the record it had resumed (a kill inside a gate), with
 * the journal's status at `submitted`; "running, no record written" is the work before the first
 * record (chain reads, calibration).
 */
export function killStage(rig: Pick<CrashRig, "deployment">, before: StateData, after: StateData, run: ChildRun): { stage: string; updateId?: string } {
  if (run.lockMs === undefined) return { stage: "startup (before the state lock)" };
  const bySeq = (a: { updateId: string }, b: { updateId: string }) => a.updateId.localeCompare(b.updateId);
  const records = Object.values(after.updates);
  const changed = records.filter((r) => JSON.stringify(r) !== JSON.stringify(before.updates[r.updateId])).sort(bySeq);
  const r = changed.at(-1) ?? records.filter((x) => x.state !== "confirmed" && x.state !== "rejected").sort(bySeq).at(-1);
  if (!r) return { stage: "running, no record written" };
  if (r.state === "rejected" && r.rejection?.code === "interrupted") return { stage: "closing an interrupted record", updateId: r.updateId };
  if (r.state === "submitted") {
    const sid = submissionIdOf(rig, r);
    const j = sid ? (after.journal[sid] as { status?: string } | undefined) : undefined;
    return { stage: `submitted, journal: ${j?.status ?? "none"}`, updateId: r.updateId };
  }
  return { stage: r.state, updateId: r.updateId };
}

/** A clean run's timeline: start-up to the lock, lock to the first record, each stage, shutdown. */
function stageWindows(run: ChildRun, history: ReadonlyArray<{ state: string; at: number }>): Array<{ name: string; from: number; to: number }> {
  const marks = [
    { name: "startup", at: 0 },
    { name: "to the first record", at: run.lockMs! },
    ...history.map((h) => ({ name: `after ${h.state}`, at: h.at - run.spawnedAt })),
    { name: "end", at: run.ms },
  ];
  const out: Array<{ name: string; from: number; to: number }> = [];
  for (let i = 0; i + 1 < marks.length; i++) {
    const from = Math.max(0, marks[i]!.at);
    out.push({ name: marks[i]!.name, from, to: Math.max(from + 1, marks[i + 1]!.at) });
  }
  return out;
}

async function readState(rig: CrashRig): Promise<StateData> {
  try {
    return (await readStateSnapshot(rig.stateFile)).data;
  } catch {
    return { schemaVersion: 0, nextSeq: 1, updates: {}, journal: {}, markets: {} }; // the audit reports it
  }
}

export async function runCrashLoop(options: CrashLoopOptions): Promise<CrashLoopReport> {
  const started = performance.now();
  const log = options.log ?? (() => {});
  const rng = createRng(options.seed);
  const [minPer, maxPer] = options.killsPerUpdate ?? [1, 3];
  const timeoutMs = options.childTimeoutMs ?? 180_000;
  const finishAttempts = options.finishAttempts ?? 3;
  const rig = await startCrashRig({ ...(options.dataFile ? { dataFile: options.dataFile } : {}), ...(options.keepDir ? { keepDir: true } : {}) });
  try {
    log(`chain on ${rig.url}, deployment at block ${rig.deployment.blockNumber}, data ${rig.dataFile}, state ${rig.stateFile}`);
    const kills: KillRecord[] = [];
    const cycles: CycleRecord[] = [];
    const spans: CycleSpan[] = [];
    const confirmedByCycle = new Map<number, string>();
    const seen = new Map<string, { state: string; evidenceHash?: string }>();
    const startups: number[] = [];
    const runFailures: string[] = [];
    let missed = 0;
    let state = await readState(rig);

    const observe = (run: ChildRun, next: StateData) => {
      if (run.lockMs !== undefined) startups.push(run.lockMs);
      for (const r of Object.values(next.updates)) seen.set(r.updateId, { state: r.state, ...(r.evidenceHash ? { evidenceHash: r.evidenceHash } : {}) });
      state = next;
    };
    /** The cycle's confirmed record: one created after the cycle began. */
    const confirmedSince = (known: ReadonlySet<string>) => Object.values(state.updates).find((r) => !known.has(r.updateId) && r.state === "confirmed");
    /** A run that ended on its own must have exited 0 (`run --once` exits 1 when its run fails) without logging an error. */
    const judgeFinished = (run: ChildRun, cycle: number, what: string) => {
      const errors = run.output.split("\n").filter((l) => /^\S+Z error /.test(l));
      if (run.timedOut || run.code !== 0 || errors.length > 0) {
        runFailures.push(`cycle ${cycle} ${what}: ${run.timedOut ? "timed out" : run.code !== 0 ? `exit ${run.code ?? run.signal}` : "logged an error"}\n${(errors.join("\n") || run.output).slice(-1_500)}`);
      }
    };
    const finishRun = async (cycle: number, what: string): Promise<ChildRun> => {
      const run = await rig.runKeeper({ timeoutMs });
      observe(run, await readState(rig));
      judgeFinished(run, cycle, what);
      return run;
    };

    // Clean runs first: they time the pipeline (the kill window) and are audited like the rest.
    const cleanRunMs: number[] = [];
    let windows: Array<{ name: string; from: number; to: number }> = [];
    let cycle = 0;
    const beginCycle = async () => {
      if (cycle > 0) await rig.resetByGovernance(rng.int(60, 3_600));
      spans.push({ cycle, startBlock: await rig.headBlock() });
      return new Set(Object.keys(state.updates));
    };
    const endCycle = (known: ReadonlySet<string>, record: Omit<CycleRecord, "confirmed">) => {
      const r = confirmedSince(known);
      const confirmed = r ? { updateId: r.updateId, evidenceHash: r.evidenceHash!, txHash: String((r.evidence.confirmed as { txHash?: string }).txHash) } : undefined;
      if (r) confirmedByCycle.set(record.cycle, r.updateId);
      cycles.push({ ...record, ...(confirmed ? { confirmed } : {}) });
    };
    for (let i = 0; i < (options.cleanRuns ?? 1); i++, cycle++) {
      const t0 = performance.now();
      const known = await beginCycle();
      const run = await finishRun(cycle, "clean run");
      cleanRunMs.push(run.ms);
      const r = confirmedSince(known);
      if (r && run.lockMs !== undefined && windows.length === 0) windows = stageWindows(run, r.history);
      log(`clean run ${i + 1}: ${(run.ms / 1000).toFixed(1)} s (state lock after ${run.lockMs?.toFixed(0)} ms)`);
      endCycle(known, { cycle, kills: 0, finishedRuns: 1, ms: performance.now() - t0 });
    }
    const killWindowMs = Math.max(...cleanRunMs);
    const spread = options.spread ?? "time";
    if (spread === "stage" && windows.length === 0) throw new Error("spread \"stage\" needs a clean run that confirmed its update");
    const drawDelay = (): number => {
      if (spread === "time") return rng.next() * killWindowMs;
      const w = rng.pick(windows);
      return w.from + rng.next() * (w.to - w.from);
    };

    for (; kills.length < options.kills && cycle < options.kills * 4 + 10; cycle++) {
      const t0 = performance.now();
      const known = await beginCycle();
      const want = Math.min(rng.int(minPer, maxPer), options.kills - kills.length);
      let cycleKills = 0;
      let finishedRuns = 0;
      while (cycleKills < want) {
        const delayMs = drawDelay();
        const run = await rig.runKeeper({ killAfterMs: delayMs, timeoutMs });
        const before = state;
        const after = await readState(rig);
        if (!run.killed) {
          // The run ended before its kill time: no kill; the cycle's update is done.
          missed++;
          finishedRuns++;
          observe(run, after);
          judgeFinished(run, cycle, "run (ended before its kill)");
          log(`cycle ${cycle}: run ended after ${(run.ms / 1000).toFixed(1)} s, before its kill at ${(delayMs / 1000).toFixed(1)} s`);
          break;
        }
        const { stage, updateId } = killStage(rig, before, after, run);
        observe(run, after);
        cycleKills++;
        kills.push({ cycle, delayMs, stage, ...(updateId ? { updateId } : {}), pid: run.pid });
        log(`cycle ${cycle}: kill ${kills.length}/${options.kills} at ${(delayMs / 1000).toFixed(2)} s: ${stage}${updateId ? ` (${updateId})` : ""}`);
        if (confirmedSince(known)) break; // killed after the update was recorded confirmed: nothing left to cut short
      }
      for (let attempt = 1; !confirmedSince(known) && attempt <= finishAttempts; attempt++) {
        const run = await finishRun(cycle, `finishing run ${attempt}`);
        finishedRuns++;
        log(`cycle ${cycle}: finishing run ${attempt}: ${(run.ms / 1000).toFixed(1)} s, ${confirmedSince(known) ? "confirmed" : "NOT confirmed"}`);
      }
      endCycle(known, { cycle, kills: cycleKills, finishedRuns, ms: performance.now() - t0 });
    }

    const audit = await auditCrashRun(rig, { cycles: spans, confirmedByCycle, seen });
    const sorted = [...startups].sort((a, b) => a - b);
    return {
      seed: options.seed,
      killsRequested: options.kills,
      kills,
      missed,
      cycles,
      updatesConfirmed: confirmedByCycle.size,
      cleanRunMs,
      killWindowMs,
      spread,
      windows,
      startupMs: { median: sorted[Math.floor(sorted.length / 2)] ?? Number.NaN, max: sorted.at(-1) ?? Number.NaN, runs: sorted.length },
      runFailures,
      audit,
      wallMs: performance.now() - started,
      dir: rig.dir,
    };
  } finally {
    await rig.close();
  }
}

/** Kills by stage (pipeline order), then the counts; one line per row. */
export function formatCrashReport(r: CrashLoopReport): string {
  const byStage = new Map<string, number>();
  for (const k of r.kills) byStage.set(k.stage, (byStage.get(k.stage) ?? 0) + 1);
  const known = KILL_STAGES.map((k) => k.stage);
  const rows = [...KILL_STAGES, ...[...byStage.keys()].filter((s) => !known.includes(s)).map((stage) => ({ stage, during: "" }))].filter((k) => byStage.has(k.stage));
  const w1 = Math.max(5, ...rows.map((k) => k.stage.length));
  const w2 = Math.max(...rows.map((k) => k.during.length), 0);
  const lines = [
    `kills by the last stage written before the SIGKILL (seed ${r.seed}; ${r.spread === "time"
      ? `delays uniform in [0, ${(r.killWindowMs / 1000).toFixed(1)} s], a clean run's duration`
      : `delays: one of the clean run's ${r.windows.length} stage windows, then uniform in it`}):`,
    `  ${"last stage written".padEnd(w1)}  ${"next step".padEnd(w2)}  kills`,
  ];
  for (const k of rows) lines.push(`  ${k.stage.padEnd(w1)}  ${k.during.padEnd(w2)}  ${String(byStage.get(k.stage)).padStart(5)}`);
  lines.push(`  ${"total".padEnd(w1)}  ${"".padEnd(w2)}  ${String(r.kills.length).padStart(5)}   (+${r.missed} drawn after the run had ended: not kills)`);
  const a = r.audit;
  lines.push(
    "",
    `duplicate submissions      ${a.duplicates}   (${a.keeperTxs} keeper txs on chain, nonce ${a.keeperNonce}, ${a.journalEntries} journal entries)`,
    `lost or corrupt records    ${a.lostOrCorrupt}   (${a.records.total} records: ${Object.entries(a.records.byState).map(([s, n]) => `${n} ${s}`).join(", ")}${Object.keys(a.records.rejectedByCode).length ? `; rejected as ${Object.entries(a.records.rejectedByCode).map(([c, n]) => `${c} ${n}`).join(", ")}` : ""})`,
    `updates never completed    ${a.incomplete}`,
    "",
    `updates confirmed ${r.updatesConfirmed} of ${r.cycles.length} cycles; clean run ${r.cleanRunMs.map((m) => (m / 1000).toFixed(1)).join(", ")} s; keeper start-up (spawn to state lock) median ${r.startupMs.median.toFixed(0)} ms, max ${r.startupMs.max.toFixed(0)} ms over ${r.startupMs.runs} runs; wall ${(r.wallMs / 1000).toFixed(1)} s`,
  );
  if (a.litter.length > 0) lines.push(`temp files left by killed writers (harmless): ${a.litter.length}`);
  if (a.orphanEvidence.length > 0) lines.push(`evidence bundles no record names: ${a.orphanEvidence.join(", ")}`);
  if (a.lockLeft) lines.push("a state lock file is left after the last (clean) run");
  for (const [what, list] of Object.entries(a.findings)) for (const x of list) lines.push(`  ${what}: ${x}`);
  for (const x of r.runFailures) lines.push(`  run failure: ${x}`);
  return lines.join("\n");
}

/** One JSON line for scripts: counts, kills by stage, timings. */
export function crashReportJson(r: CrashLoopReport): string {
  const byStage: Record<string, number> = {};
  for (const k of r.kills) byStage[k.stage] = (byStage[k.stage] ?? 0) + 1;
  return JSON.stringify({
    seed: r.seed,
    spread: r.spread,
    kills: r.kills.length,
    missedKills: r.missed,
    killsByStage: byStage,
    duplicates: r.audit.duplicates,
    lostOrCorrupt: r.audit.lostOrCorrupt,
    incomplete: r.audit.incomplete,
    updatesConfirmed: r.updatesConfirmed,
    cycles: r.cycles.length,
    keeperTxs: r.audit.keeperTxs,
    journalEntries: r.audit.journalEntries,
    records: r.audit.records,
    runFailures: r.runFailures.length,
    tempFilesLeft: r.audit.litter.length,
    orphanEvidence: r.audit.orphanEvidence.length,
    lockLeft: r.audit.lockLeft,
    cleanRunMs: r.cleanRunMs.map(Math.round),
    startupMs: { median: Math.round(r.startupMs.median), max: Math.round(r.startupMs.max) },
    wallMs: Math.round(r.wallMs),
  });
}
