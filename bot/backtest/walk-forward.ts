// Walk-forward backtest with no look-ahead. At each recalibration time t the model sees only the
// log returns up to t, the stress signal only the same, and the bounded rule turns the model
// target into the buffer in force from t until the next recalibration. The buffer in force at t
// is then held against the price move from t to t + horizon, for a long position (loss = fall)
// and a short one (loss = rise).
//
// Coverage is tested on NON-overlapping horizon windows [t0 + k h, t0 + (k+1) h] (overlapping
// windows would make breaches dependent by construction and invalidate Kupiec and Christoffersen);
// the long and short sides are two breach sequences of the same windows, pooled for the headline
// statistics and reported apart under `sides`. One buffer serves both sides, so the model's
// target is the pooled quantile: a position of either side breaches with probability alpha.
//
// Three strategies side by side on the same windows:
//   bounded    the policy: model target -> floors -> bounded rule (steps, delays, dead band);
//   unbounded  the model target applied at every recalibration, rounded up, nothing else;
//   static     the smallest constant buffer with at most the bounded policy's pooled breaches
//              (chosen with hindsight: the benchmark a bounded policy must beat on cost).
//
// Two phases so that a sweep over rule bounds fits the model once: `calibrate` (model + stress
// at each recalibration) and `simulate` (rule + coverage). `runWalkForward` does both.
import { RiskkeeperError } from "../errors.ts";
import { decideUpdate, effectiveTarget, stressRank, type RuleAction, type StressLevel } from "../rules/rule.ts";
import {
  acerbiSzekelyZ2, christoffersen, kupiecPof, trafficLight, transitionCounts,
  type ChristoffersenResult, type KupiecResult, type TrafficLightResult, type Z2Result,
} from "./coverage.ts";
import { createBufferModel, type BufferModel } from "./model.ts";
import { validatePolicyForData, type Policy } from "./policy.ts";
import { assessStress } from "./stress.ts";
import type { PriceSeries as LoadedPriceSeries } from "../data/index.ts";
import { stressSnapshot } from "../signals/index.ts";

export interface PriceSeries {
  /** Unix seconds of each close, on a regular grid of `intervalSeconds`. */
  time: Float64Array;
  close: Float64Array;
  intervalSeconds: number;
  /** The series as loaded by bot/data (OHLC, gaps not filled), for the bot/signals stress snapshot. */
  raw?: LoadedPriceSeries;
}

/**
 * Puts closes on a regular grid, forward-filling missing intervals with the last close (the
 * Binance files have exchange-downtime gaps). Throws INPUT_INVALID on unsorted or bad prices.
 */
export function regularGrid(times: ArrayLike<number>, closes: ArrayLike<number>, intervalSeconds: number, source = "input"): PriceSeries {
  const n = times.length;
  if (n !== closes.length || n < 2) throw new RiskkeeperError("INPUT_INVALID", `need at least 2 prices with times (got ${n})`, { input: source });
  const t0 = times[0];
  const tEnd = times[n - 1];
  const m = Math.floor((tEnd - t0) / intervalSeconds) + 1;
  const time = new Float64Array(m);
  const close = new Float64Array(m);
  let j = 0;
  for (let i = 0; i < n; i++) {
    const c = closes[i];
    if (!(c > 0) || !Number.isFinite(c)) throw new RiskkeeperError("INPUT_INVALID", `close ${c} at ${times[i]} is not a positive number`, { input: `${source}:row ${i + 1}` });
    if (i > 0 && !(times[i] > times[i - 1])) throw new RiskkeeperError("INPUT_INVALID", `time ${times[i]} does not follow ${times[i - 1]}`, { input: `${source}:row ${i + 1}` });
    if ((times[i] - t0) % intervalSeconds !== 0) throw new RiskkeeperError("INPUT_INVALID", `time ${times[i]} is off the ${intervalSeconds}s grid`, { input: `${source}:row ${i + 1}` });
    const k = (times[i] - t0) / intervalSeconds;
    for (; j < k; j++) { time[j] = t0 + j * intervalSeconds; close[j] = close[j - 1]; }
    time[k] = times[i];
    close[k] = c;
    j = k + 1;
  }
  return { time, close, intervalSeconds };
}

export function logReturns(close: Float64Array): Float64Array {
  const r = new Float64Array(close.length - 1);
  for (let i = 1; i < close.length; i++) r[i - 1] = Math.log(close[i] / close[i - 1]);
  return r;
}

/** Model and stress readings at each recalibration; depends on the model settings, not the rule. */
export interface Calibration {
  /** Price index of each recalibration (data up to and including that close). */
  index: Int32Array;
  /** Raw model target: the pooled two-sided buffer in bps (real). */
  target: Float64Array;
  bufferLong: Float64Array;
  bufferShort: Float64Array;
  /** Pooled ES / VaR of the model at each recalibration (scales the buffer in force to its ES). */
  esRatio: Float64Array;
  volAnnual: Float64Array;
  stress: StressLevel[];
  stressRatio: Float64Array;
  /** Pooled predictive tail (loss/ES ratios beyond VaR) per recalibration. */
  tails: Float64Array[];
}

export interface ProgressFn {
  (done: number, total: number): void;
}

/** First recalibration index and the schedule for a series of `n` prices. */
export function schedule(policy: Policy, n: number, model: BufferModel): { first: number; count: number } {
  const need = model.minHistory({ horizonSteps: policy.horizonSteps, alpha: policy.alpha, lookback: policy.lookbackSteps, stepsPerYear: policy.stepsPerYear });
  const first = need; // returns.subarray(0, first) holds `need` returns
  const lastEval = n - 1 - policy.horizonSteps;
  const count = lastEval >= first ? Math.floor((lastEval - first) / policy.cadenceSteps) + 1 : 0;
  return { first, count };
}

function signalsStress(raw: LoadedPriceSeries, at: number, policy: Policy): { level: StressLevel; ratio: number } {
  const snap = stressSnapshot({ prices: raw }, at, policy.stress.signals ?? {});
  return { level: snap.level, ratio: snap.metrics.realisedVol.ratio ?? Number.NaN };
}

/** Phase 1: the model and the stress signal at each recalibration, each on data up to then only. */
export function calibrate(series: PriceSeries, policy: Policy, model: BufferModel, onProgress?: ProgressFn): Calibration {
  const returns = logReturns(series.close);
  const { first, count } = schedule(policy, series.close.length, model);
  if (count === 0) {
    throw new RiskkeeperError("POLICY_INVALID", `no recalibration fits: ${series.close.length} prices, ${first} needed before the first and ${policy.horizonSteps} after`, { input: `${policy.name}#lookbackDays` });
  }
  const cal: Calibration = {
    index: new Int32Array(count), target: new Float64Array(count), bufferLong: new Float64Array(count), bufferShort: new Float64Array(count),
    esRatio: new Float64Array(count), volAnnual: new Float64Array(count),
    stress: new Array<StressLevel>(count), stressRatio: new Float64Array(count), tails: new Array<Float64Array>(count),
  };
  const every = Math.max(1, Math.floor(count / 50));
  const signals = policy.stress.source === "signals";
  const raw = series.raw;
  if (signals && !raw) {
    throw new RiskkeeperError("INPUT_INVALID", `policy "${policy.name}" takes its stress level from bot/signals, which needs the loaded price series (PriceSeries.raw)`, { input: "series.raw" });
  }
  // A bar stamped with its open time is known at its end: the snapshot is taken when close[t] is known.
  const lag = raw?.barTime === "open" ? raw.intervalSeconds : 0;
  for (let j = 0; j < count; j++) {
    const t = first + j * policy.cadenceSteps;
    const history = returns.subarray(0, t);
    const est = model.estimate({ returns: history, horizonSteps: policy.horizonSteps, alpha: policy.alpha, lookback: policy.lookbackSteps, stepsPerYear: policy.stepsPerYear });
    const st = signals ? signalsStress(raw!, series.time[t] + lag, policy) : assessStress(history, policy.stressSettings);
    cal.index[j] = t;
    cal.bufferLong[j] = est.bufferBpsLong;
    cal.bufferShort[j] = est.bufferBpsShort;
    cal.target[j] = est.bufferBps;
    cal.esRatio[j] = est.esBps / est.bufferBps;
    cal.volAnnual[j] = est.volAnnual;
    cal.stress[j] = st.level;
    cal.stressRatio[j] = st.ratio;
    cal.tails[j] = est.tail;
    if (onProgress && (j % every === 0 || j === count - 1)) onProgress(j + 1, count);
  }
  return cal;
}

export interface SideResult {
  observations: number;
  breaches: number;
  breachRate: number;
  kupiecPValue: number;
}

export interface Procyclicality {
  /** Highest buffer in force over the lowest, over the evaluation period. */
  peakToTrough: number;
  /** Largest rise of the buffer in force over 1, 5, 10 and 30 days: max_t b(t + d) - b(t), bps. */
  largestIncreaseBps: { d1: number; d5: number; d10: number; d30: number };
  /** The same rises relative to b(t). */
  largestIncreasePct: { d1: number; d5: number; d10: number; d30: number };
}

export interface StrategyResult {
  strategy: "bounded" | "unbounded" | "static";
  observations: number;
  breaches: number;
  breachRate: number;
  kupiec: KupiecResult;
  christoffersen: ChristoffersenResult;
  trafficLight: TrafficLightResult;
  z2: Z2Result;
  sides: { long: SideResult; short: SideResult };
  meanBufferBps: number;
  maxBufferBps: number;
  minBufferBps: number;
  procyclicality: Procyclicality;
  /** Changes of the buffer in force (on-chain updates for the bounded policy). */
  updates: number;
}

export interface RefitRecord {
  t: number;
  targetBps: number;
  bufferBps: number;
  unboundedBps: number;
  volAnnual: number;
  stress: StressLevel;
  action: RuleAction;
  reason: string;
}

export interface WindowRecord {
  t: number;
  close: number;
  bufferBps: number;
  unboundedBps: number;
  lossLongBps: number;
  lossShortBps: number;
  /** 1 when the bounded buffer was breached on either side. */
  breach: 0 | 1;
  side: "long" | "short" | null;
}

export interface WalkForwardResult extends StrategyResult {
  policy: string;
  model: string;
  confidence: number;
  horizon: { seconds: number; steps: number; oracleToleranceBps: number };
  windows: { count: number; steps: number; nonOverlapping: true; first: number; last: number; note: string };
  governanceEscalations: number;
  /** Each escalation: what a governance proposal would have needed (value, which bound, what it must be). */
  governance: { t: number; currentBps: number; value: number; bound: string; required: number }[];
  unbounded: StrategyResult;
  static: StrategyResult & { bufferBps: number };
  refits: RefitRecord[];
  series: WindowRecord[];
}

export interface SimulateOptions {
  /** Z2 p-value simulations (0 = no p-value). Default 1000. */
  z2Simulations?: number;
  seed?: number;
  /** Include the per-recalibration and per-window records. Default true. */
  records?: boolean;
}

function sideResult(n: number, x: number, alpha: number): SideResult {
  return { observations: n, breaches: x, breachRate: n > 0 ? x / n : 0, kupiecPValue: kupiecPof(n, x, alpha).pValue };
}

function procyclicality(inForce: Float64Array, stepsPerDay: number): Procyclicality {
  let max = -Infinity;
  let min = Infinity;
  for (let i = 0; i < inForce.length; i++) { if (inForce[i] > max) max = inForce[i]; if (inForce[i] < min) min = inForce[i]; }
  const rise = (days: number): [number, number] => {
    const d = Math.round(days * stepsPerDay);
    let best = 0;
    let bestPct = 0;
    for (let i = 0; i + d < inForce.length; i++) {
      const up = inForce[i + d] - inForce[i];
      if (up > best) best = up;
      if (inForce[i] > 0 && up / inForce[i] > bestPct) bestPct = up / inForce[i];
    }
    return [best, bestPct * 100];
  };
  const [a1, p1] = rise(1), [a5, p5] = rise(5), [a10, p10] = rise(10), [a30, p30] = rise(30);
  return {
    peakToTrough: min > 0 ? max / min : Number.POSITIVE_INFINITY,
    largestIncreaseBps: { d1: a1, d5: a5, d10: a10, d30: a30 },
    largestIncreasePct: { d1: p1, d5: p5, d10: p10, d30: p30 },
  };
}

interface WindowData {
  W: number;
  start: Int32Array; // price index of each window start
  refit: Int32Array; // recalibration in force at the window start
  lossLong: Float64Array;
  lossShort: Float64Array;
}

function windowsOf(series: PriceSeries, cal: Calibration, policy: Policy): WindowData {
  const h = policy.horizonSteps;
  const first = cal.index[0];
  const last = series.close.length - 1 - h;
  const W = Math.floor((last - first) / h) + 1;
  const start = new Int32Array(W), refit = new Int32Array(W), lossLong = new Float64Array(W), lossShort = new Float64Array(W);
  for (let k = 0; k < W; k++) {
    const t = first + k * h;
    start[k] = t;
    refit[k] = Math.min(cal.index.length - 1, Math.floor((t - first) / policy.cadenceSteps));
    const g = series.close[t + h] / series.close[t];
    lossLong[k] = (1 - g) * 1e4;
    lossShort[k] = (g - 1) * 1e4;
  }
  return { W, start, refit, lossLong, lossShort };
}

/** Coverage, cost and procyclicality of one buffer path (value per recalibration). */
function evaluate(
  strategy: StrategyResult["strategy"], perRefit: Float64Array, updates: number,
  cal: Calibration, wd: WindowData, series: PriceSeries, policy: Policy, opts: SimulateOptions,
): StrategyResult {
  const { W, refit, lossLong, lossShort } = wd;
  const alpha = policy.alpha;
  const seqLong = new Uint8Array(W), seqShort = new Uint8Array(W);
  let bl = 0, bs = 0;
  const loss = new Float64Array(2 * W), v = new Float64Array(2 * W), es = new Float64Array(2 * W), tailIndex = new Int32Array(2 * W);
  for (let k = 0; k < W; k++) {
    const j = refit[k];
    const b = perRefit[j];
    if (lossLong[k] > b) { seqLong[k] = 1; bl++; }
    if (lossShort[k] > b) { seqShort[k] = 1; bs++; }
    loss[k] = lossLong[k]; v[k] = b; es[k] = b * cal.esRatio[j]; tailIndex[k] = j;
    loss[W + k] = lossShort[k]; v[W + k] = b; es[W + k] = b * cal.esRatio[j]; tailIndex[W + k] = j;
  }
  const n = 2 * W;
  const x = bl + bs;
  const kup = kupiecPof(n, x, alpha);
  const chr = christoffersen(transitionCounts([seqLong, seqShort]), kup.lr);
  const tl = trafficLight([seqLong, seqShort], alpha, 250);
  const z2 = acerbiSzekelyZ2({ loss, var: v, es, tails: cal.tails, tailIndex }, alpha, { simulations: opts.z2Simulations ?? 1000, seed: opts.seed ?? 1 });
  // Buffer in force at every data interval from the first recalibration to the last window's end.
  const first = cal.index[0];
  const end = wd.start[W - 1] + policy.horizonSteps;
  const inForce = new Float64Array(end - first);
  let sum = 0;
  for (let i = 0; i < inForce.length; i++) {
    const j = Math.min(cal.index.length - 1, Math.floor(i / policy.cadenceSteps));
    inForce[i] = perRefit[j];
    sum += perRefit[j];
  }
  let max = -Infinity, min = Infinity;
  for (let i = 0; i < inForce.length; i++) { if (inForce[i] > max) max = inForce[i]; if (inForce[i] < min) min = inForce[i]; }
  return {
    strategy, observations: n, breaches: x, breachRate: x / n, kupiec: kup, christoffersen: chr, trafficLight: tl, z2,
    sides: { long: sideResult(W, bl, alpha), short: sideResult(W, bs, alpha) },
    meanBufferBps: sum / inForce.length, maxBufferBps: max, minBufferBps: min,
    procyclicality: procyclicality(inForce, 86400 / series.intervalSeconds),
    updates,
  };
}

/** Phase 2: the bounded rule over the calibration, then coverage of the three strategies. */
export function simulate(series: PriceSeries, policy: Policy, cal: Calibration, modelName: string, opts: SimulateOptions = {}): WalkForwardResult {
  const R = cal.index.length;
  const bounds = policy.rule;
  const bounded = new Float64Array(R);
  const unbounded = new Float64Array(R);
  const actions = new Array<RuleAction>(R);
  const reasons = new Array<string>(R);
  let current = 0;
  let lastUpdatedAt = 0;
  let level: StressLevel = cal.stress[0];
  let since = series.time[cal.index[0]];
  let stressedTarget = 0;
  let updates = 0;
  let unboundedUpdates = 0;
  let escalations = 0;
  const governance: WalkForwardResult["governance"] = [];
  for (let j = 0; j < R; j++) {
    const now = series.time[cal.index[j]];
    if (cal.stress[j] !== level) { level = cal.stress[j]; since = now; }
    const target = cal.target[j];
    if (target > stressedTarget && stressRank(level) >= stressRank("stressed")) stressedTarget = target;
    unbounded[j] = Math.ceil(target - 1e-9);
    if (j > 0 && unbounded[j] !== unbounded[j - 1]) unboundedUpdates++;
    if (j === 0) {
      // Governance sets the first value: the effective target, inside the range.
      const t0 = effectiveTarget(target, bounds.floors, level, stressedTarget || undefined);
      current = Math.min(bounds.max, Math.max(bounds.min, t0));
      lastUpdatedAt = now;
      actions[j] = "propose";
      reasons[j] = `initial value ${current} set by governance`;
    } else {
      const d = decideUpdate({ current, target, bounds, lastUpdatedAt, now, stress: { level, since }, stressedTarget: stressedTarget || undefined });
      actions[j] = d.action;
      reasons[j] = d.reason;
      if (d.action === "governance") {
        escalations++;
        if (d.governance) governance.push({ t: now, currentBps: current, value: d.governance.value, bound: d.governance.bound, required: d.governance.required });
      }
      if (d.value !== current) { current = d.value; lastUpdatedAt = now; updates++; }
    }
    bounded[j] = current;
  }
  const wd = windowsOf(series, cal, policy);
  const b = evaluate("bounded", bounded, updates, cal, wd, series, policy, opts);
  const u = evaluate("unbounded", unbounded, unboundedUpdates, cal, wd, series, policy, opts);
  // Smallest static buffer with no more pooled breaches than the bounded policy: the (B+1)-th
  // largest pooled loss, rounded up (a loss equal to the buffer is not a breach).
  const pooled = new Float64Array(2 * wd.W);
  pooled.set(wd.lossLong, 0);
  pooled.set(wd.lossShort, wd.W);
  pooled.sort();
  const rank = pooled.length - 1 - b.breaches;
  const staticBps = rank >= 0 ? Math.max(0, Math.ceil(pooled[rank] - 1e-9)) : 0;
  const s = evaluate("static", new Float64Array(R).fill(staticBps), 0, cal, wd, series, policy, opts);

  const records = opts.records ?? true;
  const refits: RefitRecord[] = [];
  const windows: WindowRecord[] = [];
  if (records) {
    for (let j = 0; j < R; j++) {
      refits.push({
        t: series.time[cal.index[j]], targetBps: cal.target[j], bufferBps: bounded[j], unboundedBps: unbounded[j],
        volAnnual: cal.volAnnual[j], stress: cal.stress[j], action: actions[j], reason: reasons[j],
      });
    }
    for (let k = 0; k < wd.W; k++) {
      const buf = bounded[wd.refit[k]];
      const side = wd.lossLong[k] > buf ? "long" : wd.lossShort[k] > buf ? "short" : null;
      windows.push({
        t: series.time[wd.start[k]], close: series.close[wd.start[k]], bufferBps: buf, unboundedBps: unbounded[wd.refit[k]],
        lossLongBps: wd.lossLong[k], lossShortBps: wd.lossShort[k], breach: side ? 1 : 0, side,
      });
    }
  }
  return {
    ...b,
    policy: policy.name,
    model: modelName,
    confidence: policy.confidence,
    horizon: { seconds: policy.horizonSeconds, steps: policy.horizonSteps, oracleToleranceBps: policy.oracleToleranceBps },
    windows: {
      count: wd.W, steps: policy.horizonSteps, nonOverlapping: true,
      first: series.time[wd.start[0]], last: series.time[wd.start[wd.W - 1]],
      note: `coverage on ${wd.W} non-overlapping ${policy.horizonSteps}-interval windows, long and short sides pooled (${2 * wd.W} observations)`,
    },
    governanceEscalations: escalations,
    governance,
    unbounded: u,
    static: { ...s, bufferBps: staticBps },
    refits,
    series: windows,
  };
}

export interface WalkForwardOptions extends SimulateOptions {
  /** Overrides the model the policy names (e.g. the models package's FHS). */
  model?: BufferModel;
  onProgress?: ProgressFn;
}

/**
 * One full walk-forward: validates the policy against the data, calibrates, applies the rule,
 * and scores the bounded, unbounded and static buffers.
 *
 * @example
 * const result = runWalkForward(regularGrid(times, closes, 3600), validatePolicy(json, "p.json"));
 * result.kupiec.pValue; result.trafficLight.overall; result.static.bufferBps;
 */
export function runWalkForward(series: PriceSeries, policy: Policy, options: WalkForwardOptions = {}): WalkForwardResult {
  validatePolicyForData(policy, { intervalSeconds: series.intervalSeconds, length: series.close.length });
  const model = options.model ?? createBufferModel(policy.modelSpec);
  const cal = calibrate(series, policy, model, options.onProgress);
  return simulate(series, policy, cal, model.name, options);
}
