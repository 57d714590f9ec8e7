// One market's update pipeline, from data to a confirmed on-chain change:
//
//   decide (pure)  →  observed → calibrated → bounded → backtested → fork-validated → submitted → confirmed
//                                                 └──────────┴──────────────┴─────────────┴──→ rejected
//
// Each stage is written to the state store BEFORE its side effect (the evidence bundle before its
// hash is used, `submitted` before the transaction is signed), so a keeper killed at any point and
// restarted resumes the record where it stood; the submission itself is keyed by a deterministic
// id in the journal, so it is never sent twice. The gates and the chain are behind small
// interfaces so a replay drives the same code with a simulated clock.
import type winston from "winston";
import { keccak256, toUtf8Bytes } from "ethers";
import { RiskkeeperError } from "../errors.ts";
import type { BufferModel } from "../backtest/model.ts";
import type { Policy } from "../backtest/policy.ts";
import type { StressSnapshot as RuleStress } from "../rules/rule.ts";
import type { ValidationReport } from "../fork/validate.ts";
import { canonicalJson, writeEvidence, type EvidenceBundle } from "./evidence.ts";
import { decideMarketUpdate, MANAGED_PARAMS, type ManagedParam, type ManagedRules, type MarketDecision, type OnChainParam } from "./decide.ts";
import type { JsonValue, StateStore, UpdateRecord } from "./state.ts";
import type { ParamName } from "../../deploy/market-config.ts";

export interface ParamChange {
  parameter: ParamName;
  value: bigint;
}

/** What the pipeline reads from the chain and sends to it. */
export interface ChainPort {
  /** Current values and last update times of the managed parameters (seconds). */
  readParams(marketId: string): Promise<Record<ManagedParam, OnChainParam>>;
  /** Chain time, seconds. */
  now(): Promise<number>;
  /** Sends the bounded update (idempotent per change + evidence hash) and waits for confirmation. */
  submit(change: { market: string; marketId: string; updates: ParamChange[]; evidenceHash: string }): Promise<{ txHash: string; blockNumber: number; updateId: string }>;
}

export interface MarketHistoryView {
  /** Log returns known at `nowSeconds` (no later bar), oldest first. */
  returnsAt(nowSeconds: number): Float64Array;
  /** Summary for the evidence: source, rows, first/last known bar, the normaliser's findings. */
  reportAt(nowSeconds: number): JsonValue;
  /** Stress level from the signals snapshot at `nowSeconds`. */
  stressAt(nowSeconds: number): { level: RuleStress["level"]; reasons: string[] };
}

export interface BacktestGate {
  judge(nowSeconds: number): Promise<{ pass: boolean; reason: string; summary: JsonValue }>;
}

export interface ForkGate {
  validate(market: string, changes: ParamChange[], nowSeconds: number): Promise<ValidationReport>;
}

export interface PipelineMarket {
  name: string;
  marketId: string;
  policy: Policy;
  model: BufferModel;
  rules: ManagedRules;
  history: MarketHistoryView;
}

export interface PipelineOptions {
  store: StateStore;
  chain: ChainPort;
  backtestGate: BacktestGate;
  /** Absent: the fork gate is off (config `fork.enabled: false`); the record says so in its evidence. */
  forkGate?: ForkGate;
  stateDir: string;
  configHash: string;
  logger: winston.Logger;
  /** Shadow mode: everything but the submission; the record ends `rejected` with code "shadow". */
  shadow?: boolean;
}

export interface RunResult {
  market: string;
  outcome: "no-change" | "confirmed" | "rejected" | "held";
  updateId?: string;
  changes?: ParamChange[];
  reason: string;
  txHash?: string;
}

const stringifyBig = (value: unknown): JsonValue => JSON.parse(JSON.stringify(value, (_, v) => (typeof v === "bigint" ? v.toString() : v))) as JsonValue;

export class MarketPipeline {
  readonly #m: PipelineMarket;
  readonly #o: PipelineOptions;
  #stress: RuleStress | undefined;
  /** Changes made by other writers (governance, another keeper), newest last. */
  readonly foreignChanges: Array<{ parameter: ManagedParam; from: number; to: number; updatedAt: number }> = [];
  /** What health must raise: foreign changes and read-back mismatches (at: ms since epoch, chain time). Last 20 kept. */
  readonly alerts: Array<{ market: string; at: number; message: string }> = [];

  constructor(market: PipelineMarket, options: PipelineOptions) {
    this.#m = market;
    this.#o = options;
  }

  /** The stress level the rule sees, with the time it was entered (kept across runs). */
  #stressAt(now: number): RuleStress & { reasons: string[] } {
    const { level, reasons } = this.#m.history.stressAt(now);
    if (!this.#stress || this.#stress.level !== level) this.#stress = { level, since: now };
    return { ...this.#stress, reasons };
  }

  /**
   * One run: resume an unfinished record of this market if there is one, else decide afresh.
   * `submissionsAllowed` false (kill switch) stops before anything is signed.
   */
  async run(submissionsAllowed: () => boolean): Promise<RunResult> {
    for (const record of this.#o.store.pending(this.#m.name)) {
      // A record cut short before its changes were bounded sent nothing: close it and decide afresh.
      if (record.evidence.bounded === undefined) {
        await this.#o.store.reject(record.updateId, { code: "interrupted", message: `interrupted in state ${record.state} before anything was sent` });
        this.#o.logger.warn(`closed an interrupted record (state ${record.state}); deciding afresh`, { market: this.#m.name, updateId: record.updateId });
        continue;
      }
      return this.#continue(record, submissionsAllowed);
    }
    const now = await this.#o.chain.now();
    const onChain = await this.#o.chain.readParams(this.#m.marketId);
    await this.#noticeForeignChanges(onChain);
    const stress = this.#stressAt(now);
    const returns = this.#m.history.returnsAt(now);
    const decision = decideMarketUpdate({ returns, policy: this.#m.policy, model: this.#m.model, rules: this.#m.rules, onChain, now, stress });
    const log = this.#o.logger.child({ market: this.#m.name });
    if (decision.changes.length === 0) {
      const why = decision.decisions.map((d) => `${d.parameter}: ${d.decision.reason}`).join("; ");
      log.info(`no change (${stress.level}): ${why}`);
      return { market: this.#m.name, outcome: "no-change", reason: why };
    }
    const observation = {
      market: this.#m.name,
      at: now,
      returns: returns.length,
      lastReturn: returns[returns.length - 1],
      onChain,
      changes: decision.changes,
    };
    // One record per observation: the same observation again (a retry in the same block) resumes
    // or is already settled; one whose earlier attempt was interrupted gets a fresh attempt.
    let observationHash = keccak256(toUtf8Bytes(canonicalJson(observation)));
    const beginEvidence = stringifyBig({
      at: now,
      stress: { level: stress.level, since: stress.since, reasons: stress.reasons },
      data: this.#m.history.reportAt(now),
      onChain,
    });
    let { record } = await this.#o.store.begin(this.#m.name, observationHash, beginEvidence);
    for (let attempt = 1; record.state === "rejected" && record.rejection?.code === "interrupted"; attempt++) {
      observationHash = keccak256(toUtf8Bytes(`${observationHash}:attempt:${attempt}`));
      ({ record } = await this.#o.store.begin(this.#m.name, observationHash, beginEvidence));
    }
    if (record.state === "confirmed" || record.state === "rejected") {
      return { market: this.#m.name, outcome: "no-change", updateId: record.updateId, reason: `observation already settled (${record.state})` };
    }
    if (record.state !== "observed") return this.#continue(record, submissionsAllowed);
    await this.#o.store.advance(record.updateId, "calibrated", { evidence: stringifyBig({ model: this.#m.model.name, policy: this.#m.policy.name, estimate: decision.estimate }) });
    await this.#o.store.advance(record.updateId, "bounded", { evidence: stringifyBig(boundedEvidence(decision)) });
    log.info(`proposing ${describe(decision.changes)} (${stress.level}: ${stress.reasons.slice(0, 2).join("; ") || "no stress signal"})`, { updateId: record.updateId });
    return this.#continue((this.#o.store.get(record.updateId))!, submissionsAllowed);
  }

  /**
   * Compares the chain with what this keeper last saw or set. A difference is another writer's
   * change: it is logged and kept for health, and the next calibration starts from the chain's value.
   */
  async #noticeForeignChanges(onChain: Record<ManagedParam, OnChainParam>): Promise<void> {
    // Kept in the state file: a change made while the keeper was down is still another writer's.
    const lastSeen = this.#o.store.seenParams(this.#m.name) as Record<ManagedParam, OnChainParam> | undefined;
    if (lastSeen) {
      for (const p of MANAGED_PARAMS) {
        const before = lastSeen[p];
        const after = onChain[p];
        if (before.value !== after.value || before.updatedAt !== after.updatedAt) {
          this.foreignChanges.push({ parameter: p, from: before.value, to: after.value, updatedAt: after.updatedAt });
          this.#alert(after.updatedAt, `${p} changed by another writer: ${before.value} -> ${after.value}`);
          this.#o.logger.warn(`${p} changed by another writer: ${before.value} -> ${after.value}; calibrating from the chain's value`, { market: this.#m.name });
        }
      }
    }
    await this.#o.store.recordSeenParams(this.#m.name, onChain);
  }

  #alert(atSeconds: number, message: string): void {
    this.alerts.push({ market: this.#m.name, at: atSeconds * 1000, message });
    if (this.alerts.length > 20) this.alerts.shift();
  }

  /** Carries a record forward from its stage to confirmed or rejected. */
  async #continue(start: UpdateRecord, submissionsAllowed: () => boolean): Promise<RunResult> {
    const { store, chain } = this.#o;
    const id = start.updateId;
    const log = this.#o.logger.child({ market: this.#m.name, updateId: id });
    const changes = changesOf(start);
    const base = { market: this.#m.name, updateId: id, changes };
    const reject = async (code: string, message: string): Promise<RunResult> => {
      await store.reject(id, { code, message });
      log.warn(`rejected (${code}): ${message}`);
      return { ...base, outcome: "rejected", reason: `${code}: ${message}` };
    };
    let record = start;
    const now = await chain.now();

    if (record.state === "bounded") {
      const verdict = await this.#o.backtestGate.judge(now);
      if (!verdict.pass) return reject("backtest-coverage", verdict.reason);
      record = await store.advance(id, "backtested", { evidence: verdict.summary });
      log.info(`backtest gate passed: ${verdict.reason}`);
    }
    if (record.state === "backtested" && !this.#o.forkGate) {
      record = await store.advance(id, "fork-validated", { evidence: { verdict: "skipped", reason: "fork gate disabled by the config (fork.enabled: false)" } });
      log.warn("fork gate disabled by the config: not validated on a fork");
    }
    if (record.state === "backtested") {
      const forkGate = this.#o.forkGate!;
      let report: ValidationReport;
      try {
        report = await forkGate.validate(this.#m.name, changes, now);
      } catch (error) {
        // A known failure (unreachable RPC, wrong chain, bad input) settles the record; anything
        // else leaves it at `backtested` for the next run to retry the gate.
        if (error instanceof RiskkeeperError) return reject("fork-error", error.message);
        throw error;
      }
      if (report.verdict !== "pass") return reject("fork-verdict", report.reasons.join("; "));
      record = await store.advance(id, "fork-validated", { evidence: stringifyBig(forkSummary(report)) });
      const tokens = (wei: bigint) => (Number(wei / 10n ** 16n) / 100).toFixed(2);
      log.info(`fork gate passed: ${report.diff.map((d) => `${d.scenario}: bad debt ${tokens(d.badDebt[0])} -> ${tokens(d.badDebt[1])}`).join("; ")}`);
    }
    if (record.state === "fork-validated") {
      if (this.#o.shadow) return reject("shadow", `shadow mode: would have proposed ${describe(changes)}`);
      if (!submissionsAllowed()) return { ...base, outcome: "held", reason: "kill switch engaged: nothing submitted" };
      const bundle: EvidenceBundle = {
        dataReport: record.evidence.observed ?? null,
        modelFit: record.evidence.calibrated ?? null,
        backtest: record.evidence.backtested ?? null,
        fork: record.evidence["fork-validated"] ?? null,
        configHash: this.#o.configHash,
        proposal: stringifyBig({ market: this.#m.name, marketId: this.#m.marketId, changes, bounded: record.evidence.bounded ?? null, route: "direct" }),
      };
      // The bundle is on disk before its hash goes anywhere; `submitted` is on disk before signing.
      const { hash } = await writeEvidence(this.#o.stateDir, bundle);
      record = await store.advance(id, "submitted", { evidenceHash: hash });
    }
    if (record.state === "submitted") {
      const evidenceHash = record.evidenceHash;
      if (!evidenceHash) throw new RiskkeeperError("STATE_INVALID", "a submitted record has no evidence hash", { input: id });
      let sent: Awaited<ReturnType<ChainPort["submit"]>>;
      try {
        sent = await chain.submit({ market: this.#m.name, marketId: this.#m.marketId, updates: changes, evidenceHash });
      } catch (error) {
        if (error instanceof RiskkeeperError && (error.code === "SUBMISSION_REFUSED" || error.code === "BOUNDS_VIOLATION")) return reject("submission-refused", error.message);
        throw error; // transient (RPC, fees): the record stays `submitted` and the next run resumes it
      }
      // Read back: the chain must hold exactly what was proposed.
      const after = await chain.readParams(this.#m.marketId);
      // Remembered before `confirmed`: a keeper killed in between resumes this record and reads
      // back again, instead of mistaking its own update for another writer's on the next run.
      await this.#o.store.recordSeenParams(this.#m.name, after);
      const mismatches = changes.filter((c) => BigInt(after[c.parameter as ManagedParam]?.value ?? Number.NaN) !== c.value);
      record = await store.advance(id, "confirmed", {
        evidence: stringifyBig({ txHash: sent.txHash, blockNumber: sent.blockNumber, submissionId: sent.updateId, readBack: mismatches.length === 0 ? "ok" : mismatches }),
      });
      // Hashes travel in fields named ...Hash: the log redactor keeps those and masks 32-byte hex elsewhere.
      if (mismatches.length > 0) {
        log.error(`read-back mismatch: ${describe(mismatches)} differ on chain`, { txHash: sent.txHash });
        this.#alert(now, `read-back mismatch after the update: ${describe(mismatches)} differ on chain`);
      }
      log.info(`confirmed ${describe(changes)}`, { txHash: sent.txHash, evidenceHash, blockNumber: sent.blockNumber });
      return { ...base, outcome: "confirmed", reason: "confirmed", txHash: sent.txHash };
    }
    return { ...base, outcome: record.state === "rejected" ? "rejected" : "held", reason: `record in state ${record.state}` };
  }
}

function changesOf(record: UpdateRecord): ParamChange[] {
  const bounded = record.evidence.bounded as { changes?: Array<{ parameter: string; value: string }> } | undefined;
  if (!bounded?.changes || bounded.changes.length === 0) {
    throw new RiskkeeperError("STATE_INVALID", "record has no bounded changes to carry forward", { input: record.updateId });
  }
  return bounded.changes.map((c) => ({ parameter: c.parameter as ParamName, value: BigInt(c.value) }));
}

function boundedEvidence(decision: MarketDecision): unknown {
  return {
    changes: decision.changes,
    decisions: decision.decisions.map((d) => ({ parameter: d.parameter, current: d.current, target: d.target, action: d.decision.action, value: d.decision.value, reason: d.decision.reason, limitedBy: d.decision.limitedBy ?? null })),
    governance: decision.governance,
  };
}

function forkSummary(report: ValidationReport): unknown {
  return {
    verdict: report.verdict,
    steward: report.steward,
    scenarios: report.diff.map((d) => ({ scenario: d.scenario, badDebt: d.badDebt, liquidations: d.liquidations, missedLiquidations: d.missedLiquidations })),
  };
}

export function describe(changes: readonly ParamChange[]): string {
  return changes.map((c) => `${c.parameter}=${c.value}`).join(", ");
}

export { MANAGED_PARAMS };
