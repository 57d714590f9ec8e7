// A feed watcher: polls a Chainlink feed (and optionally the base fee and a sequencer feed) on an
// interval, turns each poll into a `FeedSnapshot` with a stress level, backs off exponentially while
// polls fail, and stops when its RPC-call budget or poll count is spent. One failed poll is
// reported, never fatal. The clock is injected: a replay or a test drives it without waiting.
import { RiskkeeperError, isRiskkeeperError } from "../errors.ts";
import { levelOf, maxLevel, resolveStressConfig, type StressConfig, type StressConfigInput, type StressLevel } from "../signals/config.ts";
import { baseFeeCongestion, readBaseFees, readFeedHealth, type ChainlinkReader, type FeedHealth } from "./chainlink-reader.ts";
import type { Clock, PoliteRpc } from "./rpc.ts";
import type { GasCongestion } from "../signals/gas.ts";
import { isoTime } from "./time.ts";

export interface FeedSnapshot {
  at: string;
  atSeconds: number;
  level: StressLevel;
  reasons: { signal: "oracle-age" | "oracle-deviation" | "oracle-answer" | "sequencer" | "gas"; level: Exclude<StressLevel, "calm">; message: string }[];
  health: FeedHealth;
  gas: GasCongestion | null;
  rpc: { calls: number; retries: number; cacheHits: number; budgetLeft: number };
}

export interface WatcherOptions {
  rpc: PoliteRpc;
  feed: ChainlinkReader;
  clock: Clock;
  /** Time between polls. Default 60,000 ms. */
  pollMs?: number;
  /** Longest wait after repeated failures. Default 15 minutes. */
  maxBackoffMs?: number;
  /** Stop after this many polls (successful or not). Default unlimited. */
  maxPolls?: number;
  /** A second source for the deviation check, read at each poll. */
  reference?: () => Promise<number>;
  sequencer?: ChainlinkReader;
  /** Blocks of base-fee history for the congestion percentile (0 = off). Default 0. */
  feeHistoryBlocks?: number;
  /** "Now" for staleness: the caller's clock (default) or the chain's latest block timestamp. */
  timeSource?: "clock" | "block";
  config?: StressConfigInput | StressConfig;
  onSnapshot: (snapshot: FeedSnapshot) => void;
  onError?: (error: unknown, attempt: number, nextDelayMs: number) => void;
}

export interface WatchResult {
  polls: number;
  snapshots: number;
  failures: number;
  stopReason: "max-polls" | "budget" | "aborted";
}

/** Judges one poll's readings with the stress bands. */
export function judgeFeed(health: FeedHealth, gas: GasCongestion | null, cfg: StressConfig): { level: StressLevel; reasons: FeedSnapshot["reasons"] } {
  const reasons: FeedSnapshot["reasons"] = [];
  const add = (signal: FeedSnapshot["reasons"][number]["signal"], level: StressLevel, message: string): void => {
    if (level !== "calm") reasons.push({ signal, level, message });
  };
  const s = health.staleness;
  add("oracle-age", levelOf((s.ageSeconds - cfg.oracle.graceSeconds) / cfg.oracle.heartbeatSeconds, cfg.oracle.ageHeartbeats),
    `answer is ${s.ageSeconds}s old (${s.heartbeats.toFixed(2)} heartbeats of ${s.heartbeatSeconds}s)`);
  if (health.deviation !== null) {
    add("oracle-deviation", levelOf(Math.abs(health.deviation), cfg.oracle.deviation), `deviates ${(health.deviation * 100).toFixed(2)}% from the reference`);
  }
  if (health.sequencer) {
    add("sequencer", health.sequencer.up ? (health.sequencer.usable ? "calm" : "stressed") : "critical",
      health.sequencer.up ? `sequencer up for only ${health.sequencer.sinceSeconds}s (grace period)` : `sequencer down for ${health.sequencer.sinceSeconds}s`);
  }
  if (gas) add("gas", levelOf(gas.ratio, cfg.gas.ratioToP90), `base fee ${gas.current.toFixed(2)} gwei is ${gas.ratio.toFixed(2)}x the window p90`);
  let level: StressLevel = "calm";
  for (const r of reasons) level = maxLevel(level, r.level);
  return { level, reasons };
}

/**
 * Polls until `maxPolls`, the RPC budget, or `signal` ends it.
 *
 * @example
 * await watchFeed({ rpc, feed, clock: systemClock, pollMs: 60_000, onSnapshot: (s) => log(s.level) });
 */
export async function watchFeed(options: WatcherOptions, signal?: AbortSignal): Promise<WatchResult> {
  const cfg = resolveStressConfig(options.config ?? {});
  const pollMs = options.pollMs ?? 60_000;
  const maxBackoff = options.maxBackoffMs ?? 15 * 60_000;
  const maxPolls = options.maxPolls ?? Infinity;
  const result: WatchResult = { polls: 0, snapshots: 0, failures: 0, stopReason: "max-polls" };
  let failuresInARow = 0;
  while (result.polls < maxPolls) {
    if (signal?.aborted) { result.stopReason = "aborted"; return result; }
    result.polls++;
    let delay = pollMs;
    try {
      const snap = await pollOnce(options, cfg);
      failuresInARow = 0;
      result.snapshots++;
      options.onSnapshot(snap);
    } catch (error) {
      if (isRiskkeeperError(error, "RPC_FAILED") && options.rpc.budgetLeft <= 0) {
        result.failures++;
        result.stopReason = "budget";
        options.onError?.(error, failuresInARow + 1, 0);
        return result;
      }
      failuresInARow++;
      result.failures++;
      delay = Math.min(maxBackoff, pollMs * 2 ** failuresInARow);
      options.onError?.(error, failuresInARow, delay);
    }
    if (options.rpc.budgetLeft <= 0) { result.stopReason = "budget"; return result; }
    if (result.polls < maxPolls) await options.clock.sleep(delay);
  }
  return result;
}

async function pollOnce(o: WatcherOptions, cfg: StressConfig): Promise<FeedSnapshot> {
  let now = o.clock.now() / 1000;
  let head: bigint | undefined;
  if (o.timeSource === "block" || (o.feeHistoryBlocks ?? 0) > 0) {
    const block = (await o.rpc.request("eth_getBlockByNumber", ["latest", false])) as { number: string; timestamp: string } | null;
    if (!block) throw new RiskkeeperError("RPC_FAILED", "eth_getBlockByNumber(latest) returned null", { input: o.rpc.label });
    head = BigInt(block.number);
    if (o.timeSource === "block") now = Number(BigInt(block.timestamp));
  }
  const reference = o.reference ? await o.reference() : undefined;
  const health = await readFeedHealth(o.feed, now, {
    heartbeatSeconds: cfg.oracle.heartbeatSeconds, graceSeconds: cfg.oracle.graceSeconds, reference, sequencer: o.sequencer,
  });
  let gas: GasCongestion | null = null;
  if ((o.feeHistoryBlocks ?? 0) > 0 && head !== undefined) {
    gas = baseFeeCongestion(await readBaseFees(o.rpc, { blockCount: Math.min(o.feeHistoryBlocks as number, Number(head) + 1), newestBlock: head, headBlock: head }));
  }
  const { level, reasons } = judgeFeed(health, gas, cfg);
  const s = o.rpc.stats;
  return { at: isoTime(now), atSeconds: now, level, reasons, health, gas, rpc: { calls: s.calls, retries: s.retries, cacheHits: s.cacheHits, budgetLeft: o.rpc.budgetLeft } };
}
