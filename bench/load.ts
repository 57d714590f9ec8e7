// Load benchmark (`npm run bench:load`, issue 9): many markets on one keeper for an hour of
// simulated time. The keeper is the real runtime (startKeeperRuntime: state store, lock, logger,
// health server, scheduler) on a SimulatedClock; each market's run is the real MarketPipeline
// (fhs-ewma calibration, the policy's bounded rule, the walk-forward backtest gate, submission
// through one TxManager and read-back) against one RiskParameterSteward holding every market, on
// an in-process Hardhat EDR chain served over loopback HTTP.
//
// What is not as live, and why:
//   - history plays faster than the keeper's clock (default 60x: one simulated minute brings one
//     hourly bar), so that an hour of keeper time holds stress rising, updates confirmed and
//     records compacted; the chain's time follows the history's (a block every watch tick);
//   - the fork gate runs on one market in `forkEvery` (one fork validation takes seconds); the
//     other markets' gate passes without forking and says so in its evidence (`notForked`);
//   - the SimulatedClock settles each event before the next: work between two awaits of the clock
//     takes no simulated time. A submitting run does take simulated time (it waits for its second
//     confirmation block, which comes with the next watch tick), so watches, calibrations and stress
//     triggers do arrive while runs are in progress. Real-time headroom is reported as wall time
//     per simulated minute.
//
// Measured: heap used after a full GC at the end of the warm-up and at the end (ratio), per
// market the calibrations expected by the cron versus run (on time, late, missed), overlapping
// runs, watches, state file size and record count after the warm-up and at the end, wall time.
// Heap is also sampled after a GC every 10 simulated minutes. Printed as a table and one JSON line.
// Seeded: the same options and --dir (the config hash in every evidence bundle covers the state
// path) give the same figures and the same state file, wall times and heap bytes aside.
//
//   node --expose-gc bench/load.ts [--markets 50] [--minutes 60] [--warmup 10] [--speedup 60]
//                                  [--fork-every 10] [--keep 2] [--seed 1] [--dir .riskkeeper/bench-load] [--quiet]
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import v8 from "node:v8";
import vm from "node:vm";
import { HDNodeWallet, JsonRpcProvider, Wallet, type Contract } from "ethers";
import { generatedHourlySeries } from "../bot/data/generated.ts";
import { validatePolicy, type Policy } from "../bot/backtest/policy.ts";
import { createBufferModel } from "../bot/backtest/model.ts";
import { bindSteward, errorInterfaces } from "../bot/chain/bindings.ts";
import { keeperChainPort } from "../bot/chain/keeper-port.ts";
import { TxManager } from "../bot/chain/tx-manager.ts";
import type { SubmissionRecord } from "../bot/chain/journal.ts";
import type { ValidationReport } from "../bot/fork/validate.ts";
import { PARAM, PARAM_NAMES, boundsTuple, marketId } from "../deploy/market-config.ts";
import { deployRiskkeeper, type Deployment } from "../deploy/deploy.ts";
import { parseCron, SimulatedClock } from "../bot/keeper/clock.ts";
import { configHash, validateKeeperConfig } from "../bot/keeper/config.ts";
import { managedRulesFromPolicy } from "../bot/keeper/decide.ts";
import { DEV_MNEMONIC, marketConfigFor } from "../bot/keeper/embedded.ts";
import { ForkValidationGate, WalkForwardGate } from "../bot/keeper/gates.ts";
import { SeriesHistory } from "../bot/keeper/history.ts";
import { MarketPipeline, type ForkGate, type RunResult } from "../bot/keeper/pipeline.ts";
import { startLoopbackRpcServer } from "../bot/keeper/rpc-server.ts";
import { startKeeperRuntime } from "../bot/keeper/runtime.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const HOUR = 3_600;
const DAY = 86_400;
const MINUTE_MS = 60_000;

export interface LoadOptions {
  markets: number;
  /** Simulated time the keeper runs, seconds. */
  seconds: number;
  /** Heap and state are measured first at the end of this (simulated seconds). */
  warmupSeconds: number;
  /** History (and chain) seconds per simulated second. */
  speedup: number;
  /** Fork gate on markets 0, n, 2n, ...; 0: on none. */
  forkEvery: number;
  /** The config's state.keepTerminalPerMarket. */
  keepTerminalPerMarket: number;
  watchCron: string;
  calibrateCron: string;
  seed: number;
  /** Working folder (emptied first): state, evidence, log. */
  dir: string;
  /** A line per simulated minute. */
  onProgress?: (line: string) => void;
}

export const DEFAULT_LOAD: Omit<LoadOptions, "dir"> = {
  markets: 50,
  seconds: HOUR,
  warmupSeconds: 600,
  speedup: 60,
  forkEvery: 10,
  keepTerminalPerMarket: 2,
  watchCron: "*/5 * * * * *",
  calibrateCron: "0 */5 * * * *",
  seed: 1,
};

/** What the schedule did, per market and summed over the markets (maxima for the *Seconds). */
export interface ScheduleFigures {
  calibrationsExpected: number;
  calibrationsOnTime: number;
  calibrationsLate: number;
  calibrationsMissed: number;
  /** Longest delay of a calibration served late (a follow-up after a run in progress), simulated seconds. */
  maxLateSeconds: number;
  runs: number;
  stressRuns: number;
  /** Longest run, simulated seconds. */
  maxRunSeconds: number;
  overlaps: number;
  coalesced: number;
  watchesExpected: number;
  watches: number;
  watchesSkipped: number;
  watchFailures: number;
}

export interface MarketLoad extends ScheduleFigures {
  market: string;
  crash: boolean;
  forkGate: boolean;
  failures: number;
  confirmed: number;
  rejected: number;
}

export interface LoadReport extends ScheduleFigures {
  markets: number;
  simulatedHours: number;
  speedup: number;
  forkGateMarkets: number;
  schedule: { watch: string; calibrate: string };
  runFailures: number;
  outcomes: Record<RunResult["outcome"], number>;
  forkValidations: number;
  /** Heap used after a full GC: after the warm-up, at the end, and every 10 simulated minutes (minute, MB). */
  heap: { afterWarmupMB: number; endMB: number; ratio: number; rssEndMB: number; samplesMB: Array<[number, number]> };
  state: {
    keepTerminalPerMarket: number;
    afterWarmup: { bytes: number; records: number };
    end: { bytes: number; records: number; journal: number; updatesBytes: number; journalBytes: number };
    /** Journal entries no kept record refers to (compaction did not remove them). */
    orphanJournal: number;
    maxBytes: number;
    maxRecords: number;
    confirmed: number;
    rejected: number;
    compacted: number;
  };
  /** Not bounded by compaction: evidence bundles are kept for audit, the log is appended. */
  evidence: { files: number; bytes: number };
  logBytes: number;
  wall: { setupSeconds: number; runSeconds: number; perSimMinuteMaxSeconds: number; perSimMinuteMedianSeconds: number };
  perMarket: MarketLoad[];
}

/** global.gc without --expose-gc: V8 lets the flag be set at run time and hands gc to a new context. */
function collector(): () => void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) return g;
  v8.setFlagsFromString("--expose-gc");
  return vm.runInNewContext("gc") as () => void;
}

function heapAfterGc(gc: () => void): number {
  // Twice: the first pass may only schedule finalisers whose garbage the second collects.
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

const mb = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;

/** Cron occurrences of `cron` in (fromMs, toMs]. */
function occurrences(cron: string, fromMs: number, toMs: number): number[] {
  const it = parseCron(cron, fromMs);
  const out: number[] = [];
  for (;;) {
    const t = it.next().toDate().getTime();
    if (t > toMs) return out;
    out.push(t);
  }
}

/**
 * policies/default-1h.json with a 4 h min delay (instead of 24 h) and loosening after 24 h calm
 * (instead of a week): at 60x, an hour of keeper time holds 60 h of bars, and with the default
 * delays a market could move at most twice; these let the rule act (and the store fill and compact)
 * several times per market. Model, horizon, steps and dead bands are the default's.
 */
export const LOAD_POLICY_NAME = "default-1h-load";
function loadPolicy(): Policy {
  const file = path.join(ROOT, "policies", "default-1h.json");
  const doc = JSON.parse(readFileSync(file, "utf8"));
  doc.name = LOAD_POLICY_NAME;
  doc.rule.minDelaySeconds = 4 * HOUR;
  doc.rule.calmBeforeLoosenSeconds = DAY;
  return validatePolicy(doc, `${file} (load variant)`);
}

/** The fork gate's stand-in on markets without one: passes, and says in the evidence that it did not fork. */
function notForkedGate(every: number): ForkGate {
  return {
    async validate(market, changes) {
      const reason = every > 0 ? `not forked: the load bench forks one market in ${every}` : "not forked: the load bench runs without the fork gate";
      return {
        verdict: "pass",
        reasons: [reason],
        steward: { path: "keeper", wouldAccept: true },
        changes: changes.map((c) => ({ parameter: c.parameter, from: 0n, to: c.value })),
        diff: [{ scenario: `notForked (${market})`, badDebt: [0n, 0n], liquidations: [0, 0], missedLiquidations: [0, 0], underwaterLiquidations: [0, 0] }],
      } as unknown as ValidationReport;
    },
  };
}

export async function runLoad(options: LoadOptions): Promise<LoadReport> {
  const o = options;
  const setupStart = performance.now();
  const gc = collector();
  rmSync(o.dir, { recursive: true, force: true });
  mkdirSync(o.dir, { recursive: true });
  const policy = loadPolicy();
  const rules = managedRulesFromPolicy(policy);
  const model = createBufferModel(policy.modelSpec);

  // Histories: one seeded GARCH-t path per market; half of them crash at a staggered hour inside
  // the window the run plays, the rest have no crash (their stress comes from the noise alone).
  const HOURS = 2 * 8_760;
  const windowHours = Math.ceil((o.seconds * o.speedup) / HOUR);
  const windowStart = HOURS - 1 - 21 * 24; // three weeks before the end of the series
  if (windowHours > 21 * 24 - 2) throw new Error(`${windowHours} h of history to play: at most ${21 * 24 - 2} (fewer minutes or a lower speedup)`);
  const names = Array.from({ length: o.markets }, (_, i) => `LOAD-${String(i).padStart(2, "0")}`);
  const markets = names.map((name, i) => {
    const crash = i % 2 === 0;
    const crashAt = windowStart + 2 + Math.floor(((i * 7919 + o.seed * 31) % 97) / 97 * Math.max(1, windowHours - 6));
    const series = generatedHourlySeries({ seed: o.seed * 1_000 + i, hours: HOURS, crashFraction: crash ? 0.3 : 0, crashHours: 12, crashFromEndHours: HOURS - 1 - crashAt });
    const history = new SeriesHistory(series, { source: `generated (seed ${o.seed * 1_000 + i})` });
    return { name, id: marketId(name), crash, forkGate: o.forkEvery > 0 && i % o.forkEvery === 0, history };
  });
  const byName = new Map(markets.map((m) => [m.name, m]));
  const h0 = markets[0].history.series.t[windowStart] + HOUR; // the window's first bar is known
  const simStart = h0 * 1000;
  const simEnd = simStart + o.seconds * 1000;
  const historyNow = (simMs: number) => h0 + Math.floor(((simMs - simStart) / 1000) * o.speedup);

  // The chain: genesis a week before the window; one steward, every market created on it by the
  // timelock (impersonated: the steward's admin after deployment, as governance would).
  const { network } = await import("hardhat");
  const chain = await network.create({ network: "hardhat", override: { initialDate: new Date((h0 - 7 * DAY) * 1000) } });
  const server = await startLoopbackRpcServer(chain.provider);
  const admin = await network.create({ network: "localhost", override: { url: server.url } });
  const provider = new JsonRpcProvider(server.url, undefined, { staticNetwork: true, cacheTimeout: -1, batchStallTime: 0, batchMaxCount: 1 });
  const cleanups: Array<() => Promise<void> | void> = [() => server.close(), () => chain.close(), () => admin.close(), () => provider.destroy()];
  try {
    const launchConfig = (m: (typeof markets)[number]) => {
      const est = model.estimate({ returns: m.history.returnsAt(h0), horizonSteps: policy.horizonSteps, alpha: policy.alpha, lookback: policy.lookbackSteps, stepsPerYear: policy.stepsPerYear });
      return { ...marketConfigFor(rules, { maintenanceMarginBps: est.bufferBps, volAnnualPpm: est.volAnnual * 1e6 }), name: m.name };
    };
    const base = await deployRiskkeeper(admin.ethers, { market: launchConfig(markets[0]) });
    const { ethers } = admin;
    const [deployer] = await ethers.getSigners();
    await admin.provider.request({ method: "hardhat_impersonateAccount", params: [base.contracts.timelock] });
    await admin.provider.request({ method: "hardhat_setBalance", params: [base.contracts.timelock, "0x56bc75e2d63100000"] });
    const governance = await ethers.getSigner(base.contracts.timelock);
    const steward = (await ethers.getContractAt("RiskParameterSteward", base.contracts.steward, governance)) as unknown as Contract;
    const collateral = (await ethers.getContractAt("DemoUSD", base.contracts.collateral, deployer)) as unknown as Contract;
    const deployments = new Map<string, Deployment>([[markets[0].name, base]]);
    for (const m of markets.slice(1)) {
      const config = launchConfig(m);
      await (await steward.getFunction("createMarket")(m.id)).wait();
      for (const p of PARAM_NAMES) await (await steward.getFunction("setBounds")(m.id, PARAM[p], boundsTuple(config.bounds[p]))).wait();
      await (await steward.getFunction("setParams")(m.id, PARAM_NAMES.map((p) => [PARAM[p], config.initialValues[p]]), ethers.id(`riskkeeper:genesis:${m.name}`))).wait();
      if (!m.forkGate) continue;
      // A market the fork gate validates needs its own protocol (one market per DemoMarginProtocol) and feed.
      const feed = await ethers.deployContract("ReplayAggregator", [8, `${m.name} (replay)`, await deployer.getAddress()], deployer);
      const protocol = await ethers.deployContract("DemoMarginProtocol", [base.contracts.steward, m.id, await feed.getAddress(), base.contracts.collateral, 3_900n], deployer);
      const liquidity = 10_000_000n * 10n ** 18n;
      await (await collateral.getFunction("mint")(await deployer.getAddress(), liquidity)).wait();
      await (await collateral.getFunction("approve")(await protocol.getAddress(), liquidity)).wait();
      await (await protocol.getFunction("fundPool")(liquidity)).wait();
      deployments.set(m.name, { ...base, market: { name: m.name, id: m.id }, contracts: { ...base.contracts, feed: await feed.getAddress(), protocol: await protocol.getAddress() } });
    }
    await admin.provider.request({ method: "hardhat_stopImpersonatingAccount", params: [base.contracts.timelock] });

    // The keeper's config, validated like a file's: every market on the schedule, small keep.
    const config = validateKeeperConfig(
      {
        markets: markets.map((m) => ({
          name: m.name,
          // Its own replay feed where the fork gate needs one; the others name the first market's
          // (the pipeline reads prices from the history, not from a feed).
          feed: deployments.get(m.name)?.contracts.feed ?? base.contracts.feed,
          data: `generated-${m.name}.csv`,
          policy: LOAD_POLICY_NAME,
          steward: base.contracts.steward,
          ...(deployments.has(m.name) ? { protocol: deployments.get(m.name)!.contracts.protocol } : {}),
          schedule: { watch: o.watchCron, calibrate: o.calibrateCron },
        })),
        deployment: "embedded",
        health: { port: 0 },
        log: { level: "info", file: "keeper.log" },
        state: { file: "state.json", keepTerminalPerMarket: o.keepTerminalPerMarket },
        killSwitchFile: "KILL",
        gas: { maxFeePerGasGwei: 500, maxPriorityFeePerGasGwei: 1 },
      },
      { knownPolicies: [LOAD_POLICY_NAME], source: "bench/load.ts", baseDir: o.dir, checkFiles: false },
    );

    // The chain's time follows the history's: a block at each watch tick, and each submission in
    // the block after the latest, so block times never depend on wall time.
    const clock = new SimulatedClock(simStart);
    const setNextTime = async (t: number) => {
      const latest = (await provider.getBlock("latest"))!.timestamp;
      await provider.send("evm_setNextBlockTimestamp", [Math.max(t, latest + 1)]);
    };
    const blocks = clock.schedule(o.watchCron, async () => {
      await setNextTime(historyNow(clock.now()));
      await provider.send("evm_mine", []);
    });
    await setNextTime(h0);
    await provider.send("evm_mine", []);

    // Instrumentation (all in the bench: the keeper code is the real one).
    interface Tally { active: number; overlaps: number; starts: Array<{ at: number; reason: string }>; maxRunMs: number }
    const tally = new Map(names.map((n) => [n, { active: 0, overlaps: 0, starts: [], maxRunMs: 0 } as Tally]));
    const outcomes: Record<RunResult["outcome"], number> = { "no-change": 0, confirmed: 0, rejected: 0, held: 0 };
    let forkValidations = 0;

    const keeperSigner = new Wallet(HDNodeWallet.fromPhrase(DEV_MNEMONIC, undefined, "m/44'/60'/0'/0/1").privateKey);
    const stewardBinding = bindSteward(base.contracts.steward, provider);
    const pipelines = new Map<string, MarketPipeline>();
    const runtime = await startKeeperRuntime({
      config,
      clock,
      terminal: false,
      signalHandlers: false,
      alerts: () => [...pipelines.values()].flatMap((p) => p.alerts),
      run: async (ctx) => {
        const t = tally.get(ctx.market)!;
        if (t.active > 0) t.overlaps++;
        t.active++;
        t.starts.push({ at: ctx.startedAt, reason: ctx.reason });
        try {
          const result = await pipelines.get(ctx.market)!.run(ctx.submissionsAllowed);
          outcomes[result.outcome]++;
        } finally {
          t.active--;
          t.maxRunMs = Math.max(t.maxRunMs, clock.now() - ctx.startedAt);
        }
      },
      watch: async (market) => ({ level: byName.get(market)!.history.stressAt(historyNow(clock.now())).level }),
    });
    cleanups.unshift(() => runtime.stop());

    // One signer, one nonce sequence: a single transaction manager for every market.
    const manager = new TxManager({
      provider,
      signer: keeperSigner,
      chainId: 31337n,
      journal: runtime.store.journalFor<SubmissionRecord>(),
      fees: { maxFeePerGas: BigInt(config.gas.maxFeePerGasGwei * 1e9), maxPriorityFeePerGas: BigInt(config.gas.maxPriorityFeePerGasGwei * 1e9) },
      // Confirmations and polling as `riskkeeper run` has them (the defaults: 2 blocks, every 2 s):
      // the second block comes with the next watch tick, so a submitting run lasts simulated
      // seconds, and watches, calibrations and stress triggers arrive while it is in progress.
      clock: { now: () => clock.now(), sleep: (ms) => clock.sleep(ms) },
      errorInterfaces: errorInterfaces(),
    });
    const port = keeperChainPort({ provider, steward: stewardBinding, manager });
    const chainPort = {
      ...port,
      submit: async (change: Parameters<typeof port.submit>[0]) => {
        await setNextTime(0); // the block right after the latest, whatever the wall clock says
        return port.submit(change);
      },
    };
    const hash = configHash(config);
    for (const m of markets) {
      const forkGate = m.forkGate
        ? (() => {
            const gate = new ForkValidationGate(m.history, { forkUrl: server.url, deployment: deployments.get(m.name)!, positions: 20, seed: o.seed });
            return { validate: (...args: Parameters<ForkGate["validate"]>) => { forkValidations++; return gate.validate(...args); } };
          })()
        : notForkedGate(o.forkEvery);
      pipelines.set(m.name, new MarketPipeline(
        { name: m.name, marketId: m.id, policy, model, rules, history: m.history },
        { store: runtime.store, chain: chainPort, backtestGate: new WalkForwardGate(m.history, policy), forkGate, stateDir: runtime.stateDir, configHash: hash, logger: runtime.logger },
      ));
    }

    // Health and metrics scraped every simulated minute, as a monitor would.
    const scrapes = clock.schedule("30 * * * * *", async () => {
      const url = runtime.health!.url;
      await (await fetch(`${url}/metrics`)).text();
      await (await fetch(`${url}/healthz`)).json();
      // fetch leaves a resource timing entry per request (up to 250 kept): not the keeper's memory.
      performance.clearResourceTimings();
    });

    const stateStat = () => {
      const snap = runtime.store.snapshot();
      const size = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x)).length;
      const referenced = new Set(Object.values(snap.updates).map((r) => (r.evidence.confirmed as { submissionId?: string } | undefined)?.submissionId));
      return {
        bytes: statSync(config.state.file).size,
        records: Object.keys(snap.updates).length,
        journal: Object.keys(snap.journal).length,
        updatesBytes: size(snap.updates),
        journalBytes: size(snap.journal),
        orphanJournal: Object.keys(snap.journal).filter((k) => !referenced.has(k)).length,
      };
    };
    const setupSeconds = (performance.now() - setupStart) / 1000;

    // The run: a simulated minute at a time, so progress, heap and state can be sampled.
    const runStart = performance.now();
    const minuteWall: number[] = [];
    const samples: Array<[number, number]> = [];
    let endHeap = 0;
    let warm: { heap: number; bytes: number; records: number } | undefined;
    let maxBytes = 0;
    let maxRecords = 0;
    for (let t = simStart; t < simEnd;) {
      const next = Math.min(simEnd, t + MINUTE_MS);
      const w = performance.now();
      await clock.advanceTo(next);
      minuteWall.push((performance.now() - w) / 1000);
      t = next;
      const s = stateStat();
      maxBytes = Math.max(maxBytes, s.bytes);
      maxRecords = Math.max(maxRecords, s.records);
      const minute = (t - simStart) / MINUTE_MS;
      const warmupEnds = !warm && t - simStart >= o.warmupSeconds * 1000;
      const collect = warmupEnds || t === simEnd || minute % 10 === 0;
      const heap = collect ? heapAfterGc(gc) : process.memoryUsage().heapUsed;
      if (collect) samples.push([minute, mb(heap)]);
      if (warmupEnds) warm = { heap, bytes: s.bytes, records: s.records };
      if (t === simEnd) endHeap = heap;
      o.onProgress?.(`${minute.toFixed(0).padStart(3)} min  ${new Date(historyNow(t) * 1000).toISOString().slice(0, 16)}  wall ${minuteWall.at(-1)!.toFixed(2)} s  heap ${mb(heap)} MB${collect ? " (after GC)" : ""}  state ${(s.bytes / 1024).toFixed(0)} KiB, ${s.records} records  confirmed ${outcomes.confirmed} rejected ${outcomes.rejected}`);
    }
    const rssEnd = process.memoryUsage().rss;
    const runSeconds = (performance.now() - runStart) / 1000;
    // Stop as a replay must: the schedule ends, and the clock goes on (blocks keep coming) until
    // the runs in progress have their confirmations; stop() waits for them.
    scrapes.cancel();
    let stopped = false;
    const stopping = runtime.stop().then(() => { stopped = true; });
    cleanups.shift();
    while (!stopped) {
      await clock.advance(1_000);
      // The store and log close on real I/O: let it happen between simulated seconds.
      await new Promise((resolve) => setImmediate(resolve));
    }
    await stopping;
    blocks.cancel();
    const end = stateStat();
    const stats = runtime.scheduler.stats();
    const counters = runtime.store.counters();

    const cadenceMs = (() => {
      const [a, b] = occurrences(o.calibrateCron, simStart, simStart + 2 * DAY * 1000);
      return b - a;
    })();
    const perMarket: MarketLoad[] = markets.map((m) => {
      const t = tally.get(m.name)!;
      const expected = occurrences(o.calibrateCron, simStart, simEnd);
      let onTime = 0;
      let late = 0;
      let missed = 0;
      let maxLateMs = 0;
      for (const at of expected) {
        // A calibration that arrives during a run is served by the follow-up run after it.
        const served = t.starts.find((s) => s.at >= at && s.at < at + cadenceMs);
        if (t.starts.some((s) => s.at === at && s.reason === "calibration")) onTime++;
        else if (served) {
          late++;
          maxLateMs = Math.max(maxLateMs, served.at - at);
        } else missed++;
      }
      const s = stats[m.name];
      const c = counters[m.name];
      return {
        market: m.name,
        crash: m.crash,
        forkGate: m.forkGate,
        calibrationsExpected: expected.length,
        calibrationsOnTime: onTime,
        calibrationsLate: late,
        calibrationsMissed: missed,
        maxLateSeconds: maxLateMs / 1000,
        runs: s.runs,
        stressRuns: t.starts.filter((x) => x.reason === "stress").length,
        maxRunSeconds: t.maxRunMs / 1000,
        failures: s.failures,
        overlaps: t.overlaps,
        coalesced: s.coalesced,
        watchesExpected: occurrences(o.watchCron, simStart, simEnd).length,
        watches: s.watches,
        watchesSkipped: s.watchesSkipped,
        watchFailures: s.watchFailures,
        confirmed: c?.confirmed ?? 0,
        rejected: Object.values(c?.rejected ?? {}).reduce((a, b) => a + b, 0),
      };
    });
    const sum = (k: keyof MarketLoad) => perMarket.reduce((a, m) => a + (m[k] as number), 0);
    const evidenceDir = path.join(o.dir, "evidence");
    const evidenceFiles = readdirSync(evidenceDir, { withFileTypes: true }).filter((e) => e.isFile());
    const sortedMinutes = [...minuteWall].sort((a, b) => a - b);
    return {
      markets: o.markets,
      simulatedHours: o.seconds / HOUR,
      speedup: o.speedup,
      forkGateMarkets: markets.filter((m) => m.forkGate).length,
      schedule: { watch: o.watchCron, calibrate: o.calibrateCron },
      calibrationsExpected: sum("calibrationsExpected"),
      calibrationsOnTime: sum("calibrationsOnTime"),
      calibrationsLate: sum("calibrationsLate"),
      calibrationsMissed: sum("calibrationsMissed"),
      maxLateSeconds: Math.max(...perMarket.map((m) => m.maxLateSeconds)),
      runs: sum("runs"),
      stressRuns: sum("stressRuns"),
      maxRunSeconds: Math.max(...perMarket.map((m) => m.maxRunSeconds)),
      runFailures: sum("failures"),
      overlaps: sum("overlaps"),
      coalesced: sum("coalesced"),
      watchesExpected: sum("watchesExpected"),
      watches: sum("watches"),
      watchesSkipped: sum("watchesSkipped"),
      watchFailures: sum("watchFailures"),
      outcomes,
      forkValidations,
      heap: { afterWarmupMB: mb(warm!.heap), endMB: mb(endHeap), ratio: Math.round((endHeap / warm!.heap) * 1000) / 1000, rssEndMB: mb(rssEnd), samplesMB: samples },
      state: {
        keepTerminalPerMarket: o.keepTerminalPerMarket,
        afterWarmup: { bytes: warm!.bytes, records: warm!.records },
        end: { bytes: end.bytes, records: end.records, journal: end.journal, updatesBytes: end.updatesBytes, journalBytes: end.journalBytes },
        orphanJournal: end.orphanJournal,
        maxBytes,
        maxRecords,
        confirmed: Object.values(counters).reduce((a, c) => a + c.confirmed, 0),
        rejected: Object.values(counters).reduce((a, c) => a + Object.values(c.rejected).reduce((x, y) => x + y, 0), 0),
        compacted: Object.values(counters).reduce((a, c) => a + c.compacted, 0),
      },
      evidence: { files: evidenceFiles.length, bytes: evidenceFiles.reduce((a, e) => a + statSync(path.join(evidenceDir, e.name)).size, 0) },
      logBytes: statSync(config.log.file!).size,
      wall: {
        setupSeconds: Math.round(setupSeconds * 10) / 10,
        runSeconds: Math.round(runSeconds * 10) / 10,
        perSimMinuteMaxSeconds: Math.round(sortedMinutes.at(-1)! * 100) / 100,
        perSimMinuteMedianSeconds: Math.round(sortedMinutes[Math.floor(sortedMinutes.length / 2)] * 100) / 100,
      },
      perMarket,
    };
  } finally {
    for (const c of cleanups) await Promise.resolve(c()).catch(() => {});
  }
}

export function formatLoadReport(r: LoadReport): string {
  const rows: Array<[string, string]> = [
    ["markets", `${r.markets} (${r.perMarket.filter((m) => m.crash).length} with a crash in the window; fork gate on ${r.forkGateMarkets}, the others not forked)`],
    ["simulated time", `${Math.round(r.simulatedHours * 100) / 100} h keeper time, history and chain at ${r.speedup}x (${(r.simulatedHours * r.speedup).toFixed(0)} h of hourly bars)`],
    ["schedule", `watch '${r.schedule.watch}', calibration '${r.schedule.calibrate}'`],
    ["calibrations", `expected ${r.calibrationsExpected}, on time ${r.calibrationsOnTime}, late ${r.calibrationsLate} (at most ${r.maxLateSeconds} s, after a run in progress), missed ${r.calibrationsMissed}`],
    ["runs", `${r.runs} (${r.stressRuns} on stress rising), failed ${r.runFailures}, overlapping ${r.overlaps}, coalesced ${r.coalesced}; longest ${r.maxRunSeconds} s simulated`],
    ["watches", `expected ${r.watchesExpected}, made ${r.watches}, skipped ${r.watchesSkipped}, failed ${r.watchFailures}`],
    ["outcomes", `no-change ${r.outcomes["no-change"]}, confirmed ${r.outcomes.confirmed}, rejected ${r.outcomes.rejected}, held ${r.outcomes.held}; fork validations ${r.forkValidations}`],
    ["heap (after GC)", `${r.heap.afterWarmupMB} MB after warm-up, ${r.heap.endMB} MB at end: ratio ${r.heap.ratio.toFixed(3)} (RSS at end ${r.heap.rssEndMB} MB)`],
    ["heap by minute", r.heap.samplesMB.map(([m, v]) => `${m}: ${v}`).join(", ")],
    ["state file", `after warm-up ${(r.state.afterWarmup.bytes / 1024).toFixed(0)} KiB / ${r.state.afterWarmup.records} records; end ${(r.state.end.bytes / 1024).toFixed(0)} KiB / ${r.state.end.records} records; max ${(r.state.maxBytes / 1024).toFixed(0)} KiB / ${r.state.maxRecords} records (cap ${r.markets * r.state.keepTerminalPerMarket} terminal)`],
    ["state sections", `updates ${(r.state.end.updatesBytes / 1024).toFixed(0)} KiB, journal ${(r.state.end.journalBytes / 1024).toFixed(0)} KiB: ${r.state.end.journal} entries, ${r.state.orphanJournal} of them for records already compacted (never removed)`],
    ["records", `confirmed ${r.state.confirmed}, rejected ${r.state.rejected}, compacted ${r.state.compacted} (keep ${r.state.keepTerminalPerMarket} terminal per market)`],
    ["not compacted", `evidence ${r.evidence.files} bundles / ${(r.evidence.bytes / 1024).toFixed(0)} KiB (kept for audit); log ${(r.logBytes / 1024).toFixed(0)} KiB`],
    ["wall", `setup ${r.wall.setupSeconds} s, run ${r.wall.runSeconds} s; per simulated minute median ${r.wall.perSimMinuteMedianSeconds} s, max ${r.wall.perSimMinuteMaxSeconds} s`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join("\n");
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      markets: { type: "string" }, minutes: { type: "string" }, warmup: { type: "string" }, speedup: { type: "string" },
      "fork-every": { type: "string" }, keep: { type: "string" }, seed: { type: "string" }, dir: { type: "string" }, quiet: { type: "boolean" },
    },
  });
  const int = (v: string | undefined, name: string, def: number) => {
    if (v === undefined) return def;
    if (!/^\d+$/.test(v)) throw new Error(`--${name}: expected a non-negative integer, got '${v}'`);
    return Number(v);
  };
  const options: LoadOptions = {
    ...DEFAULT_LOAD,
    markets: int(values.markets, "markets", DEFAULT_LOAD.markets),
    seconds: int(values.minutes, "minutes", DEFAULT_LOAD.seconds / 60) * 60,
    warmupSeconds: int(values.warmup, "warmup", DEFAULT_LOAD.warmupSeconds / 60) * 60,
    speedup: int(values.speedup, "speedup", DEFAULT_LOAD.speedup),
    forkEvery: int(values["fork-every"], "fork-every", DEFAULT_LOAD.forkEvery),
    keepTerminalPerMarket: int(values.keep, "keep", DEFAULT_LOAD.keepTerminalPerMarket),
    seed: int(values.seed, "seed", DEFAULT_LOAD.seed),
    dir: path.resolve(values.dir ?? path.join(ROOT, ".riskkeeper", "bench-load")),
    ...(values.quiet ? {} : { onProgress: (line: string) => console.log(line) }),
  };
  const report = await runLoad(options);
  console.log(formatLoadReport(report));
  const { perMarket, heap, ...summary } = report;
  console.log(JSON.stringify({ bench: "load", ...summary, heap }));
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  await main();
  // The Hardhat runtime keeps handles open after its connections close.
  process.exit(0);
}
