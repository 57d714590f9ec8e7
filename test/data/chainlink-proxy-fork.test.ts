// The feed reader behind a proxy on a fork of a local node: two ReplayAggregators loaded with real
// ETH/USD rounds (the last phase-5 daily samples, then the first phase-6 rounds, by their
// aggregator round ids) behind a FeedProxy that moved from the first to the second, deployed on a
// Hardhat node on 127.0.0.1 and read through an EDR fork of it. The walk back through history
// decodes both phases and crosses from the proxy's phase 2 into phase 1 where that phase ended.
import { expect } from "chai";
import { readFileSync } from "node:fs";
import type { Contract } from "ethers";
import { ChainlinkReader, PoliteRpc, decodeRoundId, encodeRoundId, providerTransport, readFeedHealth } from "../../bot/data/index.ts";
import { forkAt, startLocalNode, type Connection, type LocalNode } from "../support/fork-node.ts";
import { sharedDataFile } from "../support/shared-data.ts";

interface Row { aggregatorRoundId: bigint; answerRaw: bigint; updatedAt: number }

function phase6Rows(file: string, count: number): Row[] {
  const [header, ...lines] = readFileSync(file, "utf8").trim().split("\n");
  const cols = header.split(",");
  const at = (name: string) => cols.indexOf(name);
  return lines.slice(0, count).map((line) => {
    const f = line.split(",");
    return { aggregatorRoundId: BigInt(f[at("aggregator_round_id")]), answerRaw: BigInt(f[at("answer_raw")]), updatedAt: Number(f[at("updated_at")]) };
  });
}

function phase5DailyRows(file: string, before: number, count: number): Row[] {
  const [header, ...lines] = readFileSync(file, "utf8").trim().split("\n");
  const cols = header.split(",");
  const at = (name: string) => cols.indexOf(name);
  const rows = lines
    .map((line) => line.split(","))
    .filter((f) => f[at("phase_id")] === "5")
    .map((f) => ({
      aggregatorRoundId: BigInt(f[at("aggregator_round_id")]),
      answerRaw: BigInt(Math.round(Number(f[at("answer")]) * 1e8)),
      updatedAt: Date.parse(`${f[at("updated_at_utc")].replace(" ", "T")}Z`) / 1000,
    }))
    .filter((r) => r.updatedAt < before);
  return rows.slice(-count);
}

describe("data/chainlink-reader behind a FeedProxy on a fork of a local node", function () {
  this.timeout(120_000);
  let node: LocalNode | undefined;
  let fork: Connection | undefined;

  after(async () => {
    await fork?.close();
    await node?.close();
  });

  it("reads every round back exactly through the proxy, decodes both phases and crosses into the earlier one", async function () {
    const roundsFile = sharedDataFile(this, "chainlink-rounds/chainlink_eth_usd_rounds.csv");
    const dailyFile = sharedDataFile(this, "chainlink-rounds/chainlink_eth_usd_daily_2359utc.csv");
    const p6 = phase6Rows(roundsFile, 24);
    const p5 = phase5DailyRows(dailyFile, p6[0].updatedAt, 4);
    node = await startLocalNode();
    const { ethers } = node.connection;
    const [deployer] = await ethers.getSigners();
    const deploy = async (rows: Row[], description: string) => {
      const agg = (await ethers.deployContract("ReplayAggregator", [8, description, deployer.address])) as unknown as Contract;
      await (await agg.getFunction("loadRounds")(rows.map((r) => r.aggregatorRoundId), rows.map((r) => r.answerRaw), rows.map((r) => r.updatedAt), rows.map((r) => r.updatedAt))).wait();
      await (await agg.getFunction("publishThrough")(rows.length)).wait();
      return agg;
    };
    const phaseOne = await deploy(p5, "ETH / USD (phase 5 sample)");
    const phaseTwo = await deploy(p6, "ETH / USD (phase 6)");
    const proxy = (await ethers.deployContract("FeedProxy", [await phaseOne.getAddress(), deployer.address])) as unknown as Contract;
    await (await proxy.getFunction("proposeAggregator")(await phaseTwo.getAddress())).wait();
    await (await proxy.getFunction("confirmAggregator")(await phaseTwo.getAddress())).wait();
    const block = await ethers.provider.getBlockNumber();

    fork = await forkAt(node.url, block);
    const rpc = new PoliteRpc(providerTransport(fork.provider), { label: "fork", requestsPerSecond: 1_000 });
    const reader = new ChainlinkReader(rpc, await proxy.getAddress());
    const latest = await reader.latestRound();
    expect(decodeRoundId(latest.roundId)).to.deep.equal({ phaseId: 2, aggregatorRoundId: p6[p6.length - 1].aggregatorRoundId });
    expect(latest.answerRaw).to.equal(p6[p6.length - 1].answerRaw);

    const { rounds, stoppedAt } = await reader.history(100);
    // Oldest first: phase 1's last round, then every phase-2 round in order.
    expect(rounds).to.have.length(p6.length + 1);
    expect(rounds[0].phaseId).to.equal(1);
    expect(rounds[0].aggregatorRoundId).to.equal(p5[p5.length - 1].aggregatorRoundId);
    expect(rounds[0].answerRaw).to.equal(p5[p5.length - 1].answerRaw);
    rounds.slice(1).forEach((r, i) => {
      expect(r.roundId).to.equal(encodeRoundId(2, p6[i].aggregatorRoundId));
      expect([r.phaseId, r.aggregatorRoundId, r.answerRaw, r.updatedAt, r.startedAt]).to.deep.equal([2, p6[i].aggregatorRoundId, p6[i].answerRaw, p6[i].updatedAt, p6[i].updatedAt]);
    });
    // The daily sample holds no earlier consecutive phase-1 round: the walk says where it stopped.
    expect(stoppedAt?.roundId).to.equal(encodeRoundId(1, p5[p5.length - 1].aggregatorRoundId - 1n));

    // Staleness against the 3,600 s heartbeat, judged at a time of our choosing.
    const last = p6[p6.length - 1].updatedAt;
    const fresh = await readFeedHealth(reader, last + 600, { heartbeatSeconds: 3_600 });
    const stale = await readFeedHealth(reader, last + 3_700, { heartbeatSeconds: 3_600 });
    expect(fresh.staleness.stale).to.equal(false);
    expect(stale.staleness.stale).to.equal(true);
  });
});
