// The whole keeper on the embedded chain: a crash in the recorded data raises margins within the
// bounds, through both gates, on chain, with the evidence hash matching the bundle on disk; and
// replays of real crash periods against a static baseline, with the report written.
import { expect } from "chai";
import { mkdtemp, readFile, readdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { generatedHourlySeries } from "../../bot/data/generated.ts";
import { loadPrices } from "../../bot/data/prices.ts";
import { validatePolicy } from "../../bot/backtest/policy.ts";
import { runEmbedded } from "../../bot/keeper/embedded.ts";
import { SimulatedClock } from "../../bot/keeper/clock.ts";
import { createKeeperLogger } from "../../bot/keeper/log.ts";
import { readStateSnapshot } from "../../bot/keeper/state.ts";
import { verifyEvidence } from "../../bot/keeper/evidence.ts";
import { PARAM } from "../../deploy/market-config.ts";
import { isRiskkeeperError } from "../../bot/errors.ts";
import { sharedDataPath } from "../support/shared-data.ts";

const policyFile = path.resolve("policies/default-1h.json");
const HOUR = 3_600;

async function quietRun(options: Omit<Parameters<typeof runEmbedded>[0], "logger" | "clock" | "stateDir"> & { stateDir?: string }) {
  const stateDir = options.stateDir ?? (await mkdtemp(path.join(os.tmpdir(), "rk-embedded-")));
  const clock = new SimulatedClock(options.from * 1000);
  const log = createKeeperLogger({ level: "info", clock, terminal: false, file: path.join(stateDir, "..", `${path.basename(stateDir)}.log`) });
  try {
    const summary = await runEmbedded({ ...options, stateDir, logger: log.logger, clock });
    return { summary, stateDir };
  } finally {
    await log.close();
  }
}

describe("keeper on the embedded chain", function () {
  this.timeout(300_000);

  it("raises margins within the bounds when the recorded data crashes, through both gates, with the evidence on disk", async () => {
    const policy = validatePolicy(JSON.parse(await readFile(policyFile, "utf8")), policyFile);
    const series = generatedHourlySeries();
    const crashStart = series.t[series.t.length - 1 - 20 * 24];
    // The health server runs with it: read /healthz and /metrics right after the first confirmed update.
    let healthUrl = "";
    const seen: Array<{ status: number; body: { status: string; markets: Record<string, { runs: number; lastRunOk?: boolean }> }; metrics: string }> = [];
    const { summary, stateDir } = await quietRun({
      series, source: "generated", policy, from: crashStart - 12 * HOUR, to: crashStart + 30 * HOUR, positions: 20, seed: 3,
      health: { port: 0, onListening: (url) => { healthUrl = url; } },
      onEvent: async (e) => {
        if (e.kind !== "run" || e.result.outcome !== "confirmed" || seen.length > 0) return;
        const res = await fetch(`${healthUrl}/healthz`);
        seen.push({ status: res.status, body: (await res.json()) as (typeof seen)[number]["body"], metrics: await (await fetch(`${healthUrl}/metrics`)).text() });
      },
    });
    expect(healthUrl).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(seen).to.have.length(1);
    expect(seen[0].status).to.equal(200);
    expect(seen[0].body.status).to.equal("ok");
    expect(seen[0].body.markets["ETH-USD"].runs).to.be.greaterThan(0);
    expect(seen[0].metrics).to.include(`riskkeeper_updates_confirmed_total{market="ETH-USD"} 1`);
    const closed = await fetch(`${healthUrl}/healthz`).then(() => "open", () => "closed");
    expect(closed, "the health server stops with the run").to.equal("closed");
    const keeperUpdates = summary.onChainUpdates.filter((u) => u.source === 0);
    expect(summary.updatesConfirmed, JSON.stringify(summary.decisions)).to.be.greaterThan(0);
    const mm = keeperUpdates.filter((u) => u.param === PARAM.maintenanceMarginBps);
    expect(mm.length).to.be.greaterThan(0);
    for (const u of mm) {
      const [from, to] = [Number(u.oldValue), Number(u.newValue)];
      expect(to, "a crash raises the maintenance margin").to.be.greaterThan(from);
      expect(to - from, "one bounded step").to.be.at.most(policy.rule.maxStep);
      expect(to).to.be.within(policy.rule.min, policy.rule.max);
    }
    // Every keeper update's evidence hash is the hash of a bundle on disk, and the state agrees.
    const state = await readStateSnapshot(path.join(stateDir, "state.json"));
    const confirmed = Object.values(state.data.updates).filter((r) => r.state === "confirmed");
    expect(confirmed.length).to.equal(summary.updatesConfirmed);
    const files = await readdir(path.join(stateDir, "evidence"));
    for (const u of keeperUpdates) {
      const record = confirmed.find((r) => r.evidenceHash === u.evidenceHash);
      expect(record, `a confirmed record for evidence ${u.evidenceHash}`).to.not.equal(undefined);
      expect(files).to.include(`${u.evidenceHash}.json`);
      expect((await verifyEvidence(path.join(stateDir, "evidence", `${u.evidenceHash}.json`), u.evidenceHash)).ok).to.equal(true);
      for (const stage of ["observed", "calibrated", "bounded", "backtested", "fork-validated", "submitted", "confirmed"]) {
        expect(record!.history.map((h) => h.state)).to.include(stage);
      }
    }
  });

  for (const period of [
    { name: "March 2020", from: "2020-03-12T00:00:00Z", to: "2020-03-13T00:00:00Z" },
    { name: "May 2022", from: "2022-05-11T00:00:00Z", to: "2022-05-12T00:00:00Z" },
  ]) {
    it(`replays ${period.name} (shortened to a day) against the static baseline`, async function () {
      const file = sharedDataPath("binance-spot-1h/ETHUSDT_1h.csv");
      if (!file) this.skip();
      const policy = validatePolicy(JSON.parse(await readFile(policyFile, "utf8")), policyFile);
      const { series } = await loadPrices(file!);
      const from = Date.parse(period.from) / 1000;
      const to = Date.parse(period.to) / 1000;
      const keeper = (await quietRun({ series, source: file!, policy, from, to, positions: 20 })).summary;
      const baseline = (await quietRun({ series, source: file!, policy, from, to, positions: 20, keeper: false })).summary;
      expect(baseline.updatesConfirmed).to.equal(0);
      expect(baseline.onChainUpdates.filter((u) => u.source === 0)).to.have.length(0);
      expect(keeper.hours).to.equal(24);
      expect(keeper.updatesConfirmed, JSON.stringify(keeper.decisions)).to.be.greaterThan(0);
      expect(keeper.meanMaintenanceBps).to.be.greaterThan(baseline.meanMaintenanceBps);
      console.log(`      ${period.name}: keeper ${keeper.updatesConfirmed} updates, mean MM ${keeper.meanMaintenanceBps.toFixed(0)} bps, ` +
        `bad debt ${keeper.badDebt}, liquidations ${keeper.liquidations}; baseline mean MM ${baseline.meanMaintenanceBps.toFixed(0)} bps, bad debt ${baseline.badDebt}, liquidations ${baseline.liquidations}`);
    });
  }

  it("start refuses a bad --health-port or --positions before starting anything", async () => {
    const { command } = await import("../../bot/commands/start.ts");
    const dir = await mkdtemp(path.join(os.tmpdir(), "rk-start-bad-"));
    const io = { stdout: () => {}, stderr: () => {} };
    for (const [args, option] of [[["--health-port", "70000"], "--health-port"], [["--health-port=-1"], "--health-port"], [["--positions", "ten"], "--positions"]] as const) {
      const error = await command.run([...args, "--state", path.join(dir, "state")], io).then(() => undefined, (e: unknown) => e);
      expect(isRiskkeeperError(error, "CLI_USAGE"), String(error)).to.equal(true);
      expect((error as { input?: string }).input).to.equal(option);
    }
    expect(await readdir(dir), "nothing written").to.deep.equal([]);
  });

  it("replays November 2022 from the CLI with the report written (keeper vs static baseline)", async function () {
    const file = sharedDataPath("binance-spot-1h/ETHUSDT_1h.csv");
    if (!file) this.skip();
    const { main } = await import("../../bot/cli.ts");
    const dir = await mkdtemp(path.join(os.tmpdir(), "rk-replay-"));
    const out: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => { out.push(String(chunk)); return true; }) as typeof process.stdout.write;
    let code: number;
    try {
      code = await main(["replay", "--from", "2022-11-08T12:00:00Z", "--to", "2022-11-09T12:00:00Z", "--data", file!, "--positions", "20",
        "--state", path.join(dir, "state"), "--report", path.join(dir, "report"), "--quiet", "--json"]);
    } finally {
      process.stdout.write = write;
    }
    expect(code).to.equal(0);
    const { keeper, baseline } = JSON.parse(out.join("").slice(out.join("").indexOf("{")));
    expect(keeper.updatesConfirmed).to.be.greaterThan(0);
    expect(baseline.updatesConfirmed).to.equal(0);
    const html = await readFile(path.join(dir, "report", "report.html"), "utf8");
    expect(html).to.match(/<svg/);
    expect(await readFile(path.join(dir, "report", "replay.md"), "utf8")).to.match(/\| keeper \| \d+ \|/);
    console.log(`      November 2022: keeper ${keeper.updatesConfirmed} updates, mean MM ${keeper.meanMaintenanceBps.toFixed(0)} bps, bad debt ${keeper.badDebt}, liquidations ${keeper.liquidations}; ` +
      `baseline mean MM ${baseline.meanMaintenanceBps.toFixed(0)} bps, bad debt ${baseline.badDebt}, liquidations ${baseline.liquidations}`);
  });
});
