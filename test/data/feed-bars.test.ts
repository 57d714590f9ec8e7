// Oracle rounds as interval closes: the close is the last answer updated before the interval ends,
// carried through empty intervals; the interval in progress is not a bar; bad rounds are refused.
import { expect } from "chai";
import { roundsToBars, type OracleRound } from "../../bot/data/feed-bars.ts";
import { isRiskkeeperError } from "../../bot/errors.ts";

const H = 3_600;
const T0 = 1_767_225_600; // 2026-01-01T00:00Z
const round = (id: number, answer: number, updatedAt: number): OracleRound => ({ roundId: BigInt(id), answer, updatedAt });

describe("data/feed-bars: rounds to interval closes", () => {
  const rounds = [
    round(1, 2_000, T0 + 600), // bar 0
    round(2, 2_010, T0 + 3_000), // bar 0: its close
    round(3, 1_990, T0 + H), // exactly at bar 1's open: belongs to bar 1
    // no round in bar 2: 1,990 carried
    round(4, 1_900, T0 + 3 * H + 59), // bar 3
    round(5, 1_950, T0 + 4 * H + 10), // bar 4, still in progress at `until`
  ];

  it("takes the last answer before each interval's end, carries it through empty intervals, and leaves out the interval in progress", () => {
    const bars = roundsToBars(rounds, { intervalSeconds: H, untilSeconds: T0 + 4 * H + 1_800 });
    expect(Array.from(bars.t)).to.deep.equal([T0, T0 + H, T0 + 2 * H, T0 + 3 * H]);
    expect(Array.from(bars.close)).to.deep.equal([2_010, 1_990, 1_990, 1_900]);
    expect(bars.barTime).to.equal("open");
    expect(bars.intervalSeconds).to.equal(H);
  });

  it("once the interval ends its bar appears, and later empty intervals carry the last answer up to `until`", () => {
    const bars = roundsToBars(rounds, { intervalSeconds: H, untilSeconds: T0 + 7 * H });
    expect(Array.from(bars.close)).to.deep.equal([2_010, 1_990, 1_990, 1_900, 1_950, 1_950, 1_950]);
  });

  it("starts at `fromSeconds` (a backfill's end) with the answer standing then, and drops bars before the first round", () => {
    expect(Array.from(roundsToBars(rounds, { intervalSeconds: H, untilSeconds: T0 + 5 * H, fromSeconds: T0 + 2 * H + 5 }).close)).to.deep.equal([1_990, 1_900, 1_950]);
    const early = roundsToBars(rounds, { intervalSeconds: H, untilSeconds: T0 + 2 * H, fromSeconds: T0 - 5 * H });
    expect(Array.from(early.t)).to.deep.equal([T0, T0 + H]);
    expect(roundsToBars([], { intervalSeconds: H, untilSeconds: T0 }).t.length).to.equal(0);
    expect(roundsToBars(rounds, { intervalSeconds: H, untilSeconds: T0 + 10 }).t.length, "no interval has ended").to.equal(0);
  });

  it("refuses a zero, negative or NaN answer, rounds out of time order, and a bad interval, naming the input", () => {
    const cases: Array<[OracleRound[], number, string]> = [
      [[round(1, 2_000, T0), round(2, 0, T0 + 10)], H, "rounds[1].answer"],
      [[round(1, -5, T0)], H, "rounds[0].answer"],
      [[round(1, Number.NaN, T0)], H, "rounds[0].answer"],
      [[round(1, 2_000, T0 + 10), round(2, 2_001, T0)], H, "rounds[1].updatedAt"],
      [[round(1, 2_000, T0)], 0, "intervalSeconds"],
    ];
    for (const [rs, step, input] of cases) {
      let error: unknown;
      try { roundsToBars(rs, { intervalSeconds: step, untilSeconds: T0 + 5 * H }); } catch (e) { error = e; }
      expect(isRiskkeeperError(error, "INPUT_INVALID"), String(error)).to.equal(true);
      expect((error as { input: string }).input).to.equal(input);
    }
  });
});
