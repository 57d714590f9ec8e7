// What the keeper would set now for one market: pure computation on data known at `now`.
//
//   maintenance margin  ← the policy's buffer model (99% two-sided tail over the derived horizon)
//                         through the policy's bounded rule
//   initial margin      ← maintenance target × initialMultiple, through its own bounded rule
//   annualised vol      ← the model's volatility forecast, through a relative-step rule
//
// No I/O, no clock: the pipeline passes history up to now, the on-chain values and the stress level.
import { RiskkeeperError } from "../errors.ts";
import type { BufferEstimate, BufferModel } from "../backtest/model.ts";
import type { Policy } from "../backtest/policy.ts";
import { decideUpdate, type RuleBounds, type RuleDecision, type StressSnapshot } from "../rules/rule.ts";
import type { ParamName } from "../../deploy/market-config.ts";

export const MANAGED_PARAMS = ["maintenanceMarginBps", "initialMarginBps", "volAnnualPpm"] as const;
export type ManagedParam = (typeof MANAGED_PARAMS)[number];

export interface ManagedRules {
  maintenanceMarginBps: RuleBounds;
  initialMarginBps: RuleBounds;
  volAnnualPpm: RuleBounds;
  /** Initial margin target = maintenance target × this (e.g. 2: half the equity is buffer). */
  initialMultiple: number;
}

export interface OnChainParam {
  value: number;
  /** Unix seconds; 0 when never updated. */
  updatedAt: number;
}

export interface MarketDecisionInput {
  /** Log returns of the data interval up to and including now, oldest first. */
  returns: Float64Array;
  policy: Policy;
  model: BufferModel;
  rules: ManagedRules;
  onChain: Record<ManagedParam, OnChainParam>;
  /** Unix seconds. */
  now: number;
  stress: StressSnapshot;
}

export interface ParamDecision {
  parameter: ManagedParam;
  current: number;
  target: number;
  decision: RuleDecision;
}

export interface MarketDecision {
  estimate: Omit<BufferEstimate, "tail" | "tailLong" | "tailShort">;
  decisions: ParamDecision[];
  /** Values to set now, within bounds (empty: nothing to do). */
  changes: Array<{ parameter: ParamName; value: bigint }>;
  /** Targets the bounds keep the keeper from reaching: what a governance proposal would need. */
  governance: Array<{ parameter: ManagedParam; value: number; bound: string; required: number }>;
}

/**
 * @example
 * const d = decideMarketUpdate({ returns, policy, model, rules, onChain, now, stress: { level: "calm", since } });
 * d.changes // [{ parameter: "maintenanceMarginBps", value: 650n }, ...]
 */
export function decideMarketUpdate(input: MarketDecisionInput): MarketDecision {
  const { policy, model, rules, onChain, now, stress } = input;
  const need = model.minHistory({ horizonSteps: policy.horizonSteps, alpha: policy.alpha, lookback: policy.lookbackSteps, stepsPerYear: policy.stepsPerYear });
  if (input.returns.length < need) {
    throw new RiskkeeperError("MODEL_INPUT", `${input.returns.length} returns known, the model needs ${need}`, { input: "history" });
  }
  const est = model.estimate({ returns: input.returns, horizonSteps: policy.horizonSteps, alpha: policy.alpha, lookback: policy.lookbackSteps, stepsPerYear: policy.stepsPerYear });
  if (!Number.isFinite(est.bufferBps) || !Number.isFinite(est.volAnnual)) {
    throw new RiskkeeperError("MODEL_FIT", `the model returned buffer ${est.bufferBps} bps and vol ${est.volAnnual}`, { input: model.name });
  }
  const targets: Record<ManagedParam, number> = {
    maintenanceMarginBps: est.bufferBps,
    initialMarginBps: est.bufferBps * rules.initialMultiple,
    volAnnualPpm: est.volAnnual * 1_000_000,
  };
  const decisions = MANAGED_PARAMS.map((parameter): ParamDecision => {
    const chain = onChain[parameter];
    const decision = decideUpdate({ current: chain.value, target: targets[parameter], bounds: rules[parameter], lastUpdatedAt: chain.updatedAt, now, stress });
    return { parameter, current: chain.value, target: targets[parameter], decision };
  });
  const changes = decisions
    .filter((d) => d.decision.action !== "none" && d.decision.value !== d.current)
    .map((d) => ({ parameter: d.parameter as ParamName, value: BigInt(d.decision.value) }));
  // Initial margin must stay at or above maintenance once both land (the steward checks it too).
  const after = (p: ManagedParam) => Number(changes.find((c) => c.parameter === p)?.value ?? BigInt(onChain[p].value));
  if (after("initialMarginBps") < after("maintenanceMarginBps")) {
    const filtered = changes.filter((c) => c.parameter !== "maintenanceMarginBps" && c.parameter !== "initialMarginBps");
    changes.length = 0;
    changes.push(...filtered);
  }
  const governance = decisions
    .filter((d) => d.decision.governance !== undefined)
    .map((d) => ({ parameter: d.parameter, value: d.decision.governance!.value, bound: d.decision.governance!.bound, required: d.decision.governance!.required }));
  const { tail: _t, tailLong: _l, tailShort: _s, ...estimate } = est;
  return { estimate, decisions, changes, governance };
}

/** Rules for the three managed parameters from a policy (maintenance) and the market's steward bounds. */
export function managedRulesFromPolicy(policy: Policy, options: { initialMultiple?: number; volMin?: number; volMax?: number; volStepBps?: number } = {}): ManagedRules {
  const mm = policy.rule;
  const multiple = options.initialMultiple ?? 2;
  const maintenance: RuleBounds = { ...mm };
  const initial: RuleBounds = {
    ...mm,
    min: Math.ceil(mm.min * multiple),
    max: Math.min(10_000, Math.ceil(mm.max * multiple)),
    maxStep: Math.ceil(mm.maxStep * multiple),
    deadBand: Math.ceil(mm.deadBand * multiple),
    floors: { ...mm.floors, minValue: Math.ceil(mm.floors.minValue * multiple) },
  };
  const vol: RuleBounds = {
    ...mm,
    min: options.volMin ?? 100_000,
    max: options.volMax ?? 3_000_000,
    maxStep: options.volStepBps ?? 2_500,
    stepKind: "relative",
    deadBand: 50_000, // 5 vol points: smaller moves are noise for a pricer
    floors: { minValue: options.volMin ?? 100_000, stressedWeight: 0, stressBufferFraction: 0 },
  };
  return { maintenanceMarginBps: maintenance, initialMarginBps: initial, volAnnualPpm: vol, initialMultiple: multiple };
}
