// Margin buffer in integer bps from a loss measure, with EMIR Art. 28 anti-procyclicality (APC)
// options, rounded up (in the protocol's favour).
//
// Order of application: the base measure (historical or FHS over the current window, optionally
// pooling stressed observations at ≥ 25% weight) → floors (stressed-window measure, long-lookback
// measure) → the 25% buffer → + oracle price slack → ceil to whole bps.
import { assertInput } from "../../errors.ts";
import { assertPositiveFinite, toFiniteSeries } from "../common/validate.ts";
import type { VolatilityFit, VolatilitySpec } from "../volatility/spec.ts";
import { fhsVarEs } from "./fhs.ts";
import { historicalVarEs, type TwoSidedVarEs } from "./historical.ts";
import { deriveHorizonSeconds, type HorizonBreakdown, type HorizonInputs } from "./horizon.ts";
import type { Side } from "./measures.ts";

/**
 * ceil(loss·10⁴ + slack): never rounds a requirement down. Float noise of under 1e-9 bps above an
 * integer (0.0129·10⁴ = 129.00000000000003) is not rounded up.
 */
export function toBufferBps(lossFraction: number, slackBps = 0): number {
  assertInput(Number.isFinite(lossFraction), `must be finite, got ${lossFraction}`, "lossFraction", "MODEL_INPUT");
  assertInput(Number.isFinite(slackBps) && slackBps >= 0, `must be finite and ≥ 0, got ${slackBps}`, "slackBps", "MODEL_INPUT");
  return Math.max(0, Math.ceil(Math.max(lossFraction, 0) * 10_000 + slackBps - 1e-9));
}

export interface AntiProcyclicality {
  /** (a) a buffer of this fraction on top of the margin (EMIR: ≥ 0.25). */
  buffer?: number;
  /** Stressed window (one-period log returns), used by stressedWeight and stressedFloor. */
  stressedReturns?: ArrayLike<number>;
  /** (b) weight of stressed observations pooled into the sample (EMIR: ≥ 0.25). */
  stressedWeight?: number;
  /** Floor the margin at the historical measure on the stressed window. */
  stressedFloor?: boolean;
  /** (c) floor at the historical measure on a long (EMIR: 10-year) lookback. */
  longLookbackReturns?: ArrayLike<number>;
}

export interface MarginBufferOptions {
  /** One-period log returns of the current lookback window (oldest first). */
  returns: ArrayLike<number>;
  /** Sampling period of the returns (3600 for hourly). */
  periodSeconds: number;
  /** Either a horizon in seconds or the oracle/liquidation inputs to derive it from. */
  horizon: { horizonSeconds: number } | HorizonInputs;
  side: Side;
  confidence?: number; // default 0.99
  measure?: "es" | "var"; // default "es"
  method?: "historical" | "fhs"; // default "fhs"
  spec?: VolatilitySpec;
  fit?: VolatilityFit;
  paths?: number;
  seed?: number;
  apc?: AntiProcyclicality;
}

export interface MarginBuffer {
  readonly bufferBps: number;
  /** The loss fraction before slack and rounding, after APC. */
  readonly lossFraction: number;
  readonly horizon: HorizonBreakdown;
  readonly horizonPeriods: number;
  readonly components: {
    readonly base: number;
    readonly stressedFloor?: number;
    readonly longLookbackFloor?: number;
    readonly bufferAddOn?: number;
  };
  /** Which APC steps changed the number, in order. */
  readonly apcApplied: readonly string[];
}

/**
 * @example
 * marginBufferBps({ returns: hourly, periodSeconds: 3600, side: "long", seed: 7,
 *   horizon: { oracleHeartbeatSeconds: 3600, oracleDeviationThresholdBps: 50,
 *              executionLatencySeconds: 24, liquidationSeconds: 600 },
 *   apc: { buffer: 0.25 } }).bufferBps
 */
export function marginBufferBps(options: MarginBufferOptions): MarginBuffer {
  assertPositiveFinite(options.periodSeconds, "periodSeconds");
  assertInput(options.side === "long" || options.side === "short", `must be "long" or "short", got ${String(options.side)}`, "side", "MODEL_INPUT");
  const horizon: HorizonBreakdown = "horizonSeconds" in options.horizon
    ? (() => {
        assertPositiveFinite(options.horizon.horizonSeconds, "horizon.horizonSeconds");
        return Object.freeze({ horizonSeconds: options.horizon.horizonSeconds, slackBps: 0, treatment: "price-slack" as const, oracleStalenessSeconds: 0, executionLatencySeconds: 0, liquidationSeconds: 0 });
      })()
    : deriveHorizonSeconds(options.horizon);
  assertInput(horizon.horizonSeconds > 0, "the derived horizon is 0 seconds; give a latency or liquidation time", "horizon", "MODEL_INPUT");
  const horizonPeriods = horizon.horizonSeconds / options.periodSeconds;
  const confidence = options.confidence ?? 0.99;
  const measure = options.measure ?? "es";
  const method = options.method ?? "fhs";
  assertInput(measure === "es" || measure === "var", `must be "es" or "var", got ${String(measure)}`, "measure", "MODEL_INPUT");
  assertInput(method === "fhs" || method === "historical", `must be "fhs" or "historical", got ${String(method)}`, "method", "MODEL_INPUT");
  const apc = options.apc ?? {};
  const pick = (r: TwoSidedVarEs): number => r[options.side][measure];
  const stressed = apc.stressedReturns !== undefined ? toFiniteSeries(apc.stressedReturns, "apc.stressedReturns", 10) : undefined;
  if ((apc.stressedWeight !== undefined || apc.stressedFloor) && stressed === undefined) {
    assertInput(false, "stressedWeight and stressedFloor need apc.stressedReturns", "apc.stressedReturns", "MODEL_INPUT");
  }
  const weighted = apc.stressedWeight !== undefined ? { stressedReturns: stressed, stressedWeight: apc.stressedWeight } : {};
  const base = pick(method === "historical"
    ? historicalVarEs({ returns: options.returns, confidence, horizonPeriods, ...weighted })
    : fhsVarEs({ returns: options.returns, fit: options.fit, spec: options.spec, confidence, horizonPeriods, paths: options.paths, seed: options.seed, ...weighted }));
  const applied: string[] = [];
  if (apc.stressedWeight !== undefined) applied.push(`stressedWeight ${apc.stressedWeight}`);
  let loss = base;
  let stressedFloor: number | undefined;
  if (apc.stressedFloor && stressed) {
    stressedFloor = pick(historicalVarEs({ returns: stressed, confidence, horizonPeriods }));
    if (stressedFloor > loss) { loss = stressedFloor; applied.push("stressedFloor"); }
  }
  let longLookbackFloor: number | undefined;
  if (apc.longLookbackReturns !== undefined) {
    longLookbackFloor = pick(historicalVarEs({ returns: apc.longLookbackReturns, confidence, horizonPeriods }));
    if (longLookbackFloor > loss) { loss = longLookbackFloor; applied.push("longLookbackFloor"); }
  }
  let bufferAddOn: number | undefined;
  if (apc.buffer !== undefined) {
    assertInput(Number.isFinite(apc.buffer) && apc.buffer >= 0, `must be finite and ≥ 0, got ${apc.buffer}`, "apc.buffer", "MODEL_INPUT");
    bufferAddOn = loss * apc.buffer;
    loss += bufferAddOn;
    applied.push(`buffer ${apc.buffer}`);
  }
  return Object.freeze({
    bufferBps: toBufferBps(loss, horizon.slackBps),
    lossFraction: loss,
    horizon,
    horizonPeriods,
    components: Object.freeze({ base, stressedFloor, longLookbackFloor, bufferAddOn }),
    apcApplied: Object.freeze(applied),
  });
}
