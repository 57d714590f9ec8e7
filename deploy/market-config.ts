// Default market set-up used by local deployments, the embedded default and the tests: the
// parameter ids and units of RiskParameterSteward, initial values and the keeper's bounds.
// Bounds are chosen by principle, not fitted: margin steps of at most a fifth of the initial
// value per hour, vol steps of 25% relative per hour, ranges wide enough for a crash regime.
import { encodeBytes32String } from "ethers";
import { PARAMETER_IDS } from "../bot/rules/bounds.ts";

/** The steward's parameter ids (uint8 on chain); one table, kept with the keeper's bound arithmetic. */
export const PARAM = PARAMETER_IDS;
export type ParamName = keyof typeof PARAM;
export const PARAM_NAMES = Object.keys(PARAM) as ParamName[];
export const PARAM_COUNT = PARAM_NAMES.length;

export const STEP_KIND = { absolute: 0, relative: 1 } as const;
export type StepKindName = keyof typeof STEP_KIND;

export interface ParamBounds {
  min: bigint;
  max: bigint;
  /** Parameter units for "absolute", bps of |current value| for "relative". */
  maxStep: bigint;
  minDelaySeconds: bigint;
  stepKind: StepKindName;
}

export interface MarketConfig {
  /** Human-readable id, stored on-chain as bytes32 (encodeBytes32String). */
  name: string;
  initialValues: Record<ParamName, bigint>;
  bounds: Record<ParamName, ParamBounds>;
}

const HOUR = 3_600n;

function abs(min: bigint, max: bigint, maxStep: bigint): ParamBounds {
  return { min, max, maxStep, minDelaySeconds: HOUR, stepKind: "absolute" };
}
function rel(min: bigint, max: bigint, maxStepBps: bigint): ParamBounds {
  return { min, max, maxStep: maxStepBps, minDelaySeconds: HOUR, stepKind: "relative" };
}

export const DEFAULT_MARKET: MarketConfig = {
  name: "ETH-USD",
  initialValues: {
    initialMarginBps: 1_000n, // 10%: 10x max leverage
    maintenanceMarginBps: 500n,
    liquidationBufferBps: 100n,
    volAnnualPpm: 800_000n, // 80% annualised
    atmVolPpm: 750_000n,
    skewPpm: -100_000n,
    curvaturePpm: 400_000n,
    sviAPpm: 10_000n,
    sviBPpm: 100_000n,
    sviRhoPpm: -300_000n,
    sviMPpm: 0n,
    sviSigmaPpm: 100_000n,
  },
  bounds: {
    initialMarginBps: abs(300n, 5_000n, 200n),
    maintenanceMarginBps: abs(150n, 4_000n, 150n),
    liquidationBufferBps: abs(25n, 1_000n, 50n),
    volAnnualPpm: rel(100_000n, 3_000_000n, 2_500n),
    atmVolPpm: rel(100_000n, 3_000_000n, 2_500n),
    skewPpm: abs(-2_000_000n, 2_000_000n, 200_000n),
    curvaturePpm: abs(0n, 5_000_000n, 500_000n),
    sviAPpm: abs(-500_000n, 2_000_000n, 200_000n),
    sviBPpm: abs(0n, 5_000_000n, 500_000n),
    sviRhoPpm: abs(-999_000n, 999_000n, 200_000n),
    sviMPpm: abs(-1_000_000n, 1_000_000n, 200_000n),
    sviSigmaPpm: abs(1_000n, 2_000_000n, 200_000n),
  },
};

export function marketId(name: string): string {
  return encodeBytes32String(name);
}

/** The Bounds struct as the steward's ABI takes it. */
export function boundsTuple(b: ParamBounds): [bigint, bigint, bigint, bigint, number] {
  return [b.min, b.max, b.maxStep, b.minDelaySeconds, STEP_KIND[b.stepKind]];
}
