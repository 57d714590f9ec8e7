// `riskkeeper backtest` and `riskkeeper sweep` end to end on a small synthetic CSV in a temp dir.
import { expect } from "chai";
import { mkdtempSync, readFileSync, writeFileSync, existsSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { command as backtest } from "../../bot/commands/backtest.ts";
import { command as sweep } from "../../bot/commands/sweep.ts";
import { isRiskkeeperError } from "../../bot/errors.ts";
import { syntheticSeries } from "./synthetic.ts";

const policies = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "policies");

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { stdout: (t: string) => out.push(t), stderr: (t: string) => err.push(t) }, out, err };
}

describe("cli backtest", () => {
  let dir: string;
  let csv: string;
  let policyFile: string;
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "rk-backtest-"));
    const s = syntheticSeries(24 * 200, 9, { regimes: [[24 * 120, 24 * 140]] });
    const rows = ["timestamp_utc,unix_s,open,high,low,close,volume_base"];
    for (let i = 0; i < s.close.length; i++) {
      if (i === 3000) continue; // a missing hour, forward-filled
      const c = s.close[i].toFixed(4);
      rows.push(`${new Date(s.time[i] * 1000).toISOString().replace("T", " ").slice(0, 19)},${s.time[i]},${c},${c},${c},${c},1`);
    }
    csv = path.join(dir, "prices.csv");
    writeFileSync(csv, rows.join("\n") + "\n");
    const p = JSON.parse(readFileSync(path.join(policies, "default-1h.json"), "utf8"));
    policyFile = path.join(dir, "policy.json");
    writeFileSync(policyFile, JSON.stringify({ ...p, name: "small", lookbackDays: 60 }));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("--json prints the documented keys", async () => {
    const c = capture();
    expect(await backtest.run(["--input", csv, "--policy", policyFile, "--json", "--z2-simulations", "100"], c.io)).to.equal(0);
    const r = JSON.parse(c.out.join(""));
    for (const k of ["observations", "breaches", "trafficLight", "meanBufferBps", "procyclicality", "updates", "static", "unbounded"]) expect(r).to.have.property(k);
    expect(r.kupiec.pValue).to.be.a("number");
    expect(r.christoffersen.pValue).to.be.a("number");
    expect(r.series[0]).to.include.keys("t", "bufferBps", "breach");
  });
  it("--report writes a self-contained HTML report and the JSON", async () => {
    const c = capture();
    const out = path.join(dir, "report");
    expect(await backtest.run(["--input", csv, "--policy", policyFile, "--report", out, "--z2-simulations", "0"], c.io)).to.equal(0);
    const html = readFileSync(path.join(out, "report.html"), "utf8");
    expect(html).to.match(/^<!doctype html>/);
    expect((html.match(/<svg/g) ?? []).length).to.equal(3);
    expect(html).to.not.match(/<script|https?:\/\/(?!www\.w3\.org)/);
    expect(existsSync(path.join(out, "result.json"))).to.equal(true);
    expect(c.out.join("")).to.match(/bounded.*unbounded.*static/s);
  });
  it("a bad policy is refused before the data is read", async () => {
    const bad = path.join(dir, "bad.json");
    writeFileSync(bad, JSON.stringify({ ...JSON.parse(readFileSync(policyFile, "utf8")), model: { name: "nope" } }));
    try {
      await backtest.run(["--input", path.join(dir, "missing.csv"), "--policy", bad], capture().io);
      expect.fail("accepted");
    } catch (e) {
      expect(isRiskkeeperError(e, "POLICY_INVALID")).to.equal(true);
      expect((e as any).input).to.equal(`${bad}#model.name`);
    }
  });
  it("the default policy is chosen by the data interval, and too little data is an error", async () => {
    try {
      await backtest.run(["--input", csv], capture().io);
      expect.fail("accepted");
    } catch (e) {
      // default-1h needs a 365-day lookback; the file has 200 days
      expect(isRiskkeeperError(e, "POLICY_INVALID")).to.equal(true);
      expect((e as any).input).to.equal("default-1h#lookbackDays");
    }
  });
  it("unknown options are usage errors", async () => {
    try {
      await backtest.run(["--input", csv, "--nope"], capture().io);
      expect.fail("accepted");
    } catch (e) {
      expect(isRiskkeeperError(e, "CLI_USAGE")).to.equal(true);
    }
  });

  it("sweep ranks a grid on 2 workers and says where each point breaks", async () => {
    const grid = path.join(dir, "grid.json");
    writeFileSync(grid, JSON.stringify({ base: "policy.json", grid: { "rule.maxStep": [50, 150], "rule.max": [5000, 50] } }));
    const c = capture();
    expect(await sweep.run(["--input", csv, "--grid", grid, "--workers", "2", "--json"], c.io)).to.equal(0);
    const r = JSON.parse(c.out.join(""));
    expect(r.points).to.equal(4);
    expect(r.workers).to.equal(2);
    expect(r.ranked).to.have.length(4);
    // max 50 < min 100: inverted bounds, reported as where those points break, ranked last
    expect(r.ranked.slice(2).every((o: any) => /POLICY_INVALID.*inverted/.test(o.fails[0]))).to.equal(true);
    expect(r.ranked[0].meanBufferBps).to.be.a("number");
    const text = capture();
    expect(await sweep.run(["--input", csv, "--grid", grid, "--workers", "1"], text.io)).to.equal(0);
    expect(text.out.join("")).to.match(/4 points on 1 worker/);
  });
});
