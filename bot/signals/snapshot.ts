// The stress snapshot: every signal computed from data at or before `at` (no look-ahead, no clock,
// no I/O), each compared with its bands, combined into one level (the worst) with the reasons that
// raised it. Same inputs and config -> the same snapshot, byte for byte as JSON.
import { RiskkeeperError } from "../errors.ts";
import { lastIndexAtOrBefore } from "../data/columns.ts";
import type { PriceSeries } from "../data/normalise.ts";
import { isoTime } from "../data/time.ts";
import { levelOf, maxLevel, resolveStressConfig, type Bands, type StressConfig, type StressConfigInput, type StressLevel } from "./config.ts";
import { drawdownOver } from "./drawdown.ts";
import { gasCongestion, quantile } from "./gas.ts";
import { detectJumps } from "./jumps.ts";
import { oracleDeviation, oracleStaleness } from "./oracle.ts";
import { closeToCloseVol, ewmaVol, garmanKlassVol, parkinsonVol, periodsPerYear, SECONDS_PER_YEAR } from "./realised.ts";

/** Oracle answers in time order (a `RoundSeries` fits). */
export interface OracleHistory {
  updatedAt: Float64Array;
  answer: Float64Array;
}

/**
 * A plain time series (a `PriceSeries` fits: its `close` is used). With barTime "open", the value at
 * t is known only at t + intervalSeconds (a candle or a daily aggregate) and is used from then on.
 */
export interface TimeSeries {
  t: Float64Array;
  close: Float64Array;
  barTime?: "open" | "point";
  intervalSeconds?: number;
}

/** Seconds after `t` at which a row's value is known. */
function availabilityLag(s: TimeSeries): number {
  return s.barTime === "open" && (s.intervalSeconds ?? 0) > 0 ? (s.intervalSeconds as number) : 0;
}

export interface StressInputs {
  /** The market's price series (OHLC enables Parkinson and Garman-Klass). */
  prices: PriceSeries;
  /** Oracle rounds; the price series at `at` is the second source for the deviation. */
  oracle?: OracleHistory;
  /** Base fee or daily gas price (any unit). */
  gas?: TimeSeries;
  /** Implied vol index in percent (Deribit DVOL). */
  implied?: TimeSeries;
}

export interface StressReason {
  signal: "vol-ratio" | "drawdown" | "jumps" | "oracle-age" | "oracle-deviation" | "gas" | "rv-over-iv" | "iv-over-median" | "data-age";
  level: Exclude<StressLevel, "calm">;
  value: number;
  /** The band the value reached. */
  threshold: number;
  message: string;
}

export interface StressMetrics {
  /** `lastAt` is when the last usable close became known (a bar's end for candles). */
  price: { last: number; lastAt: string; intervalSeconds: number; ageSeconds: number };
  realisedVol: {
    shortWindowSeconds: number;
    longWindowSeconds: number;
    closeToCloseShort: number | null;
    closeToCloseLong: number | null;
    parkinsonShort: number | null;
    garmanKlassShort: number | null;
    ewma: number | null;
    ratio: number | null;
  };
  drawdown: { horizonSeconds: number; max: number; current: number; z: number | null }[];
  jumps: { count: number; list: { at: string; logReturn: number; z: number }[] };
  oracle: { answer: number; updatedAt: string; ageSeconds: number; heartbeats: number; stale: boolean; reference: number; deviation: number } | null;
  gas: { current: number; at: string; percentileRank: number; p90: number; ratioToP90: number; samples: number } | null;
  implied: { iv: number; at: string; ivOverMedian: number | null; realised: number | null; spread: number | null; rvOverIv: number | null } | null;
}

export interface StressSnapshot {
  at: string;
  atSeconds: number;
  level: StressLevel;
  reasons: StressReason[];
  /** Inputs given but without data at `at` (they raise no reason). */
  notes: string[];
  metrics: StressMetrics;
}

const r6 = (x: number): number => Math.round(x * 1e6) / 1e6;
const r6n = (x: number | null): number | null => (x === null || !Number.isFinite(x) ? null : r6(x));
const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;
const dur = (s: number): string => (s % 86400 === 0 ? `${s / 86400}d` : s % 3600 === 0 ? `${s / 3600}h` : `${s}s`);

function firstIndexAfter(t: Float64Array, start: number, to: number): number {
  let i = to;
  while (i > 0 && t[i - 1] > start) i--;
  return i;
}

/**
 * Computes the stress snapshot at `at` (Unix seconds) from data at or before `at`.
 *
 * @example
 * const snap = stressSnapshot({ prices: series }, Date.parse("2020-03-12T12:00:00Z") / 1000);
 * snap.level; // "critical"
 */
export function stressSnapshot(inputs: StressInputs, at: number, configInput: StressConfigInput | StressConfig = {}): StressSnapshot {
  const cfg = resolveStressConfig(configInput);
  const p = inputs.prices;
  const lag = availabilityLag(p);
  const to = lastIndexAtOrBefore(p.t, at - lag);
  if (to < 0) throw new RiskkeeperError("DATA_EMPTY", `no price known at ${isoTime(at)} (first close known at ${isoTime(p.t[0] + lag)})`, { input: "prices" });
  const interval = p.intervalSeconds > 0 ? p.intervalSeconds : to > 0 ? p.t[to] - p.t[to - 1] : 86400;
  const notes: string[] = [];
  const ppy = periodsPerYear(interval);
  const reasons: StressReason[] = [];
  const add = (signal: StressReason["signal"], value: number, bands: Bands, message: (level: string, threshold: number) => string): void => {
    const level = levelOf(value, bands);
    if (level === "calm") return;
    const threshold = bands[level];
    reasons.push({ signal, level, value: r6(value), threshold, message: message(level, threshold) });
  };

  // data age
  const ageSeconds = at - (p.t[to] + lag);
  add("data-age", ageSeconds / interval, cfg.dataAgeBars, (_l, th) => `last price is ${dur(ageSeconds)} old (>= ${th} bars of ${dur(interval)})`);

  // realised vol
  const sFrom = firstIndexAfter(p.t, p.t[to] - cfg.vol.shortWindowSeconds, to);
  const lFrom = firstIndexAfter(p.t, p.t[to] - cfg.vol.longWindowSeconds, to);
  // returns need the close before the window's first bar
  const sRet = Math.max(0, sFrom - 1);
  const lRet = Math.max(0, lFrom - 1);
  const ok = (from: number, min: number): boolean => to - from + 1 >= min;
  const ccShort = ok(sRet, 3) ? closeToCloseVol(p.close, sRet, to, ppy) : null;
  const ccLong = ok(lRet, 3) ? closeToCloseVol(p.close, lRet, to, ppy) : null;
  const hasOhlc = p.kind !== "price";
  const park = hasOhlc && ok(sFrom, 1) ? parkinsonVol(p.high, p.low, sFrom, to, ppy) : null;
  const gk = hasOhlc && ok(sFrom, 1) ? garmanKlassVol(p.open, p.high, p.low, p.close, sFrom, to, ppy) : null;
  const ewma = ok(lRet, 2) ? ewmaVol(p.close, lRet, to, ppy, cfg.vol.ewmaLambda) : null;
  const ratio = ccShort !== null && ccLong !== null && ccLong > 0 ? ccShort / ccLong : null;
  if (ratio !== null) {
    add("vol-ratio", ratio, cfg.vol.ratio, (_l, th) => `${dur(cfg.vol.shortWindowSeconds)} realised vol ${pct(ccShort!)} is ${ratio.toFixed(2)}x the ${dur(cfg.vol.longWindowSeconds)} vol ${pct(ccLong!)} (>= ${th}x)`);
  }

  // drawdowns in units of sigma_long x sqrt(h)
  const drawdowns: StressMetrics["drawdown"] = [];
  for (const h of cfg.drawdown.horizonsSeconds) {
    const dd = drawdownOver(p.t, p.close, to, h);
    const sigmaH = ccLong !== null ? ccLong * Math.sqrt(h / SECONDS_PER_YEAR) : NaN;
    const z = sigmaH > 0 ? -Math.log(1 - dd.max) / sigmaH : null;
    drawdowns.push({ horizonSeconds: h, max: r6(dd.max), current: r6(dd.current), z: r6n(z) });
    if (z !== null) {
      add("drawdown", z, cfg.drawdown.z, (_l, th) => `${dur(h)} drawdown ${pct(dd.max)} is ${z.toFixed(1)} sigma of ${dur(h)} moves at the ${dur(cfg.vol.longWindowSeconds)} vol (>= ${th})`);
    }
  }

  // jumps
  const jFrom = firstIndexAfter(p.t, p.t[to] - cfg.jumps.lookbackSeconds, to);
  const jumps = detectJumps(p.t, p.close, jFrom, to, cfg.jumps.windowSteps, cfg.jumps.k);
  add("jumps", jumps.length, cfg.jumps.count, (_l, th) => `${jumps.length} jump(s) beyond ${cfg.jumps.k} local sd in the last ${dur(cfg.jumps.lookbackSeconds)} (>= ${th})`);

  // oracle
  let oracle: StressMetrics["oracle"] = null;
  if (inputs.oracle) {
    const oi = lastIndexAtOrBefore(inputs.oracle.updatedAt, at);
    if (oi >= 0) {
      const st = oracleStaleness(inputs.oracle.updatedAt[oi], at, cfg.oracle.heartbeatSeconds, cfg.oracle.graceSeconds);
      const answer = inputs.oracle.answer[oi];
      const dev = oracleDeviation(answer, p.close[to]);
      oracle = { answer, updatedAt: isoTime(inputs.oracle.updatedAt[oi]), ageSeconds: st.ageSeconds, heartbeats: r6(st.heartbeats), stale: st.stale, reference: p.close[to], deviation: r6(dev) };
      const lateBeats = (st.ageSeconds - cfg.oracle.graceSeconds) / cfg.oracle.heartbeatSeconds;
      add("oracle-age", lateBeats, cfg.oracle.ageHeartbeats, (_l, th) => `oracle answer is ${st.ageSeconds}s old: ${st.heartbeats.toFixed(2)} heartbeats of ${cfg.oracle.heartbeatSeconds}s (>= ${th} + ${cfg.oracle.graceSeconds}s grace)`);
      add("oracle-deviation", Math.abs(dev), cfg.oracle.deviation, (_l, th) => `oracle ${answer} deviates ${pct(dev)} from the reference ${p.close[to]} (>= ${pct(th)})`);
    } else notes.push(`oracle: no answer at or before ${isoTime(at)} (history starts ${isoTime(inputs.oracle.updatedAt[0])})`);
  }

  // gas
  let gas: StressMetrics["gas"] = null;
  if (inputs.gas) {
    const gl = availabilityLag(inputs.gas);
    const gi = lastIndexAtOrBefore(inputs.gas.t, at - gl);
    if (gi < 0) notes.push(`gas: no value known at ${isoTime(at)}`);
    else {
      const gFrom = firstIndexAfter(inputs.gas.t, inputs.gas.t[gi] - cfg.gas.windowSeconds, gi);
      const g = gasCongestion(inputs.gas.close, gFrom, gi, 0.9);
      gas = { current: g.current, at: isoTime(inputs.gas.t[gi] + gl), percentileRank: r6(g.percentileRank), p90: r6(g.quantile), ratioToP90: r6(g.ratio), samples: g.samples };
      if (g.samples >= 10) {
        add("gas", g.ratio, cfg.gas.ratioToP90, (_l, th) => `gas ${g.current} is ${g.ratio.toFixed(2)}x the 90th percentile ${g.quantile.toFixed(2)} of the last ${dur(cfg.gas.windowSeconds)} (>= ${th}x)`);
      }
    }
  }

  // implied vs realised
  let implied: StressMetrics["implied"] = null;
  if (inputs.implied) {
    const il = availabilityLag(inputs.implied);
    const ii = lastIndexAtOrBefore(inputs.implied.t, at - il);
    if (ii < 0) notes.push(`implied: no value known at ${isoTime(at)}`);
    else {
      const iv = inputs.implied.close[ii] / 100;
      const yFrom = firstIndexAfter(inputs.implied.t, inputs.implied.t[ii] - 365 * 86400, ii);
      const med = quantile(inputs.implied.close.subarray(yFrom, ii + 1), 0.5) / 100;
      const ivOverMedian = ii - yFrom + 1 >= 30 ? iv / med : null;
      const rvOverIv = ccShort !== null ? ccShort / iv : null;
      implied = { iv: r6(iv), at: isoTime(inputs.implied.t[ii] + il), ivOverMedian: r6n(ivOverMedian), realised: r6n(ccShort), spread: ccShort !== null ? r6(iv - ccShort) : null, rvOverIv: r6n(rvOverIv) };
      if (rvOverIv !== null) add("rv-over-iv", rvOverIv, cfg.implied.rvOverIv, (_l, th) => `realised ${pct(ccShort!)} is ${rvOverIv.toFixed(2)}x implied ${pct(iv)} (>= ${th}x)`);
      if (ivOverMedian !== null) add("iv-over-median", ivOverMedian, cfg.implied.ivOverMedian, (_l, th) => `implied ${pct(iv)} is ${ivOverMedian.toFixed(2)}x its 1-year median ${pct(med)} (>= ${th}x)`);
    }
  }

  let level: StressLevel = "calm";
  for (const r of reasons) level = maxLevel(level, r.level);
  const order: StressLevel[] = ["critical", "stressed", "elevated"];
  reasons.sort((a, b) => order.indexOf(a.level) - order.indexOf(b.level));
  return {
    at: isoTime(at),
    atSeconds: at,
    level,
    reasons,
    notes,
    metrics: {
      price: { last: p.close[to], lastAt: isoTime(p.t[to] + lag), intervalSeconds: interval, ageSeconds },
      realisedVol: {
        shortWindowSeconds: cfg.vol.shortWindowSeconds,
        longWindowSeconds: cfg.vol.longWindowSeconds,
        closeToCloseShort: r6n(ccShort),
        closeToCloseLong: r6n(ccLong),
        parkinsonShort: r6n(park),
        garmanKlassShort: r6n(gk),
        ewma: r6n(ewma),
        ratio: r6n(ratio),
      },
      drawdown: drawdowns,
      jumps: { count: jumps.length, list: jumps.slice(-10).map((j) => ({ at: isoTime(j.t), logReturn: r6(j.logReturn), z: r6(j.z) })) },
      oracle,
      gas,
      implied,
    },
  };
}
