// Reads a Chainlink feed on-chain through its proxy (or any AggregatorV3Interface): the live
// `latestRoundData`, single rounds, and the history walked backwards round by round, across phase
// boundaries when the contract is an EACAggregatorProxy (phaseAggregators). Proxy round ids are
// decoded into phase and aggregator round. Rounds that have been written are immutable and cached.
// Also: the feed's health at a time (staleness vs heartbeat, deviation vs a second source, an
// optional L2 sequencer uptime feed) and the base fee and its percentile from eth_feeHistory.
import { Interface } from "ethers";
import { RiskkeeperError } from "../errors.ts";
import { decodeRoundId, encodeRoundId, scaleAnswer } from "./rounds.ts";
import { RpcResponseError, type PoliteRpc } from "./rpc.ts";
import { gasCongestion, type GasCongestion } from "../signals/gas.ts";
import { oracleDeviation, oracleStaleness, sequencerStatus, type SequencerStatus, type Staleness } from "../signals/oracle.ts";

export const AGGREGATOR_V3_ABI = [
  "function decimals() view returns (uint8)",
  "function description() view returns (string)",
  "function version() view returns (uint256)",
  "function latestRoundData() view returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)",
  "function getRoundData(uint80 roundId) view returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)",
  // EACAggregatorProxy only:
  "function phaseId() view returns (uint16)",
  "function phaseAggregators(uint16 phaseId) view returns (address)",
  "function latestRound() view returns (uint256)",
];

const iface = new Interface(AGGREGATOR_V3_ABI);

export interface FeedRound {
  roundId: bigint;
  phaseId: number;
  aggregatorRoundId: bigint;
  answerRaw: bigint;
  /** answerRaw / 10^decimals. */
  answer: number;
  startedAt: number;
  updatedAt: number;
  answeredInRound: bigint;
}

export interface HistoryResult {
  /** Oldest first. */
  rounds: FeedRound[];
  /** Why the walk stopped before `count` rounds, if it did. */
  stoppedAt: { roundId: bigint; reason: string } | null;
}

/** A Chainlink feed read through a polite RPC client. */
export class ChainlinkReader {
  readonly address: string;
  readonly #rpc: PoliteRpc;
  readonly #rounds = new Map<bigint, FeedRound>();
  #decimals: number | undefined;

  constructor(rpc: PoliteRpc, address: string) {
    if (!/^0x[0-9a-fA-F]{40}$/.test(address)) throw new RiskkeeperError("INPUT_INVALID", `not an address: '${address}'`, { input: "feed address" });
    this.#rpc = rpc;
    this.address = address;
  }

  async #call(to: string, fn: string, args: unknown[], immutable: boolean): Promise<ReturnType<Interface["decodeFunctionResult"]>> {
    const data = iface.encodeFunctionData(fn, args);
    let raw: unknown;
    try {
      raw = await this.#rpc.request("eth_call", [{ to, data }, "latest"], { immutable });
    } catch (error) {
      if (error instanceof RpcResponseError) {
        throw new RiskkeeperError("FEED_FAILED", `${fn}(${args.join(", ")}) reverted or failed: ${error.message}`, { input: to, cause: error });
      }
      throw error;
    }
    if (typeof raw !== "string" || raw === "0x") throw new RiskkeeperError("FEED_FAILED", `${fn} returned no data (is this a Chainlink feed?)`, { input: to });
    return iface.decodeFunctionResult(fn, raw);
  }

  async decimals(): Promise<number> {
    this.#decimals ??= Number((await this.#call(this.address, "decimals", [], true))[0]);
    return this.#decimals;
  }

  async description(): Promise<string> {
    return String((await this.#call(this.address, "description", [], true))[0]);
  }

  #toRound(r: ReturnType<Interface["decodeFunctionResult"]>, decimals: number): FeedRound {
    const roundId = BigInt(r[0]);
    const { phaseId, aggregatorRoundId } = decodeRoundId(roundId);
    const answerRaw = BigInt(r[1]);
    return {
      roundId, phaseId, aggregatorRoundId, answerRaw, answer: scaleAnswer(answerRaw, decimals),
      startedAt: Number(r[2]), updatedAt: Number(r[3]), answeredInRound: BigInt(r[4]),
    };
  }

  /** `latestRoundData()` now (never cached). */
  async latestRound(): Promise<FeedRound> {
    const decimals = await this.decimals();
    const round = this.#toRound(await this.#call(this.address, "latestRoundData", [], false), decimals);
    if (round.updatedAt > 0) this.#rounds.set(round.roundId, round);
    return round;
  }

  /**
   * `getRoundData(roundId)`; null when the round does not exist (the call reverts) or was never
   * completed (updatedAt 0). A completed round never changes, so it is cached.
   */
  async getRound(roundId: bigint): Promise<FeedRound | null> {
    const hit = this.#rounds.get(roundId);
    if (hit) {
      this.#rpc.stats.cacheHits++;
      return hit;
    }
    const decimals = await this.decimals();
    let round: FeedRound;
    try {
      round = this.#toRound(await this.#call(this.address, "getRoundData", [roundId], false), decimals);
    } catch (error) {
      if (error instanceof RiskkeeperError && error.code === "FEED_FAILED") return null;
      throw error;
    }
    if (round.updatedAt === 0) return null;
    this.#rounds.set(roundId, round);
    return round;
  }

  /** The last aggregator round of an earlier phase (EACAggregatorProxy), or null when the contract has no phases. */
  async lastRoundOfPhase(phaseId: number): Promise<bigint | null> {
    if (phaseId < 1) return null;
    try {
      const agg = String((await this.#call(this.address, "phaseAggregators", [phaseId], true))[0]);
      if (/^0x0{40}$/i.test(agg)) return null;
      return BigInt((await this.#call(agg, "latestRound", [], false))[0]);
    } catch (error) {
      if (error instanceof RiskkeeperError && error.code === "FEED_FAILED") return null;
      throw error;
    }
  }

  /**
   * Walks back `count` rounds from `fromRoundId` (default: the latest), oldest first in the result.
   * Within a phase the aggregator round id steps down by one; at a phase's first round the walk
   * continues with the previous phase's last round when the proxy says what it is.
   */
  async history(count: number, fromRoundId?: bigint): Promise<HistoryResult> {
    if (!(Number.isInteger(count) && count > 0)) throw new RiskkeeperError("INPUT_INVALID", `count must be a positive integer, got ${count}`, { input: "count" });
    const out: FeedRound[] = [];
    let id = fromRoundId ?? (await this.latestRound()).roundId;
    let stoppedAt: HistoryResult["stoppedAt"] = null;
    while (out.length < count) {
      const round = await this.getRound(id);
      if (!round) {
        stoppedAt = { roundId: id, reason: "round not found" };
        break;
      }
      out.push(round);
      if (out.length === count) break;
      const { phaseId, aggregatorRoundId } = decodeRoundId(id);
      if (aggregatorRoundId > 1n) {
        id = encodeRoundId(phaseId, aggregatorRoundId - 1n);
        continue;
      }
      const prev = await this.lastRoundOfPhase(phaseId - 1);
      if (prev === null || prev === 0n) {
        stoppedAt = { roundId: id, reason: `first round of phase ${phaseId}; no earlier phase known` };
        break;
      }
      id = encodeRoundId(phaseId - 1, prev);
    }
    return { rounds: out.reverse(), stoppedAt };
  }
}

export interface FeedHealth {
  round: FeedRound;
  staleness: Staleness;
  /** oracle / reference - 1, when a reference price was given. */
  deviation: number | null;
  sequencer: SequencerStatus | null;
}

/**
 * The feed's latest round judged at `now` (Unix s, from the caller's clock or the chain's latest
 * block): staleness against the heartbeat, deviation against a second source, and the sequencer.
 */
export async function readFeedHealth(
  reader: ChainlinkReader,
  now: number,
  options: { heartbeatSeconds: number; graceSeconds?: number; reference?: number; sequencer?: ChainlinkReader; sequencerGraceSeconds?: number },
): Promise<FeedHealth> {
  const round = await reader.latestRound();
  if (round.answerRaw <= 0n) throw new RiskkeeperError("FEED_FAILED", `latest answer ${round.answerRaw} is not positive (round ${round.roundId})`, { input: reader.address });
  const staleness = oracleStaleness(round.updatedAt, now, options.heartbeatSeconds, options.graceSeconds ?? 0);
  const deviation = options.reference !== undefined ? oracleDeviation(round.answer, options.reference) : null;
  let sequencer: SequencerStatus | null = null;
  if (options.sequencer) {
    const s = await options.sequencer.latestRound();
    sequencer = sequencerStatus(s.answerRaw, s.startedAt, now, options.sequencerGraceSeconds ?? 3600);
  }
  return { round, staleness, deviation, sequencer };
}

export interface BaseFeeHistory {
  oldestBlock: bigint;
  /** Base fee of each block from oldestBlock, in wei (eth_feeHistory's extra next-block entry dropped). */
  baseFeePerGas: bigint[];
  gasUsedRatio: number[];
}

/**
 * Base fees of the `blockCount` blocks ending at `newestBlock`, via eth_feeHistory in chunks of up
 * to 1,024 blocks. Chunks at least `confirmations` blocks below `headBlock` are cached for good.
 */
export async function readBaseFees(rpc: PoliteRpc, options: { blockCount: number; newestBlock: bigint; headBlock?: bigint; confirmations?: number }): Promise<BaseFeeHistory> {
  const { blockCount, newestBlock } = options;
  if (!(Number.isInteger(blockCount) && blockCount > 0)) throw new RiskkeeperError("INPUT_INVALID", `blockCount must be a positive integer, got ${blockCount}`, { input: "blockCount" });
  const head = options.headBlock ?? newestBlock;
  const safe = head - BigInt(options.confirmations ?? 64);
  const oldest = newestBlock - BigInt(blockCount) + 1n;
  const fees: bigint[] = [];
  const ratios: number[] = [];
  for (let end = newestBlock; end >= oldest; ) {
    const n = Number(end - oldest + 1n > 1024n ? 1024n : end - oldest + 1n);
    const res = (await rpc.request("eth_feeHistory", [`0x${n.toString(16)}`, `0x${end.toString(16)}`, []], { immutable: end <= safe })) as {
      oldestBlock: string; baseFeePerGas: string[]; gasUsedRatio: number[];
    };
    if (!res || !Array.isArray(res.baseFeePerGas)) throw new RiskkeeperError("RPC_FAILED", "eth_feeHistory returned no baseFeePerGas", { input: rpc.label });
    fees.unshift(...res.baseFeePerGas.slice(0, n).map((x) => BigInt(x)));
    ratios.unshift(...res.gasUsedRatio.slice(0, n));
    end -= BigInt(n);
  }
  return { oldestBlock: oldest, baseFeePerGas: fees, gasUsedRatio: ratios };
}

/** The last block's base fee against the window's distribution (values in gwei). */
export function baseFeeCongestion(history: BaseFeeHistory, level = 0.9): GasCongestion {
  const gwei = history.baseFeePerGas.map((w) => Number(w) / 1e9);
  return gasCongestion(gwei, 0, gwei.length - 1, level);
}
