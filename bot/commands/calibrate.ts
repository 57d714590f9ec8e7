// `riskkeeper calibrate`: fit a volatility model to a CSV of returns or prices and print the
// parameters, standard errors, log-likelihood and the variance forecast (text or --json).
// The CSV reader here is deliberately minimal and local; the general loaders live in bot/data.
import { readFileSync } from "node:fs";
import { RiskkeeperError } from "../errors.ts";
import { fitGarch, forecastVariance, type VolatilityFit } from "../models/index.ts";
import { parseCommandArgs } from "./args.ts";
import type { Command } from "./types.ts";

const USAGE = `riskkeeper calibrate --input FILE [--column NAME] [--prices] --model ewma|garch|gjr --dist normal|t
                     [--lambda L] [--steps N] [--period-seconds S] [--json]

  --input FILE         CSV with a header row.
  --column NAME        column to use; read as returns unless it is "close"/"price" or --prices is given.
                       Without --column: "close" or "price" (converted to log returns), else the one
                       column whose name starts with "return".
  --prices             treat --column as prices and convert to log returns.
  --model              ewma (lambda estimated by ML unless --lambda), garch or gjr (default garch).
  --lambda L           ewma only: fix the decay (e.g. 0.94, RiskMetrics daily) instead of estimating it.
  --dist               normal or t (default normal).
  --steps N            forecast horizon in periods (default 1).
  --period-seconds S   sampling period, for the annualised vol (default: the median step of a unix_s
                       column when there is one).
  --json               machine-readable output.`;

interface CsvTable { header: string[]; rows: string[][]; file: string }

/** Minimal CSV: comma-separated, optional double quotes around a cell, no embedded commas/newlines. */
export function readCsv(file: string): CsvTable {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (cause) {
    throw new RiskkeeperError("INPUT_INVALID", "cannot read the file", { input: file, cause });
  }
  const lines = text.split(/\r?\n/).filter((l) => l.trim().length > 0);
  if (lines.length < 2) throw new RiskkeeperError("DATA_EMPTY", "needs a header row and at least one data row", { input: file });
  const split = (line: string) => line.split(",").map((c) => c.trim().replace(/^"(.*)"$/, "$1"));
  return { header: split(lines[0]), rows: lines.slice(1).map(split), file };
}

function numericColumn(t: CsvTable, name: string): number[] {
  const idx = t.header.indexOf(name);
  if (idx < 0) {
    throw new RiskkeeperError("DATA_MISSING_COLUMN", `no column "${name}"; columns are: ${t.header.join(", ")}`, { input: t.file });
  }
  return t.rows.map((row, i) => {
    const cell = row[idx];
    const v = cell === undefined || cell === "" ? NaN : Number(cell);
    if (!Number.isFinite(v)) {
      throw new RiskkeeperError("DATA_BAD_VALUE", `column "${name}" holds "${cell ?? ""}", not a finite number`, { input: `${t.file}:${i + 2}` });
    }
    return v;
  });
}

function toLogReturns(prices: number[], t: CsvTable, name: string): number[] {
  const out: number[] = [];
  prices.forEach((p, i) => {
    if (!(p > 0)) throw new RiskkeeperError("DATA_BAD_VALUE", `price "${name}" must be > 0, got ${p}`, { input: `${t.file}:${i + 2}` });
    if (i > 0) out.push(Math.log(p / prices[i - 1]));
  });
  return out;
}

const OPTIONS = {
  input: { type: "string" },
  column: { type: "string" },
  prices: { type: "boolean", default: false },
  model: { type: "string" },
  dist: { type: "string" },
  steps: { type: "string" },
  "period-seconds": { type: "string" },
  lambda: { type: "string" },
  json: { type: "boolean", default: false },
} as const;

function parseCalibrateArgs(argv: string[]) {
  const args = parseCommandArgs("calibrate", argv, OPTIONS);
  const input = args.required("input");
  const model = args.oneOf("model", ["ewma", "garch", "gjr"] as const, "garch");
  const dist = args.oneOf("dist", ["normal", "t"] as const, "normal");
  const steps = args.integer("steps", { min: 1, default: 1 });
  const lambda = args.number("lambda", { above: 0, below: 1 });
  if (lambda !== undefined && model !== "ewma") throw args.usage("--lambda applies to --model ewma only", "--lambda");
  const periodSeconds = args.number("period-seconds", { above: 0 });
  return { input, column: args.values.column, prices: args.values.prices, model, dist, steps, periodSeconds, lambda, json: args.values.json };
}

/** Returns from the table, following the column rules in USAGE. */
export function selectReturns(t: CsvTable, column: string | undefined, forcePrices: boolean): { returns: number[]; source: string } {
  const isPriceName = (name: string) => name === "close" || name === "price";
  if (column !== undefined) {
    const values = numericColumn(t, column);
    return forcePrices || isPriceName(column)
      ? { returns: toLogReturns(values, t, column), source: `log returns of ${column}` }
      : { returns: values, source: column };
  }
  const priceCol = t.header.find(isPriceName);
  if (priceCol) return { returns: toLogReturns(numericColumn(t, priceCol), t, priceCol), source: `log returns of ${priceCol}` };
  const returnCols = t.header.filter((h) => h.toLowerCase().startsWith("return"));
  if (returnCols.length === 1) return { returns: numericColumn(t, returnCols[0]), source: returnCols[0] };
  throw new RiskkeeperError("CLI_USAGE", `cannot tell which column to use; pass --column (columns: ${t.header.join(", ")})`, { input: t.file });
}

function inferPeriodSeconds(t: CsvTable): number | undefined {
  const idx = t.header.indexOf("unix_s");
  if (idx < 0) return undefined;
  const ts = t.rows.map((r) => Number(r[idx]));
  const d = ts.slice(1).map((v, i) => v - ts[i]).filter((v) => Number.isFinite(v) && v > 0).sort((a, b) => a - b);
  return d.length > 0 ? d[Math.floor(d.length / 2)] : undefined;
}

export function calibrationReport(fit: VolatilityFit, steps: number, periodSeconds: number | undefined) {
  const f = forecastVariance(fit, { steps });
  const p = fit.params;
  const params: Record<string, number> = { mu: p.mu, omega: p.omega, alpha: p.alpha, beta: p.beta };
  if (fit.spec.model === "gjr") params.gamma = p.gamma;
  if (p.nu !== undefined) params.nu = p.nu;
  if (p.lambda !== undefined) params.lambda = p.lambda;
  const periodsPerYear = periodSeconds ? (365 * 86400) / periodSeconds : undefined;
  return {
    model: fit.spec.model,
    dist: fit.spec.dist,
    n: fit.n,
    params,
    stdErrors: { ...fit.stdErrors },
    stdErrorType: fit.stdErrorType,
    logLikelihood: fit.logLikelihood,
    aic: fit.aic,
    bic: fit.bic,
    converged: fit.converged,
    persistence: fit.persistence,
    warnings: fit.warnings.map((w) => ({ code: w.code, message: w.message })),
    forecast: {
      steps,
      nextVariance: fit.nextVariance,
      perStep: Array.from(f.perStep),
      cumulativeVariance: f.totalVariance,
      horizonVol: Math.sqrt(f.totalVariance),
      ...(periodSeconds ? { periodSeconds, volAnnual: Math.sqrt((f.totalVariance / steps) * (periodsPerYear as number)) } : {}),
    },
  };
}

export const command: Command = {
  summary: "fit EWMA/GARCH/GJR (normal or t) to a CSV of returns or prices and print the forecast",
  usage: USAGE,
  async run(argv, io) {
    const args = parseCalibrateArgs(argv);
    const table = readCsv(args.input);
    const { returns, source } = selectReturns(table, args.column, args.prices);
    const fit = fitGarch(returns, {
      model: args.model, dist: args.dist,
      estimateLambda: args.model === "ewma" && args.lambda === undefined, lambda: args.lambda,
    });
    const report = calibrationReport(fit, args.steps, args.periodSeconds ?? inferPeriodSeconds(table));
    if (args.json) {
      io.stdout(JSON.stringify(report, null, 2));
      return 0;
    }
    const fmt = (v: number) => (Math.abs(v) < 1e-3 && v !== 0 ? v.toExponential(6) : v.toPrecision(7));
    const lines = [
      `${report.model.toUpperCase()}-${report.dist} on ${report.n} returns (${source}) from ${args.input}`,
      `  ${"param".padEnd(8)}${"estimate".padStart(16)}${"robust s.e.".padStart(16)}`,
      ...Object.entries(report.params).map(([k, v]) => {
        const se = (report.stdErrors as Record<string, number>)[k];
        return `  ${k.padEnd(8)}${fmt(v).padStart(16)}${(se === undefined ? "(fixed)" : fmt(se)).padStart(16)}`;
      }),
      `  log-likelihood ${report.logLikelihood.toFixed(4)}   AIC ${report.aic.toFixed(2)}   BIC ${report.bic.toFixed(2)}   converged ${report.converged}`,
      `  persistence ${report.persistence.toFixed(6)}`,
      `forecast: next variance ${fmt(report.forecast.nextVariance)}, ${args.steps}-step variance ${fmt(report.forecast.cumulativeVariance)} (vol ${fmt(report.forecast.horizonVol)})` +
        (report.forecast.volAnnual !== undefined ? `, annualised vol ${(100 * report.forecast.volAnnual).toFixed(2)}% (period ${report.forecast.periodSeconds}s)` : ""),
      ...report.warnings.map((w) => `warning ${w.code}: ${w.message}`),
    ];
    io.stdout(lines.join("\n"));
    return 0;
  },
};
