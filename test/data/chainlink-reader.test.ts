// The on-chain reader against an in-test JSON-RPC server on 127.0.0.1 that plays an
// EACAggregatorProxy with two phases, a sequencer feed and eth_feeHistory, and that can answer
// 429 / 503 on demand. A fake clock records every wait, so nothing here sleeps for real.
import { expect } from "chai";
import { expectNear } from "./near.ts";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Interface } from "ethers";
import {
  AGGREGATOR_V3_ABI, ChainlinkReader, PoliteRpc, RpcResponseError, baseFeeCongestion, encodeRoundId, httpTransport, judgeFeed, providerTransport, readBaseFees, readFeedHealth, watchFeed,
  type Clock, type FeedSnapshot,
} from "../../bot/data/index.ts";
import { resolveStressConfig } from "../../bot/signals/index.ts";
import { isRiskkeeperError } from "../../bot/errors.ts";

const iface = new Interface(AGGREGATOR_V3_ABI);
const PROXY = "0x5f4ec3df9cbd43714fe2740f5e3616155c5b8419";
const AGG1 = "0x1111111111111111111111111111111111111111";
const AGG2 = "0x2222222222222222222222222222222222222222";
const SEQ = "0x3333333333333333333333333333333333333333";
const T0 = 1_700_000_000;

/** Phase 1 rounds 1..3, phase 2 rounds 1..4; one round an hour; answers 2000.5 + i (8 decimals). */
const ROUNDS = [
  ...[1, 2, 3].map((r) => ({ phase: 1, agg: BigInt(r) })),
  ...[1, 2, 3, 4].map((r) => ({ phase: 2, agg: BigInt(r) })),
].map((x, i) => ({ id: encodeRoundId(x.phase, x.agg), answer: 200050000000n + BigInt(i) * 100000000n, t: T0 + i * 3600 }));

interface Chain {
  server: Server;
  url: string;
  /** HTTP statuses to answer with, in order, before serving normally. */
  failures: number[];
  requests: { method: string; to?: string; fn?: string }[];
  sequencerAnswer: bigint;
}

function roundTuple(r: (typeof ROUNDS)[number]): unknown[] {
  return [r.id, r.answer, r.t, r.t, r.id];
}

async function startChain(): Promise<Chain> {
  const chain: Chain = { server: undefined as unknown as Server, url: "", failures: [], requests: [], sequencerAnswer: 0n };
  chain.server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const { id, method, params } = JSON.parse(body) as { id: number; method: string; params: unknown[] };
      const entry: Chain["requests"][number] = { method };
      chain.requests.push(entry);
      const status = chain.failures.shift();
      if (status !== undefined) {
        res.writeHead(status, status === 429 ? { "retry-after": "0" } : {});
        res.end("busy");
        return;
      }
      const reply = (result: unknown): void => { res.writeHead(200, { "content-type": "application/json" }); res.end(JSON.stringify({ jsonrpc: "2.0", id, result })); };
      const revert = (): void => { res.writeHead(200, { "content-type": "application/json" }); res.end(JSON.stringify({ jsonrpc: "2.0", id, error: { code: 3, message: "execution reverted" } })); };
      if (method === "eth_getBlockByNumber") return reply({ number: "0x7d0", timestamp: `0x${(T0 + 6 * 3600 + 600).toString(16)}` });
      if (method === "eth_feeHistory") {
        const [countHex, newestHex] = params as [string, string];
        const n = Number(countHex);
        const newest = Number(newestHex);
        const fees = Array.from({ length: n + 1 }, (_, k) => `0x${((newest - n + 1 + k) * 1e9).toString(16)}`); // block b has base fee b gwei
        return reply({ oldestBlock: `0x${(newest - n + 1).toString(16)}`, baseFeePerGas: fees, gasUsedRatio: Array(n).fill(0.5) });
      }
      if (method !== "eth_call") return revert();
      const { to, data } = params[0] as { to: string; data: string };
      const tx = iface.parseTransaction({ data });
      entry.to = to.toLowerCase();
      entry.fn = tx?.name;
      const enc = (values: unknown[]): void => reply(iface.encodeFunctionResult(tx!.name, values));
      if (entry.to === SEQ) {
        if (tx?.name === "decimals") return enc([0]);
        if (tx?.name === "latestRoundData") return enc([1n, chain.sequencerAnswer, T0, T0, 1n]);
        return revert();
      }
      if (entry.to === AGG1 && tx?.name === "latestRound") return enc([3n]);
      if (entry.to === AGG2 && tx?.name === "latestRound") return enc([4n]);
      if (entry.to !== PROXY) return reply("0x");
      switch (tx?.name) {
        case "decimals": return enc([8]);
        case "description": return enc(["ETH / USD"]);
        case "latestRoundData": return enc(roundTuple(ROUNDS[ROUNDS.length - 1]));
        case "getRoundData": {
          const r = ROUNDS.find((x) => x.id === BigInt(tx.args[0]));
          return r ? enc(roundTuple(r)) : revert();
        }
        case "phaseAggregators": return enc([Number(tx.args[0]) === 1 ? AGG1 : Number(tx.args[0]) === 2 ? AGG2 : "0x0000000000000000000000000000000000000000"]);
        default: return revert();
      }
    });
  });
  await new Promise<void>((resolve) => chain.server.listen(0, "127.0.0.1", resolve));
  chain.url = `http://127.0.0.1:${(chain.server.address() as AddressInfo).port}`;
  return chain;
}

function fakeClock(start = 0): Clock & { sleeps: number[] } {
  let t = start;
  const sleeps: number[] = [];
  return { sleeps, now: () => t, sleep: async (ms) => { sleeps.push(ms); t += ms; } };
}

describe("data/chainlink-reader: polite RPC, history across phases, health, watcher", () => {
  let chain: Chain;
  before(async () => { chain = await startChain(); });
  after(async () => { await new Promise((resolve) => chain.server.close(resolve)); });
  beforeEach(() => { chain.failures = []; chain.requests = []; chain.sequencerAnswer = 0n; });

  it("retries 429 then 503 with exponential back-off, then succeeds", async () => {
    const clock = fakeClock();
    const rpc = new PoliteRpc(httpTransport(chain.url), { clock, requestsPerSecond: 1000, baseDelayMs: 250, label: "test-rpc" });
    chain.failures = [429, 503];
    const feed = new ChainlinkReader(rpc, PROXY);
    expect(await feed.decimals()).to.equal(8);
    expect(rpc.stats).to.include({ calls: 3, retries: 2 });
    expect(clock.sleeps).to.deep.equal([250, 500]);
  });

  it("gives up with RPC_FAILED naming the endpoint after maxRetries", async () => {
    const rpc = new PoliteRpc(httpTransport(chain.url), { clock: fakeClock(), maxRetries: 2, label: "test-rpc" });
    chain.failures = [500, 502, 503, 200];
    try {
      await rpc.request("eth_blockNumber", []);
      expect.fail("expected RPC_FAILED");
    } catch (e) {
      expect(isRiskkeeperError(e, "RPC_FAILED")).to.equal(true);
      expect((e as Error).message).to.match(/^test-rpc: eth_blockNumber failed after 3 attempts: eth_blockNumber: HTTP 503/);
    }
  });

  it("caps requests per second", async () => {
    const clock = fakeClock(10_000);
    const rpc = new PoliteRpc(httpTransport(chain.url), { clock, requestsPerSecond: 4 });
    for (let i = 0; i < 4; i++) await rpc.request("eth_getBlockByNumber", ["latest", false]);
    expect(clock.sleeps).to.deep.equal([250, 250, 250]);
  });

  it("stops at the call budget", async () => {
    const rpc = new PoliteRpc(httpTransport(chain.url), { clock: fakeClock(), budget: 2, label: "test-rpc" });
    await rpc.request("eth_getBlockByNumber", ["latest", false]);
    await rpc.request("eth_getBlockByNumber", ["latest", false]);
    try {
      await rpc.request("eth_getBlockByNumber", ["latest", false]);
      expect.fail("expected the budget to stop the call");
    } catch (e) {
      expect(isRiskkeeperError(e, "RPC_FAILED")).to.equal(true);
      expect((e as Error).message).to.match(/RPC call budget of 2 exhausted before eth_getBlockByNumber/);
    }
  });

  it("reads the latest round and decodes phase and aggregator round", async () => {
    const feed = new ChainlinkReader(new PoliteRpc(httpTransport(chain.url), { clock: fakeClock() }), PROXY);
    const r = await feed.latestRound();
    expect(r).to.deep.equal({
      roundId: (2n << 64n) | 4n, phaseId: 2, aggregatorRoundId: 4n, answerRaw: 200650000000n, answer: 2006.5,
      startedAt: T0 + 6 * 3600, updatedAt: T0 + 6 * 3600, answeredInRound: (2n << 64n) | 4n,
    });
    expect(await feed.description()).to.equal("ETH / USD");
  });

  it("walks history back across the phase boundary and serves old rounds from the cache", async () => {
    const rpc = new PoliteRpc(httpTransport(chain.url), { clock: fakeClock() });
    const feed = new ChainlinkReader(rpc, PROXY);
    const h = await feed.history(6);
    expect(h.stoppedAt).to.equal(null);
    expect(h.rounds.map((r) => `${r.phaseId}/${r.aggregatorRoundId}`)).to.deep.equal(["1/2", "1/3", "2/1", "2/2", "2/3", "2/4"]);
    expect(h.rounds.map((r) => r.roundId)).to.deep.equal(ROUNDS.slice(1).map((r) => r.id));
    expect(h.rounds.map((r) => r.updatedAt)).to.deep.equal(ROUNDS.slice(1).map((r) => r.t));
    const callsBefore = rpc.stats.calls;
    const again = await feed.history(6);
    expect(again.rounds).to.deep.equal(h.rounds);
    // only latestRoundData and the old aggregator's latestRound go out again; rounds, decimals and phaseAggregators are cached
    expect(rpc.stats.calls - callsBefore).to.equal(2);
    expect(rpc.stats.cacheHits).to.be.greaterThan(5);
  });

  it("stops at the first round of the first phase and says why", async () => {
    const feed = new ChainlinkReader(new PoliteRpc(httpTransport(chain.url), { clock: fakeClock() }), PROXY);
    const h = await feed.history(50);
    expect(h.rounds).to.have.length(7);
    expect(h.stoppedAt).to.deep.equal({ roundId: (1n << 64n) | 1n, reason: "first round of phase 1; no earlier phase known" });
    expect(await feed.getRound((2n << 64n) | 99n)).to.equal(null);
  });

  it("FEED_FAILED names the address that is not a feed", async () => {
    const feed = new ChainlinkReader(new PoliteRpc(httpTransport(chain.url), { clock: fakeClock() }), "0x4444444444444444444444444444444444444444");
    try {
      await feed.latestRound();
      expect.fail("expected FEED_FAILED");
    } catch (e) {
      expect(isRiskkeeperError(e, "FEED_FAILED")).to.equal(true);
      expect((e as Error).message).to.match(/^0x4444444444444444444444444444444444444444: decimals returned no data/);
    }
    expect(() => new ChainlinkReader(new PoliteRpc(httpTransport(chain.url)), "0x12")).to.throw(/feed address: not an address/);
  });

  it("health: staleness vs heartbeat, deviation vs a second source, sequencer down", async () => {
    const rpc = new PoliteRpc(httpTransport(chain.url), { clock: fakeClock() });
    const feed = new ChainlinkReader(rpc, PROXY);
    const seq = new ChainlinkReader(rpc, SEQ);
    const updated = T0 + 6 * 3600;
    chain.sequencerAnswer = 1n;
    const h = await readFeedHealth(feed, updated + 3700, { heartbeatSeconds: 3600, graceSeconds: 60, reference: 2100, sequencer: seq });
    expect(h.staleness).to.deep.equal({ ageSeconds: 3700, heartbeatSeconds: 3600, heartbeats: 3700 / 3600, stale: true });
    expectNear(h.deviation!, 2006.5 / 2100 - 1, 1e-12);
    expect(h.sequencer).to.deep.equal({ up: false, sinceSeconds: updated + 3700 - T0, usable: false });
    const judged = judgeFeed(h, null, resolveStressConfig({ oracle: { graceSeconds: 60 } }));
    expect(judged.level).to.equal("critical");
    expect(judged.reasons.map((r) => `${r.signal}:${r.level}`)).to.deep.equal(["oracle-age:elevated", "oracle-deviation:elevated", "sequencer:critical"]);
    const fresh = await readFeedHealth(feed, updated + 600, { heartbeatSeconds: 3600, graceSeconds: 60 });
    expect(fresh.staleness.stale).to.equal(false);
  });

  it("base fees from eth_feeHistory in 1,024-block chunks; settled chunks are cached", async () => {
    const rpc = new PoliteRpc(httpTransport(chain.url), { clock: fakeClock() });
    const h = await readBaseFees(rpc, { blockCount: 1500, newestBlock: 2000n, headBlock: 2100n });
    expect(h.oldestBlock).to.equal(501n);
    expect(h.baseFeePerGas).to.have.length(1500);
    expect(h.baseFeePerGas[0]).to.equal(501n * 10n ** 9n);
    expect(h.baseFeePerGas[1499]).to.equal(2000n * 10n ** 9n);
    expect(rpc.stats.calls).to.equal(2);
    await readBaseFees(rpc, { blockCount: 1500, newestBlock: 2000n, headBlock: 2100n });
    expect(rpc.stats).to.include({ calls: 2, cacheHits: 2 });
    // the head itself is not settled: not cached
    await readBaseFees(rpc, { blockCount: 10, newestBlock: 2100n, headBlock: 2100n });
    await readBaseFees(rpc, { blockCount: 10, newestBlock: 2100n, headBlock: 2100n });
    expect(rpc.stats.calls).to.equal(4);
    const c = baseFeeCongestion(h);
    expect(c.current).to.equal(2000);
    expect(c.percentileRank).to.equal(1);
  });

  it("the watcher can take 'now' from the chain's latest block and judge the base fee", async () => {
    const clock = fakeClock(0); // the clock is far in the past: only the block time matters
    const rpc = new PoliteRpc(httpTransport(chain.url), { clock, requestsPerSecond: 1000 });
    const snaps: FeedSnapshot[] = [];
    const result = await watchFeed({
      rpc, feed: new ChainlinkReader(rpc, PROXY), clock, maxPolls: 1, timeSource: "block", feeHistoryBlocks: 100,
      reference: async () => 2006.5 * 1.03,
      onSnapshot: (x) => snaps.push(x),
    });
    expect(result).to.deep.equal({ polls: 1, snapshots: 1, failures: 0, stopReason: "max-polls" });
    const s = snaps[0];
    expect(s.at).to.equal("2023-11-15T04:23:20Z"); // block timestamp = last update + 600 s
    expect(s.health.staleness.ageSeconds).to.equal(600);
    expect(s.gas).to.deep.include({ current: 2000, samples: 100, percentileRank: 1 });
    expect(s.reasons.map((r) => `${r.signal}:${r.level}`)).to.deep.equal(["oracle-deviation:elevated", "gas:elevated"]);
    expect(s.level).to.equal("elevated");
  });

  it("providerTransport adapts an ethers-style `send` and maps failures", async () => {
    const ok = providerTransport({ send: async (method: string) => (method === "eth_chainId" ? "0x1" : Promise.reject(Object.assign(new Error("execution reverted"), { code: 3, data: "0x" }))) });
    expect(await ok("eth_chainId", [])).to.equal("0x1");
    try {
      await ok("eth_call", []);
      expect.fail("expected a response error");
    } catch (e) {
      expect(e).to.be.instanceOf(RpcResponseError);
      expect((e as RpcResponseError).rpcCode).to.equal(3);
    }
  });

  it("the watcher polls on its clock, backs off after a failure, and stops at its budget", async () => {
    const clock = fakeClock((T0 + 6 * 3600 + 60) * 1000);
    const rpc = new PoliteRpc(httpTransport(chain.url), { clock, maxRetries: 0, budget: 9, requestsPerSecond: 1000 });
    const feed = new ChainlinkReader(rpc, PROXY);
    await feed.decimals(); // 1 call
    const snaps: FeedSnapshot[] = [];
    const errors: number[] = [];
    // poll 1 ok (1 call), poll 2 fails (503, no retries), poll 3 ok, then more polls until the budget is spent
    chain.failures = [];
    let poll = 0;
    const result = await watchFeed({
      rpc, feed, clock, pollMs: 60_000, maxPolls: 20,
      onSnapshot: (s) => { snaps.push(s); if (++poll === 1) chain.failures = [503]; },
      onError: (_e, _attempt, delay) => errors.push(delay),
    });
    expect(result).to.deep.equal({ polls: 8, snapshots: 7, failures: 1, stopReason: "budget" });
    expect(errors).to.deep.equal([120_000]);
    expect(clock.sleeps.filter((ms) => ms >= 1000).slice(0, 3)).to.deep.equal([60_000, 120_000, 60_000]); // (1 ms waits are the rate cap)
    expect(snaps[0]).to.deep.include({ at: "2023-11-15T04:14:20Z", level: "calm" });
    expect(snaps[0].health.staleness.ageSeconds).to.equal(60);
    // later polls see the answer age: poll k is ~k minutes later, 3 min after the back-off
    expectNear(snaps[6].health.staleness.ageSeconds, 60 + 60 * 8, 0.01);
    expect(snaps[6].rpc.budgetLeft).to.equal(0);
  });
});
