// Shared by `riskkeeper backtest` and `riskkeeper sweep`: reading a price CSV
// through bot/data onto a regular grid, and finding the default policy for the data interval.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadPrices, parseInterval } from "../data/index.ts";
import { RiskkeeperError } from "../errors.ts";
import { intervalName, validatePolicy, type Policy } from "../backtest/policy.ts";
import { regularGrid, type PriceSeries } from "../backtest/walk-forward.ts";

export const POLICIES_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "policies");

export function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (cause) {
    throw new RiskkeeperError("INPUT_INVALID", "cannot read the file", { input: file, cause });
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new RiskkeeperError("POLICY_INVALID", `not valid JSON: ${(cause as Error).message}`, { input: file, cause });
  }
}

export function loadPolicy(file: string): Policy {
  return validatePolicy(readJson(file), file);
}

/** The default policy for a data interval: policies/default-<interval>.json. */
export function defaultPolicyFile(intervalSeconds: number): string {
  const name = intervalName(intervalSeconds);
  const file = name ? path.join(POLICIES_DIR, `default-${name}.json`) : undefined;
  if (!file || !existsSync(file)) {
    throw new RiskkeeperError("POLICY_INVALID", `no default policy for a ${intervalSeconds}s data interval; pass --policy`, { input: "--policy" });
  }
  return file;
}

/** Reads a price CSV (bot/data loaders), optionally resampled, onto a regular forward-filled grid. */
export async function loadSeries(file: string, resample?: string): Promise<PriceSeries> {
  const resampleSeconds = resample ? parseInterval(resample, "--resample") : undefined;
  const { series } = await loadPrices(file, resampleSeconds ? { resampleSeconds, fill: "forward" } : {});
  return { ...regularGrid(series.t, series.close, series.intervalSeconds, file), raw: series };
}

/** Writes a progress line on stderr, in place, only when stderr is a terminal. */
export function progress(label: string): (done: number, total: number) => void {
  if (!process.stderr.isTTY) return () => {};
  return (done, total) => {
    process.stderr.write(`\r${label} ${done}/${total} (${Math.round((100 * done) / total)}%)${done === total ? "\n" : ""}`);
  };
}
