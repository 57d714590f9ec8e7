// The reader against a real contract: ReplayAggregator on the in-process Hardhat chain, loaded with
// recorded ETH/USD rounds (a subset, for speed): the last phase-5 rounds the proxy served (daily
// sample) followed by phase-6 rounds from 2023-05-08 on, plus the rounds around the longest update
// interval of the history (3,720 s after 2023-08-28 14:55:35). Rounds must read back exactly,
// phases must decode, and staleness must follow the 3,600 s heartbeat.
import { expect } from "chai";
import { network } from "hardhat";
import { parseUnits, type Contract } from "ethers";
import { ChainlinkReader, PoliteRpc, decodeRoundId, loadRounds, providerTransport, readFeedHealth, watchFeed, type Clock, type FeedSnapshot, type RoundSeries } from "../../bot/data/index.ts";
import { sharedDataFile } from "../support/shared-data.ts";

interface Row { roundId: bigint; answerRaw: bigint; startedAt: number; updatedAt: number }

const PHASE6_START = Date.parse("2023-05-07T23:55:35Z") / 1000; // last phase-5 round the proxy served

function rowsOf(rounds: RoundSeries, from: number, to: number): Row[] {
  const out: Row[] = [];
  for (let i = from; i < to; i++) {
    out.push({
      roundId: rounds.roundId[i],
      answerRaw: rounds.answerRaw ? rounds.answerRaw[i] : parseUnits(String(rounds.answer[i]), 8),
      startedAt: Number.isNaN(rounds.startedAt[i]) ? rounds.updatedAt[i] : rounds.startedAt[i],
      updatedAt: rounds.updatedAt[i],
    });
  }
  return out;
}

describe("data/chainlink-reader on ReplayAggregator (in-process Hardhat chain)", function () {
  let feedContract: Contract;
  let reader: ChainlinkReader;
  let provider: { request(args: { method: string; params?: unknown[] }): Promise<unknown> };
  let phase5: Row[];
  let phase6: Row[];
  let gapRows: Row[];

  before(async function () {
    const full = (await loadRounds(sharedDataFile(this, "chainlink-rounds/chainlink_eth_usd_rounds.csv"))).rounds;
    const daily = (await loadRounds(sharedDataFile(this, "chainlink-rounds/chainlink_eth_usd_daily_2359utc.csv"))).rounds;
    const lastP5 = Array.from(daily.phaseId).lastIndexOf(5);
    phase5 = rowsOf(daily, lastP5 - 4, lastP5 + 1);
    const first6 = full.updatedAt.findIndex((t) => t > PHASE6_START);
    phase6 = rowsOf(full, first6, first6 + 120);
    const gapAt = full.roundId.findIndex((id) => decodeRoundId(id).aggregatorRoundId === 4951n);
    gapRows = rowsOf(full, gapAt - 5, gapAt + 5);

    const connection = await network.create();
    const { ethers } = connection;
    provider = connection.provider as typeof provider;
    const [owner] = await ethers.getSigners();
    feedContract = (await ethers.deployContract("ReplayAggregator", [8, "ETH / USD", owner.address])) as unknown as Contract;
    const all = [...phase5, ...phase6, ...gapRows];
    for (let i = 0; i < all.length; i += 100) {
      const batch = all.slice(i, i + 100);
      await (await feedContract.getFunction("loadRounds")(
        batch.map((r) => r.roundId), batch.map((r) => r.answerRaw), batch.map((r) => r.startedAt), batch.map((r) => r.updatedAt),
      )).wait();
    }
    // publish through the end of the phase-6 run (the gap rounds stay hidden for now)
    await (await feedContract.getFunction("publishThrough")(phase5.length + phase6.length)).wait();
    const rpc = new PoliteRpc(providerTransport(provider), { label: "hardhat", requestsPerSecond: 1e9 });
    reader = new ChainlinkReader(rpc, await feedContract.getAddress());
  });

  it("reads decimals and the latest round exactly, phase decoded", async () => {
    expect(await reader.decimals()).to.equal(8);
    const latest = await reader.latestRound();
    const want = phase6[phase6.length - 1];
    expect(latest).to.deep.include({ roundId: want.roundId, answerRaw: want.answerRaw, startedAt: want.startedAt, updatedAt: want.updatedAt, answeredInRound: want.roundId, phaseId: 6 });
    expect(latest.aggregatorRoundId).to.equal(decodeRoundId(want.roundId).aggregatorRoundId);
  });

  it("walks phase 6 back round by round to where the replay starts, every round exact", async () => {
    const h = await reader.history(500);
    expect(h.rounds.map((r) => [r.roundId, r.answerRaw, r.startedAt, r.updatedAt])).to.deep.equal(phase6.map((r) => [r.roundId, r.answerRaw, r.startedAt, r.updatedAt]));
    expect(h.rounds.every((r) => r.phaseId === 6)).to.equal(true);
    // the replay holds no phase-6 round before the migration and the contract has no phaseAggregators
    expect(h.stoppedAt?.reason).to.equal("round not found");
    expect(decodeRoundId(h.stoppedAt!.roundId)).to.deep.equal({ phaseId: 6, aggregatorRoundId: decodeRoundId(phase6[0].roundId).aggregatorRoundId - 1n });
  });

  it("reads the phase-5 rounds the proxy served before 2023-05-08 by id", async () => {
    for (const want of phase5) {
      const r = await reader.getRound(want.roundId);
      expect(r).to.not.equal(null);
      expect(r!.phaseId).to.equal(5);
      expect([r!.answerRaw, r!.updatedAt]).to.deep.equal([want.answerRaw, want.updatedAt]);
    }
    expect(phase5[phase5.length - 1].updatedAt).to.be.lessThan(phase6[0].updatedAt);
  });

  it("staleness against the 3,600 s heartbeat across the longest recorded interval (3,720 s)", async () => {
    // time mode: serve the gap rounds at their own cadence, shifted onto the chain's clock
    await (await feedContract.getFunction("publishThrough")(phase5.length + phase6.length + gapRows.length)).wait();
    const before = gapRows[5]; // aggregator round 4951, the last update before the 3,720 s interval
    expect(decodeRoundId(before.roundId).aggregatorRoundId).to.equal(4951n);
    expect(gapRows[6].updatedAt - before.updatedAt).to.equal(3720);
    const probe = async (secondsAfter: number): Promise<{ age: number; stale: boolean; roundId: bigint }> => {
      const latestBlock = (await provider.request({ method: "eth_getBlockByNumber", params: ["latest", false] })) as { timestamp: string };
      const chainTime = Number(BigInt(latestBlock.timestamp)) + 10;
      const offset = chainTime - (before.updatedAt + secondsAfter);
      await provider.request({ method: "evm_setNextBlockTimestamp", params: [chainTime] });
      await (await feedContract.getFunction("setMode")(true, offset)).wait();
      const h = await readFeedHealth(reader, chainTime, { heartbeatSeconds: 3600, graceSeconds: 60 });
      expect(h.round.updatedAt).to.equal(before.updatedAt + offset);
      return { age: h.staleness.ageSeconds, stale: h.staleness.stale, roundId: h.round.roundId };
    };
    expect(await probe(600)).to.deep.equal({ age: 600, stale: false, roundId: before.roundId });
    expect(await probe(3650)).to.deep.equal({ age: 3650, stale: false, roundId: before.roundId });
    expect(await probe(3700)).to.deep.equal({ age: 3700, stale: true, roundId: before.roundId });
  });

  it("the watcher replays the feed on chain time: polls every 30 min, sees the 3,720 s interval go stale", async () => {
    const u = gapRows[5].updatedAt; // round 4951
    const blockTime = async (): Promise<number> =>
      Number(BigInt(((await provider.request({ method: "eth_getBlockByNumber", params: ["latest", false] })) as { timestamp: string }).timestamp));
    // chain clock: sleeping mines a block exactly that much later (sub-second waits of the rate cap are skipped)
    let chainNow = 0;
    const chainClock: Clock = {
      now: () => chainNow * 1000,
      sleep: async (ms) => {
        if (ms < 1000) return;
        chainNow = (await blockTime()) + ms / 1000;
        await provider.request({ method: "evm_setNextBlockTimestamp", params: [chainNow] });
        await provider.request({ method: "evm_mine", params: [] });
      },
    };
    const start = u + 3690 - 4 * 1800; // the 5th poll lands 3,690 s after round 4951: inside the 3,720 s interval
    const chainStart = (await blockTime()) + 10;
    const offset = chainStart - start;
    chainNow = chainStart;
    await provider.request({ method: "evm_setNextBlockTimestamp", params: [chainStart] });
    await (await feedContract.getFunction("setMode")(true, offset)).wait();
    const rpc = new PoliteRpc(providerTransport(provider), { label: "hardhat", requestsPerSecond: 1e9, clock: chainClock });
    const feed = new ChainlinkReader(rpc, await feedContract.getAddress());
    const snaps: FeedSnapshot[] = [];
    await watchFeed({
      rpc, feed, clock: chainClock, pollMs: 1_800_000, maxPolls: 6, timeSource: "block",
      config: { oracle: { heartbeatSeconds: 3600, graceSeconds: 60 } },
      onSnapshot: (x) => snaps.push(x),
      onError: (e) => { throw e; },
    });
    const expected = [0, 1, 2, 3, 4, 5].map((k) => {
      const recorded = start + k * 1800;
      const live = [...gapRows].reverse().find((r) => r.updatedAt <= recorded)!;
      return { age: recorded - live.updatedAt, roundId: live.roundId };
    });
    expect(snaps.map((x) => ({ age: x.health.staleness.ageSeconds, roundId: x.health.round.roundId }))).to.deep.equal(expected);
    expect(snaps.map((x) => x.level)).to.deep.equal(expected.map((e) => (e.age - 60 >= 3600 ? "elevated" : "calm")));
    expect(snaps[4].health.staleness).to.deep.include({ ageSeconds: 3690, stale: true });
    expect(snaps[4].reasons[0].signal).to.equal("oracle-age");
  });
});
