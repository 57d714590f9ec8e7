// The embedded default and the replay: an in-process Hardhat chain served on 127.0.0.1 (so the fork
// gate forks it over HTTP like any node), the contracts deployed with the policy's bounds, recorded
// history played hour by hour through the ReplayAggregator on a simulated clock, a population of
// traders and a liquidator acting on the protocol, and the keeper's scheduler and pipeline running
// against it all — the same code as the live keeper.
import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { HDNodeWallet, JsonRpcProvider, Wallet, keccak256, toUtf8Bytes, type Contract } from "ethers";
import type winston from "winston";
import { RiskkeeperError } from "../errors.ts";
import type { PriceSeries } from "../data/normalise.ts";
import type { Policy } from "../backtest/policy.ts";
import { createBufferModel } from "../backtest/model.ts";
import { bindSteward, errorInterfaces } from "../chain/bindings.ts";
import { keeperChainPort } from "../chain/keeper-port.ts";
import { TxManager } from "../chain/tx-manager.ts";
import type { SubmissionRecord } from "../chain/journal.ts";
import { DemoProtocolAdapter } from "../fork/adapter.ts";
import { seededPopulation } from "../fork/population.ts";
import { DEFAULT_MARKET, PARAM_NAMES, type MarketConfig, type ParamBounds } from "../../deploy/market-config.ts";
import { deployRiskkeeper, type Deployment } from "../../deploy/deploy.ts";
import { SimulatedClock } from "./clock.ts";
import { managedRulesFromPolicy, type ManagedRules } from "./decide.ts";
import { ForkValidationGate, WalkForwardGate } from "./gates.ts";
import { SeriesHistory } from "./history.ts";
import { startLoopbackRpcServer } from "./rpc-server.ts";
import { MarketPipeline, describe, type RunResult } from "./pipeline.ts";
import { Scheduler } from "./scheduler.ts";
import { StateStore } from "./state.ts";
import { buildHealthReport, collectKeeperMetrics, startHealthServer, type HealthServer } from "./health.ts";
import { createKeeperMetrics } from "./metrics.ts";
import { canonicalJson } from "./evidence.ts";
import { maskRpcUrl } from "../url-mask.ts";
import type { JsonValue } from "./state.ts";

/** Hardhat's public development mnemonic: the embedded chain's accounts (no secret). */
export const DEV_MNEMONIC = "test test test test test test test test test test test junk";
const HOUR = 3_600;
const DAY = 86_400;

export interface EmbeddedRunOptions {
  series: PriceSeries;
  source: string;
  report?: JsonValue;
  policy: Policy;
  /** Replay period, unix seconds. */
  from: number;
  to: number;
  stateDir: string;
  logger: winston.Logger;
  /** configHash() of the keeper config in force (goes into every evidence bundle). */
  configHash?: string;
  /** false: parameters stay as deployed (the static baseline). Default true. */
  keeper?: boolean;
  shadow?: boolean;
  /** Open trader positions kept on the protocol (topped up daily). Default 40. */
  positions?: number;
  seed?: number;
  /** The simulated clock to drive (the logger should read the same one); a new one at `from` by default. */
  clock?: SimulatedClock;
  /**
   * Run on a fork of this chain (pinned at `blockNumber`) instead of a fresh one. The chain's clock
   * cannot go back to the period, so the period is shifted forward by `timeShiftSeconds` (whole
   * days, the fork block's time plus a week of warm-up at least): the rounds, the history and the
   * clock all move together, and reported times are shifted back. The clock given must start at
   * `from + timeShiftSeconds`.
   */
  fork?: { url: string; blockNumber: number; timeShiftSeconds: number };
  /**
   * Health and metrics server (as `riskkeeper run` serves them), on 127.0.0.1 unless `host` says
   * otherwise; port 0 picks a free one. Absent: no server.
   */
  health?: { host?: string; port: number; onListening?: (url: string) => void };
  /** Called after every keeper run that did something, and once a day with a progress line. */
  onEvent?: (event: { kind: "run"; at: number; result: RunResult } | { kind: "day"; at: number; line: string } | { kind: "round"; at: number; count: number }) => void | Promise<void>;
}

export interface EmbeddedRunSummary {
  from: string;
  to: string;
  source: string;
  keeper: boolean;
  hours: number;
  updatesConfirmed: number;
  rejected: Record<string, number>;
  /** Time-weighted mean maintenance margin in force, bps. */
  meanMaintenanceBps: number;
  maxMaintenanceBps: number;
  finalParams: Record<string, number>;
  liquidations: number;
  badDebt: string;
  positionsOpened: number;
  decisions: Array<{ at: string; outcome: string; changes: string; reason: string; txHash?: string }>;
  /** The forked chain, when the run was on a fork (URL masked). */
  fork?: { url: string; chainId: string; blockNumber: number; timeShiftSeconds: number };
  /** Every ParamUpdated event of the market on chain during the run (keeper, governance, automation). */
  onChainUpdates: Array<{ block: number; txHash: string; param: number; oldValue: string; newValue: string; evidenceHash: string; source: number }>;
}

/** The market as governance would launch it: the policy's bounds, and values calibrated at the start. */
export function marketConfigFor(rules: ManagedRules, start: { maintenanceMarginBps: number; volAnnualPpm: number }): MarketConfig {
  const toBounds = (r: ManagedRules["maintenanceMarginBps"]): ParamBounds => ({
    min: BigInt(r.min), max: BigInt(r.max), maxStep: BigInt(r.maxStep), minDelaySeconds: BigInt(r.minDelaySeconds), stepKind: r.stepKind,
  });
  const bounds = { ...DEFAULT_MARKET.bounds };
  bounds.maintenanceMarginBps = toBounds(rules.maintenanceMarginBps);
  bounds.initialMarginBps = toBounds(rules.initialMarginBps);
  bounds.volAnnualPpm = toBounds(rules.volAnnualPpm);
  const clamp = (v: bigint, b: ParamBounds) => (v < b.min ? b.min : v > b.max ? b.max : v);
  const initialValues = { ...DEFAULT_MARKET.initialValues };
  initialValues.maintenanceMarginBps = BigInt(Math.ceil(start.maintenanceMarginBps));
  initialValues.initialMarginBps = BigInt(Math.ceil(start.maintenanceMarginBps * rules.initialMultiple));
  initialValues.volAnnualPpm = BigInt(Math.round(start.volAnnualPpm));
  for (const name of PARAM_NAMES) initialValues[name] = clamp(initialValues[name], bounds[name]);
  return { name: DEFAULT_MARKET.name, initialValues, bounds };
}

/** Seconds to move a period starting at `from` so that it starts a week after `chainTime`, in whole days (0: no move needed). */
export function replayTimeShift(from: number, chainTime: number): number {
  return Math.max(0, Math.ceil((chainTime + 7 * DAY - from) / DAY) * DAY);
}

export async function runEmbedded(input: EmbeddedRunOptions): Promise<EmbeddedRunSummary> {
  // On a fork the whole period runs later by `shift` seconds; a fresh chain starts where it likes.
  const shift = input.fork?.timeShiftSeconds ?? 0;
  if (!(Number.isSafeInteger(shift) && shift >= 0 && shift % DAY === 0)) throw new RiskkeeperError("INPUT_INVALID", `expected whole days >= 0, got ${shift} s`, { input: "fork.timeShiftSeconds" });
  const options: EmbeddedRunOptions = shift === 0 ? input : { ...input, series: { ...input.series, t: input.series.t.map((t) => t + shift) }, from: input.from + shift, to: input.to + shift };
  const shown = (ms: number) => new Date(ms - shift * 1000);
  const { series, policy, logger } = options;
  if (!(options.to > options.from)) throw new RiskkeeperError("INPUT_INVALID", "the period ends before it starts", { input: "--to" });
  const history = new SeriesHistory(series, { source: options.source, ...(options.report ? { report: options.report } : {}) });
  const firstIdx = history.lastKnownIndex(options.from);
  const lastIdx = history.lastKnownIndex(options.to);
  if (firstIdx < 0 || lastIdx <= firstIdx) {
    throw new RiskkeeperError("INPUT_INVALID", `no prices in ${new Date(options.from * 1000).toISOString()}..${new Date(options.to * 1000).toISOString()} (data ${new Date(series.t[0] * 1000).toISOString()}..${new Date(series.t[series.t.length - 1] * 1000).toISOString()})`, { input: options.source });
  }
  const rules = managedRulesFromPolicy(policy);
  const model = createBufferModel(policy.modelSpec);
  await rm(options.stateDir, { recursive: true, force: true });
  await mkdir(options.stateDir, { recursive: true });

  const { network } = await import("hardhat");
  let chain: Awaited<ReturnType<typeof network.create>>;
  if (options.fork) {
    try {
      chain = await network.create({ network: "hardhat", override: { forking: { url: options.fork.url, blockNumber: options.fork.blockNumber } } });
    } catch (error) {
      throw new RiskkeeperError("RPC_FAILED", `cannot fork at block ${options.fork.blockNumber}: ${(error as Error).message}`, { input: maskRpcUrl(options.fork.url), cause: error });
    }
  } else {
    // Genesis a week before the period, so deployment and warm-up happen "before" it.
    chain = await network.create({ network: "hardhat", override: { initialDate: new Date((options.from - 7 * DAY) * 1000) } });
  }
  const server = await startLoopbackRpcServer(chain.provider);
  const url = server.url;
  const admin = await network.create({ network: "localhost", override: { url } });
  // No batching stall: every call goes at once (the default 10 ms stall dominates a replay).
  const provider = new JsonRpcProvider(url, undefined, { staticNetwork: true, cacheTimeout: -1, batchStallTime: 0, batchMaxCount: 1 });
  let store: StateStore | undefined;
  let health: HealthServer | undefined;
  try {
    const chainId = BigInt(await provider.send("eth_chainId", []));
    const startEstimate = model.estimate({ returns: history.returnsAt(options.from), horizonSteps: policy.horizonSteps, alpha: policy.alpha, lookback: policy.lookbackSteps, stepsPerYear: policy.stepsPerYear });
    const launch = { maintenanceMarginBps: startEstimate.bufferBps, volAnnualPpm: startEstimate.volAnnual * 1e6 };
    logger.info(`launch values calibrated at the start: maintenance ${Math.ceil(launch.maintenanceMarginBps)} bps, vol ${(startEstimate.volAnnual * 100).toFixed(1)}%`);
    const deployment: Deployment = await deployRiskkeeper(admin.ethers, { market: marketConfigFor(rules, launch) });
    const { ethers } = admin;
    const [deployer, , , , , , , , trader, liquidator] = await ethers.getSigners();
    const at = async (name: string, address: string) => (await ethers.getContractAt(name, address)) as unknown as Contract;
    const feed = await at("ReplayAggregator", deployment.contracts.feed);
    const protocol = await at("DemoMarginProtocol", deployment.contracts.protocol);
    const steward = await at("RiskParameterSteward", deployment.contracts.steward);
    const collateral = await at("DemoUSD", deployment.contracts.collateral);
    const adapter = new DemoProtocolAdapter({ protocol, collateral, steward, marketId: deployment.market.id });

    // Every bar of the period (and a day before it) as a feed round, published at the time it became known.
    const roundsFrom = Math.max(0, history.lastKnownIndex(options.from - DAY));
    const ids: bigint[] = [];
    const answers: bigint[] = [];
    const times: bigint[] = [];
    for (let i = roundsFrom; i <= lastIdx; i++) {
      ids.push(BigInt(ids.length + 1));
      answers.push(BigInt(Math.round(series.close[i] * 1e8)));
      times.push(BigInt(history.knownAt(i)));
    }
    // Rounds are loaded as they happen, never ahead: the chain (and any fork of it) holds no future.
    let published = 0;
    // The next block at `t`, or just after the latest one when that is already at or past `t`.
    const setNextTime = async (t: number) => {
      const latest = (await provider.getBlock("latest"))!.timestamp;
      await provider.send("evm_setNextBlockTimestamp", [Math.max(t, latest + 1)]);
    };
    const publishUpTo = async (now: number) => {
      let count = published;
      while (count < times.length && Number(times[count]) <= now) count++;
      if (count === published) return;
      const feedAsOwner = feed.connect(deployer) as Contract;
      for (let k = published; k < count; k += 100) {
        const end = Math.min(count, k + 100);
        await (await feedAsOwner.getFunction("loadRounds")(ids.slice(k, end), answers.slice(k, end), times.slice(k, end), times.slice(k, end))).wait();
      }
      await setNextTime(now);
      await (await feedAsOwner.getFunction("publishThrough")(count)).wait();
      published = count;
    };

    const clock = options.clock ?? new SimulatedClock(options.from * 1000);
    await publishUpTo(options.from);

    // Traders: a seeded population at the current initial margin, topped up daily.
    const target = options.positions ?? 40;
    let opened = 0;
    let seed = options.seed ?? 1;
    const topUp = async () => {
      const open = (await adapter.positionHealth()).length;
      if (open >= target) return;
      const params = await adapter.readMarginParams();
      const specs = seededPopulation(params.initialMarginBps, { count: target - open, seed: seed++ });
      await adapter.openPositions(specs, trader, deployer);
      opened += specs.length;
    };
    let liquidations = 0;
    const liquidate = async () => {
      for (const h of await adapter.positionHealth()) {
        if (h.liquidatable && (await adapter.liquidate(h.id, liquidator)).ok) liquidations++;
      }
    };
    await topUp();

    // The keeper's own pieces, exactly as live: state, journal, tx manager, gates, pipeline, scheduler.
    store = await StateStore.open(path.join(options.stateDir, "state.json"), { clock });
    // Account #1 of the development mnemonic: the keeper role deploy.ts grants.
    const keeperSigner = new Wallet(HDNodeWallet.fromPhrase(DEV_MNEMONIC, undefined, "m/44'/60'/0'/0/1").privateKey);
    const manager = new TxManager({
      provider,
      signer: keeperSigner,
      chainId,
      journal: store.journalFor<SubmissionRecord>(),
      fees: { maxFeePerGas: 500n * 10n ** 9n, maxPriorityFeePerGas: 10n ** 9n },
      confirmations: 1,
      clock: { now: () => clock.now(), sleep: (ms) => clock.sleep(ms) },
      pollIntervalMs: 1_000,
      errorInterfaces: errorInterfaces(),
    });
    const stewardBinding = bindSteward(deployment.contracts.steward, provider);
    const chainPort = keeperChainPort({ provider, steward: stewardBinding, manager });
    const pipeline = new MarketPipeline(
      { name: deployment.market.name, marketId: deployment.market.id, policy, model, rules, history },
      {
        store,
        chain: chainPort,
        backtestGate: new WalkForwardGate(history, policy),
        forkGate: new ForkValidationGate(history, { forkUrl: url, deployment, positions: 20, seed: options.seed ?? 1 }),
        stateDir: options.stateDir,
        configHash: options.configHash ?? keccak256(toUtf8Bytes(canonicalJson({ embedded: true, policy: policy.name, source: options.source, from: options.from, to: options.to }))),
        logger,
        ...(options.shadow ? { shadow: true } : {}),
      },
    );

    // Time-weighted maintenance margin in force, sampled every hour.
    let mmSum = 0;
    let mmMax = 0;
    let hours = 0;
    const decisions: EmbeddedRunSummary["decisions"] = [];
    const metrics = createKeeperMetrics();
    collectKeeperMetrics(metrics, { store });
    const scheduler = new Scheduler({
      clock,
      metrics,
      markets: [{ name: deployment.market.name, schedule: { watch: "0 5 * * * *", calibrate: "0 10 0 * * *" } }],
      run: async (ctx) => {
        const result = await pipeline.run(ctx.submissionsAllowed);
        if (result.outcome !== "no-change") {
          decisions.push({ at: shown(clock.now()).toISOString(), outcome: result.outcome, changes: describe(result.changes ?? []), reason: result.reason, ...(result.txHash ? { txHash: result.txHash } : {}) });
          await options.onEvent?.({ kind: "run", at: clock.now(), result });
        }
      },
      watch: async () => ({ level: history.stressAt(Math.floor(clock.now() / 1000)).level }),
      logger,
      onRunEnd: (market, outcome) => store!.recordRun(market, outcome),
    });
    // Each hour: the new round lands on chain, the liquidator acts, the margin in force is sampled.
    clock.schedule("0 0 * * * *", async () => {
      const now = Math.floor(clock.now() / 1000);
      await publishUpTo(now);
      await options.onEvent?.({ kind: "round", at: clock.now(), count: published });
      await liquidate();
      const { maintenanceMarginBps } = await adapter.readMarginParams();
      mmSum += Number(maintenanceMarginBps);
      mmMax = Math.max(mmMax, Number(maintenanceMarginBps));
      hours++;
    });
    clock.schedule("0 30 0 * * *", async () => {
      await topUp();
      const { initialMarginBps, maintenanceMarginBps } = await adapter.readMarginParams();
      const now = Math.floor(clock.now() / 1000);
      const last = history.lastKnownIndex(now);
      await options.onEvent?.({ kind: "day", at: clock.now(), line: `${shown(now * 1000).toISOString().slice(0, 10)} price ${series.close[last].toFixed(2)} stress ${history.stressAt(now).level} IM ${initialMarginBps} MM ${maintenanceMarginBps} bps, liquidations ${liquidations}, bad debt ${(await adapter.totalBadDebt()) / 10n ** 18n} dUSD` });
    });
    if (options.health) {
      const startedAt = clock.now();
      const openStore = store;
      health = await startHealthServer({
        host: options.health.host ?? "127.0.0.1",
        port: options.health.port,
        metrics,
        report: () => buildHealthReport({ clock, startedAt, scheduler, store: openStore, alerts: () => pipeline.alerts }),
      });
      logger.info(`health: ${health.url}/healthz, metrics: ${health.url}/metrics`);
      options.health.onListening?.(health.url);
    }
    if (options.keeper !== false) {
      // Resume anything a previous process left half-way (none on a fresh chain), then schedule.
      scheduler.start();
    }
    const total = (options.to - options.from) * 1000;
    // An hour at a time: each advance settles the hour's publish, liquidations and runs before the next.
    for (let done = 0; done < total; done += HOUR * 1000) await clock.advance(Math.min(HOUR * 1000, total - done));
    await scheduler.stop();

    const final = await chainPort.readParams(deployment.market.id);
    const events = await steward.queryFilter(steward.filters.ParamUpdated(deployment.market.id), 0, "latest");
    const onChainUpdates = events.map((e) => {
      const args = (e as unknown as { args: [string, bigint, bigint, bigint, string, bigint] }).args;
      return { block: e.blockNumber, txHash: e.transactionHash, param: Number(args[1]), oldValue: String(args[2]), newValue: String(args[3]), evidenceHash: args[4], source: Number(args[5]) };
    });
    const counters = store.counters()[deployment.market.name];
    return {
      from: new Date(input.from * 1000).toISOString(),
      to: new Date(input.to * 1000).toISOString(),
      source: options.source,
      ...(options.fork ? { fork: { url: maskRpcUrl(options.fork.url), chainId: chainId.toString(), blockNumber: options.fork.blockNumber, timeShiftSeconds: shift } } : {}),
      keeper: options.keeper !== false,
      hours,
      updatesConfirmed: counters?.confirmed ?? 0,
      rejected: counters?.rejected ?? {},
      meanMaintenanceBps: hours > 0 ? mmSum / hours : Number.NaN,
      maxMaintenanceBps: mmMax,
      finalParams: Object.fromEntries(Object.entries(final).map(([k, v]) => [k, v.value])),
      liquidations,
      badDebt: `${(await adapter.totalBadDebt()) / 10n ** 18n}`,
      positionsOpened: opened,
      decisions,
      onChainUpdates,
    };
  } finally {
    await health?.close();
    await store?.close();
    provider.destroy();
    await admin.close();
    await server.close();
    await chain.close();
  }
}

