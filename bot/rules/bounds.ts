// The on-chain steward's bound arithmetic, mirrored exactly (bigint, integer parameter units) so
// the keeper never proposes an update that the RiskParameterSteward contract would revert.
//
// Per (market, parameter) the steward holds { min, max, maxStep, stepKind, minDelaySeconds }.
// Check order (contracts/RiskParameterSteward.sol _checkShape + _checkKeeperUpdate), first failure wins:
//   shape: empty update, missing evidence hash, then per entry unknown parameter id (>= 12), duplicate
//   -> steward frozen -> unknown market -> market frozen
//   -> per parameter: not configured (no bounds) -> range [min, max] (inclusive) -> no-op (new == old)
//      -> step (absolute | relative; relative from 0 is rejected) -> delay (skipped for a parameter
//      never updated, lastUpdatedAt == 0)
//   -> after all parameters of a multi-parameter update are applied, initialMarginBps >= maintenanceMarginBps.
// The error names are the contract's custom errors without the "Steward" prefix, except three kept
// as test/contracts/steward-parity.test.ts maps them: UnknownParameter (StewardUnknownParam),
// DuplicateParameter (StewardDuplicateParam), MarketFrozen (StewardMarketIsFrozen).

/** Parameter ids (uint8 on chain). Units: *Bps in basis points, *Ppm in parts per million (1e6 = 100%). */
export const PARAMETER_IDS = {
  initialMarginBps: 0,
  maintenanceMarginBps: 1,
  liquidationBufferBps: 2,
  volAnnualPpm: 3,
  atmVolPpm: 4,
  skewPpm: 5,
  curvaturePpm: 6,
  sviAPpm: 7,
  sviBPpm: 8,
  sviRhoPpm: 9,
  sviMPpm: 10,
  sviSigmaPpm: 11,
} as const;

export type ParameterName = keyof typeof PARAMETER_IDS;
export type ParameterId = (typeof PARAMETER_IDS)[ParameterName];

export const PARAMETER_NAMES: readonly ParameterName[] = Object.keys(PARAMETER_IDS) as ParameterName[];

export function parameterName(id: number): ParameterName | undefined {
  return PARAMETER_NAMES[id];
}

/** "absolute": |new-old| <= maxStep (parameter units). "relative": |new-old|*10000 <= maxStep*|old| (maxStep in bps of old). */
export type StepKind = "absolute" | "relative";

export interface StewardBounds {
  min: bigint;
  max: bigint;
  maxStep: bigint;
  stepKind: StepKind;
  minDelaySeconds: bigint;
}

export interface StewardParameterState {
  value: bigint;
  lastUpdatedAt: bigint;
}

export interface StewardMarketState {
  /** Market frozen by the guardian. */
  frozen: boolean;
  /** Whole steward frozen (default false). */
  stewardFrozen?: boolean;
  /** Market created on the steward (default true). */
  exists?: boolean;
  /** Keyed by parameter id. A parameter without bounds is unknown to the steward. */
  bounds: ReadonlyMap<number, StewardBounds>;
  /** Keyed by parameter id. A parameter never set has value 0 and lastUpdatedAt 0. */
  params: ReadonlyMap<number, StewardParameterState>;
}

export interface StewardUpdate {
  parameter: number;
  value: bigint;
}

export type StewardErrorName =
  | "EmptyUpdate"
  | "MissingEvidence"
  | "UnknownParameter"
  | "DuplicateParameter"
  | "IsFrozen"
  | "UnknownMarket"
  | "MarketFrozen"
  | "ParamNotConfigured"
  | "NoChange"
  | "ValueOutOfRange"
  | "RelativeStepFromZero"
  | "StepTooLarge"
  | "UpdateTooSoon"
  | "MarginOrder";

export interface StewardViolation {
  error: StewardErrorName;
  /** Parameter id the violation is about (undefined for checks about the whole update or market). */
  parameter: number | undefined;
  message: string;
}

const ZERO_STATE: StewardParameterState = { value: 0n, lastUpdatedAt: 0n };

function abs(x: bigint): bigint {
  return x < 0n ? -x : x;
}

/**
 * Largest |new - old| the step bound allows from `old`: maxStep for "absolute",
 * floor(maxStep * |old| / 10000) for "relative" (equivalent to |d|*10000 <= maxStep*|old| for integers).
 * Returns undefined for a relative step from 0 (the steward rejects it).
 */
export function maxStepFrom(old: bigint, bounds: Pick<StewardBounds, "maxStep" | "stepKind">): bigint | undefined {
  if (bounds.stepKind === "absolute") return bounds.maxStep;
  if (old === 0n) return undefined;
  return (bounds.maxStep * abs(old)) / 10000n;
}

/**
 * Checks one parameter change against its bounds, in the steward's order (range, no-op, step, delay).
 * Returns the first broken bound or undefined.
 */
export function checkParameterBounds(
  parameter: number,
  state: StewardParameterState,
  bounds: StewardBounds,
  value: bigint,
  /** Undefined skips the delay (queueUpdate judges it at execution). */
  now: bigint | undefined,
): StewardViolation | undefined {
  const name = parameterName(parameter) ?? `#${parameter}`;
  if (value < bounds.min || value > bounds.max) {
    return { error: "ValueOutOfRange", parameter, message: `${name}: ${value} outside [${bounds.min}, ${bounds.max}]` };
  }
  if (value === state.value) {
    return { error: "NoChange", parameter, message: `${name}: new value equals the current value ${value}` };
  }
  const delta = abs(value - state.value);
  if (bounds.stepKind === "relative") {
    if (state.value === 0n) {
      return { error: "RelativeStepFromZero", parameter, message: `${name}: relative step from a current value of 0` };
    }
    if (delta * 10000n > bounds.maxStep * abs(state.value)) {
      return { error: "StepTooLarge", parameter, message: `${name}: |${value} - ${state.value}| exceeds ${bounds.maxStep} bps of ${state.value}` };
    }
  } else if (delta > bounds.maxStep) {
    return { error: "StepTooLarge", parameter, message: `${name}: |${value} - ${state.value}| = ${delta} exceeds maxStep ${bounds.maxStep}` };
  }
  if (now !== undefined && state.lastUpdatedAt !== 0n && now < state.lastUpdatedAt + bounds.minDelaySeconds) {
    return {
      error: "UpdateTooSoon",
      parameter,
      message: `${name}: now ${now} < lastUpdatedAt ${state.lastUpdatedAt} + minDelay ${bounds.minDelaySeconds}`,
    };
  }
  return undefined;
}

export interface StewardCheckOptions {
  /** The evidence hash sent with the update (0x + 64 hex); a zero hash is rejected. Unchecked when absent. */
  evidenceHash?: string;
  /** false for queueUpdate, which judges the delay at execution (default true, as updateParams). */
  checkDelay?: boolean;
}

/**
 * The steward's full check of a (possibly multi-parameter) keeper update. Returns the first broken
 * bound (named like the contract's custom error) or undefined when the contract would accept it.
 *
 * @example
 * const v = checkStewardUpdate(market, [{ parameter: PARAMETER_IDS.maintenanceMarginBps, value: 600n }], 1_700_000_000n);
 * if (v) console.error(v.error, v.message);
 */
export function checkStewardUpdate(
  market: StewardMarketState,
  updates: readonly StewardUpdate[],
  now: bigint,
  options: StewardCheckOptions = {},
): StewardViolation | undefined {
  if (updates.length === 0) return { error: "EmptyUpdate", parameter: undefined, message: "no parameter to update" };
  if (options.evidenceHash !== undefined && /^0x0*$/i.test(options.evidenceHash)) {
    return { error: "MissingEvidence", parameter: undefined, message: "evidence hash is zero" };
  }
  const seen = new Set<number>();
  for (const u of updates) {
    if (!Number.isInteger(u.parameter) || u.parameter < 0 || u.parameter >= PARAMETER_NAMES.length) {
      return { error: "UnknownParameter", parameter: u.parameter, message: `parameter id ${u.parameter} is not one of 0..${PARAMETER_NAMES.length - 1}` };
    }
    if (seen.has(u.parameter)) {
      return { error: "DuplicateParameter", parameter: u.parameter, message: `parameter ${parameterName(u.parameter)} appears twice` };
    }
    seen.add(u.parameter);
  }
  if (market.stewardFrozen) return { error: "IsFrozen", parameter: undefined, message: "the steward is frozen" };
  if (market.exists === false) return { error: "UnknownMarket", parameter: undefined, message: "market does not exist" };
  if (market.frozen) {
    return { error: "MarketFrozen", parameter: updates[0]?.parameter, message: "market is frozen" };
  }
  const after = new Map<number, bigint>();
  for (const u of updates) {
    const bounds = market.bounds.get(u.parameter);
    if (!bounds) {
      return { error: "ParamNotConfigured", parameter: u.parameter, message: `parameter ${parameterName(u.parameter)} has no bounds in this market` };
    }
    const state = market.params.get(u.parameter) ?? ZERO_STATE;
    const violation = checkParameterBounds(u.parameter, state, bounds, u.value, options.checkDelay === false ? undefined : now);
    if (violation) return violation;
    after.set(u.parameter, u.value);
  }
  const im = after.get(PARAMETER_IDS.initialMarginBps) ?? market.params.get(PARAMETER_IDS.initialMarginBps)?.value ?? 0n;
  const mm = after.get(PARAMETER_IDS.maintenanceMarginBps) ?? market.params.get(PARAMETER_IDS.maintenanceMarginBps)?.value ?? 0n;
  const touchesMargins = after.has(PARAMETER_IDS.initialMarginBps) || after.has(PARAMETER_IDS.maintenanceMarginBps);
  if (touchesMargins && im < mm) {
    return {
      error: "MarginOrder",
      parameter: after.has(PARAMETER_IDS.maintenanceMarginBps) ? PARAMETER_IDS.maintenanceMarginBps : PARAMETER_IDS.initialMarginBps,
      message: `initialMarginBps ${im} < maintenanceMarginBps ${mm}`,
    };
  }
  return undefined;
}
