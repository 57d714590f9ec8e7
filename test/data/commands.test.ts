// `riskkeeper data inspect` and `riskkeeper signals`, run through their command modules.
import { expect } from "chai";
import { command as inspect } from "../../bot/commands/data-inspect.ts";
import { command as signals } from "../../bot/commands/signals.ts";
import type { CommandIO } from "../../bot/commands/types.ts";
import { isRiskkeeperError } from "../../bot/errors.ts";
import { fixture } from "./fixture-path.ts";

function capture(): CommandIO & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (t) => out.push(t), stderr: (t) => err.push(t) };
}

describe("commands: data inspect, signals", () => {
  it("data inspect --json prints the normaliser report", async () => {
    const io = capture();
    expect(await inspect.run([fixture("gaps.csv"), "--json", "--interval", "2h"], io)).to.equal(0);
    const report = JSON.parse(io.out.join(""));
    expect(report.gaps).to.include({ count: 2, missingSteps: 4 });
    expect(report.resample).to.deep.equal({ seconds: 7200, label: "2h", buckets: 4, emptyBuckets: 1, filled: 0 });
  });

  it("data inspect prints a readable summary, and inspects rounds and returns files", async () => {
    const io = capture();
    await inspect.run([fixture("bad-values.csv")], io);
    const text = io.out.join("\n");
    expect(text).to.match(/rows read 11, kept 2/);
    expect(text).to.match(/line 3: close = 'abc' \(non-finite\)/);
    const io2 = capture();
    await inspect.run([fixture("rounds-camel.csv"), "--decimals", "8", "--heartbeat", "3600"], io2);
    expect(io2.out.join("\n")).to.match(/phase 5: 3 rounds 1\.\.5/);
    const io3 = capture();
    await inspect.run([fixture("returns.csv")], io3);
    expect(io3.out.join("\n")).to.match(/column 'return_pct', rows read 6, kept 4, rejected 2/);
  });

  it("data inspect: --max-rows gives DATA_TOO_LARGE; unknown options and bad values are usage errors", async () => {
    const cases: [string[], string, RegExp][] = [
      [[fixture("gaps.csv"), "--max-rows", "2"], "DATA_TOO_LARGE", /gaps\.csv:4: more than 2 data rows/],
      [[fixture("gaps.csv"), "--frobnicate"], "CLI_USAGE", /unknown option --frobnicate/],
      [[fixture("gaps.csv"), "--interval", "soon"], "INPUT_INVALID", /--interval: 'soon' is not an interval/],
      [[], "CLI_USAGE", /expected one file, got 0/],
      [[fixture("gaps.csv"), "--kind", "tea"], "CLI_USAGE", /--kind: expected one of/],
    ];
    for (const [argv, code, re] of cases) {
      try {
        await inspect.run(argv, capture());
        expect.fail(`expected ${code} for ${argv.join(" ")}`);
      } catch (e) {
        expect(isRiskkeeperError(e, code as never), String(e)).to.equal(true);
        expect((e as Error).message).to.match(re);
      }
    }
  });

  it("signals --json prints the snapshot; without --at it uses the time the last close became known", async () => {
    const io = capture();
    expect(await signals.run([fixture("clean-1h.csv"), "--json"], io)).to.equal(0);
    const snap = JSON.parse(io.out.join(""));
    expect(snap.at).to.equal("2024-01-01T06:00:00Z"); // the 05:00 candle closes at 06:00
    expect(snap.level).to.equal("calm");
    expect(io.err.join("")).to.match(/--at not given, using 2024-01-01T06:00:00Z/);
    const io2 = capture();
    await signals.run([fixture("clean-1h.csv"), "--at", "2024-01-01T03:00:00Z", "--json"], io2);
    expect(JSON.parse(io2.out.join("")).metrics.price).to.deep.equal({ last: 100.8, lastAt: "2024-01-01T03:00:00Z", intervalSeconds: 3600, ageSeconds: 0 });
  });
});
