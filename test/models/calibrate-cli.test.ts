import { expect } from "chai";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { main } from "../../bot/cli.ts";
import { command } from "../../bot/commands/calibrate.ts";
import { isRiskkeeperError } from "../../bot/errors.ts";
import { simulateGarchSeries } from "../../bot/models/index.ts";
import { sharedDataFile } from "../support/shared-data.ts";

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "", err = "";
  const code = await command.run(argv, { stdout: (t) => { out += `${t}\n`; }, stderr: (t) => { err += `${t}\n`; } });
  return { code, out, err };
}

describe("riskkeeper calibrate (CLI)", () => {
  it("--json on dem2gbp prints the certified GARCH fit with the agreed keys", async function () {
    const file = sharedDataFile(this, "dem2gbp/dem2gbp.csv");
    const { code, out } = await run(["--input", file, "--column", "return_pct", "--model", "garch", "--dist", "normal", "--json"]);
    expect(code).to.equal(0);
    const j = JSON.parse(out);
    expect(j).to.include.keys("params", "stdErrors", "logLikelihood", "converged", "n");
    expect(Object.keys(j.params)).to.have.members(["mu", "omega", "alpha", "beta"]);
    expect(j.params.alpha).to.be.closeTo(0.153134, 1e-5);
    expect(j.logLikelihood).to.be.closeTo(-1106.608, 0.001);
    expect(j.n).to.equal(1974);
    expect(j.converged).to.equal(true);
  });

  it("converts a close column to log returns and adds gamma and nu for gjr-t", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "riskkeeper-calibrate-"));
    const r = simulateGarchSeries({ params: { mu: 0, omega: 1e-6, alpha: 0.08, gamma: 0.05, beta: 0.87, nu: 6 }, dist: "t", n: 800, seed: 4 });
    let price = 100;
    const lines = ["unix_s,close", "0,100"];
    r.forEach((v, i) => { price *= Math.exp(v); lines.push(`${(i + 1) * 3600},${price}`); });
    const file = path.join(dir, "prices.csv");
    writeFileSync(file, `${lines.join("\n")}\n`);
    const { code, out } = await run(["--input", file, "--model", "gjr", "--dist", "t", "--steps", "24", "--json"]);
    expect(code).to.equal(0);
    const j = JSON.parse(out);
    expect(j.n).to.equal(800);
    expect(Object.keys(j.params)).to.have.members(["mu", "omega", "alpha", "beta", "gamma", "nu"]);
    expect(j.forecast.periodSeconds).to.equal(3600);
    expect(j.forecast.perStep).to.have.length(24);
    const text = await run(["--input", file, "--model", "ewma", "--dist", "normal"]);
    expect(text.out).to.match(/EWMA-normal on 800 returns \(log returns of close\)/);
    expect(text.out).to.match(/lambda/);
    const fixed = JSON.parse((await run(["--input", file, "--model", "ewma", "--lambda", "0.94", "--json"])).out);
    expect(fixed.params.lambda).to.equal(0.94);
    expect(fixed.stdErrors).to.not.have.property("lambda");
  });

  it("names the bad input: missing column, bad cell, unknown option", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "riskkeeper-calibrate-"));
    const file = path.join(dir, "bad.csv");
    writeFileSync(file, "a,b\n1,2\nx,3\n");
    for (const [argv, code, pattern] of [
      [["--input", file, "--column", "zzz"], "DATA_MISSING_COLUMN", /no column "zzz"/],
      [["--input", file, "--column", "a"], "DATA_BAD_VALUE", /bad\.csv:3/],
      [["--input", file, "--frobnicate"], "CLI_USAGE", /unknown option/],
      [["--model", "garch"], "CLI_USAGE", /--input is required/],
    ] as const) {
      try {
        await run([...argv]);
        expect.fail("expected an error");
      } catch (error) {
        expect(isRiskkeeperError(error, code), String(error)).to.equal(true);
        expect((error as Error).message).to.match(pattern);
      }
    }
  });

  it("is registered in the CLI", async () => {
    const { code } = await (async () => {
      const origWrite = process.stdout.write.bind(process.stdout);
      let captured = "";
      process.stdout.write = ((chunk: string) => { captured += chunk; return true; }) as typeof process.stdout.write;
      try { return { code: await main(["calibrate", "--help"]), captured }; } finally { process.stdout.write = origWrite; }
    })();
    expect(code).to.equal(0);
  });
});
