// Delta-hedging a short option when the hedger sees the price only through an oracle (updated when
// the price moves past a deviation threshold, or when the heartbeat elapses) and its trades land
// after an execution delay. Compared with an ideal hedger (true price every step, no delay) on the
// same seeded paths, the extra tail loss is the buffer add-on the latency calls for.
//
// Model: the underlying starts at 1 and follows a driftless GBM with vol volAnnual (Student-t
// shocks scaled to unit variance when `nu` is given), simulated every stepSeconds. The option is
// sold at its Black price with impliedVol (default volAnnual) and hedged with Black deltas. When
// the oracle updates at step t, the hedger targets delta(oracle price, time left); that order fills
// at the true price of step t + delay. P&L at expiry = premium + trading cash + position·S_T − payoff,
// per unit of underlying notional (so 0.001 = 10 bps).
import { assertInput } from "../../errors.ts";
import { createRng } from "../common/prng.ts";
import { normCdf } from "../common/special.ts";
import { assertConfidence, assertSeed } from "../common/validate.ts";
import { black76Price, type OptionType } from "../smile/black.ts";
import { varEs, type VarEs } from "../tail/measures.ts";
import { toBufferBps } from "../tail/buffer.ts";

export interface HedgeLatencyOptions {
  optionType: OptionType;
  /** Strike relative to the starting price 1 (1 = at the money). */
  strike: number;
  maturitySeconds: number;
  /** Vol of the simulated price path. */
  volAnnual: number;
  /** Vol used for the premium and the hedge deltas (default volAnnual). */
  impliedVol?: number;
  /** Degrees of freedom of Student-t shocks (> 2); normal when absent. */
  nu?: number;
  stepSeconds: number;
  oracleHeartbeatSeconds: number;
  oracleDeviationThresholdBps: number;
  executionDelaySeconds: number;
  paths?: number; // default 2,000
  seed: number;
  confidence?: number; // default 0.99
  secondsPerYear?: number;
}

export interface HedgeErrorSummary {
  readonly mean: number;
  readonly sd: number;
  /** Tail of the hedging loss (−P&L) per unit notional. */
  readonly loss: VarEs;
  readonly quantiles: readonly { readonly p: number; readonly pnl: number }[];
}

export interface HedgeLatencyResult {
  readonly paths: number;
  readonly steps: number;
  /** Average oracle updates (= hedge decisions) per path. */
  readonly meanOracleUpdates: number;
  readonly withLatency: HedgeErrorSummary;
  readonly ideal: HedgeErrorSummary;
  /** ceil((ES_latency − ES_ideal)·10⁴), ≥ 0: the margin add-on in bps of underlying notional. */
  readonly addOnBps: number;
  readonly confidence: number;
}

function blackDelta(type: OptionType, S: number, K: number, tau: number, vol: number): number {
  if (tau <= 0) return type === "call" ? (S > K ? 1 : 0) : (S < K ? -1 : 0);
  const sd = vol * Math.sqrt(tau);
  const d1 = (Math.log(S / K) + 0.5 * sd * sd) / sd;
  return type === "call" ? normCdf(d1) : normCdf(d1) - 1;
}

function summarise(pnl: Float64Array, confidence: number): HedgeErrorSummary {
  let m = 0;
  for (const v of pnl) m += v;
  m /= pnl.length;
  let s = 0;
  for (const v of pnl) s += (v - m) * (v - m);
  const sorted = Float64Array.from(pnl).sort();
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  return Object.freeze({
    mean: m,
    sd: Math.sqrt(s / Math.max(pnl.length - 1, 1)),
    loss: varEs(Float64Array.from(pnl, (v) => -v), confidence),
    quantiles: Object.freeze([0.001, 0.01, 0.05, 0.5, 0.95, 0.99].map((p) => Object.freeze({ p, pnl: q(p) }))),
  });
}

/**
 * @example
 * simulateHedgeLatency({ optionType: "call", strike: 1, maturitySeconds: 7 * 86400, volAnnual: 0.8,
 *   stepSeconds: 60, oracleHeartbeatSeconds: 3600, oracleDeviationThresholdBps: 50,
 *   executionDelaySeconds: 24, seed: 1 }).addOnBps
 */
export function simulateHedgeLatency(o: HedgeLatencyOptions): HedgeLatencyResult {
  const pos = (v: number, name: string) => assertInput(Number.isFinite(v) && v > 0, `must be a finite number > 0, got ${v}`, name, "MODEL_INPUT");
  const nonNeg = (v: number, name: string) => assertInput(Number.isFinite(v) && v >= 0, `must be a finite number ≥ 0, got ${v}`, name, "MODEL_INPUT");
  assertInput(o.optionType === "call" || o.optionType === "put", `must be "call" or "put", got ${String(o.optionType)}`, "optionType", "MODEL_INPUT");
  pos(o.strike, "strike"); pos(o.maturitySeconds, "maturitySeconds"); pos(o.volAnnual, "volAnnual"); pos(o.stepSeconds, "stepSeconds");
  pos(o.oracleHeartbeatSeconds, "oracleHeartbeatSeconds");
  nonNeg(o.oracleDeviationThresholdBps, "oracleDeviationThresholdBps"); nonNeg(o.executionDelaySeconds, "executionDelaySeconds");
  if (o.impliedVol !== undefined) pos(o.impliedVol, "impliedVol");
  if (o.nu !== undefined) assertInput(Number.isFinite(o.nu) && o.nu > 2, `must be > 2, got ${o.nu}`, "nu", "MODEL_INPUT");
  assertSeed(o.seed);
  const confidence = o.confidence ?? 0.99;
  assertConfidence(confidence);
  const paths = o.paths ?? 2000;
  assertInput(Number.isInteger(paths) && paths >= 100, `must be an integer ≥ 100, got ${paths}`, "paths", "MODEL_INPUT");
  const steps = Math.ceil(o.maturitySeconds / o.stepSeconds);
  assertInput(steps <= 1_000_000, `maturitySeconds / stepSeconds = ${steps} steps; use a coarser step`, "stepSeconds", "MODEL_INPUT");
  const secondsPerYear = o.secondsPerYear ?? 365 * 86400;
  const dtYears = o.stepSeconds / secondsPerYear;
  const T = (steps * o.stepSeconds) / secondsPerYear;
  const iv = o.impliedVol ?? o.volAnnual;
  const K = o.strike;
  const premium = black76Price(o.optionType, 1, K, T, iv);
  const sdStep = o.volAnnual * Math.sqrt(dtYears);
  const heartbeatSteps = Math.max(1, Math.round(o.oracleHeartbeatSeconds / o.stepSeconds));
  const delaySteps = Math.round(o.executionDelaySeconds / o.stepSeconds);
  const threshold = o.oracleDeviationThresholdBps / 10_000;
  const rng = createRng(o.seed);
  const nu = o.nu;
  const shock = nu === undefined ? () => rng.normal() : () => rng.standardizedT(nu);
  const pnlLatency = new Float64Array(paths);
  const pnlIdeal = new Float64Array(paths);
  const S = new Float64Array(steps + 1);
  // Pending orders: ring buffer of (fill step, target delta).
  const fillStep = new Int32Array(steps + 2);
  const target = new Float64Array(steps + 2);
  let updates = 0;
  for (let p = 0; p < paths; p++) {
    S[0] = 1;
    for (let t = 1; t <= steps; t++) S[t] = S[t - 1] * Math.exp(-0.5 * sdStep * sdStep + sdStep * shock());
    const payoff = o.optionType === "call" ? Math.max(S[steps] - K, 0) : Math.max(K - S[steps], 0);
    // Ideal: rebalance every step at the true price.
    let position = 0, cash = premium;
    for (let t = 0; t < steps; t++) {
      const d = blackDelta(o.optionType, S[t], K, T - t * dtYears, iv); // a short option is hedged long delta
      cash -= (d - position) * S[t];
      position = d;
    }
    pnlIdeal[p] = cash + position * S[steps] - payoff;
    // With latency: decisions at oracle updates, fills after the delay.
    position = 0; cash = premium;
    let oracle = S[0], lastUpdate = 0, head = 0, tail = 0;
    fillStep[tail] = delaySteps; target[tail] = blackDelta(o.optionType, oracle, K, T, iv); tail++;
    updates++;
    for (let t = 0; t < steps; t++) {
      if (t > 0 && (Math.abs(S[t] / oracle - 1) >= threshold && threshold > 0 || t - lastUpdate >= heartbeatSteps)) {
        oracle = S[t]; lastUpdate = t; updates++;
        fillStep[tail] = t + delaySteps; target[tail] = blackDelta(o.optionType, oracle, K, T - t * dtYears, iv); tail++;
      }
      while (head < tail && fillStep[head] <= t) {
        cash -= (target[head] - position) * S[t];
        position = target[head];
        head++;
      }
    }
    pnlLatency[p] = cash + position * S[steps] - payoff;
  }
  const withLatency = summarise(pnlLatency, confidence);
  const ideal = summarise(pnlIdeal, confidence);
  return Object.freeze({
    paths, steps, meanOracleUpdates: updates / paths, withLatency, ideal, confidence,
    addOnBps: toBufferBps(Math.max(withLatency.loss.es - ideal.loss.es, 0)),
  });
}
