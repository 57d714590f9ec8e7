// Benchmark of the data loaders and the normaliser: rows per second and peak memory, median over
// several runs, for the largest shared series (BTCUSDT 1h), the ETH/USD Chainlink rounds, the
// stress snapshot, and a synthetic file of many rows read in streaming mode (report only) to show
// that memory stays flat while the file grows. Each scenario runs in its own child process so that
// its peak RSS (getrusage maxRSS) is its own.
//
//   npm run bench:data                    # default: 2,000,000 synthetic rows
//   npm run bench:data -- --rows 10000000 # the "10 million rows" case
//   npm run bench:data -- --json
import { spawnSync } from "node:child_process";
import { createWriteStream, existsSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadPrices, loadRounds, normalisePriceFile } from "../bot/data/index.ts";
import { stressSnapshot } from "../bot/signals/index.ts";

const here = fileURLToPath(import.meta.url);
const repo = path.resolve(path.dirname(here), "..");
const dataDir = [process.env.RISKKEEPER_SHARED_DATA, path.resolve(repo, "..", "shared", "data"), "/work/shared/data"].find((p) => p && existsSync(p));

interface Result {
  scenario: string;
  rows: number;
  runs: number;
  medianMs: number;
  rowsPerSecond: number;
  fileMB: number;
  peakRssMB: number;
  peakHeapMB: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function measure(scenario: string, file: string | undefined, runs: number, body: () => Promise<number>): Promise<Result> {
  let peakHeap = 0;
  const timer = setInterval(() => { peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed); }, 5);
  const times: number[] = [];
  let rows = 0;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    rows = await body();
    times.push(performance.now() - t0);
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  }
  clearInterval(timer);
  const ms = median(times);
  return {
    scenario, rows, runs, medianMs: Math.round(ms * 10) / 10, rowsPerSecond: Math.round(rows / (ms / 1000)),
    fileMB: file ? Math.round(statSync(file).size / 1e5) / 10 : 0,
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 102.4) / 10,
    peakHeapMB: Math.round(peakHeap / 1e5) / 10,
  };
}

async function writeSynthetic(file: string, rows: number): Promise<void> {
  const out = createWriteStream(file);
  const write = (s: string): Promise<void> => new Promise((resolve) => { if (out.write(s)) resolve(); else out.once("drain", resolve); });
  await write("unix_s,open,high,low,close,volume\n");
  let p = 1000;
  let s = 12345;
  const t0 = 1_500_000_000;
  let chunk = "";
  for (let i = 0; i < rows; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const next = p * Math.exp(((s / 2 ** 32) - 0.5) * 0.02);
    chunk += `${t0 + i * 3600},${p.toFixed(2)},${(Math.max(p, next) * 1.001).toFixed(2)},${(Math.min(p, next) * 0.999).toFixed(2)},${next.toFixed(2)},${(s % 1000) + 1}\n`;
    p = next;
    if (chunk.length > 1 << 20) { await write(chunk); chunk = ""; }
  }
  await write(chunk);
  await new Promise<void>((resolve) => out.end(resolve));
}

async function child(scenario: string, rows: number): Promise<Result> {
  if (!dataDir && !scenario.startsWith("synthetic")) throw new Error("shared data not found: set RISKKEEPER_SHARED_DATA");
  const btc = dataDir ? path.join(dataDir, "binance-spot-1h/BTCUSDT_1h.csv") : "";
  const ethRounds = dataDir ? path.join(dataDir, "chainlink-rounds/chainlink_eth_usd_rounds.csv") : "";
  switch (scenario) {
    case "btc-1h-load":
      return measure("BTCUSDT 1h: load + normalise (keep series)", btc, 7, async () => (await loadPrices(btc)).report.rowsRead);
    case "btc-1h-report":
      return measure("BTCUSDT 1h: report only (streaming)", btc, 7, async () => (await normalisePriceFile(btc, { collect: false })).report.rowsRead);
    case "btc-1h-to-1d":
      return measure("BTCUSDT 1h -> 1d resample", btc, 7, async () => (await loadPrices(btc, { resampleSeconds: 86400 })).report.rowsRead);
    case "eth-rounds":
      return measure("Chainlink ETH/USD rounds", ethRounds, 7, async () => (await loadRounds(ethRounds, { heartbeatSeconds: 3600 })).report.rowsRead);
    case "snapshot": {
      const { series } = await loadPrices(btc);
      const ats = Array.from({ length: 1000 }, (_, i) => series.t[40 * 24 + i * 50] + 3600);
      return measure("stress snapshot x1000 (BTCUSDT 1h)", undefined, 5, async () => { for (const at of ats) stressSnapshot({ prices: series }, at); return ats.length; });
    }
    case "synthetic-write": {
      // in its own process, so that writing the file does not count in the readers' peak RSS
      const file = path.join(os.tmpdir(), `riskkeeper-bench-${rows}.csv`);
      return measure(`synthetic ${rows.toLocaleString("en-US")} rows: write the file`, undefined, 1, async () => { await writeSynthetic(file, rows); return rows; });
    }
    case "synthetic-report":
    case "synthetic-load": {
      const file = path.join(os.tmpdir(), `riskkeeper-bench-${rows}.csv`);
      if (!existsSync(file)) await writeSynthetic(file, rows);
      const collect = scenario === "synthetic-load";
      try {
        return await measure(`synthetic ${rows.toLocaleString("en-US")} rows: ${collect ? "load (keep series)" : "report only (streaming)"}`, file, 3,
          async () => (await normalisePriceFile(file, { collect })).report.rowsRead);
      } finally {
        if (collect) rmSync(file, { force: true });
      }
    }
    default:
      throw new Error(`unknown scenario ${scenario}`);
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const rowsArg = argv.indexOf("--rows");
  const rows = rowsArg >= 0 ? Number(argv[rowsArg + 1]) : 2_000_000;
  const sc = argv.indexOf("--scenario");
  if (sc >= 0) {
    process.stdout.write(`${JSON.stringify(await child(argv[sc + 1], rows))}\n`);
    return;
  }
  const scenarios = ["btc-1h-load", "btc-1h-report", "btc-1h-to-1d", "eth-rounds", "snapshot", "synthetic-write", "synthetic-report", "synthetic-load"];
  const results: Result[] = [];
  for (const s of scenarios) {
    const r = spawnSync(process.execPath, [here, "--scenario", s, "--rows", String(rows)], { encoding: "utf8", maxBuffer: 1 << 24 });
    if (r.status !== 0) {
      process.stderr.write(`bench:data scenario ${s} failed:\n${r.stderr}\n`);
      process.exitCode = 1;
      continue;
    }
    const result = JSON.parse(r.stdout.trim().split("\n").pop() as string) as Result;
    if (s !== "synthetic-write") results.push(result);
  }
  if (argv.includes("--json")) {
    process.stdout.write(`${JSON.stringify({ node: process.version, cpus: os.cpus().length, cpu: os.cpus()[0]?.model, results }, null, 2)}\n`);
    return;
  }
  process.stdout.write(`bench:data  node ${process.version}, ${os.cpus().length} x ${os.cpus()[0]?.model ?? "cpu"}\n\n`);
  const head = ["scenario", "rows", "median ms", "rows/s", "file MB", "peak RSS MB", "peak heap MB"];
  const table = results.map((r) => [r.scenario, r.rows.toLocaleString("en-US"), r.medianMs.toFixed(1), r.rowsPerSecond.toLocaleString("en-US"), r.fileMB ? r.fileMB.toFixed(1) : "-", r.peakRssMB.toFixed(1), r.peakHeapMB.toFixed(1)]);
  const widths = head.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
  for (const row of [head, ...table]) process.stdout.write(`${row.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ")}\n`);
}

await main();
