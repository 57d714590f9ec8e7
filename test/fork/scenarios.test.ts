// Scenarios beyond history windows: Monte Carlo tail paths from a GARCH-t fit, real Chainlink
// rounds at their own times, and the `validate` CLI combining them (JSON keys kept).
import { expect } from "chai";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { monteCarloScenarios, roundsScenarios } from "../../bot/fork/index.ts";
import { simulateGarchSeries } from "../../bot/models/index.ts";
import { loadRounds } from "../../bot/data/rounds.ts";
import { isRiskkeeperError } from "../../bot/errors.ts";
import { command as validate } from "../../bot/commands/validate.ts";
import { sharedDataPath } from "../support/shared-data.ts";

/** A GARCH-t price history: hourly, 2,000 steps, from known parameters. */
function garchHistory(seed: number, n = 2_000) {
  const returns = simulateGarchSeries({ params: { mu: 0, omega: 2e-6, alpha: 0.1, beta: 0.85, gamma: 0, nu: 5 }, dist: "t", n, seed });
  const t = [1_700_000_000];
  const price = [2_000];
  for (let i = 0; i < n; i++) {
    t.push(t[i] + 3_600);
    price.push(price[i] * Math.exp(returns[i]));
  }
  return { t, price };
}

/** closeTo without chai-matchers' bigint override (loaded when the suite runs with the contract tests). */
const near = (actual: number, expected: number, tolerance: number) =>
  expect(Math.abs(actual - expected), `${actual} vs ${expected}`).to.be.lessThan(tolerance);

/** Peak-to-trough drawdown and trough-to-peak rally of a path, as fractions of the price. */
function extremes(prices: readonly number[]) {
  let peak = prices[0], trough = prices[0], dd = 0, ru = 0;
  for (const p of prices) {
    peak = Math.max(peak, p);
    trough = Math.min(trough, p);
    dd = Math.max(dd, 1 - p / peak);
    ru = Math.max(ru, p / trough - 1);
  }
  return { dd, ru };
}

describe("fork scenarios: Monte Carlo tail paths, Chainlink rounds, the validate CLI", function () {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "riskkeeper-scenarios-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("monteCarloScenarios keeps the k worst drawdowns and rallies of N seeded GARCH-t paths, deterministically", async () => {
    const { t, price } = garchHistory(11);
    const options = { paths: 200, steps: 96, k: 2, seed: 42 };
    const mc = await monteCarloScenarios(t, price, options);
    const again = await monteCarloScenarios(t, price, options);
    expect(JSON.stringify(again)).to.equal(JSON.stringify(mc));
    expect(mc.model.converged).to.equal(true);
    expect(mc.model.params.nu! > 2.5 && mc.model.params.nu! < 20, String(mc.model.params.nu)).to.equal(true);
    expect(mc.scenarios.map((s) => s.kind)).to.deep.equal(["monte-carlo", "monte-carlo", "monte-carlo", "monte-carlo"]);
    const [dd1, dd2, ru1, ru2] = mc.scenarios;
    expect(new Set(mc.scenarios.map((s) => s.name.replace(/: .*/, ""))).size, "four distinct paths").to.equal(4);
    for (const s of mc.scenarios) {
      expect(s.rounds).to.have.length(97);
      expect(s.rounds[0]).to.deep.equal({ t: t[t.length - 1] + 3_600, price: price[price.length - 1] });
      expect(s.rounds[1].t - s.rounds[0].t).to.equal(3_600);
    }
    // Ranked: the kept drawdowns are the deepest, beyond the median path's; the rallies likewise.
    near(-dd1.worstMove, extremes(dd1.rounds.map((r) => r.price)).dd, 1e-9);
    expect(-dd1.worstMove).to.be.greaterThanOrEqual(-dd2.worstMove);
    expect(-dd2.worstMove).to.be.greaterThan(-mc.simulated.medianDrawdown);
    near(ru1.worstMove, extremes(ru1.rounds.map((r) => r.price)).ru, 1e-9);
    expect(ru1.worstMove).to.be.greaterThanOrEqual(ru2.worstMove);
    expect(ru2.worstMove).to.be.greaterThan(mc.simulated.medianRally);
    expect(dd1.name).to.match(/^monte-carlo GARCH-t path \d+ \(seed 42\): drawdown [\d.]+% peak to trough over 96 steps \(worst of 200\)$/);
    const other = await monteCarloScenarios(t, price, { ...options, seed: 43 });
    expect(other.scenarios[0].rounds[5].price).to.not.equal(dd1.rounds[5].price);
    await monteCarloScenarios(t, price, { ...options, paths: 0 }).then(
      () => expect.fail("expected an error"),
      (error) => expect(isRiskkeeperError(error, "INPUT_INVALID") && error.input === "paths").to.equal(true),
    );
  });

  it("roundsScenarios keeps each round's own time (irregular, repeated seconds included)", () => {
    const updatedAt = [100, 3_700, 3_700, 4_000, 9_000, 9_060, 12_000];
    const answer = [10, 10.5, 10.4, 9, 8, 8.8, 9.5];
    const [whole] = roundsScenarios({ updatedAt, answer }, { windowRounds: 720, k: 1, label: "tiny" });
    expect(whole.rounds.map((r) => r.t)).to.deep.equal(updatedAt);
    expect(whole.kind).to.equal("recorded");
    near(whole.worstMove, -0.2, 1e-12);
    const windows = roundsScenarios({ updatedAt, answer }, { windowRounds: 3, horizonRounds: 2, k: 1, label: "tiny" });
    expect(windows).to.have.length(2);
    expect(windows[0].name).to.match(/^tiny: drawdown/);
    for (const w of windows) {
      const first = updatedAt.indexOf(w.rounds[0].t);
      expect(w.rounds.map((r) => r.t)).to.deep.equal(updatedAt.slice(first, first + 4));
    }
  });

  it("real ETH/USD rounds: the worst windows are played at the feed's own update times", async function () {
    const file = sharedDataPath("chainlink-rounds/chainlink_eth_usd_rounds.csv");
    if (!file) this.skip();
    const { rounds } = await loadRounds(file!);
    const scenarios = roundsScenarios(rounds, { windowRounds: 720, horizonRounds: 24, k: 1 });
    expect(scenarios).to.have.length(2);
    const times = new Set(Array.from(rounds.updatedAt));
    for (const s of scenarios) {
      expect(s.rounds).to.have.length(721);
      expect(s.rounds.every((r) => times.has(r.t))).to.equal(true);
      const gaps = s.rounds.slice(1).map((r, i) => r.t - s.rounds[i].t);
      expect(new Set(gaps).size).to.be.greaterThan(10); // not a clock: deviation updates and heartbeats
    }
    expect(scenarios[0].worstMove).to.be.lessThan(-0.05);
  });

  it("validate --rounds --scenario-file --monte-carlo --json: every scenario judged, the JSON keys kept", async function () {
    // 150 irregular rounds with a fall in the middle (two rounds in one second), and a short series.
    const rows = ["round_id,answer,started_at,updated_at"];
    let time = 1_690_000_000;
    let p = 1_850;
    for (let i = 1; i <= 150; i++) {
      time += i === 80 ? 0 : 600 + ((i * 7919) % 3_000);
      p *= i > 70 && i <= 85 ? 0.975 : 1 + (((i * 31) % 13) - 6) / 1_000;
      rows.push(`${i},${p.toFixed(8)},${time},${time}`);
    }
    const roundsFile = path.join(dir, "rounds.csv");
    await writeFile(roundsFile, rows.join("\n") + "\n");
    const seriesFile = path.join(dir, "series.csv");
    await writeFile(seriesFile, ["unix_s,price", ...Array.from({ length: 40 }, (_, i) => `${1_700_000_000 + i * 3_600},${(3_000 * (1 - 0.006 * i)).toFixed(2)}`)].join("\n") + "\n");
    const proposalFile = path.join(dir, "proposal.json");
    await writeFile(proposalFile, JSON.stringify({ market: "ETH-USD", updates: [{ parameter: "initialMarginBps", value: "1200" }] }));

    const out: string[] = [];
    const io = { stdout: (s: string) => { out.push(s); }, stderr: () => undefined };
    const code = await validate.run([
      "--proposal", proposalFile, "--rounds", roundsFile, "--scenario-file", seriesFile, "--monte-carlo", "40",
      "--window", "48", "--horizon", "12", "--scenarios", "1", "--positions", "10", "--via", "governance", "--json",
    ], io);
    const report = JSON.parse(out.join("\n"));
    expect(code).to.equal(report.verdict === "pass" ? 0 : 1);
    const names: string[] = report.current.outcomes.map((o: { scenario: string }) => o.scenario);
    expect(names.filter((n) => n.startsWith("Chainlink rounds (rounds.csv)"))).to.have.length(2);
    expect(names.filter((n) => n.startsWith("recorded series series.csv (40 rounds)"))).to.have.length(1);
    expect(names.filter((n) => n.startsWith("monte-carlo GARCH-t"))).to.have.length(2);
    for (const set of [report.current, report.proposed]) {
      for (const o of set.outcomes) expect(o).to.include.keys("badDebt", "liquidations", "missedLiquidations");
    }
    expect(report.diff).to.have.length(5);
    expect(report.diff[0]).to.include.keys("scenario", "badDebt", "liquidations", "missedLiquidations");
    expect(report.monteCarlo.history).to.equal(roundsFile);
    expect(report.monteCarlo.model.n).to.equal(149);
    expect(report.oracle.takeover).to.equal("replay");

    await validate.run(["--proposal", proposalFile, "--mc-worst", "2"], io).then(
      () => expect.fail("expected a usage error"),
      (error) => expect(isRiskkeeperError(error, "CLI_USAGE")).to.equal(true),
    );
    await validate.run(["--proposal", proposalFile, "--monte-carlo", "10"], io).then(
      () => expect.fail("expected a usage error"),
      (error) => expect((error as Error).message).to.match(/fits its model on history/),
    );
  });
});
