// `riskkeeper smile`: fit raw SVI to every expiry of an option-chain CSV (e.g. the Deribit
// snapshots) and report fit error, butterfly and calendar arbitrage checks (text or --json).
import { RiskkeeperError } from "../errors.ts";
import { fitSmile, type OptionQuote, type SmileFit, type SmileWeighting } from "../models/index.ts";
import { parseCommandArgs } from "./args.ts";
import { readCsv } from "./calibrate.ts";
import type { Command } from "./types.ts";

const USAGE = `riskkeeper smile --input CHAIN.csv [--currency BTC|ETH] [--weights vega|spread|equal] [--include-no-bid]
                 [--enforce-butterfly] [--json]

  CSV columns (Deribit snapshot names, or the short names in brackets):
    strike, option_type [type] (call/put or C/P), expiry_datetime [expiry],
    time_to_maturity [T] (years), underlying [forward],
    implied_volatility [iv] (decimal) — or, without it, price in forward units [price] or
    mark_price in coin units (Deribit inverse options, multiplied by underlying), inverted with Black-76;
    optional: currency, bid_price (options with an empty bid are left out), bid_ask_spread.
  --weights   vega (default), spread (1/vol-spread²) or equal.
  --enforce-butterfly   refit slices that break g(k) ≥ 0 with a penalty (arbitrage-free, slightly worse fit).`;

type Table = ReturnType<typeof readCsv>;

/** Option quotes from a chain table, for one currency (or all when `currency` is undefined). */
export function quotesFromTable(t: Table, currency?: string): Map<string, OptionQuote[]> {
  const col = (...names: string[]) => {
    for (const n of names) { const i = t.header.indexOf(n); if (i >= 0) return i; }
    return -1;
  };
  const need = (label: string, ...names: string[]) => {
    const i = col(...names);
    if (i < 0) throw new RiskkeeperError("DATA_MISSING_COLUMN", `needs a ${label} column (${names.join(" or ")}); columns are: ${t.header.join(", ")}`, { input: t.file });
    return i;
  };
  const iStrike = need("strike", "strike"), iType = need("option type", "option_type", "type");
  const iExpiry = need("expiry", "expiry_datetime", "expiry"), iT = need("time to maturity", "time_to_maturity", "T");
  const iF = need("forward", "underlying", "forward");
  const iIv = col("implied_volatility", "iv"), iPrice = col("price"), iMark = col("mark_price");
  const iCur = col("currency"), iBid = col("bid_price"), iSpread = col("bid_ask_spread");
  if (iIv < 0 && iPrice < 0 && iMark < 0) {
    throw new RiskkeeperError("DATA_MISSING_COLUMN", "needs implied_volatility/iv, or price/mark_price to invert", { input: t.file });
  }
  const out = new Map<string, OptionQuote[]>();
  t.rows.forEach((row, r) => {
    const cur = iCur >= 0 ? row[iCur] : "ALL";
    if (currency !== undefined && cur !== currency) return;
    const where = `${t.file}:${r + 2}`;
    const num = (i: number, name: string, optional = false): number | undefined => {
      const cell = i >= 0 ? row[i] : undefined;
      if (cell === undefined || cell === "") {
        if (optional) return undefined;
        throw new RiskkeeperError("DATA_BAD_VALUE", `empty ${name}`, { input: where });
      }
      const v = Number(cell);
      if (!Number.isFinite(v)) throw new RiskkeeperError("DATA_BAD_VALUE", `${name} "${cell}" is not a finite number`, { input: where });
      return v;
    };
    const rawType = row[iType]?.toLowerCase();
    const type = rawType === "call" || rawType === "c" ? "call" : rawType === "put" || rawType === "p" ? "put" : undefined;
    if (!type) throw new RiskkeeperError("DATA_BAD_VALUE", `option type "${row[iType]}" is not call/put/C/P`, { input: where });
    const forward = num(iF, "forward") as number;
    const iv = num(iIv, "implied vol", true);
    const price = iPrice >= 0 ? num(iPrice, "price", true) : iMark >= 0 ? (num(iMark, "mark_price", true) ?? NaN) * forward : undefined;
    const spreadCoin = num(iSpread, "bid_ask_spread", true);
    const q: OptionQuote = {
      expiry: row[iExpiry], T: num(iT, "time to maturity") as number, strike: num(iStrike, "strike") as number, forward, type,
      ...(iv !== undefined ? { iv } : {}),
      ...(price !== undefined && Number.isFinite(price) ? { price } : {}),
      ...(spreadCoin !== undefined ? { spread: iMark >= 0 ? spreadCoin * forward : spreadCoin } : {}),
      ...(iBid >= 0 ? { hasBid: row[iBid] !== "" } : {}),
    };
    const list = out.get(cur) ?? [];
    list.push(q);
    out.set(cur, list);
  });
  if (out.size === 0) throw new RiskkeeperError("DATA_EMPTY", currency ? `no ${currency} options in the file` : "no options in the file", { input: t.file });
  return out;
}

export function smileReport(currency: string, fit: SmileFit) {
  return {
    currency,
    slices: fit.slices.map((s) => ({
      currency, expiry: s.expiry, T: s.T, forward: s.forward, n: s.n,
      params: { a: s.params.a, b: s.params.b, rho: s.params.rho, m: s.params.m, sigma: s.params.sigma },
      rmseVolPoints: s.rmseVolPoints, maxErrorVolPoints: s.maxErrorVolPoints,
      butterflyFree: s.butterflyFree, minG: s.minG,
      atmVol: s.atmVol, skew: s.skew, curvature: s.curvature,
    })),
    skipped: fit.skipped.map((s) => ({ currency, ...s })),
    calendarViolations: fit.calendarViolations.map((v) => ({ currency, ...v })),
  };
}

export const command: Command = {
  summary: "fit raw SVI to each expiry of an option chain and check butterfly/calendar arbitrage",
  usage: USAGE,
  async run(argv, io) {
    const args = parseCommandArgs("smile", argv, {
      input: { type: "string" },
      currency: { type: "string" },
      weights: { type: "string" },
      "include-no-bid": { type: "boolean", default: false },
      "enforce-butterfly": { type: "boolean", default: false },
      json: { type: "boolean", default: false },
    });
    const input = args.required("input");
    const currency = args.values.currency;
    const weighting: SmileWeighting = args.oneOf("weights", ["vega", "spread", "equal"] as const, "vega");
    const { json, "include-no-bid": includeNoBid, "enforce-butterfly": enforceButterfly } = args.values;
    const byCurrency = quotesFromTable(readCsv(input), currency);
    const reports = [...byCurrency.entries()].map(([cur, quotes]) => smileReport(cur, fitSmile(quotes, { weighting, includeNoBid, enforceButterfly })));
    const merged = {
      slices: reports.flatMap((r) => r.slices),
      skipped: reports.flatMap((r) => r.skipped),
      calendarViolations: reports.flatMap((r) => r.calendarViolations),
    };
    if (json) {
      io.stdout(JSON.stringify(merged, null, 2));
      return 0;
    }
    const f = (v: number, d = 4) => v.toFixed(d);
    const lines = [`SVI fit of ${input} (${weighting} weights)`,
      `  ${"cur".padEnd(4)} ${"expiry".padEnd(11)} ${"T".padStart(7)} ${"n".padStart(3)} ${"a".padStart(8)} ${"b".padStart(7)} ${"rho".padStart(7)} ${"m".padStart(7)} ${"sigma".padStart(7)} ${"rmse vp".padStart(8)} ${"atmVol".padStart(7)} ${"skew".padStart(7)}  bfly`];
    for (const s of merged.slices) {
      lines.push(`  ${s.currency.padEnd(4)} ${s.expiry.slice(0, 10).padEnd(11)} ${f(s.T).padStart(7)} ${String(s.n).padStart(3)} ${f(s.params.a).padStart(8)} ${f(s.params.b).padStart(7)} ${f(s.params.rho, 3).padStart(7)} ${f(s.params.m).padStart(7)} ${f(s.params.sigma).padStart(7)} ${f(s.rmseVolPoints, 2).padStart(8)} ${f(s.atmVol, 3).padStart(7)} ${f(s.skew, 3).padStart(7)}  ${s.butterflyFree ? "ok" : `VIOLATED (min g ${s.minG.toExponential(2)})`}`);
    }
    for (const s of merged.skipped) lines.push(`  skipped ${s.currency} ${s.expiry}: ${s.reason} (${s.n} quotes)`);
    lines.push(merged.calendarViolations.length === 0 ? "calendar: no violations" : `calendar: ${merged.calendarViolations.length} violation(s)`);
    for (const v of merged.calendarViolations) lines.push(`  ${v.currency} ${v.shorterExpiry.slice(0, 10)} → ${v.longerExpiry.slice(0, 10)}: w falls from ${f(v.wShorter, 5)} to ${f(v.wLonger, 5)} at k = ${f(v.k, 3)}`);
    io.stdout(lines.join("\n"));
    return 0;
  },
};
