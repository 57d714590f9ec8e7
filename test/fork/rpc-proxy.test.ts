// The fork RPC proxy (bot/fork/rpc-proxy.ts) in front of a Hardhat node on 127.0.0.1: back-off
// on 429 and 5xx from an in-test upstream, the cache rules (explicit blocks at or before the pinned
// one only), and a second validation at the same block served entirely from the disk cache, with
// EDR's own fork cache gone in between.
import { expect } from "chai";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import hre from "hardhat";
import type { Contract } from "ethers";
import { deployRiskkeeper, type Deployment } from "../../deploy/deploy.ts";
import { explicitBlock, openForkSession, startRpcProxy, syntheticCrash, validateProposal, type RpcProxy, type ValidationReport } from "../../bot/fork/index.ts";
import { startLocalNode, type LocalNode } from "../support/fork-node.ts";

async function call(url: string, method: string, params: unknown[] = []): Promise<{ status: number; result?: unknown; error?: { message: string } }> {
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 7, method, params }) });
  const body = (await response.json()) as { result?: unknown; error?: { message: string } };
  return { status: response.status, ...body };
}

/** An upstream in front of the node that answers the first requests with the given HTTP statuses. */
async function flakyUpstream(target: string, failures: number[]): Promise<{ url: string; seen: () => number; close: () => Promise<void> }> {
  let seen = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const status = failures[seen++];
      if (status !== undefined) {
        res.writeHead(status, { "content-type": "text/plain" }).end("slow down");
        return;
      }
      void fetch(target, { method: "POST", headers: { "content-type": "application/json" }, body: Buffer.concat(chunks) })
        .then(async (r) => res.writeHead(r.status, { "content-type": "application/json" }).end(await r.text()));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen: () => seen,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

const edrCache = (port: string | number) => path.join(hre.config.paths.cache, "edr-fork-cache", "rpc_cache", "v2", `127.0.0.1_${port}`);

describe("fork RPC proxy: back-off, cache rules, a second validation with no remote call", function () {
  let node: LocalNode;
  let deployment: Deployment;
  let forkBlock: number;
  let cacheDir: string;
  const closers: Array<() => Promise<void>> = [];

  before(async function () {
    node = await startLocalNode();
    const { ethers } = node.connection;
    deployment = await deployRiskkeeper(ethers);
    const feed = (await ethers.getContractAt("ReplayAggregator", deployment.contracts.feed)) as unknown as Contract;
    const now = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
    await (await feed.getFunction("loadRounds")([1n], [3_000n * 10n ** 8n], [now], [now])).wait();
    await (await feed.getFunction("publishThrough")(1n)).wait();
    forkBlock = await ethers.provider.getBlockNumber();
    cacheDir = await mkdtemp(path.join(os.tmpdir(), "riskkeeper-rpc-cache-"));
  });

  after(async function () {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    await node?.close();
    await rm(cacheDir, { recursive: true, force: true });
  });

  async function proxyFor(upstream: string, extra: Partial<Parameters<typeof startRpcProxy>[0]> = {}): Promise<RpcProxy> {
    const proxy = await startRpcProxy({ upstream, maxRequestsPerSecond: 1_000, baseDelayMs: 5, ...extra });
    closers.push(() => proxy.close());
    return proxy;
  }

  it("retries a 429 and a 503 from the upstream with back-off, then answers; gives up after maxRetries", async () => {
    const flaky = await flakyUpstream(node.url, [429, 503]);
    closers.push(flaky.close);
    const proxy = await proxyFor(flaky.url);
    const answer = await call(proxy.url, "eth_blockNumber");
    expect(answer.result).to.equal(`0x${forkBlock.toString(16)}`);
    expect(flaky.seen()).to.equal(3);
    expect(proxy.stats()).to.deep.include({ remoteCalls: 3, retries: 2, cacheHits: 0 });

    const stubborn = await flakyUpstream(node.url, [429, 429, 429, 429]);
    closers.push(stubborn.close);
    const impatient = await proxyFor(stubborn.url, { maxRetries: 2 });
    const refused = await call(impatient.url, "eth_blockNumber");
    expect(refused.status).to.equal(502);
    expect(refused.error?.message).to.match(/HTTP 429/);
    expect(impatient.stats()).to.deep.include({ remoteCalls: 3, retries: 2 });
  });

  it("caches explicit blocks at or before the pinned one on disk; never 'latest', 'pending' or a later block", async () => {
    const table: Array<{ method: string; params: unknown[]; expected: number | undefined }> = [
      { method: "eth_getStorageAt", params: ["0x01", "0x0", "0x10"], expected: 16 },
      { method: "eth_getCode", params: ["0x01", "latest"], expected: undefined },
      { method: "eth_getBalance", params: ["0x01", "pending"], expected: undefined },
      { method: "eth_getTransactionCount", params: ["0x01", { blockNumber: "0x2" }], expected: 2 },
      { method: "eth_getBlockByNumber", params: ["0x5", false], expected: 5 },
      { method: "eth_getBlockByNumber", params: ["finalized", false], expected: undefined },
      { method: "eth_call", params: [{}, "0x5"], expected: undefined },
    ];
    for (const row of table) expect(explicitBlock(row.method, row.params), `${row.method} ${JSON.stringify(row.params)}`).to.equal(row.expected);

    const dir = path.join(cacheDir, "rules");
    const first = await proxyFor(node.url, { cacheDir: dir, cacheDevChains: true, pinnedBlock: forkBlock });
    const atPinned = [deployment.contracts.feed, `0x${forkBlock.toString(16)}`];
    const code = (await call(first.url, "eth_getCode", atPinned)).result;
    expect(await call(first.url, "eth_getCode", atPinned)).to.deep.include({ result: code });
    await call(first.url, "eth_getCode", [deployment.contracts.feed, "latest"]);
    await call(first.url, "eth_getCode", [deployment.contracts.feed, "latest"]);
    await call(first.url, "eth_getCode", [deployment.contracts.feed, `0x${(forkBlock - 1).toString(16)}`]);
    // chain id once, code at the pinned block once, 'latest' twice, the earlier block once.
    expect(first.stats()).to.deep.include({ remoteCalls: 5, cacheHits: 1 });
    first.setPinnedBlock(forkBlock - 2);
    await call(first.url, "eth_getCode", [deployment.contracts.feed, `0x${(forkBlock - 1).toString(16)}`]);
    expect(first.stats().cacheHits).to.equal(1); // after the pinned block now: not served from cache

    const second = await proxyFor(node.url, { cacheDir: dir, cacheDevChains: true, pinnedBlock: forkBlock });
    expect(await call(second.url, "eth_chainId")).to.deep.include({ result: "0x7a69" });
    expect(await call(second.url, "eth_getCode", atPinned)).to.deep.include({ result: code });
    expect(second.stats()).to.deep.include({ remoteCalls: 0, cacheHits: 2 });

    // Frozen at the pinned block (what fork sessions use): the head is the pinned block, and a
    // question about "latest" is asked, and cached, at the pinned block.
    const frozen = await proxyFor(node.url, { cacheDir: dir, cacheDevChains: true, pinnedBlock: forkBlock, freezeAtPinnedBlock: true });
    expect(await call(frozen.url, "eth_blockNumber")).to.deep.include({ result: `0x${forkBlock.toString(16)}` });
    expect(await call(frozen.url, "eth_getCode", [deployment.contracts.feed, "latest"])).to.deep.include({ result: code });
    expect(frozen.stats()).to.deep.include({ remoteCalls: 0, cacheHits: 2 });
  });

  it("without a block, a session pins the head of a dev chain (no reorg depth on 31337) and names it in baseBlock", async () => {
    const session = await openForkSession({ forkUrl: node.url, deployment, rpcProxy: { maxRequestsPerSecond: 2_000 } });
    try {
      expect(session.baseBlock).to.equal(await node.connection.ethers.provider.getBlockNumber());
      expect(session.rpcStats!().remoteByMethod.eth_blockNumber).to.equal(1);
    } finally {
      await session.close();
    }
  });

  it("a second validation at the same block is served from the disk cache: no remote call", async function () {
    const crash = syntheticCrash({ seed: 3, steps: 24, crashFraction: 0.3, crashSteps: 6 });
    const options = { scenarios: [crash], population: { count: 5, seed: 1 }, path: "governance" as const };
    const change = [{ parameter: "initialMarginBps" as const, value: 1_200n }];
    const dir = path.join(cacheDir, "validation");
    const run = async (): Promise<{ report: ValidationReport; port: string }> => {
      const session = await openForkSession({ forkUrl: node.url, blockNumber: forkBlock, deployment, rpcProxy: { cacheDir: dir, maxRequestsPerSecond: 2_000 } });
      try {
        const port = new URL(session.rpcProxyUrl!).port;
        expect(existsSync(edrCache(port)), "EDR caches what it fetched through the proxy").to.equal(true);
        return { report: await validateProposal(session, change, options), port };
      } finally {
        await session.close();
      }
    };
    const first = await run();
    expect(first.report.rpc!.remoteCalls).to.be.greaterThan(10);
    // EDR's own cache for the proxy's port went with the session: only our cache can serve the next one.
    expect(existsSync(edrCache(first.port))).to.equal(false);
    await rm(edrCache(first.port), { recursive: true, force: true });
    await rm(edrCache(node.port), { recursive: true, force: true });

    const second = await run();
    expect(second.report.rpc, JSON.stringify(second.report.rpc)).to.deep.include({ remoteCalls: 0, retries: 0 });
    expect(second.report.rpc!.cacheHits).to.be.greaterThanOrEqual(first.report.rpc!.remoteCalls - 1);
    const strip = (r: ValidationReport) => JSON.stringify({ ...r, rpc: undefined }, (_, v) => (typeof v === "bigint" ? v.toString() : v));
    expect(strip(second.report)).to.equal(strip(first.report));
  });
});
