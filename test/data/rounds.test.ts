import { expect } from "chai";
import { decodeRoundId, encodeRoundId, loadRounds, scaleAnswer } from "../../bot/data/index.ts";
import { isRiskkeeperError } from "../../bot/errors.ts";
import { fixture } from "./fixture-path.ts";

describe("data/rounds: Chainlink round history", () => {
  it("decodes and encodes proxy round ids (phase << 64 | aggregator round)", () => {
    const cases = [
      { id: 110680464442257309697n, phase: 6, agg: 1n }, // ETH/USD phase 6, first round
      { id: 18446744073709552519n, phase: 1, agg: 903n }, // stETH/ETH
      { id: 129127208515966884067n, phase: 7, agg: 22755n }, // ETH/USD daily sample, 2025-12-24
      { id: (65535n << 64n) | ((1n << 64n) - 1n), phase: 65535, agg: (1n << 64n) - 1n },
    ];
    for (const c of cases) {
      expect(decodeRoundId(c.id)).to.deep.equal({ phaseId: c.phase, aggregatorRoundId: c.agg });
      expect(encodeRoundId(c.phase, c.agg)).to.equal(c.id);
    }
    expect(() => encodeRoundId(65536, 1n)).to.throw(/uint16/);
    expect(() => encodeRoundId(1, 1n << 64n)).to.throw(/uint64/);
  });

  it("scales raw answers exactly by their decimals", () => {
    expect(scaleAnswer(190818855732n, 8)).to.equal(1908.18855732);
    expect(scaleAnswer(996316981209140000n, 18)).to.equal(0.99631698120914);
    expect(scaleAnswer(5n, 8)).to.equal(0.00000005);
    expect(scaleAnswer(-150n, 2)).to.equal(-1.5);
    expect(scaleAnswer(42n, 0)).to.equal(42);
  });

  it("loads roundId,answer,startedAt,updatedAt with given decimals: exact report", async () => {
    const { rounds, report } = await loadRounds(fixture("rounds-camel.csv"), { decimals: 8, heartbeatSeconds: 3600 });
    expect(report).to.deep.equal({
      file: fixture("rounds-camel.csv"),
      columns: { roundId: "roundId", updatedAt: "updatedAt", answer: "answer", startedAt: "startedAt", answeredInRound: "answeredInRound" },
      timeFormat: "unix_s",
      decimals: { value: 8, source: "given" },
      rowsRead: 6,
      rowsKept: 4,
      first: "2023-11-14T22:13:20Z",
      last: "2023-11-15T01:33:20Z",
      phases: [
        { phaseId: 5, rounds: 3, firstRound: 1, lastRound: 5, firstUpdatedAt: "2023-11-14T22:13:20Z", lastUpdatedAt: "2023-11-15T00:43:20Z", missingRounds: 2 },
        { phaseId: 6, rounds: 1, firstRound: 1, lastRound: 1, firstUpdatedAt: "2023-11-15T01:33:20Z", lastUpdatedAt: "2023-11-15T01:33:20Z", missingRounds: 0 },
      ],
      duplicates: { dropped: 1, lines: [4] },
      rejected: { count: 1, list: [{ line: 5, value: "0", reason: "non-positive" }] },
      answeredInEarlierRound: { count: 1, lines: [6] },
      updateIntervals: { median: 3000, max: 6000, maxAt: "2023-11-14T23:03:20Z" },
      heartbeat: { seconds: 3600, graceSeconds: 60, over: 1, overWithGrace: 1, longest: { after: "2023-11-14T23:03:20Z", afterLine: 3, seconds: 6000 } },
      largestMove: { line: 6, at: "2023-11-15T00:43:20Z", logReturn: -0.013334 },
    });
    expect(Array.from(rounds.answer)).to.deep.equal([1500, 1510, 1490, 1480]);
    expect(rounds.answerRaw).to.deep.equal([150000000000n, 151000000000n, 149000000000n, 148000000000n]);
    expect(Array.from(rounds.phaseId)).to.deep.equal([5, 5, 5, 6]);
    expect(Array.from(rounds.aggregatorRoundId)).to.deep.equal([1, 2, 5, 1]);
    expect(Array.from(rounds.line)).to.deep.equal([2, 3, 6, 7]);
  });

  it("without decimals, `answer` is taken as the price itself", async () => {
    const { rounds, report } = await loadRounds(fixture("rounds-camel.csv"));
    expect(report.decimals).to.deep.equal({ value: null, source: "none" });
    expect(rounds.answer[0]).to.equal(150000000000);
    expect(report.heartbeat).to.equal(null);
  });

  it("rejects a phase column that disagrees with the round id, and rounds out of order", async () => {
    for (const [file, code, re] of [
      ["rounds-bad-phase.csv", "DATA_BAD_VALUE", /rounds-bad-phase\.csv:2: phase id 5 does not match round id 110680464442257309697 \(phase 6\)/],
      ["rounds-out-of-order.csv", "DATA_TIME_ORDER", /rounds-out-of-order\.csv:3: round 18446744073709551618 .* comes after round 18446744073709551617 .*line 2/],
      ["clean-1h.csv", "DATA_MISSING_COLUMN", /clean-1h\.csv:1: no round id column/],
    ] as const) {
      try {
        await loadRounds(fixture(file));
        expect.fail(`expected ${code} for ${file}`);
      } catch (error) {
        expect(isRiskkeeperError(error, code), String(error)).to.equal(true);
        expect((error as Error).message).to.match(re);
      }
    }
  });
});
