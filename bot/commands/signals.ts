// `riskkeeper signals <file>`: the stress snapshot of a price file at a time (default: when its last
// close became known), optionally with Chainlink rounds (staleness, deviation from the file's
// price), a gas series and an implied-vol index. Deterministic: no clock is read.
import { readFileSync } from "node:fs";
import { RiskkeeperError } from "../errors.ts";
import { isoTime, loadDvol, loadGasDaily, loadPrices, loadRounds, parseInterval, parseTimeArg } from "../data/index.ts";
import { resolveStressConfig, stressSnapshot, type StressConfigInput, type StressSnapshot } from "../signals/index.ts";
import { parseCommandArgs } from "./args.ts";
import type { Command } from "./types.ts";

const USAGE = `riskkeeper signals <price-file> [--at TIME] [--json]
    [--interval 1h] [--oracle ROUNDS.csv] [--heartbeat SECONDS] [--decimals N]
    [--gas GAS.csv] [--implied DVOL.csv] [--config STRESS.json] [--max-rows N]

  --at          ISO-8601 time or Unix seconds (default: when the file's last close became known)
  --interval    resample the price file first (e.g. 1h, 1d)
  --oracle      Chainlink rounds CSV: staleness against --heartbeat (default 3600) and deviation from the price file
  --gas         Etherscan daily gas CSV (or any CSV with avg_gas_price_gwei)
  --implied     Deribit DVOL daily CSV (percent)
  --config      JSON overriding the stress bands (see docs/data.md)
  --json        print the snapshot as JSON`;

const OPTIONS = {
  at: { type: "string" }, interval: { type: "string" }, oracle: { type: "string" }, heartbeat: { type: "string" },
  decimals: { type: "string" }, gas: { type: "string" }, implied: { type: "string" }, config: { type: "string" },
  "max-rows": { type: "string" }, json: { type: "boolean", default: false },
} as const;

function formatSnapshot(s: StressSnapshot): string {
  const m = s.metrics;
  const pct = (x: number | null | undefined): string => (x === null || x === undefined ? "n/a" : `${(x * 100).toFixed(1)}%`);
  const lines = [`${s.at}  ${s.level.toUpperCase()}`];
  for (const r of s.reasons) lines.push(`  [${r.level}] ${r.message}`);
  for (const n of s.notes) lines.push(`  (note) ${n}`);
  const v = m.realisedVol;
  lines.push(
    `  price ${m.price.last} (known ${m.price.lastAt}, ${m.price.ageSeconds}s old)`,
    `  realised vol: close-to-close ${pct(v.closeToCloseShort)} (short) / ${pct(v.closeToCloseLong)} (long), Parkinson ${pct(v.parkinsonShort)}, Garman-Klass ${pct(v.garmanKlassShort)}, EWMA ${pct(v.ewma)}`,
    `  drawdown: ${m.drawdown.map((d) => `${d.horizonSeconds / 3600}h ${pct(d.max)} (z ${d.z === null ? "n/a" : d.z.toFixed(1)})`).join(", ")}`,
    `  jumps in lookback: ${m.jumps.count}`,
  );
  if (m.oracle) lines.push(`  oracle ${m.oracle.answer} updated ${m.oracle.updatedAt} (${m.oracle.ageSeconds}s, ${m.oracle.stale ? "STALE" : "fresh"}), deviation ${pct(m.oracle.deviation)}`);
  if (m.gas) lines.push(`  gas ${m.gas.current} (${m.gas.at}): ${m.gas.ratioToP90}x the window p90 ${m.gas.p90}`);
  if (m.implied) lines.push(`  implied ${pct(m.implied.iv)} (${m.implied.at}), realised ${pct(m.implied.realised)}, spread ${pct(m.implied.spread)}`);
  return lines.join("\n");
}

export const command: Command = {
  summary: "print the stress snapshot (level, reasons, metrics) of a price file at a time",
  usage: USAGE,
  async run(argv, io) {
    const args = parseCommandArgs("signals", argv, OPTIONS, { positionals: true });
    if (args.positionals.length !== 1) throw args.usage(`expected one price file, got ${args.positionals.length}`, "file");
    const heartbeat = args.number("heartbeat", { min: 0 });
    const maxRows = args.integer("max-rows", { min: 0 });
    const decimals = args.integer("decimals", { min: 0 });
    const { config: configFile, interval, oracle: oracleFile, gas: gasFile, implied: impliedFile, at: atArg } = args.values;
    let configInput: StressConfigInput = {};
    if (configFile !== undefined) {
      try {
        configInput = JSON.parse(readFileSync(configFile, "utf8")) as StressConfigInput;
      } catch (cause) {
        throw new RiskkeeperError("CONFIG_INVALID", `cannot read JSON (${(cause as Error).message})`, { input: configFile, cause });
      }
    }
    if (heartbeat !== undefined) configInput = { ...configInput, oracle: { ...configInput.oracle, heartbeatSeconds: heartbeat } };
    const config = resolveStressConfig(configInput);
    const { series: prices } = await loadPrices(args.positionals[0], { maxRows, resampleSeconds: interval !== undefined ? parseInterval(interval, "--interval") : undefined });
    const oracle = oracleFile ? (await loadRounds(oracleFile, { maxRows, decimals })).rounds : undefined;
    const gas = gasFile ? (await loadGasDaily(gasFile, { maxRows })).series : undefined;
    const implied = impliedFile ? (await loadDvol(impliedFile, { maxRows })).series : undefined;
    const last = prices.t[prices.t.length - 1] + (prices.barTime === "open" ? prices.intervalSeconds : 0);
    const at = atArg !== undefined ? parseTimeArg(atArg, "--at") : last;
    if (atArg === undefined) io.stderr(`signals: --at not given, using ${isoTime(at)} (when the file's last close became known)`);
    const snap = stressSnapshot({ prices, oracle, gas, implied }, at, config);
    io.stdout(args.values.json ? JSON.stringify(snap, null, 2) : formatSnapshot(snap));
    return 0;
  },
};
