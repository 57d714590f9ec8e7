// A sweep over policy settings: expand a grid of dotted policy keys into policies, run each
// walk-forward (the model is fitted once per distinct model setting and reused across rule
// settings), say where each breaks, and rank by coverage first, then cost. Pure computation; the
// worker-thread pool that spreads the points over cores lives in bot/commands/sweep.ts.
import { isRiskkeeperError, RiskkeeperError } from "../errors.ts";
import { createBufferModel } from "./model.ts";
import { validatePolicy, validatePolicyForData, type Policy } from "./policy.ts";
import { calibrate, simulate, type Calibration, type PriceSeries } from "./walk-forward.ts";

export interface SweepGrid {
  /** Dotted policy key -> values to try, e.g. { "rule.maxStep": [100, 250], "model": [{ "name": "hs" }] }. */
  grid: Record<string, unknown[]>;
}

export interface SweepPoint {
  index: number;
  /** The grid values of this point, by dotted key. */
  params: Record<string, unknown>;
  policy: unknown;
}

export interface SweepOutcome {
  index: number;
  params: Record<string, unknown>;
  /** Undefined when the policy itself is invalid (see `fails`). */
  observations?: number;
  breaches?: number;
  breachRate?: number;
  kupiecPValue?: number;
  christoffersenPValue?: number;
  zone?: string;
  meanBufferBps?: number;
  staticBufferBps?: number;
  largestIncrease5dBps?: number;
  unboundedIncrease5dBps?: number;
  updates?: number;
  /** Where the point breaks: each failed criterion in words (empty = passes all). */
  fails: string[];
  /** Coverage criteria failed (zone, Kupiec, Christoffersen, or an invalid policy = 99). */
  coverageFails: number;
}

function setPath(obj: Record<string, unknown>, dotted: string, value: unknown): void {
  const keys = dotted.split(".");
  let o = obj;
  for (const k of keys.slice(0, -1)) {
    if (typeof o[k] !== "object" || o[k] === null) o[k] = {};
    o = o[k] as Record<string, unknown>;
  }
  o[keys[keys.length - 1]] = value;
}

/** Cartesian product of the grid applied to a base policy (deep copies). */
export function expandGrid(base: unknown, grid: SweepGrid, source = "grid"): SweepPoint[] {
  if (typeof grid !== "object" || grid === null || typeof grid.grid !== "object" || grid.grid === null) {
    throw new RiskkeeperError("INPUT_INVALID", `expected { "grid": { "dotted.key": [values...] } }`, { input: source });
  }
  const entries = Object.entries(grid.grid);
  for (const [k, v] of entries) {
    if (!Array.isArray(v) || v.length === 0) throw new RiskkeeperError("INPUT_INVALID", "expected a non-empty array of values", { input: `${source}#grid.${k}` });
  }
  const points: SweepPoint[] = [];
  const total = entries.reduce((n, [, v]) => n * v.length, 1);
  if (total > 100_000) throw new RiskkeeperError("INPUT_INVALID", `grid has ${total} points (at most 100000)`, { input: source });
  for (let i = 0; i < total; i++) {
    let rest = i;
    const params: Record<string, unknown> = {};
    const policy = structuredClone(base) as Record<string, unknown>;
    for (const [k, values] of entries) {
      const v = values[rest % values.length];
      rest = Math.floor(rest / values.length);
      params[k] = v;
      setPath(policy, k, structuredClone(v));
    }
    policy.name = `${String(policy.name ?? "policy")}#${i}`;
    points.push({ index: i, params, policy });
  }
  return points;
}

/** Policies sharing this key share one calibration (model fit + stress readings). */
export function calibrationKey(p: Policy): string {
  return JSON.stringify([p.modelSpec, p.lookbackSteps, p.horizonSteps, p.alpha, p.cadenceSteps, p.stressSettings]);
}

/** Runs points in order, reusing calibrations; never throws for a bad point (it is reported). */
export function runSweepPoints(series: PriceSeries, points: readonly SweepPoint[], onDone?: (o: SweepOutcome) => void): SweepOutcome[] {
  const cache = new Map<string, Calibration>();
  const out: SweepOutcome[] = [];
  for (const pt of points) {
    let outcome: SweepOutcome;
    try {
      const policy = validatePolicy(pt.policy, `point ${pt.index}`);
      validatePolicyForData(policy, { intervalSeconds: series.intervalSeconds, length: series.close.length });
      const key = calibrationKey(policy);
      const model = createBufferModel(policy.modelSpec);
      let cal = cache.get(key);
      if (!cal) { cal = calibrate(series, policy, model); cache.set(key, cal); }
      const r = simulate(series, policy, cal, model.name, { z2Simulations: 0, records: false });
      const fails: string[] = [];
      let coverageFails = 0;
      if (r.trafficLight.overall !== "green") { fails.push(`zone ${r.trafficLight.overall}`); coverageFails++; }
      if (!(r.kupiec.pValue > 0.05)) { fails.push(`Kupiec p ${r.kupiec.pValue.toFixed(3)} <= 0.05`); coverageFails++; }
      if (!(r.christoffersen.pValue > 0.05)) { fails.push(`Christoffersen cc p ${r.christoffersen.pValue.toFixed(3)} <= 0.05`); coverageFails++; }
      if (!(r.meanBufferBps < r.static.meanBufferBps)) fails.push(`mean ${r.meanBufferBps.toFixed(0)} bps >= static ${r.static.bufferBps} bps`);
      const rise = r.procyclicality.largestIncreaseBps.d5;
      const riseU = r.unbounded.procyclicality.largestIncreaseBps.d5;
      if (!(rise < riseU)) fails.push(`5-day rise ${rise.toFixed(0)} bps >= unbounded ${riseU.toFixed(0)} bps`);
      outcome = {
        index: pt.index, params: pt.params, observations: r.observations, breaches: r.breaches, breachRate: r.breachRate,
        kupiecPValue: r.kupiec.pValue, christoffersenPValue: r.christoffersen.pValue, zone: r.trafficLight.overall,
        meanBufferBps: r.meanBufferBps, staticBufferBps: r.static.bufferBps, largestIncrease5dBps: rise, unboundedIncrease5dBps: riseU,
        updates: r.updates, fails, coverageFails,
      };
    } catch (e) {
      if (!isRiskkeeperError(e)) throw e;
      outcome = { index: pt.index, params: pt.params, fails: [`${e.code}: ${e.message}`], coverageFails: 99 };
    }
    out.push(outcome);
    onDone?.(outcome);
  }
  return out;
}

/** Coverage first (fewest coverage failures), then cost (lowest mean buffer), then index. */
export function rankOutcomes(outcomes: readonly SweepOutcome[]): SweepOutcome[] {
  return [...outcomes].sort((a, b) =>
    a.coverageFails - b.coverageFails
    || (a.meanBufferBps ?? Infinity) - (b.meanBufferBps ?? Infinity)
    || a.index - b.index);
}

/**
 * Splits points over `workers` so that points sharing a calibration stay together (each model is
 * fitted once), balancing the number of points per worker greedily.
 */
export function partitionPoints(points: readonly SweepPoint[], workers: number, keyOf: (p: SweepPoint) => string): SweepPoint[][] {
  const groups = new Map<string, SweepPoint[]>();
  for (const p of points) {
    const k = keyOf(p);
    const g = groups.get(k);
    if (g) g.push(p); else groups.set(k, [p]);
  }
  const bins: SweepPoint[][] = Array.from({ length: Math.max(1, workers) }, () => []);
  const sorted = [...groups.values()].sort((a, b) => b.length - a.length);
  // A group larger than a fair share is split, so one model setting cannot serialise the sweep.
  const fair = Math.ceil(points.length / bins.length);
  for (const g of sorted) {
    for (let i = 0; i < g.length; i += fair) {
      const chunk = g.slice(i, i + fair);
      bins.sort((a, b) => a.length - b.length)[0].push(...chunk);
    }
  }
  return bins.filter((b) => b.length > 0);
}
