// The bounded update rule: one pure function from (current value, model target, bounds, clock,
// stress snapshot) to a decision the keeper can act on. No I/O and no clock: `now` is an argument.
//
// Order of work:
//   1. effective target = model target raised by the anti-procyclical floors
//      (stressed weight, stress buffer held in calm and released in stress, absolute floor),
//      rounded in the protocol's favour (up, for margin and vol parameters);
//   2. dead band: a change no larger than `deadBand` is not worth a transaction;
//   3. min delay: nothing before lastUpdatedAt + minDelaySeconds (the steward would revert);
//   4. asymmetry: tightening moves at once, a full step when stress is elevated or worse and
//      `calmTightenStepFraction` of a step when calm; loosening waits until the market has been
//      calm for `calmBeforeLoosenSeconds`, then moves `loosenStepFraction` of a step per min delay;
//   5. range [min, max];
//   6. stress override: when the effective target lies beyond what the bounds allow (out of range,
//      or in stress a step or a delay away), the decision says so and what a governance proposal
//      would need (value and which bound).
// The value returned always passes the steward's own check (bot/rules/bounds.ts); a test holds it to that.
import { RiskkeeperError } from "../errors.ts";
import type { StepKind, StewardBounds } from "./bounds.ts";

export type StressLevel = "calm" | "elevated" | "stressed" | "critical";
export const STRESS_LEVELS: readonly StressLevel[] = ["calm", "elevated", "stressed", "critical"];

export interface StressSnapshot {
  level: StressLevel;
  /** Unix seconds at which the market entered `level`. */
  since: number;
}

export function stressRank(level: StressLevel): number {
  return STRESS_LEVELS.indexOf(level);
}

export interface FloorSettings {
  /** Absolute floor in parameter units (0 = none). */
  minValue: number;
  /** EMIR-style weight (0..1) on the stressed target: target >= w*stressed + (1-w)*target. */
  stressedWeight: number;
  /** EMIR-style buffer (fraction, e.g. 0.25) added while calm or elevated, released in stress. */
  stressBufferFraction: number;
}

export interface RuleBounds {
  /** Range, inclusive, in parameter units (integers). */
  min: number;
  max: number;
  /** Steward step: parameter units ("absolute") or bps of the current value ("relative"). */
  maxStep: number;
  stepKind: StepKind;
  minDelaySeconds: number;
  /** No proposal when |effective target - current| <= deadBand (parameter units). */
  deadBand: number;
  /** Loosening only after the market has been calm this long. */
  calmBeforeLoosenSeconds: number;
  /** Fraction (0..1] of a full step a tightening may take while calm. */
  calmTightenStepFraction: number;
  /** Fraction (0..1] of a full step one loosening may take. */
  loosenStepFraction: number;
  floors: FloorSettings;
}

export interface RuleInput {
  current: number;
  /** Model target in parameter units (real; rounded up here). */
  target: number;
  bounds: RuleBounds;
  lastUpdatedAt: number;
  now: number;
  stress: StressSnapshot;
  /** Target under stressed conditions (for the stressed-weight floor), if known. */
  stressedTarget?: number;
}

export type RuleAction = "none" | "propose" | "governance";
export type BoundName = "min" | "max" | "maxStep" | "minDelaySeconds";

export interface GovernanceNeed {
  /** The value governance would have to set (the effective target). */
  value: number;
  /** Which bound stands in the way. */
  bound: BoundName;
  /** What that bound would have to be for the keeper to set `value` now. */
  required: number;
}

export interface RuleDecision {
  action: RuleAction;
  /** Value the keeper may set now within bounds; equals `current` when nothing is to be set. */
  value: number;
  reason: string;
  /** Effective target after floors and rounding (parameter units). */
  target: number;
  /** Which bound limited the move toward the target, if any. */
  limitedBy: BoundName | "deadBand" | "calmPeriod" | undefined;
  governance: GovernanceNeed | undefined;
}

function fail(message: string, input: string): never {
  throw new RiskkeeperError("POLICY_INVALID", message, { input });
}

/** Validates rule bounds once at the edge; every later call trusts them. Names the broken key. */
export function validateRuleBounds(b: RuleBounds, prefix = "rule"): void {
  const int = (v: unknown, key: string, min = -Number.MAX_SAFE_INTEGER): void => {
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min) fail(`expected an integer >= ${min}, got ${String(v)}`, `${prefix}.${key}`);
  };
  const frac = (v: unknown, key: string, lo: number, hi: number, loOpen: boolean): void => {
    if (typeof v !== "number" || !Number.isFinite(v) || v > hi || (loOpen ? v <= lo : v < lo)) {
      fail(`expected a number in ${loOpen ? "(" : "["}${lo}, ${hi}], got ${String(v)}`, `${prefix}.${key}`);
    }
  };
  int(b.min, "min");
  int(b.max, "max");
  if (b.min > b.max) fail(`min ${b.min} > max ${b.max} (inverted bounds)`, `${prefix}.min`);
  int(b.maxStep, "maxStep", 1);
  if (b.stepKind !== "absolute" && b.stepKind !== "relative") fail(`expected "absolute" or "relative", got ${String(b.stepKind)}`, `${prefix}.stepKind`);
  if (b.stepKind === "relative" && b.min <= 0) fail("a relative step needs min > 0 (the steward rejects a relative step from 0)", `${prefix}.min`);
  int(b.minDelaySeconds, "minDelaySeconds", 0);
  int(b.deadBand, "deadBand", 0);
  int(b.calmBeforeLoosenSeconds, "calmBeforeLoosenSeconds", 0);
  frac(b.calmTightenStepFraction, "calmTightenStepFraction", 0, 1, true);
  frac(b.loosenStepFraction, "loosenStepFraction", 0, 1, true);
  if (typeof b.floors !== "object" || b.floors === null) fail("expected an object", `${prefix}.floors`);
  int(b.floors.minValue, "floors.minValue", 0);
  if (b.floors.minValue > b.max) fail(`floor ${b.floors.minValue} > max ${b.max}`, `${prefix}.floors.minValue`);
  frac(b.floors.stressedWeight, "floors.stressedWeight", 0, 1, false);
  frac(b.floors.stressBufferFraction, "floors.stressBufferFraction", 0, 1, false);
}

/** The on-chain bounds a rule's bounds correspond to (what governance sets on the steward). */
export function toStewardBounds(b: RuleBounds): StewardBounds {
  return { min: BigInt(b.min), max: BigInt(b.max), maxStep: BigInt(b.maxStep), stepKind: b.stepKind, minDelaySeconds: BigInt(b.minDelaySeconds) };
}

/** Largest move the steward allows from `current` (number mirror of bounds.ts maxStepFrom). */
export function allowedStep(current: number, maxStep: number, stepKind: StepKind): number {
  if (stepKind === "absolute") return maxStep;
  return Math.floor((maxStep * Math.abs(current)) / 10000);
}

/** The steward's maxStep that would allow moving from `current` to `value` in one step. */
function requiredStep(current: number, value: number, stepKind: StepKind): number {
  const d = Math.abs(value - current);
  if (stepKind === "absolute") return d;
  return current === 0 ? Number.POSITIVE_INFINITY : Math.ceil((d * 10000) / Math.abs(current));
}

/** Effective target: floors applied, then rounded up (protocol's favour). */
export function effectiveTarget(target: number, floors: FloorSettings, stress: StressLevel, stressedTarget?: number): number {
  let t = target;
  if (floors.stressedWeight > 0 && stressedTarget !== undefined && stressedTarget > t) {
    t = floors.stressedWeight * stressedTarget + (1 - floors.stressedWeight) * t;
  }
  if (floors.stressBufferFraction > 0 && stressRank(stress) < stressRank("stressed")) {
    t *= 1 + floors.stressBufferFraction;
  }
  t = Math.max(t, floors.minValue);
  // 1e-9 guard: a target computed as 500.0000000001 from float noise is 500, not 501.
  return Math.ceil(t - 1e-9);
}

/**
 * Decides whether and how far to move a bounded parameter toward its model target.
 *
 * @example
 * const d = decideUpdate({ current: 500, target: 812.4, bounds, lastUpdatedAt: t0, now: t0 + 86400,
 *   stress: { level: "stressed", since: t0 } });
 * // d.action === "governance", d.value === 700 (one full step), d.governance.bound === "maxStep"
 */
export function decideUpdate(input: RuleInput): RuleDecision {
  const { current, bounds: b, lastUpdatedAt, now, stress } = input;
  if (!Number.isFinite(input.target)) throw new RiskkeeperError("INPUT_INVALID", `model target is ${input.target}`, { input: "target" });
  const target = effectiveTarget(input.target, b.floors, stress.level, input.stressedTarget);
  const rank = stressRank(stress.level);
  const inStress = rank >= stressRank("stressed");
  const base = { target, value: current };

  // What the steward would never allow at all: a target out of range needs governance in any case.
  let outOfRange: GovernanceNeed | undefined;
  if (target > b.max) outOfRange = { value: target, bound: "max", required: target };
  else if (target < b.min) outOfRange = { value: target, bound: "min", required: target };
  const reachable = Math.min(Math.max(target, b.min), b.max);

  const gap = reachable - current;
  if (Math.abs(target - current) <= b.deadBand) {
    return { ...base, action: "none", reason: `target ${target} within dead band ±${b.deadBand} of ${current}`, limitedBy: "deadBand", governance: undefined };
  }
  if (gap === 0) {
    return { ...base, action: "governance", reason: `target ${target} outside [${b.min}, ${b.max}]; already at the bound`, limitedBy: outOfRange!.bound, governance: outOfRange };
  }
  const tightening = gap > 0;
  // As on chain, a parameter never updated (lastUpdatedAt 0) has no delay to wait for.
  const nextAllowed = lastUpdatedAt === 0 ? Number.NEGATIVE_INFINITY : lastUpdatedAt + b.minDelaySeconds;
  if (now < nextAllowed) {
    const gov = outOfRange ?? (inStress && tightening ? { value: target, bound: "minDelaySeconds" as const, required: Math.max(0, now - lastUpdatedAt) } : undefined);
    return {
      ...base,
      action: gov ? "governance" : "none",
      reason: `min delay: next update allowed at ${nextAllowed} (now ${now})`,
      limitedBy: "minDelaySeconds",
      governance: gov,
    };
  }
  if (!tightening) {
    const calmFor = stress.level === "calm" ? now - stress.since : -1;
    if (calmFor < b.calmBeforeLoosenSeconds) {
      return {
        ...base,
        action: outOfRange ? "governance" : "none",
        reason: stress.level === "calm"
          ? `loosening waits: calm for ${calmFor}s of the ${b.calmBeforeLoosenSeconds}s required`
          : `loosening waits: market is ${stress.level}`,
        limitedBy: "calmPeriod",
        governance: outOfRange,
      };
    }
  }
  const full = allowedStep(current, b.maxStep, b.stepKind);
  const fraction = tightening ? (rank >= stressRank("elevated") ? 1 : b.calmTightenStepFraction) : b.loosenStepFraction;
  const step = Math.max(fraction >= 1 ? full : Math.floor(full * fraction), full > 0 ? 1 : 0);
  const moved = tightening ? Math.min(reachable, current + step) : Math.max(reachable, current - step);
  let limitedBy: RuleDecision["limitedBy"] = outOfRange?.bound;
  let governance = outOfRange;
  if (moved !== reachable) {
    limitedBy = "maxStep";
    if (!governance && inStress && tightening) {
      governance = { value: target, bound: "maxStep", required: requiredStep(current, target, b.stepKind) };
    }
  }
  if (moved === current) {
    return { ...base, action: governance ? "governance" : "none", reason: `step from ${current} rounds to 0`, limitedBy, governance };
  }
  const verb = tightening ? "tighten" : "loosen";
  const reason = governance
    ? `${verb} ${current} -> ${moved}; target ${target} needs governance (${governance.bound} would have to be ${governance.required})`
    : moved === target
      ? `${verb} ${current} -> ${moved} (target reached)`
      : `${verb} ${current} -> ${moved} toward target ${target} (limited by ${limitedBy})`;
  return { target, value: moved, action: governance ? "governance" : "propose", reason, limitedBy, governance };
}
