// The two gates a proposal passes before it is signed, as the pipeline sees them.
//
//   WalkForwardGate  the policy's walk-forward backtest on the history known now (the last
//                    `years`): the buffer rule must keep its coverage (traffic light not red,
//                    Kupiec p above a floor). One run per UTC day, cached.
//   ForkValidationGate  bot/fork's gate on a fork of the live chain at its latest block, over the
//                    worst windows of the history known now.
import { runWalkForward, regularGrid } from "../backtest/walk-forward.ts";
import type { Policy } from "../backtest/policy.ts";
import type { Deployment } from "../../deploy/deploy.ts";
import { openForkSession, validateProposal, worstWindows, syntheticCrash, type Scenario, type ValidationReport } from "../fork/index.ts";
import type { BacktestGate, ForkGate, ParamChange } from "./pipeline.ts";
import type { KnownSeries } from "./history.ts";
import { RiskkeeperError } from "../errors.ts";
import type { JsonValue } from "./state.ts";

const YEAR = 365 * 86_400;

export interface WalkForwardGateOptions {
  /** Years of history the backtest runs over (default 2). */
  years?: number;
  /** Kupiec p-value below which coverage is rejected (default 0.05). */
  minKupiecP?: number;
}

export class WalkForwardGate implements BacktestGate {
  readonly #history: KnownSeries;
  readonly #policy: Policy;
  readonly #o: Required<WalkForwardGateOptions>;
  #cache: { day: number; verdict: { pass: boolean; reason: string; summary: JsonValue } } | undefined;

  constructor(history: KnownSeries, policy: Policy, options: WalkForwardGateOptions = {}) {
    this.#history = history;
    this.#policy = policy;
    this.#o = { years: options.years ?? 2, minKupiecP: options.minKupiecP ?? 0.05 };
  }

  async judge(nowSeconds: number): Promise<{ pass: boolean; reason: string; summary: JsonValue }> {
    const day = Math.floor(nowSeconds / 86_400);
    if (this.#cache?.day === day) return this.#cache.verdict;
    const s = this.#history.series;
    const last = this.#history.lastKnownIndex(nowSeconds);
    let first = 0;
    while (first < last && s.t[first] < s.t[last] - this.#o.years * YEAR) first++;
    const series = { ...regularGrid(s.t.subarray(first, last + 1), s.close.subarray(first, last + 1), s.intervalSeconds, "history"), raw: s };
    const result = runWalkForward(series, this.#policy);
    const zone = result.trafficLight.overall;
    const p = result.kupiec.pValue;
    const pass = zone !== "red" && p >= this.#o.minKupiecP;
    const reason = `${result.breaches} breaches in ${result.observations} windows (${(result.breachRate * 100).toFixed(2)}%), Kupiec p ${p.toFixed(3)} (floor ${this.#o.minKupiecP}), zone ${zone}, mean buffer ${result.meanBufferBps.toFixed(0)} bps`;
    const summary: JsonValue = {
      policy: this.#policy.name,
      from: new Date(s.t[first] * 1000).toISOString(),
      to: new Date(s.t[last] * 1000).toISOString(),
      observations: result.observations,
      breaches: result.breaches,
      kupiecP: p,
      christoffersenP: result.christoffersen.pValue,
      zone,
      meanBufferBps: result.meanBufferBps,
      largestIncrease5dBps: result.procyclicality.largestIncreaseBps.d5,
      pass,
    };
    const verdict = { pass, reason, summary };
    this.#cache = { day, verdict };
    return verdict;
  }
}

export interface ForkValidationGateOptions {
  forkUrl: string;
  deployment: Deployment;
  /** Rounds per scenario (default 48: the worst 24 h move with 12 h before and after it), horizon for the worst move (default 24). */
  windowSteps?: number;
  horizonSteps?: number;
  positions?: number;
  seed?: number;
  /** Fork at this block instead of the head. */
  blockNumber?: number;
  /** A validation that takes longer is RPC_FAILED (the record is rejected; the next calibration tries again). */
  timeoutMs?: number;
}

export class ForkValidationGate implements ForkGate {
  readonly #history: KnownSeries;
  readonly #o: ForkValidationGateOptions;
  last: ValidationReport | undefined;

  constructor(history: KnownSeries, options: ForkValidationGateOptions) {
    this.#history = history;
    this.#o = options;
  }

  scenariosAt(nowSeconds: number): Scenario[] {
    const s = this.#history.series;
    const last = this.#history.lastKnownIndex(nowSeconds);
    const window = this.#o.windowSteps ?? 48;
    const horizon = this.#o.horizonSteps ?? 24;
    if (last + 1 <= window + 1) return [syntheticCrash({ seed: this.#o.seed ?? 1, steps: window })];
    const t = s.t.subarray(0, last + 1);
    const close = s.close.subarray(0, last + 1);
    return [
      ...worstWindows(t, close, { windowSteps: window, horizonSteps: horizon, leadInSteps: Math.floor((window - horizon) / 2), k: 1, direction: "down" }),
      ...worstWindows(t, close, { windowSteps: window, horizonSteps: horizon, leadInSteps: Math.floor((window - horizon) / 2), k: 1, direction: "up" }),
    ];
  }

  async validate(market: string, changes: ParamChange[], nowSeconds: number): Promise<ValidationReport> {
    const timeoutMs = this.#o.timeoutMs;
    if (timeoutMs === undefined) return this.#validate(changes, nowSeconds);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new RiskkeeperError("RPC_FAILED", `the fork validation of ${market} did not finish within ${timeoutMs} ms`, { input: "fork.timeoutMs" })), timeoutMs);
    });
    try {
      // The validation left behind closes its own session when it ends.
      return await Promise.race([this.#validate(changes, nowSeconds), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async #validate(changes: ParamChange[], nowSeconds: number): Promise<ValidationReport> {
    // A node on this machine needs no politeness proxy; a remote archive node does (session default).
    const loopback = /^https?:\/\/(127\.0\.0\.1|localhost)(:\d+)?(\/|$)/.test(this.#o.forkUrl);
    const session = await openForkSession({
      forkUrl: this.#o.forkUrl,
      deployment: this.#o.deployment,
      ...(loopback ? { rpcProxy: false as const } : {}),
      ...(this.#o.blockNumber !== undefined ? { blockNumber: this.#o.blockNumber } : {}),
    });
    try {
      this.last = await validateProposal(session, changes, {
        scenarios: this.scenariosAt(nowSeconds),
        population: { count: this.#o.positions ?? 50, seed: this.#o.seed ?? 1, openUnder: "current" },
        path: "keeper",
        // The gate stops changes that make the book's outcome worse than the current parameters;
        // bad debt the current parameters already have is reported, not a reason to block a fix.
        thresholds: { maxBadDebtBps: Number.POSITIVE_INFINITY, maxBadDebtIncreaseBps: 0, maxMissedLiquidations: 0 },
      });
      return this.last;
    } finally {
      await session.close();
    }
  }
}
