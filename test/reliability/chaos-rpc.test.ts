// Faults between the keeper and its node: bench/chaos-proxy.ts on 127.0.0.1 in front of a real
// Hardhat node (network.createServer on 127.0.0.1). For each fault, through the proxy:
//   - bot/data (PoliteRpc + ChainlinkReader + readFeedHealth, judged at the keeper's own clock):
//     either an error, or a round judged stale, or (for a mere delay) the current round; never a
//     fresh-looking wrong price;
//   - bot/chain (connectRpc + TxManager.submit): nothing lands on the node while the fault lasts
//     (wrong chain id: CHAIN_MISMATCH before signing), and the same update id lands exactly once
//     after the fault ends;
//   - the failure goes to the keeper's JSON log with its code, and the next read after the fault
//     ends is fresh and right.
// A table of faults tried / survived / recovered is printed.
import { readFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { Interface, Wallet } from "ethers";
import { startChaosProxy, type ChaosFault, type ChaosProxy } from "../../bench/chaos-proxy.ts";
import { isChainError } from "../../bot/chain/errors.ts";
import { MemoryJournal } from "../../bot/chain/journal.ts";
import { connectRpc } from "../../bot/chain/provider.ts";
import { TxManager } from "../../bot/chain/tx-manager.ts";
import { ChainlinkReader, readFeedHealth } from "../../bot/data/chainlink-reader.ts";
import { PoliteRpc, httpTransport } from "../../bot/data/rpc.ts";
import { isRiskkeeperError } from "../../bot/errors.ts";
import { SimulatedClock } from "../../bot/keeper/clock.ts";
import { createKeeperLogger } from "../../bot/keeper/log.ts";
import { startLocalNode, type LocalNode } from "../support/fork-node.ts";
import { tempDir } from "../keeper/helpers.ts";

// Hardhat's well-known account #1 (funded on every local node; never a real key).
const KEEPER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const HEARTBEAT = 3_600;
const instant = { now: () => Date.now(), sleep: async () => {} };
const describeError = (e: unknown) => `${(e as { code?: string }).code ?? (e as Error).name}: ${String((e as Error).message).split("\n")[0].slice(0, 100)}`;

describe("Chaos JSON-RPC proxy: bot/data and bot/chain against a real node", function () {
  this.timeout(120_000);
  let node: LocalNode;
  let proxy: ChaosProxy;
  let feedAddress: string;
  let lagBlocks: number;
  let now: number;
  const CURRENT = 1_800n * 10n ** 8n;
  const rows: { fault: string; layer: string; outcome: string; survived: boolean; recovered: boolean; logged: boolean }[] = [];
  const t = tempDir("riskkeeper-chaos-");
  const logFile = path.join(t.dir, "keeper.log");
  const { logger, close: closeLog } = createKeeperLogger({ level: "info", file: logFile, terminal: false, clock: new SimulatedClock(0) });

  before(async () => {
    node = await startLocalNode();
    const { ethers, networkHelpers } = node.connection;
    const feed = await ethers.deployContract("PlainAggregator", [8, "ETH / USD"]);
    await (await feed.getFunction("setAnswer")(2_000n * 10n ** 8n)).wait();
    const oldBlock = await ethers.provider.getBlockNumber();
    await networkHelpers.time.increase(2 * HEARTBEAT);
    await networkHelpers.mine(5);
    await (await feed.getFunction("setAnswer")(CURRENT)).wait();
    const head = await ethers.provider.getBlockNumber();
    lagBlocks = head - oldBlock;
    now = (await networkHelpers.time.latest()) + 30; // the keeper's own clock, not the node's
    feedAddress = await feed.getAddress();
    proxy = await startChaosProxy(node.url);
  });
  after(async () => {
    await closeLog();
    console.log("      fault                         layer       outcome                                                                  survived recovered logged");
    for (const r of rows) {
      console.log(`      ${r.fault.padEnd(29)} ${r.layer.padEnd(11)} ${r.outcome.slice(0, 72).padEnd(72)} ${String(r.survived).padEnd(8)} ${String(r.recovered).padEnd(9)} ${r.logged}`);
    }
    const survived = rows.filter((r) => r.survived && r.recovered && r.logged).length;
    console.log(`      chaos: ${rows.length} fault x layer cases tried, ${survived} survived, recovered and logged`);
    await proxy?.close();
    await node?.close();
    t.cleanup();
  });

  const readFeed = async () => {
    const rpc = new PoliteRpc(httpTransport(proxy.url, { timeoutMs: 400 }), { label: "chaos", maxRetries: 2, baseDelayMs: 1, maxDelayMs: 5, requestsPerSecond: 10_000, clock: instant });
    return readFeedHealth(new ChainlinkReader(rpc, feedAddress), now, { heartbeatSeconds: HEARTBEAT });
  };
  // The file transport writes asynchronously: wait (up to 2 s) for the line rather than a fixed pause.
  const logged = async (marker: string) => {
    for (let i = 0; i < 100; i++) {
      if (readFileSync(logFile, "utf8").includes(marker)) return true;
      await new Promise((r) => setTimeout(r, 20));
    }
    return false;
  };

  const FEED_FAULTS: { name: string; fault: () => ChaosFault }[] = [
    { name: "delay 150 ms", fault: () => ({ kind: "delay", delayMs: 150 }) },
    { name: "timeout (no answer)", fault: () => ({ kind: "hang" }) },
    { name: "dropped connection", fault: () => ({ kind: "drop" }) },
    { name: "HTTP 429 Retry-After", fault: () => ({ kind: "http429" }) },
    { name: "HTTP 503", fault: () => ({ kind: "http5xx", status: 503 }) },
    { name: "HTTP 500", fault: () => ({ kind: "http5xx", status: 500 }) },
    { name: "malformed JSON", fault: () => ({ kind: "malformed" }) },
    { name: "lagging node", fault: () => ({ kind: "lagging", lagBlocks }) },
    { name: "answers from an old block", fault: () => ({ kind: "old-block", lagBlocks }) },
  ];

  for (const { name, fault } of FEED_FAULTS) {
    it(`feed read, ${name}: an error or a stale judgement, never a fresh wrong price; fresh again after`, async () => {
      proxy.fault = fault();
      let outcome: string;
      let survived: boolean;
      let refusal: unknown;
      const marker = `chaos-feed-${name}`;
      try {
        const health = await readFeed();
        const fresh = !health.staleness.stale;
        outcome = `answer ${health.round.answerRaw}, age ${health.staleness.ageSeconds}s, ${fresh ? "fresh" : "STALE"}`;
        survived = !fresh || health.round.answerRaw === CURRENT;
        logger.warn(`${marker}: ${outcome}`, { fault: name, stale: !fresh });
      } catch (error) {
        outcome = `refused: ${describeError(error)}`;
        survived = true;
        refusal = error;
        logger.error(`${marker}: feed read failed`, { fault: name, error });
      }
      proxy.fault = { kind: "none" };
      const after = await readFeed();
      const recovered = !after.staleness.stale && after.round.answerRaw === CURRENT;
      const wasLogged = await logged(marker);
      rows.push({ fault: name, layer: "feed", outcome, survived, recovered, logged: wasLogged });
      expect(survived, `${name}: ${outcome}`).to.equal(true);
      expect(recovered, `${name}: not fresh after the fault ended`).to.equal(true);
      expect(wasLogged, `${name}: not in the keeper's log`).to.equal(true);
      if (name.startsWith("lagging") || name.startsWith("answers from")) expect(outcome, "a lagging read must be judged stale").to.contain("STALE");
      if (name === "malformed JSON") {
        // Retried like a 5xx, then the coded error naming the method and the node.
        expect(isRiskkeeperError(refusal, "RPC_FAILED"), outcome).to.equal(true);
        expect((refusal as Error).message).to.match(/eth_call failed after 3 attempts: eth_call: answer from http:\/\/127\.0\.0\.1:\d+\/ is not JSON/);
      }
    });
  }

  // `atSimulation`: the simulation's eth_call fails on the transport. That is no revert: the
  // submission is RPC_FAILED naming the node and the method (transient, so the keeper retries the
  // update instead of rejecting it), and nothing is signed.
  const TX_FAULTS: { name: string; fault: () => ChaosFault; whenConnected: boolean; atSimulation?: string }[] = [
    { name: "wrong chain id", fault: () => ({ kind: "wrong-chain", chainId: 137n }), whenConnected: false },
    // The provider's network is static: only the manager's own eth_chainId before signing sees it.
    { name: "chain switched after connect", fault: () => ({ kind: "wrong-chain", chainId: 137n }), whenConnected: true },
    { name: "dropped connection", fault: () => ({ kind: "drop" }), whenConnected: true, atSimulation: "connection failed: socket hang up (ECONNRESET)" },
    { name: "HTTP 503", fault: () => ({ kind: "http5xx", status: 503 }), whenConnected: true, atSimulation: "server response 503 Service Unavailable" },
    // ethers retries a 429 itself (12 attempts) before giving up.
    { name: "HTTP 429 Retry-After", fault: () => ({ kind: "http429" }), whenConnected: true, atSimulation: "HTTP 429 Too Many Requests; exceeded maximum retry limit" },
    { name: "malformed JSON", fault: () => ({ kind: "malformed" }), whenConnected: true, atSimulation: "response body is not valid JSON" },
    { name: "timeout (no answer)", fault: () => ({ kind: "hang" }), whenConnected: true },
    { name: "send refused (503 on sendRaw)", fault: () => ({ kind: "fail-method", method: "eth_sendRawTransaction" }), whenConnected: true },
    { name: "sent, answer lost", fault: () => ({ kind: "lose-answer", method: "eth_sendRawTransaction" }), whenConnected: true },
    { name: "receipt reads dropped", fault: () => ({ kind: "fail-method", method: "eth_getTransactionReceipt" }), whenConnected: true },
  ];

  for (const [i, { name, fault, whenConnected, atSimulation }] of TX_FAULTS.entries()) {
    it(`submission, ${name}: nothing lands during the fault; the same update id lands exactly once after`, async () => {
      const wallet = new Wallet(KEEPER_KEY);
      const direct = node.connection.ethers.provider;
      const nonceBefore = await direct.getTransactionCount(wallet.address, "latest");
      const journal = new MemoryJournal();
      const request = { updateId: `chaos-${i}`, to: feedAddress, data: new Interface(["function decimals() view returns (uint8)"]).encodeFunctionData("decimals"), label: "chaos probe" };
      const managerOn = (provider: Awaited<ReturnType<typeof connectRpc>>["provider"]) => new TxManager({
        provider, signer: wallet, chainId: 31_337n, journal, fees: { maxFeePerGas: 100n * 10n ** 9n, maxPriorityFeePerGas: 10n ** 9n },
        confirmations: 1, pollIntervalMs: 10, maxConfirmWaitMs: 3_000, stuckAfterMs: 60_000, maxFeeWaitMs: 1_000,
        clock: { now: () => Date.now(), sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 10))) },
      });
      const marker = `chaos-tx-${name}`;
      let outcome: string;
      let refusal: unknown;
      let settledOnItsOwn = false;
      let closedByClient = false;
      if (!whenConnected) proxy.fault = fault();
      try {
        const { provider } = await connectRpc(proxy.url, { probeTimeoutMs: 400, requestTimeoutMs: 500 });
        proxy.fault = fault();
        const pending = managerOn(provider).submit(request);
        let result: Awaited<typeof pending> | undefined;
        if (fault().kind === "hang") {
          // connectRpc's request timeout (500 ms here) must end the wait on its own; the 1.5 s bound
          // only turns a regression into a failure instead of a stalled test.
          const waited = await Promise.race([pending.then(() => "settled", () => "settled"), new Promise((r) => setTimeout(() => r("waiting"), 1_500))]);
          settledOnItsOwn = waited === "settled";
          // The client closes the connection it gave up on; the node does not have to.
          for (let k = 0; k < 50 && proxy.held() > 0; k++) await new Promise((r) => setTimeout(r, 20));
          closedByClient = proxy.held() === 0;
          proxy.fault = { kind: "none" };
          proxy.releaseHanging();
          if (waited === "waiting") logger.error(`${marker}: submission still waiting on an unanswering node after 1.5 s`, { fault: name });
        }
        result = await pending;
        outcome = `submitted (${result.record.status})`;
        provider.destroy();
      } catch (error) {
        outcome = `refused: ${describeError(error)}`;
        refusal = error;
        logger.error(`${marker}: submission failed`, { fault: name, error });
      }
      proxy.fault = { kind: "none" };
      const nonceDuring = await direct.getTransactionCount(wallet.address, "latest");
      // Nothing may land while the fault lasts; a transaction that reached the node before the
      // fault bit must be the journal's own (reconciled below, never sent twice).
      const landedDuring = nonceDuring - nonceBefore;
      const journaled = await journal.get(request.updateId);
      const survived = landedDuring === 0 || (landedDuring === 1 && journaled !== undefined);
      // The fault ends: the same update id lands exactly once.
      const { provider } = await connectRpc(proxy.url, 2_000);
      const again = await managerOn(provider).submit(request);
      provider.destroy();
      const nonceAfter = await direct.getTransactionCount(wallet.address, "latest");
      const recovered = again.record.status === "confirmed" && nonceAfter - nonceBefore === 1;
      const wasLogged = outcome.startsWith("refused") ? await logged(marker) : true;
      rows.push({ fault: name, layer: "submission", outcome: `${landedDuring} landed; ${outcome}`, survived, recovered, logged: wasLogged });
      expect(survived, `${name}: ${outcome}; ${landedDuring} landed`).to.equal(true);
      expect(recovered, `${name}: after the fault, status ${again.record.status}, ${nonceAfter - nonceBefore} landed`).to.equal(true);
      expect(wasLogged, `${name}: not in the keeper's log`).to.equal(true);
      if (fault().kind === "wrong-chain") {
        expect(isChainError(refusal, "CHAIN_MISMATCH"), outcome).to.equal(true);
        expect(landedDuring).to.equal(0);
      }
      if (name === "receipt reads dropped") {
        expect(isChainError(refusal, "RPC_FAILED"), outcome).to.equal(true);
        expect((refusal as Error).message).to.include("reading the receipt failed").and.include("a retry with the same update id resumes it");
      }
      if (atSimulation !== undefined) {
        expect(isChainError(refusal, "RPC_FAILED"), outcome).to.equal(true);
        expect((refusal as Error).message).to.match(new RegExp(`^http://127\\.0\\.0\\.1:\\d+/: eth_call: ${atSimulation.replace(/[()]/g, "\\$&")}$`));
        expect(journaled, "nothing signed").to.equal(undefined);
        expect(landedDuring).to.equal(0);
        expect(again.resumed, "the retry starts afresh").to.equal(false);
      }
      if (fault().kind === "hang") {
        expect(settledOnItsOwn, "the request timeout did not end the wait").to.equal(true);
        expect(closedByClient, `${proxy.held()} timed-out connection(s) left open by the client`).to.equal(true);
        expect(isChainError(refusal, "RPC_FAILED"), outcome).to.equal(true);
        expect((refusal as Error).message).to.match(/^http:\/\/127\.0\.0\.1:\d+\/: eth_\w+: request timed out after 500 ms$/);
      }
    });
  }
});
