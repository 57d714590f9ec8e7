// The fork validation gate: apply the current and the proposed parameters on the same fork, open
// the same population, play the same stress scenarios through the oracle, liquidate as a
// liquidator would, and compare outcomes. A proposal passes only if, in every scenario, its bad
// debt, missed liquidations and insolvency stay within the thresholds, it is no worse than the
// current parameters, and the steward would accept it (or it is meant for governance).
import type { Contract } from "ethers";
import { RiskkeeperError } from "../errors.ts";
import { PARAM, type ParamName } from "../../deploy/market-config.ts";
import type { MarginParams, PositionHealth, WatchedPosition } from "./adapter.ts";
import { seededPopulation, type PopulationOptions } from "./population.ts";
import { rebaseScenario, type Scenario } from "./scenarios.ts";
import type { ForkSession } from "./session.ts";
import type { FeedTakeoverKind } from "./takeover.ts";
import type { RpcStats } from "./rpc-proxy.ts";

export interface ParamChange {
  parameter: ParamName;
  value: bigint;
}

export interface ValidationThresholds {
  /** Largest bad debt per scenario, in bps of the notional opened (default 0: none at all). */
  maxBadDebtBps: number;
  /** Largest increase of bad debt over the current parameters, in bps of notional (default 0). */
  maxBadDebtIncreaseBps: number;
  maxMissedLiquidations: number;
}

export const DEFAULT_THRESHOLDS: ValidationThresholds = { maxBadDebtBps: 0, maxBadDebtIncreaseBps: 0, maxMissedLiquidations: 0 };

export interface ValidationOptions {
  scenarios: readonly Scenario[];
  population: Omit<PopulationOptions, "count" | "seed"> & {
    count: number;
    seed: number;
    /** Which parameters the seeded positions open under: each set's own (default) or the current ones for both. */
    openUnder?: "each" | "current";
  };
  /** Rounds a position must stay liquidatable before the liquidator acts (0 = the same round). */
  liquidationDelayRounds?: number;
  thresholds?: Partial<ValidationThresholds>;
  /** "keeper" (default): the steward must accept the change within its bounds. "governance": bounds are not required. */
  path?: "keeper" | "governance";
  /** Price every scenario is rebased to start from, and at which positions open (default 3,000). */
  referencePrice?: number;
  /** Called after each round (for progress output). */
  onProgress?: (event: { set: "current" | "proposed"; scenario: string; round: number; rounds: number }) => void;
}

export interface ScenarioOutcome {
  scenario: string;
  kind: Scenario["kind"];
  worstMove: number;
  rounds: number;
  positions: number;
  openedNotional: bigint;
  liquidations: number;
  /** Positions liquidated with negative equity: the protocol was too late for them. */
  underwaterLiquidations: number;
  /** Positions liquidatable at the end but not liquidated, plus liquidations that reverted. */
  missedLiquidations: number;
  failedLiquidations: Record<string, number>;
  badDebt: bigint;
  badDebtBps: number;
  insolvent: boolean;
  liquidatorRewards: bigint;
}

export interface ParamSetOutcome {
  params: MarginParams;
  outcomes: ScenarioOutcome[];
}

export interface ValidationReport {
  verdict: "pass" | "fail";
  reasons: string[];
  steward: { path: "keeper" | "governance"; wouldAccept: boolean; rejection?: string };
  changes: Array<{ parameter: ParamName; from: bigint; to: bigint }>;
  current: ParamSetOutcome;
  proposed: ParamSetOutcome;
  diff: Array<{ scenario: string; badDebt: [bigint, bigint]; liquidations: [number, number]; missedLiquidations: [number, number]; underwaterLiquidations: [number, number] }>;
  thresholds: ValidationThresholds;
  /** How the protocol's feed was taken over on the fork. */
  oracle: { takeover: FeedTakeoverKind; feed: string; replayFeed: string; summary: string };
  /** Calls to the remote fork RPC through the session's proxy since the session opened (absent without a fork URL or proxy). */
  rpc?: RpcStats;
}

const BPS = 10_000n;

/** Runs the whole gate on an open session. The session's chain is left as it was found. */
export async function validateProposal(session: ForkSession, changes: readonly ParamChange[], options: ValidationOptions): Promise<ValidationReport> {
  if (changes.length === 0) throw new RiskkeeperError("INPUT_INVALID", "the proposal changes no parameter", { input: "proposal.updates" });
  if (options.scenarios.length === 0) throw new RiskkeeperError("INPUT_INVALID", "no scenario to replay", { input: "scenarios" });
  const thresholds = { ...DEFAULT_THRESHOLDS, ...options.thresholds };
  const path = options.path ?? "keeper";
  const marketId = session.deployment.market.id;
  const steward = session.steward;
  if (!(await steward.getFunction("marketExists")(marketId))) {
    throw new RiskkeeperError("INPUT_INVALID", `market ${session.deployment.market.name} is unknown to the steward`, { input: "proposal.market" });
  }
  const updates = changes.map((c) => [PARAM[c.parameter], c.value] as const);
  const currentValues = await Promise.all(changes.map(async (c) => (await steward.getFunction("getParam")(marketId, PARAM[c.parameter]))[0] as bigint));
  const rejectionData: string = await steward.getFunction("checkUpdate")(marketId, updates);
  const rejection = rejectionData === "0x" ? undefined : describeError(steward, rejectionData);
  // The min delay only says "not yet": the submission waits for it; every other rejection is final.
  const wouldAccept = rejection === undefined || rejection.startsWith("StewardUpdateTooSoon");

  const base = await session.snapshot();
  try {
    const current = await runParamSet(session, "current", [], options);
    await session.revert(base);
    const again = await session.snapshot();
    let proposed: ParamSetOutcome;
    try {
      proposed = await runParamSet(session, "proposed", updates, options);
    } finally {
      await session.revert(again);
    }
    const reasons: string[] = [];
    if (path === "keeper" && !wouldAccept) reasons.push(`steward would reject the update: ${rejection}`);
    for (let i = 0; i < proposed.outcomes.length; i++) {
      const p = proposed.outcomes[i];
      const c = current.outcomes[i];
      if (p.badDebtBps > thresholds.maxBadDebtBps) {
        reasons.push(`${p.scenario}: bad debt ${p.badDebt} (${p.badDebtBps.toFixed(2)} bps of notional) above ${thresholds.maxBadDebtBps} bps`);
      }
      if (p.badDebtBps - c.badDebtBps > thresholds.maxBadDebtIncreaseBps) {
        reasons.push(`${p.scenario}: bad debt up ${(p.badDebtBps - c.badDebtBps).toFixed(2)} bps of notional over the current parameters`);
      }
      if (p.missedLiquidations > thresholds.maxMissedLiquidations) reasons.push(`${p.scenario}: ${p.missedLiquidations} missed liquidations`);
      if (p.insolvent) reasons.push(`${p.scenario}: the pool became insolvent`);
    }
    return {
      verdict: reasons.length === 0 ? "pass" : "fail",
      reasons,
      steward: { path, wouldAccept, ...(rejection ? { rejection } : {}) },
      changes: changes.map((c, i) => ({ parameter: c.parameter, from: currentValues[i], to: c.value })),
      current,
      proposed,
      diff: proposed.outcomes.map((p, i) => {
        const c = current.outcomes[i];
        return {
          scenario: p.scenario,
          badDebt: [c.badDebt, p.badDebt],
          liquidations: [c.liquidations, p.liquidations],
          missedLiquidations: [c.missedLiquidations, p.missedLiquidations],
          underwaterLiquidations: [c.underwaterLiquidations, p.underwaterLiquidations],
        };
      }),
      thresholds,
      oracle: { takeover: session.feedTakeover.kind, feed: session.feedTakeover.feed, replayFeed: session.feedTakeover.replayAddress, summary: session.feedTakeover.summary },
      ...(session.rpcStats ? { rpc: session.rpcStats() } : {}),
    };
  } finally {
    await session.revert(base).catch(() => undefined);
  }
}

async function runParamSet(
  session: ForkSession,
  set: "current" | "proposed",
  updates: ReadonlyArray<readonly [number, bigint]>,
  options: ValidationOptions,
): Promise<ParamSetOutcome> {
  const marketId = session.deployment.market.id;
  const applyUpdates = async () => {
    if (updates.length === 0) return;
    // Governance may set any value in the domain: the fork applies the proposal as it would land.
    const evidence = "0x" + "f0".repeat(32);
    await (await (session.steward.connect(session.governance) as Contract).getFunction("setParams")(marketId, updates, evidence)).wait();
    for (const [param, value] of updates) {
      const [onChain] = await session.steward.getFunction("getParam")(marketId, param);
      if (onChain !== value) throw new RiskkeeperError("BOUNDS_VIOLATION", `parameter ${param} reads ${onChain} after applying ${value}`, { input: "fork" });
    }
  };
  // "each": the population opens under each set's own initial margin (traders re-lever to what the
  // protocol allows). "current": it opens under the current parameters and the proposal then
  // lands on that same book, as a change lands on a live protocol's existing positions.
  const book = options.population.openUnder ?? "each";
  if (book === "each") await applyUpdates();
  // Every scenario starts from the same price, at which the population opens once per set: the
  // scenarios differ only by their relative moves.
  const referencePrice = options.referencePrice ?? 3_000;
  const scenarios = options.scenarios.map((sc) => rebaseScenario(sc, referencePrice));
  const opening = { name: "opening", kind: "recorded" as const, worstMove: 0, rounds: [scenarios[0].rounds[0]] };
  const { firstIndex, startTimestamp } = await session.feedDriver.load(opening);
  await session.feedDriver.publish(firstIndex, startTimestamp);
  const openingParams = await session.adapter.readMarginParams();
  const specs = options.population.count === 0 ? [] : seededPopulation(openingParams.initialMarginBps, options.population);
  if (specs.length > 0) await session.adapter.openPositions(specs, session.trader, session.tokenOwner);
  if (book === "current") await applyUpdates();
  const params = await session.adapter.readMarginParams();
  const watch = await session.adapter.watchList(params);
  const atStart = await session.adapter.positionHealth();
  const outcomes: ScenarioOutcome[] = [];
  for (const scenario of scenarios) {
    const snap = await session.snapshot();
    try {
      outcomes.push(await runScenario(session, set, scenario, watch, atStart, options));
    } finally {
      await session.revert(snap);
    }
  }
  return { params, outcomes };
}

async function runScenario(
  session: ForkSession,
  set: "current" | "proposed",
  scenario: Scenario,
  watch: readonly WatchedPosition[],
  atStart: readonly PositionHealth[],
  options: ValidationOptions,
): Promise<ScenarioOutcome> {
  const { adapter, feedDriver } = session;
  const delay = options.liquidationDelayRounds ?? 0;
  const badDebtBefore = await adapter.totalBadDebt();
  const { firstIndex, startTimestamp, answers } = await feedDriver.load(scenario);
  const t0 = scenario.rounds[0].t;
  const openedNotional = atStart.reduce((sum, h) => sum + h.notional, 0n);
  const ours = new Set(atStart.map((h) => String(h.id)));
  // Liquidation prices are computed off-chain; the chain is asked only once the price crosses one
  // (with a relative tolerance, so float rounding can only make the liquidator ask early).
  const pending = new Map(watch.filter((w) => ours.has(String(w.id))).map((w) => [String(w.id), w]));
  const TOLERANCE = 1e-6;
  const firstSeen = new Map<string, number>();
  const failed: Record<string, number> = {};
  let liquidations = 0;
  let underwater = 0;
  let rewards = 0n;
  let insolvent = false;
  for (let i = 0; i < scenario.rounds.length; i++) {
    await feedDriver.publish(firstIndex + BigInt(i), startTimestamp + BigInt(scenario.rounds[i].t - t0));
    const price = Number(answers[i]);
    for (const [key, w] of pending) {
      const crossed = w.isLong ? price <= w.liquidationPrice * (1 + TOLERANCE) : price >= w.liquidationPrice * (1 - TOLERANCE);
      if (!crossed || !(await adapter.isLiquidatable(w.id))) continue;
      const seen = firstSeen.get(key) ?? i;
      firstSeen.set(key, seen);
      if (i - seen < delay) continue;
      const result = await adapter.liquidate(w.id, session.liquidator);
      if (result.ok) {
        pending.delete(key);
        liquidations++;
        rewards += result.reward;
        if (result.equity < 0n) underwater++;
      } else {
        const name = result.error ?? "unknown";
        failed[name] = (failed[name] ?? 0) + 1;
        if (name === "ProtocolPoolInsolvent") insolvent = true;
      }
    }
    options.onProgress?.({ set, scenario: scenario.name, round: i + 1, rounds: scenario.rounds.length });
  }
  // One full scan at the end catches anything the watch list would have missed.
  const stillLiquidatable = (await adapter.positionHealth()).filter((h) => ours.has(String(h.id)) && h.liquidatable).length;
  const badDebt = (await adapter.totalBadDebt()) - badDebtBefore;
  const failedCount = Object.values(failed).reduce((a, b) => a + b, 0);
  return {
    scenario: scenario.name,
    kind: scenario.kind,
    worstMove: scenario.worstMove,
    rounds: scenario.rounds.length,
    positions: atStart.length,
    openedNotional,
    liquidations,
    underwaterLiquidations: underwater,
    missedLiquidations: stillLiquidatable + failedCount,
    failedLiquidations: failed,
    badDebt,
    badDebtBps: Number((badDebt * BPS * 100n) / (openedNotional === 0n ? 1n : openedNotional)) / 100,
    insolvent,
    liquidatorRewards: rewards,
  };
}

function describeError(contract: Contract, data: string): string {
  try {
    const parsed = contract.interface.parseError(data);
    if (parsed) return `${parsed.name}(${parsed.args.map((a: unknown) => String(a)).join(", ")})`;
  } catch {
    // fall through to the raw data
  }
  return data;
}

/** A seatbelt-style text report: what changed, and what it did to each scenario's outcome. */
export function formatValidationReport(report: ValidationReport): string {
  const lines: string[] = [];
  lines.push(`verdict: ${report.verdict.toUpperCase()}`);
  for (const r of report.reasons) lines.push(`  - ${r}`);
  const stewardVerdict = !report.steward.wouldAccept ? "would reject" : report.steward.rejection ? "would accept once its min delay has passed" : "would accept";
  lines.push(`oracle: ${report.oracle.summary}`);
  if (report.rpc) lines.push(`fork RPC: ${report.rpc.remoteCalls} remote calls, ${report.rpc.cacheHits} cache hits, ${report.rpc.retries} retries`);
  lines.push(`steward (${report.steward.path} path): ${stewardVerdict}${report.steward.rejection ? ` — ${report.steward.rejection}` : ""}`);
  lines.push("changes:");
  for (const c of report.changes) lines.push(`  ${c.parameter.padEnd(22)} ${c.from} -> ${c.to}`);
  lines.push("scenario outcomes (current -> proposed):");
  for (const d of report.diff) {
    const cur = report.current.outcomes.find((o) => o.scenario === d.scenario)!;
    lines.push(`  ${d.scenario} (worst move ${(cur.worstMove * 100).toFixed(1)}%, ${cur.rounds} rounds, ${cur.positions} positions)`);
    lines.push(`    bad debt          ${fmtTokens(d.badDebt[0])} -> ${fmtTokens(d.badDebt[1])}`);
    lines.push(`    liquidations      ${d.liquidations[0]} -> ${d.liquidations[1]} (underwater ${d.underwaterLiquidations[0]} -> ${d.underwaterLiquidations[1]})`);
    lines.push(`    missed            ${d.missedLiquidations[0]} -> ${d.missedLiquidations[1]}`);
  }
  return lines.join("\n");
}

function fmtTokens(amount: bigint): string {
  const whole = amount / 10n ** 18n;
  const cents = (amount % 10n ** 18n) / 10n ** 16n;
  return `${whole.toLocaleString("en-US")}.${cents.toString().padStart(2, "0")}`;
}
