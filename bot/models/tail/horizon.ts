// From oracle and liquidation mechanics to the risk horizon of a margin buffer.
//
// The buffer must cover the price move between the last moment the protocol's view of a position
// is right and the moment a liquidation completes. Inputs, all named:
// - oracleHeartbeatSeconds: the oracle updates at least this often;
// - oracleDeviationThresholdBps: ... and whenever the price moves more than this since its last update;
// - executionLatencySeconds: keeper detection + transaction inclusion;
// - liquidationSeconds: time for the liquidation to complete (auction, DEX fill).
//
// The deviation threshold is treated as follows (documented in docs/models.md):
// - "price-slack" (default): the on-chain price can lag the market by up to the threshold at any
//   time (beyond it, an update is forced), so the threshold is added to the buffer as price slack
//   (slackBps) and contributes no time. With no threshold (heartbeat-only oracle), the whole heartbeat
//   is staleness time.
// - "time": the staleness is converted to time, the expected time for a Brownian price with vol
//   volAnnual to move by the threshold, (threshold/σ)², capped at the heartbeat. Needs volAnnual.
import { assertInput } from "../../errors.ts";

export interface HorizonInputs {
  oracleHeartbeatSeconds: number;
  oracleDeviationThresholdBps: number;
  executionLatencySeconds: number;
  liquidationSeconds: number;
  deviationTreatment?: "price-slack" | "time";
  /** Needed by deviationTreatment "time". */
  volAnnual?: number;
  secondsPerYear?: number;
}

export interface HorizonBreakdown {
  readonly horizonSeconds: number;
  /** Price slack to add to the buffer, in bps (0 under "time"). */
  readonly slackBps: number;
  readonly treatment: "price-slack" | "time";
  readonly oracleStalenessSeconds: number;
  readonly executionLatencySeconds: number;
  readonly liquidationSeconds: number;
}

/**
 * @example
 * deriveHorizonSeconds({ oracleHeartbeatSeconds: 3600, oracleDeviationThresholdBps: 50,
 *   executionLatencySeconds: 24, liquidationSeconds: 300 })
 * // → { horizonSeconds: 324, slackBps: 50, ... }
 */
export function deriveHorizonSeconds(inputs: HorizonInputs): HorizonBreakdown {
  const nonNeg = (v: number, name: string) =>
    assertInput(Number.isFinite(v) && v >= 0, `must be a finite number ≥ 0, got ${v}`, name, "MODEL_INPUT");
  assertInput(Number.isFinite(inputs.oracleHeartbeatSeconds) && inputs.oracleHeartbeatSeconds > 0,
    `must be a finite number > 0, got ${inputs.oracleHeartbeatSeconds}`, "oracleHeartbeatSeconds", "MODEL_INPUT");
  nonNeg(inputs.oracleDeviationThresholdBps, "oracleDeviationThresholdBps");
  nonNeg(inputs.executionLatencySeconds, "executionLatencySeconds");
  nonNeg(inputs.liquidationSeconds, "liquidationSeconds");
  const treatment = inputs.deviationTreatment ?? "price-slack";
  assertInput(treatment === "price-slack" || treatment === "time", `must be "price-slack" or "time", got ${String(treatment)}`, "deviationTreatment", "MODEL_INPUT");
  let staleness: number;
  let slackBps: number;
  if (treatment === "price-slack") {
    slackBps = inputs.oracleDeviationThresholdBps;
    staleness = slackBps > 0 ? 0 : inputs.oracleHeartbeatSeconds;
  } else {
    const vol = inputs.volAnnual;
    assertInput(vol !== undefined && Number.isFinite(vol) && vol > 0, `deviationTreatment "time" needs volAnnual > 0, got ${vol}`, "volAnnual", "MODEL_INPUT");
    const secondsPerYear = inputs.secondsPerYear ?? 365 * 86400;
    const sigmaPerSqrtSecond = (vol as number) / Math.sqrt(secondsPerYear);
    const threshold = inputs.oracleDeviationThresholdBps / 10_000;
    const timeToThreshold = threshold > 0 ? (threshold / sigmaPerSqrtSecond) ** 2 : Infinity;
    staleness = Math.min(inputs.oracleHeartbeatSeconds, timeToThreshold);
    slackBps = 0;
  }
  return Object.freeze({
    horizonSeconds: staleness + inputs.executionLatencySeconds + inputs.liquidationSeconds,
    slackBps, treatment, oracleStalenessSeconds: staleness,
    executionLatencySeconds: inputs.executionLatencySeconds, liquidationSeconds: inputs.liquidationSeconds,
  });
}
