// The live keeper's market history, read from the Chainlink feed it guards: the rounds the oracle
// published, turned into interval closes (bot/data/feed-bars.ts), optionally behind a backfill file
// for the lookback the chain alone would take too many calls to read. The pipeline's views are
// synchronous; `refresh()` reads the new rounds before each run and each watch, and the stress
// snapshot sees the oracle's rounds too, so a feed that stops updating raises the oracle-age signal.
import { RiskkeeperError } from "../errors.ts";
import { roundsToBars, type OracleRound } from "../data/feed-bars.ts";
import type { PriceSeries } from "../data/normalise.ts";
import type { StressConfigInput } from "../signals/index.ts";
import { SeriesHistory, type KnownSeries } from "./history.ts";
import type { MarketHistoryView } from "./pipeline.ts";
import type { JsonValue } from "./state.ts";

/** What FeedHistory needs of a feed reader (bot/data ChainlinkReader fits). */
export interface RoundSource {
  readonly address: string;
  latestRound(): Promise<OracleRound>;
  /** `count` rounds back from `fromRoundId` (inclusive), oldest first, and why the walk stopped early. */
  history(count: number, fromRoundId?: bigint): Promise<{ rounds: OracleRound[]; stoppedAt: { roundId: bigint; reason: string } | null }>;
}

export interface FeedHistoryOptions {
  feed: RoundSource;
  intervalSeconds: number;
  /** How far back the calibration looks (the policy's lookback), seconds. */
  lookbackSeconds: number;
  /** Most rounds read from the chain (at start and per refresh). Default 5,000. */
  maxRounds?: number;
  /** Rounds per history() call. Default 500. */
  chunkRounds?: number;
  /**
   * A round that moves the answer by more than this (absolute log return) and that the next round
   * undoes by at least `spikeRevert` of the move is a bad report, not a price: left out of the
   * bars (and noted). Default 0.25 (about -22% / +28%); the normaliser flags 0.10 in files, but
   * an oracle round in a fast market can move 10% and come back.
   */
  spikeThreshold?: number;
  spikeRevert?: number;
  /** Older closes from a file; the feed's rounds extend it from its last bar. */
  backfill?: { series: PriceSeries; source: string; report?: JsonValue };
  stressConfig?: StressConfigInput;
}

export class FeedHistory implements MarketHistoryView, KnownSeries {
  readonly #o: Required<Pick<FeedHistoryOptions, "maxRounds" | "chunkRounds" | "spikeThreshold" | "spikeRevert">> & FeedHistoryOptions;
  /** Rounds read so far, oldest first; trimmed to the lookback. */
  #rounds: OracleRound[] = [];
  #view: SeriesHistory | undefined;
  #series: PriceSeries | undefined;
  #notes: string[] = [];
  #roundsRead = 0;
  /** The interval (now / intervalSeconds, floored) the bars were last built for. */
  #builtAt = Number.NaN;

  constructor(options: FeedHistoryOptions) {
    if (options.backfill && options.backfill.series.intervalSeconds !== options.intervalSeconds) {
      throw new RiskkeeperError("CONFIG_INVALID", `backfill has ${options.backfill.series.intervalSeconds} s bars, the policy calibrates on ${options.intervalSeconds} s bars`, { input: options.backfill.source });
    }
    this.#o = { maxRounds: 5_000, chunkRounds: 500, spikeThreshold: 0.25, spikeRevert: 0.8, ...options };
  }

  /** Bars in use (backfill and feed). Throws DATA_EMPTY before a refresh has built two. */
  get series(): PriceSeries {
    return this.#require(Number.NaN).series;
  }

  lastKnownIndex(nowSeconds: number): number {
    return this.#require(nowSeconds).lastKnownIndex(nowSeconds);
  }

  /**
   * Reads the rounds published since the last refresh (at the first, back over the lookback or
   * until the backfill's end) and rebuilds the bars up to the last interval ended at `nowSeconds`.
   * Throws FEED_FAILED when the feed's latest answer is not a price: nothing is calibrated on it.
   */
  async refresh(nowSeconds: number): Promise<{ newRounds: number }> {
    const latest = await this.#o.feed.latestRound();
    if (!(Number.isFinite(latest.answer) && latest.answer > 0) || latest.updatedAt <= 0) {
      throw new RiskkeeperError("FEED_FAILED", `latest round ${latest.roundId} reports answer ${latest.answer} at ${latest.updatedAt}: not a price`, { input: this.#o.feed.address });
    }
    const known = this.#rounds.at(-1);
    let fresh: OracleRound[] = [];
    if (!known || latest.roundId !== known.roundId) {
      const backfillEnd = this.#backfillEnd();
      const oldestWanted = Math.max(latest.updatedAt - this.#o.lookbackSeconds, backfillEnd ?? -Infinity);
      fresh = known
        ? await this.#walkBack(latest.roundId, (r) => r.roundId === known.roundId || r.updatedAt < known.updatedAt, false)
        : await this.#walkBack(latest.roundId, (r) => r.updatedAt < oldestWanted, true);
    }
    if (fresh.length > 0) {
      const dropped = fresh.filter((r) => !(Number.isFinite(r.answer) && r.answer > 0));
      if (dropped.length > 0) this.#note(`${dropped.length} round(s) without a positive answer dropped (e.g. round ${dropped[0].roundId})`);
      this.#rounds.push(...fresh.filter((r) => Number.isFinite(r.answer) && r.answer > 0));
      this.#roundsRead += fresh.length;
      const keepFrom = latest.updatedAt - this.#o.lookbackSeconds - 2 * this.#o.intervalSeconds;
      const firstKept = this.#rounds.findIndex((r) => r.updatedAt >= keepFrom);
      // One round before the window carries the price into its first bar.
      if (firstKept > 1) this.#rounds = this.#rounds.slice(firstKept - 1);
    }
    // The bars change only with a new round or a newly ended interval: a watch every few seconds
    // usually has neither.
    const intervalEnd = Math.floor(nowSeconds / this.#o.intervalSeconds);
    if (fresh.length > 0 || intervalEnd !== this.#builtAt) {
      this.#rebuild(nowSeconds);
      this.#builtAt = intervalEnd;
    }
    return { newRounds: fresh.length };
  }

  /**
   * Rounds from `fromRoundId` back until `stop` says so, or maxRounds; oldest first. `keepStop`:
   * keep the round that stopped the walk (the price standing when the window opens).
   */
  async #walkBack(fromRoundId: bigint, stop: (r: OracleRound) => boolean, keepStop: boolean): Promise<OracleRound[]> {
    const out: OracleRound[] = [];
    let from = fromRoundId;
    for (;;) {
      const want = Math.min(this.#o.chunkRounds, this.#o.maxRounds - out.length);
      // history() includes `from`, already taken after the first chunk: ask for one more.
      const extra = out.length > 0 ? 1 : 0;
      const { rounds, stoppedAt } = await this.#o.feed.history(want + extra, from);
      const newestFirst = rounds.reverse().slice(extra);
      for (const r of newestFirst) {
        if (stop(r)) {
          if (keepStop) out.push(r);
          return out.reverse();
        }
        out.push(r);
      }
      if (stoppedAt || newestFirst.length < want) return out.reverse();
      if (out.length >= this.#o.maxRounds) {
        this.#note(`read the most rounds allowed (${this.#o.maxRounds}); older history comes from the backfill or is not used`);
        return out.reverse();
      }
      from = out.at(-1)!.roundId;
    }
  }

  #backfillEnd(): number | undefined {
    const s = this.#o.backfill?.series;
    if (!s || s.t.length === 0) return undefined;
    return s.t[s.t.length - 1] + (s.barTime === "open" ? s.intervalSeconds : 0);
  }

  #note(message: string): void {
    if (!this.#notes.includes(message)) this.#notes.push(message);
    if (this.#notes.length > 10) this.#notes.shift();
  }

  /** The rounds without reverted spikes (a round judged only once the next one is known). */
  #cleanRounds(): OracleRound[] {
    const r = this.#rounds;
    const out: OracleRound[] = [];
    for (let i = 0; i < r.length; i++) {
      if (i > 0 && i < r.length - 1) {
        const move = Math.log(r[i].answer / r[i - 1].answer);
        const next = Math.log(r[i + 1].answer / r[i].answer);
        if (Math.abs(move) > this.#o.spikeThreshold && move * next < 0 && -next / move >= this.#o.spikeRevert) {
          this.#note(`round ${r[i].roundId} (${iso(r[i].updatedAt)}) left out: answer ${r[i].answer} moved ${(100 * (Math.exp(move) - 1)).toFixed(1)}% and the next round undid it`);
          continue;
        }
      }
      out.push(r[i]);
    }
    return out;
  }

  #rebuild(nowSeconds: number): void {
    const step = this.#o.intervalSeconds;
    const rounds = this.#cleanRounds();
    const backfill = this.#o.backfill?.series;
    const backfillEnd = this.#backfillEnd();
    let series: PriceSeries;
    // The feed joins the file when its first round falls in the first interval after the file ends.
    if (backfill && backfillEnd !== undefined && this.#rounds.length > 0 && this.#rounds[0].updatedAt < backfillEnd + step) {
      // The feed picks up at the first interval the file does not hold.
      const feedBars = roundsToBars(rounds, { intervalSeconds: step, untilSeconds: nowSeconds, fromSeconds: backfillEnd });
      // A "point" file stamps a price with the time it was seen: a feed bar's close is seen at its end.
      if (backfill.barTime === "point") feedBars.t = feedBars.t.map((t) => t + step);
      series = concat(backfill, feedBars);
    } else {
      const windowStart = (this.#rounds.at(-1)?.updatedAt ?? 0) - this.#o.lookbackSeconds;
      if (backfill && this.#rounds.length > 0 && backfillEnd !== undefined && backfillEnd > windowStart) {
        this.#note(`backfill ends ${iso(backfillEnd!)}, the feed's rounds start ${iso(this.#rounds[0].updatedAt)}: the gap between is not bridged, the backfill is not used`);
      }
      series = roundsToBars(rounds, { intervalSeconds: step, untilSeconds: nowSeconds });
      if (series.t.length < 2 && backfill) series = backfill;
    }
    this.#series = series;
    // The raw rounds (spikes included) are what the protocol's oracle reported: their age and
    // deviation are stress signals.
    const oracle = { updatedAt: Float64Array.from(this.#rounds, (r) => r.updatedAt), answer: Float64Array.from(this.#rounds, (r) => r.answer) };
    this.#view = series.t.length >= 2
      ? new SeriesHistory(series, { source: this.#source(), ...(this.#o.stressConfig ? { stressConfig: this.#o.stressConfig } : {}), ...(oracle.answer.length > 0 ? { oracle } : {}) })
      : undefined;
  }

  #source(): string {
    return this.#o.backfill ? `${this.#o.backfill.source} + feed ${this.#o.feed.address}` : `feed ${this.#o.feed.address}`;
  }

  #require(nowSeconds: number): SeriesHistory {
    if (!this.#view) {
      throw new RiskkeeperError("DATA_EMPTY", `fewer than 2 interval closes from the feed${Number.isNaN(nowSeconds) ? "" : ` at ${iso(nowSeconds)}`} (${this.#rounds.length} rounds read${this.#view === undefined && this.#series === undefined ? "; refresh() not called yet" : ""})`, { input: this.#source() });
    }
    return this.#view;
  }

  returnsAt(nowSeconds: number): Float64Array {
    return this.#require(nowSeconds).returnsAt(nowSeconds);
  }

  reportAt(nowSeconds: number): JsonValue {
    const base = this.#require(nowSeconds).reportAt(nowSeconds) as { [key: string]: JsonValue };
    const last = this.#rounds.at(-1);
    return {
      ...base,
      report: this.#o.backfill?.report ?? null,
      feed: {
        address: this.#o.feed.address,
        roundsHeld: this.#rounds.length,
        roundsRead: this.#roundsRead,
        firstRoundAt: this.#rounds.length > 0 ? iso(this.#rounds[0].updatedAt) : null,
        latestRound: last ? { roundId: last.roundId.toString(), answer: last.answer, updatedAt: iso(last.updatedAt) } : null,
        notes: [...this.#notes],
      },
    };
  }

  stressAt(nowSeconds: number): { level: "calm" | "elevated" | "stressed" | "critical"; reasons: string[] } {
    return this.#require(nowSeconds).stressAt(nowSeconds);
  }

}

function concat(a: PriceSeries, b: PriceSeries): PriceSeries {
  const join = (x: Float64Array, y: Float64Array) => {
    const out = new Float64Array(x.length + y.length);
    out.set(x);
    out.set(y, x.length);
    return out;
  };
  return {
    kind: a.kind === b.kind ? a.kind : "price",
    intervalSeconds: a.intervalSeconds,
    barTime: a.barTime,
    t: join(a.t, b.t), open: join(a.open, b.open), high: join(a.high, b.high), low: join(a.low, b.low),
    close: join(a.close, b.close), volume: join(a.volume, b.volume), line: join(a.line, b.line),
  };
}

const iso = (s: number) => new Date(s * 1000).toISOString();
