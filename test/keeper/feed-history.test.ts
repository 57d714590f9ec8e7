// The live keeper's history from the feed it guards: a ReplayAggregator on an in-process EDR chain
// read through ChainlinkReader. Closes match the rounds, only new rounds are read on a refresh, a
// backfill file is extended by the feed, and a latest round that is not a price stops the keeper.
import { expect } from "chai";
import type { Contract } from "ethers";
import { network } from "hardhat";
import { ChainlinkReader, PoliteRpc, providerTransport } from "../../bot/data/index.ts";
import { roundsToBars } from "../../bot/data/feed-bars.ts";
import { generatedHourlySeries } from "../../bot/data/generated.ts";
import { isRiskkeeperError } from "../../bot/errors.ts";
import { FeedHistory } from "../../bot/keeper/feed-history.ts";

const H = 3_600;

describe("keeper/feed-history: calibration history read from the feed", function () {
  this.timeout(120_000);
  let connection: Awaited<ReturnType<typeof network.create>>;
  let feed: Contract;
  let rpc: PoliteRpc;
  // 30 days of a generated hourly path, published as one round 7 minutes past each hour.
  const path = generatedHourlySeries({ hours: 30 * 24, startTime: 1_767_225_600 });
  const roundTimes = Array.from(path.t, (t) => t + 420);
  const end = roundTimes[roundTimes.length - 1] + 1_000;
  let loaded = 0;

  const load = async (count: number) => {
    const ids: bigint[] = [], answers: bigint[] = [], times: bigint[] = [];
    for (let i = loaded; i < loaded + count; i++) {
      ids.push(BigInt(i + 1));
      answers.push(BigInt(Math.round(path.close[i] * 1e8)));
      times.push(BigInt(roundTimes[i]));
    }
    for (let k = 0; k < ids.length; k += 200) {
      await (await feed.getFunction("loadRounds")(ids.slice(k, k + 200), answers.slice(k, k + 200), times.slice(k, k + 200), times.slice(k, k + 200))).wait();
    }
    loaded += count;
    await (await feed.getFunction("publishThrough")(loaded)).wait();
  };

  before(async () => {
    connection = await network.create();
    const [owner] = await connection.ethers.getSigners();
    feed = (await connection.ethers.deployContract("ReplayAggregator", [8, "ETH / USD", owner.address])) as unknown as Contract;
    rpc = new PoliteRpc(providerTransport(connection.provider), { label: "hardhat", requestsPerSecond: 10_000 });
    await load(path.t.length - 48);
  });
  after(async () => {
    await connection?.close();
  });

  it("builds the closes the rounds imply over the lookback, then reads only the rounds published since", async () => {
    const address = await feed.getAddress();
    const history = new FeedHistory({ feed: new ChainlinkReader(rpc, address), intervalSeconds: H, lookbackSeconds: 10 * 24 * H, chunkRounds: 100 });
    const now = roundTimes[loaded - 1] + 1_000;
    const first = await history.refresh(now);
    // The rounds of the 10 days (both ends included) and the one standing when the window opens.
    expect(first.newRounds).to.equal(10 * 24 + 2);
    const expected = roundsToBars(
      Array.from({ length: loaded }, (_, i) => ({ roundId: BigInt(i + 1), answer: Number(BigInt(Math.round(path.close[i] * 1e8))) / 1e8, updatedAt: roundTimes[i] })).slice(-(10 * 24 + 2)),
      { intervalSeconds: H, untilSeconds: now },
    );
    expect(Array.from(history.series.close)).to.deep.equal(Array.from(expected.close));
    const returns = history.returnsAt(now);
    expect(returns.length).to.equal(expected.close.length - 1);
    expect(returns[returns.length - 1]).to.be.closeTo(Math.log(expected.close.at(-1)! / expected.close.at(-2)!), 1e-12);

    const callsBefore = rpc.stats.calls;
    await load(48);
    const second = await history.refresh(end);
    expect(second.newRounds).to.equal(48);
    expect(rpc.stats.calls - callsBefore, "latestRoundData + one chunk of getRoundData, nothing re-read").to.be.at.most(48 + 2);
    // The hour of the last round is still in progress at `end`: the last bar is the hour before.
    expect(history.series.close.at(-1)).to.equal(Number(BigInt(Math.round(path.close[loaded - 2] * 1e8))) / 1e8);
    expect((await history.refresh(end)).newRounds, "nothing new").to.equal(0);
    // No new round, but time goes on: the intervals that end carry the last answer.
    const bars = history.series.t.length;
    await history.refresh(end + 2 * H);
    expect(history.series.t.length).to.equal(bars + 2);
    expect(Array.from(history.series.close.slice(-2))).to.deep.equal([Number(BigInt(Math.round(path.close[loaded - 1] * 1e8))) / 1e8, Number(BigInt(Math.round(path.close[loaded - 1] * 1e8))) / 1e8]);
    const report = history.reportAt(end) as { feed: { address: string; roundsRead: number } };
    expect(report.feed.address).to.equal(address);
    expect(report.feed.roundsRead).to.equal(10 * 24 + 2 + 48);
    expect(history.stressAt(end).level).to.be.oneOf(["calm", "elevated", "stressed", "critical"]);
  });

  it("extends a backfill file with the rounds after its last bar", async () => {
    const backfillBars = 20 * 24;
    const backfill = { ...path, t: path.t.slice(0, backfillBars), open: path.open.slice(0, backfillBars), high: path.high.slice(0, backfillBars), low: path.low.slice(0, backfillBars), close: path.close.slice(0, backfillBars), volume: path.volume.slice(0, backfillBars), line: path.line.slice(0, backfillBars) };
    const history = new FeedHistory({ feed: new ChainlinkReader(rpc, await feed.getAddress()), intervalSeconds: H, lookbackSeconds: 365 * 24 * H, backfill: { series: backfill, source: "backfill.csv" } });
    const { newRounds } = await history.refresh(end);
    // Rounds back to the backfill's end (and the one standing then), not the whole lookback.
    expect(newRounds).to.be.lessThan(loaded - backfillBars + 3);
    const s = history.series;
    expect(s.t[backfillBars - 1]).to.equal(backfill.t[backfillBars - 1]);
    expect(s.t[backfillBars] - s.t[backfillBars - 1], "no gap and no overlap at the seam").to.equal(H);
    for (let i = 1; i < s.t.length; i++) expect(s.t[i] - s.t[i - 1]).to.equal(H);
    expect(s.barTime, "the file's convention is kept").to.equal("point");
    expect(s.t.at(-1)!, "a point stamp is when the close was seen: never after now").to.be.at.most(end);
  });

  it("leaves out a 99% one-round drop once the next round undoes it, and notes it; until then it is the latest price", async () => {
    const [owner] = await connection.ethers.getSigners();
    const spiky = (await connection.ethers.deployContract("ReplayAggregator", [8, "ETH / USD", owner.address])) as unknown as Contract;
    const t0 = Math.floor(end / H) * H - 48 * H;
    const price = (i: number) => 2_000n * 10n ** 8n + BigInt(i) * 10n ** 8n;
    // One round 10 minutes into each hour; the spike 40 minutes into hour 40, the revert in hour 41.
    const rounds = Array.from({ length: 48 }, (_, i) => ({ answer: price(i), t: t0 + i * H + 600 }));
    const spike = { answer: price(40) / 100n, t: t0 + 40 * H + 2_400 };
    const withSpike = [...rounds.slice(0, 41), spike, ...rounds.slice(41)];
    const publish = async (upTo: number) => {
      const ids = withSpike.map((_, i) => BigInt(i + 1));
      const times = withSpike.map((r) => BigInt(r.t));
      await (await spiky.getFunction("loadRounds")(ids.slice(0, upTo), withSpike.slice(0, upTo).map((r) => r.answer), times.slice(0, upTo), times.slice(0, upTo))).wait();
      await (await spiky.getFunction("publishThrough")(upTo)).wait();
    };
    await publish(42); // through the spike
    const history = new FeedHistory({ feed: new ChainlinkReader(rpc, await spiky.getAddress()), intervalSeconds: H, lookbackSeconds: 30 * 24 * H });
    await history.refresh(t0 + 41 * H + 60);
    expect(history.series.close.at(-1), "not yet undone: the spike stands as the latest price").to.equal(Number(spike.answer) / 1e8);

    await (await spiky.getFunction("loadRounds")(withSpike.slice(42).map((_, j) => BigInt(43 + j)), withSpike.slice(42).map((r) => r.answer), withSpike.slice(42).map((r) => BigInt(r.t)), withSpike.slice(42).map((r) => BigInt(r.t)))).wait();
    await (await spiky.getFunction("publishThrough")(withSpike.length)).wait();
    const now = t0 + 48 * H + 60;
    await history.refresh(now);
    const clean = roundsToBars(rounds.map((r, i) => ({ roundId: BigInt(i + 1), answer: Number(r.answer) / 1e8, updatedAt: r.t })), { intervalSeconds: H, untilSeconds: now });
    expect(Array.from(history.series.close)).to.deep.equal(Array.from(clean.close));
    const notes = (history.reportAt(now) as { feed: { notes: string[] } }).feed.notes;
    expect(notes.some((n) => /^round 42 .* left out: answer 20\.4 moved -99\.0% and the next round undid it$/.test(n)), notes.join("; ")).to.equal(true);
  });

  it("refuses to calibrate on a feed whose latest answer is zero, and on a feed with no round", async () => {
    const [owner] = await connection.ethers.getSigners();
    const broken = (await connection.ethers.deployContract("ReplayAggregator", [8, "ETH / USD", owner.address])) as unknown as Contract;
    const empty = new FeedHistory({ feed: new ChainlinkReader(rpc, await broken.getAddress()), intervalSeconds: H, lookbackSeconds: 30 * 24 * H });
    const noRound = await empty.refresh(end).then(() => undefined, (e: unknown) => e);
    expect(isRiskkeeperError(noRound, "FEED_FAILED"), String(noRound)).to.equal(true);
    expect(() => empty.returnsAt(end)).to.throw(/fewer than 2 interval closes/);

    await (await broken.getFunction("loadRounds")([1n, 2n], [2_000n * 10n ** 8n, 0n], [BigInt(end - 7_200), BigInt(end - 60)], [BigInt(end - 7_200), BigInt(end - 60)])).wait();
    await (await broken.getFunction("publishThrough")(2n)).wait();
    const zero = await empty.refresh(end).then(() => undefined, (e: unknown) => e);
    expect(isRiskkeeperError(zero, "FEED_FAILED"), String(zero)).to.equal(true);
    expect((zero as Error).message).to.match(/latest round 2 reports answer 0/);
  });
});
