// From an option chain (one snapshot) to fitted SVI slices: group by expiry, keep one quote per
// strike (the out-of-the-money side: puts below the forward, calls at or above), take the IV or
// invert the price with Black-76, weight the quotes, fit each slice, then check the calendar.
import { assertInput } from "../../errors.ts";
import { black76ImpliedVol, black76Vega, type OptionType } from "./black.ts";
import { MIN_QUOTES_PER_SLICE, calendarCheck, fitSviSlice, type CalendarViolation, type SviFit } from "./svi.ts";

export interface OptionQuote {
  /** Expiry label (ISO time) used to group quotes. */
  expiry: string;
  /** Time to expiry in years. */
  T: number;
  strike: number;
  forward: number;
  type: OptionType;
  /** Implied vol (decimal); when absent, `price` (in the forward's currency) is inverted. */
  iv?: number;
  price?: number;
  /** Bid-ask spread in the forward's currency, for spread weights. */
  spread?: number;
  /** false when the option has no bid: its mark is a model value, not a market (excluded by default). */
  hasBid?: boolean;
}

export type SmileWeighting = "vega" | "spread" | "equal";

export interface SmileSlice extends SviFit {
  readonly expiry: string;
  readonly forward: number;
}

export interface SmileSkip { readonly expiry: string; readonly n: number; readonly reason: string }

export interface SmileFit {
  readonly slices: readonly SmileSlice[];
  readonly skipped: readonly SmileSkip[];
  readonly calendarViolations: readonly (CalendarViolation & { readonly shorterExpiry: string; readonly longerExpiry: string })[];
}

/**
 * Fits every expiry of a chain.
 * @example
 * const smile = fitSmile(quotes, { weighting: "vega" });
 * smile.slices.map((s) => [s.expiry, s.atmVol, s.butterflyFree]);
 */
export function fitSmile(
  quotes: readonly OptionQuote[],
  options: { weighting?: SmileWeighting; minT?: number; includeNoBid?: boolean; enforceButterfly?: boolean } = {},
): SmileFit {
  const weighting = options.weighting ?? "vega";
  assertInput(["vega", "spread", "equal"].includes(weighting), `must be vega, spread or equal, got ${weighting}`, "weighting", "MODEL_INPUT");
  const minT = options.minT ?? 1 / 365 / 24; // one hour
  const byExpiry = new Map<string, OptionQuote[]>();
  for (const q of quotes) {
    const list = byExpiry.get(q.expiry) ?? [];
    list.push(q);
    byExpiry.set(q.expiry, list);
  }
  const slices: SmileSlice[] = [];
  const skipped: SmileSkip[] = [];
  for (const [expiry, list] of [...byExpiry.entries()].sort((x, y) => x[1][0].T - y[1][0].T)) {
    const T = list[0].T;
    if (!(T >= minT)) { skipped.push({ expiry, n: list.length, reason: `T = ${T} years is below minT` }); continue; }
    const forward = list.reduce((s, q) => s + q.forward, 0) / list.length;
    const byStrike = new Map<number, OptionQuote>();
    for (const q of list) {
      const otm = q.strike >= forward ? q.type === "call" : q.type === "put";
      const prev = byStrike.get(q.strike);
      if (!prev || otm) byStrike.set(q.strike, q);
    }
    const k: number[] = [], iv: number[] = [], wt: number[] = [];
    for (const q of [...byStrike.values()].sort((x, y) => x.strike - y.strike)) {
      if (q.hasBid === false && options.includeNoBid !== true) continue;
      let vol = q.iv;
      if (vol === undefined && q.price !== undefined) {
        try { vol = black76ImpliedVol(q.type, q.price, q.forward, q.strike, T); } catch { vol = undefined; }
      }
      if (vol === undefined || !(vol > 0) || !Number.isFinite(vol)) continue;
      const vega = black76Vega(q.forward, q.strike, T, vol);
      let weight = 1;
      if (weighting === "vega") weight = vega / q.forward;
      else if (weighting === "spread") {
        const volSpread = q.spread !== undefined && vega > 0 ? q.spread / vega : NaN;
        weight = 1 / Math.max(Number.isFinite(volSpread) ? volSpread : 0.05, 0.0025) ** 2;
      }
      k.push(Math.log(q.strike / q.forward));
      iv.push(vol);
      wt.push(weight);
    }
    if (k.length < MIN_QUOTES_PER_SLICE) { skipped.push({ expiry, n: k.length, reason: `fewer than ${MIN_QUOTES_PER_SLICE} usable quotes` }); continue; }
    const fit = fitSviSlice({ T, k, iv, weights: wt, enforceButterfly: options.enforceButterfly });
    slices.push(Object.freeze({ ...fit, expiry, forward }));
  }
  const calendar = calendarCheck(slices).map((v) => Object.freeze({
    ...v,
    shorterExpiry: (slices.find((s) => s.T === v.shorterT) as SmileSlice).expiry,
    longerExpiry: (slices.find((s) => s.T === v.longerT) as SmileSlice).expiry,
  }));
  return Object.freeze({ slices: Object.freeze(slices), skipped: Object.freeze(skipped), calendarViolations: Object.freeze(calendar) });
}
