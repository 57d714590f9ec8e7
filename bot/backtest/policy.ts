// A backtest policy: one JSON file naming the data interval, the model, the confidence, the
// horizon inputs (the horizon is derived from them), the lookback, the recalibration cadence, the
// stress signal and the rule bounds. Validated once, at the edge, with an error that names the
// key; everything after trusts the resolved policy.
//
// The horizon comes from the models package's deriveHorizonSeconds ("price-slack" treatment):
// with a deviation threshold the on-chain price never lags the market by more than the threshold
// (beyond it an update is forced), so the threshold is price slack, not time, and the horizon is
// execution latency (keeper detection + inclusion) + liquidation time; with no threshold the
// whole heartbeat is staleness time and is added. The horizon is rounded UP to whole data
// intervals. The slack is reported as `oracleToleranceBps`: the add-on the liquidation buffer
// (liquidationBufferBps) carries on top of the backtested maintenance buffer; it is not part of
// the tested buffer, because spot data cannot show the oracle's lag.
import { RiskkeeperError } from "../errors.ts";
import { deriveHorizonSeconds } from "../models/index.ts";
import { resolveStressConfig, type StressConfigInput } from "../signals/index.ts";
import type { ParameterName } from "../rules/bounds.ts";
import { validateRuleBounds, type RuleBounds } from "../rules/rule.ts";
import { MODEL_NAMES, type ModelName, type ModelSpec } from "./model.ts";
import type { StressSettings } from "./stress.ts";

export interface HorizonInputs {
  oracleHeartbeatSeconds: number;
  oracleDeviationThresholdBps: number;
  executionLatencySeconds: number;
  liquidationSeconds: number;
}

export interface PolicyFile {
  name: string;
  description?: string;
  /** Data interval: "1m", "5m", "15m", "30m", "1h", "4h", "1d". */
  interval: string;
  /** decayPerDay: fhs-ewma; refitEveryDays and paths: fhs-garch (bot/models' FHS). */
  model: { name: ModelName; decayPerDay?: number; refitEveryDays?: number; paths?: number };
  confidence: number;
  horizon: HorizonInputs;
  lookbackDays: number;
  recalibrationSeconds: number;
  /**
   * source "signals": the bot/signals stress snapshot (the live keeper's signal; `signals` is its
   * config, defaults when absent). source "vol-ratio": the local fast/slow volatility ratio with the
   * other keys.
   */
  stress: {
    source: "signals" | "vol-ratio";
    signals?: StressConfigInput;
    fastHalfLifeHours: number; slowLookbackDays: number; elevated: number; stressed: number; critical: number;
  };
  rule: RuleBounds & { parameter: ParameterName };
}

export interface Policy extends PolicyFile {
  intervalSeconds: number;
  alpha: number;
  horizonSeconds: number;
  horizonSteps: number;
  lookbackSteps: number;
  cadenceSteps: number;
  stepsPerYear: number;
  modelSpec: ModelSpec;
  stressSettings: StressSettings;
  oracleToleranceBps: number;
}

const INTERVALS: Record<string, number> = { "1m": 60, "5m": 300, "15m": 900, "30m": 1800, "1h": 3600, "4h": 14400, "1d": 86400 };
const DAY = 86400;
const YEAR = 365 * DAY;

export function intervalSeconds(interval: string): number | undefined {
  return INTERVALS[interval];
}

/** The interval name for a step in seconds, if it is one of the known intervals. */
export function intervalName(seconds: number): string | undefined {
  return Object.entries(INTERVALS).find(([, s]) => s === seconds)?.[0];
}

/** Horizon in seconds, in whole data intervals (rounded up, in the protocol's favour), and the oracle's price slack. */
export function deriveHorizon(h: HorizonInputs, stepSeconds: number): { seconds: number; steps: number; slackBps: number } {
  const b = deriveHorizonSeconds({ ...h, deviationTreatment: "price-slack" });
  return { seconds: b.horizonSeconds, steps: Math.ceil(b.horizonSeconds / stepSeconds - 1e-12), slackBps: b.slackBps };
}

function fail(message: string, key: string): never {
  throw new RiskkeeperError("POLICY_INVALID", message, { input: key });
}

function obj(v: unknown, key: string): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) fail(`expected an object, got ${JSON.stringify(v)}`, key);
  return v as Record<string, unknown>;
}

function onlyKeys(o: Record<string, unknown>, allowed: readonly string[], prefix: string): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) fail(`unknown key (allowed: ${allowed.join(", ")})`, prefix ? `${prefix}.${k}` : k);
  }
}

function num(o: Record<string, unknown>, k: string, prefix: string, lo: number, hi: number, opts: { int?: boolean; openLo?: boolean } = {}): number {
  const v = o[k];
  const key = prefix ? `${prefix}.${k}` : k;
  if (typeof v !== "number" || !Number.isFinite(v)) fail(`expected a number, got ${JSON.stringify(v)}`, key);
  if (opts.int && !Number.isSafeInteger(v)) fail(`expected an integer, got ${v}`, key);
  if (v > hi || (opts.openLo ? v <= lo : v < lo)) fail(`expected a value in ${opts.openLo ? "(" : "["}${lo}, ${hi}], got ${v}`, key);
  return v;
}

function optNum(o: Record<string, unknown>, k: string, dflt: number, source: unknown, read: (o: Record<string, unknown>, k: string) => number): number {
  return o[k] === undefined && source === "signals" ? dflt : read(o, k);
}

/**
 * Validates a parsed policy file and resolves its derived quantities. Throws POLICY_INVALID
 * naming the key: unknown model, inverted bounds, horizon shorter than the data interval, ...
 *
 * @example
 * const policy = validatePolicy(JSON.parse(text), "policies/default-1h.json");
 */
export function validatePolicy(raw: unknown, source = "policy"): Policy {
  try {
    return resolve(raw);
  } catch (e) {
    if (e instanceof RiskkeeperError && e.code === "POLICY_INVALID") {
      const bare = e.input && e.message.startsWith(`${e.input}: `) ? e.message.slice(e.input.length + 2) : e.message;
      throw new RiskkeeperError("POLICY_INVALID", bare, { input: `${source}#${e.input ?? ""}`, cause: e, details: { key: e.input } });
    }
    throw e;
  }
}

function resolve(raw: unknown): Policy {
  const p = obj(raw, "(root)");
  onlyKeys(p, ["name", "description", "interval", "model", "confidence", "horizon", "lookbackDays", "recalibrationSeconds", "stress", "rule"], "");
  if (typeof p.name !== "string" || p.name.length === 0) fail("expected a non-empty string", "name");
  if (p.description !== undefined && typeof p.description !== "string") fail("expected a string", "description");
  if (typeof p.interval !== "string" || intervalSeconds(p.interval) === undefined) {
    fail(`expected one of ${Object.keys(INTERVALS).join(", ")}, got ${JSON.stringify(p.interval)}`, "interval");
  }
  const step = intervalSeconds(p.interval)!;

  const m = obj(p.model, "model");
  onlyKeys(m, ["name", "decayPerDay", "refitEveryDays", "paths"], "model");
  if (!MODEL_NAMES.includes(m.name as ModelName)) fail(`unknown model ${JSON.stringify(m.name)} (known: ${MODEL_NAMES.join(", ")})`, "model.name");
  const decayPerDay = m.decayPerDay === undefined ? 0.94 : num(m, "decayPerDay", "model", 0, 0.999999, { openLo: true });
  const refitEveryDays = m.refitEveryDays === undefined ? 30 : num(m, "refitEveryDays", "model", 1, 3650);
  const paths = m.paths === undefined ? 2000 : num(m, "paths", "model", 100, 1_000_000, { int: true });
  const modelSpec: ModelSpec = {
    name: m.name as ModelName, lambda: Math.pow(decayPerDay, step / DAY),
    refitEverySteps: Math.max(1, Math.round((refitEveryDays * DAY) / step)), paths,
  };

  const confidence = num(p, "confidence", "", 0.5, 0.9999);

  const h = obj(p.horizon, "horizon");
  onlyKeys(h, ["oracleHeartbeatSeconds", "oracleDeviationThresholdBps", "executionLatencySeconds", "liquidationSeconds"], "horizon");
  const horizon: HorizonInputs = {
    oracleHeartbeatSeconds: num(h, "oracleHeartbeatSeconds", "horizon", 0, 30 * DAY, { int: true, openLo: true }),
    oracleDeviationThresholdBps: num(h, "oracleDeviationThresholdBps", "horizon", 0, 10000),
    executionLatencySeconds: num(h, "executionLatencySeconds", "horizon", 0, DAY, { int: true }),
    liquidationSeconds: num(h, "liquidationSeconds", "horizon", 0, 30 * DAY, { int: true }),
  };
  const hz = deriveHorizon(horizon, step);
  if (hz.seconds < step) {
    fail(`derived horizon ${hz.seconds}s (latency + liquidation${horizon.oracleDeviationThresholdBps > 0 ? "" : " + heartbeat"}) is shorter than the data interval ${p.interval} (${step}s)`, "horizon");
  }

  const lookbackDays = num(p, "lookbackDays", "", 1, 36500);
  const lookbackSteps = Math.round((lookbackDays * DAY) / step);
  if (lookbackSteps < 10 * hz.steps) fail(`lookback of ${lookbackSteps} intervals is under 10 horizons (${hz.steps} intervals each)`, "lookbackDays");
  const recalibrationSeconds = num(p, "recalibrationSeconds", "", step, 365 * DAY, { int: true });
  if (recalibrationSeconds % step !== 0) fail(`must be a multiple of the data interval (${step}s)`, "recalibrationSeconds");

  const s = obj(p.stress, "stress");
  onlyKeys(s, ["source", "signals", "fastHalfLifeHours", "slowLookbackDays", "elevated", "stressed", "critical"], "stress");
  const source = s.source ?? "vol-ratio";
  if (source !== "signals" && source !== "vol-ratio") fail(`expected "signals" or "vol-ratio", got ${JSON.stringify(s.source)}`, "stress.source");
  let signals: StressConfigInput | undefined;
  if (s.signals !== undefined) {
    signals = obj(s.signals, "stress.signals") as StressConfigInput;
    try {
      resolveStressConfig(signals);
    } catch (e) {
      fail(`invalid bot/signals stress config: ${(e as Error).message}`, "stress.signals");
    }
  }
  const stress = {
    source: source as "signals" | "vol-ratio",
    ...(signals ? { signals } : {}),
    // vol-ratio settings: required for that source, defaults otherwise (unused)
    fastHalfLifeHours: optNum(s, "fastHalfLifeHours", 24, source, (o, k) => num(o, k, "stress", 0, 24 * 365, { openLo: true })),
    slowLookbackDays: optNum(s, "slowLookbackDays", 365, source, (o, k) => num(o, k, "stress", 1, 36500)),
    elevated: optNum(s, "elevated", 1.5, source, (o, k) => num(o, k, "stress", 1, 100)),
    stressed: optNum(s, "stressed", 2, source, (o, k) => num(o, k, "stress", 1, 100)),
    critical: optNum(s, "critical", 3, source, (o, k) => num(o, k, "stress", 1, 100)),
  };
  if (!(stress.elevated < stress.stressed && stress.stressed < stress.critical)) {
    fail(`thresholds must rise: elevated ${stress.elevated} < stressed ${stress.stressed} < critical ${stress.critical}`, "stress");
  }

  const r = obj(p.rule, "rule");
  onlyKeys(r, ["parameter", "min", "max", "maxStep", "stepKind", "minDelaySeconds", "deadBand", "calmBeforeLoosenSeconds", "calmTightenStepFraction", "loosenStepFraction", "floors"], "rule");
  if (r.parameter !== "maintenanceMarginBps" && r.parameter !== "initialMarginBps") {
    fail(`the backtest calibrates a margin buffer: expected "maintenanceMarginBps" or "initialMarginBps", got ${JSON.stringify(r.parameter)}`, "rule.parameter");
  }
  const f = obj(r.floors, "rule.floors");
  onlyKeys(f, ["minValue", "stressedWeight", "stressBufferFraction"], "rule.floors");
  const rule = { ...(r as unknown as RuleBounds), parameter: r.parameter as ParameterName };
  validateRuleBounds(rule, "rule");
  if (rule.min < 0 || rule.max > 10000) fail(`margin bounds must lie in [0, 10000] bps, got [${rule.min}, ${rule.max}]`, "rule.max");

  const stepsPerYear = YEAR / step;
  return {
    name: p.name,
    ...(p.description !== undefined ? { description: p.description as string } : {}),
    interval: p.interval,
    model: { name: modelSpec.name, decayPerDay, ...(modelSpec.name === "fhs-garch" ? { refitEveryDays, paths } : {}) },
    confidence,
    horizon,
    lookbackDays,
    recalibrationSeconds,
    stress,
    rule,
    intervalSeconds: step,
    alpha: 1 - confidence,
    horizonSeconds: hz.seconds,
    horizonSteps: hz.steps,
    lookbackSteps,
    cadenceSteps: recalibrationSeconds / step,
    stepsPerYear,
    modelSpec,
    stressSettings: {
      fastHalfLifeSteps: (stress.fastHalfLifeHours * 3600) / step,
      slowLookbackSteps: Math.round((stress.slowLookbackDays * DAY) / step),
      elevated: stress.elevated,
      stressed: stress.stressed,
      critical: stress.critical,
    },
    oracleToleranceBps: hz.slackBps,
  };
}

/** Checks a resolved policy against the data it will run on; throws before any work starts. */
export function validatePolicyForData(policy: Policy, data: { intervalSeconds: number; length: number }, source = "input"): void {
  if (data.intervalSeconds !== policy.intervalSeconds) {
    throw new RiskkeeperError("POLICY_INVALID", `policy "${policy.name}" is for ${policy.interval} data but the input has a ${data.intervalSeconds}s interval`, { input: `${policy.name}#interval` });
  }
  const need = policy.lookbackSteps + policy.horizonSteps + 1;
  if (data.length < need) {
    throw new RiskkeeperError("POLICY_INVALID", `lookback of ${policy.lookbackDays} days (${policy.lookbackSteps} intervals) plus one horizon needs ${need} prices; ${source} has ${data.length}`, { input: `${policy.name}#lookbackDays` });
  }
}
