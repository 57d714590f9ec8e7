// Oracle rounds as fixed-interval bars: the price the feed reported at the end of each interval.
// A Chainlink feed writes a round on a deviation or a heartbeat, not on a clock; a model fitted on
// hourly returns needs hourly closes. A bar's close is the answer of the last round updated before
// the bar ends, carried forward through intervals without a round (the oracle's price stood). Bars
// are stamped with their open time (barTime "open"), so a bar is known only once its interval has
// ended: no look-ahead into the interval in progress. Pure: no I/O, no clock.
import { RiskkeeperError } from "../errors.ts";
import type { PriceSeries } from "./normalise.ts";

export interface OracleRound {
  roundId: bigint;
  /** The answer scaled to a price (answerRaw / 10^decimals). */
  answer: number;
  /** Unix seconds. */
  updatedAt: number;
}

export interface RoundsToBarsOptions {
  intervalSeconds: number;
  /** Bars end at or before this time (Unix seconds): the last complete interval. */
  untilSeconds: number;
  /** First bar's open time (aligned down to the interval); default: the first round's interval. */
  fromSeconds?: number;
}

/**
 * Closes of fixed intervals from rounds sorted by updatedAt (oldest first). Throws INPUT_INVALID
 * on unsorted rounds or a non-positive or non-finite answer: a feed that reports those is not a
 * price to calibrate on.
 */
export function roundsToBars(rounds: readonly OracleRound[], options: RoundsToBarsOptions): PriceSeries {
  const step = options.intervalSeconds;
  if (!(Number.isInteger(step) && step > 0)) throw new RiskkeeperError("INPUT_INVALID", `expected a positive integer, got ${step}`, { input: "intervalSeconds" });
  for (let i = 0; i < rounds.length; i++) {
    const r = rounds[i];
    if (!(Number.isFinite(r.answer) && r.answer > 0)) {
      throw new RiskkeeperError("INPUT_INVALID", `round ${r.roundId} has answer ${r.answer}: not a price`, { input: `rounds[${i}].answer` });
    }
    if (i > 0 && r.updatedAt < rounds[i - 1].updatedAt) {
      throw new RiskkeeperError("INPUT_INVALID", `round ${r.roundId} was updated before the round listed ahead of it`, { input: `rounds[${i}].updatedAt` });
    }
  }
  const empty = (): PriceSeries => {
    const z = new Float64Array(0);
    return { kind: "price", intervalSeconds: step, barTime: "open", t: z, open: z, high: z, low: z, close: z, volume: z, line: z };
  };
  if (rounds.length === 0) return empty();
  const align = (s: number) => Math.floor(s / step) * step;
  const first = align(options.fromSeconds ?? rounds[0].updatedAt);
  // The last bar is the last interval that has ended by `untilSeconds`.
  const last = align(options.untilSeconds) - step;
  if (last < first) return empty();
  const n = (last - first) / step + 1;
  const t = new Float64Array(n);
  const close = new Float64Array(n);
  let k = 0;
  let price = Number.NaN;
  let filled = 0;
  for (let i = 0; i < n; i++) {
    const end = first + (i + 1) * step;
    // Rounds updated exactly at a bar's end belong to the next bar: a close is what stood before it.
    while (k < rounds.length && rounds[k].updatedAt < end) price = rounds[k++].answer;
    t[i] = first + i * step;
    close[i] = price;
    if (!Number.isNaN(price)) filled++;
  }
  // Bars before the first round have no price: drop them rather than invent one.
  const from = n - filled;
  const tt = t.slice(from);
  const cc = close.slice(from);
  const nan = new Float64Array(tt.length).fill(Number.NaN);
  return { kind: "price", intervalSeconds: step, barTime: "open", t: tt, open: cc, high: cc, low: cc, close: cc, volume: nan, line: new Float64Array(tt.length) };
}
