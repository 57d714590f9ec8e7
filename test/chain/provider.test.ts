// connectRpc against a node on 127.0.0.1 that answers the eth_chainId probe and then never answers
// anything else (or nothing at all), or fails on the transport: the request timeout bounds the
// wait and closes the connection it gave up on, and every transport failure is RPC_FAILED naming
// the method and the URL without its key.
import { expect } from "chai";
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { JsonRpcProvider } from "ethers";
import { isChainError } from "../../bot/chain/errors.ts";
import { DEFAULT_REQUEST_TIMEOUT_MS, connectRpc } from "../../bot/chain/provider.ts";

const KEY = "s3cretKey42abc";
const ZERO = "0x" + "00".repeat(20);

interface Node {
  server: Server;
  /** URL with an API key in its path, as a hosted provider hands out. */
  url: string;
  /** False: even eth_chainId gets no answer. */
  answerProbe: boolean;
  /** What every request but the probe gets. */
  behaviour: "silent" | "http503" | "drop" | "malformed" | "answer";
  /** Requests never answered whose connection is still open. */
  held: Set<ServerResponse>;
}

async function startSilentNode(): Promise<Node> {
  const node: Node = { server: undefined as unknown as Server, url: "", answerProbe: true, behaviour: "silent", held: new Set() };
  node.server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const { id, method } = JSON.parse(body) as { id: number; method: string };
      if (method === "eth_chainId" && node.answerProbe) {
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ jsonrpc: "2.0", id, result: "0x7a69" }));
        return;
      }
      if (node.behaviour === "http503") res.writeHead(503, { "content-type": "text/plain" }).end("upstream unavailable\n");
      else if (node.behaviour === "drop") req.socket.destroy();
      else if (node.behaviour === "malformed") res.writeHead(200, { "content-type": "application/json" }).end('{"jsonrpc":"2.0","id":1,"result":"0x');
      else if (node.behaviour === "answer") res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ jsonrpc: "2.0", id, result: "0x10" }));
      else {
        node.held.add(res); // never answered
        res.on("close", () => node.held.delete(res));
      }
    });
  });
  await new Promise<void>((resolve) => node.server.listen(0, "127.0.0.1", resolve));
  node.url = `http://127.0.0.1:${(node.server.address() as AddressInfo).port}/v2/${KEY}`;
  return node;
}

describe("chain: connectRpc", () => {
  let node: Node;
  let provider: JsonRpcProvider | undefined;
  before(async () => { node = await startSilentNode(); });
  afterEach(() => {
    provider?.destroy();
    provider = undefined;
    node.answerProbe = true;
    node.behaviour = "silent";
    for (const res of node.held) res.socket?.destroy();
    node.held.clear();
  });
  after(async () => {
    node.server.closeAllConnections();
    await new Promise((resolve) => node.server.close(resolve));
  });

  it("a node that never answers: the request fails after requestTimeoutMs with RPC_FAILED naming the method and the masked URL", async () => {
    ({ provider } = await connectRpc(node.url, { requestTimeoutMs: 300 }));
    const started = Date.now();
    const error = await provider.getBlockNumber().catch((e: unknown) => e);
    const waited = Date.now() - started;
    expect(isChainError(error, "RPC_FAILED"), String(error)).to.equal(true);
    expect((error as { code: string }).code).to.equal("RPC_FAILED");
    expect((error as Error).message).to.match(/^http:\/\/127\.0\.0\.1:\d+\/v2\/\*\*\*: eth_blockNumber: request timed out after 300 ms$/);
    expect((error as Error).message).to.not.include(KEY);
    expect(waited).to.be.within(250, 5_000);
  });

  it("a request that timed out has its connection closed by the client, not left open until the node closes it", async () => {
    ({ provider } = await connectRpc(node.url, { requestTimeoutMs: 300 }));
    const errors = await Promise.all([provider.getBlockNumber(), provider.getBalance(ZERO), provider.getTransactionCount(ZERO)].map((p) => p.then(() => undefined, (e: unknown) => e)));
    for (const error of errors) expect(isChainError(error, "RPC_FAILED"), String(error)).to.equal(true);
    // The server never closes them itself (its own timeouts are minutes); allow the close a moment to arrive.
    for (let i = 0; i < 50 && node.held.size > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(node.held.size, "connections left open after their request timed out").to.equal(0);
  });

  for (const { behaviour, text } of [
    { behaviour: "http503", text: "server response 503 Service Unavailable" },
    { behaviour: "drop", text: "connection failed: socket hang up (ECONNRESET)" },
    { behaviour: "malformed", text: "response body is not valid JSON" },
  ] as const) {
    it(`a transport failure (${behaviour}) is RPC_FAILED naming the method and the masked URL, not an ethers error`, async () => {
      ({ provider } = await connectRpc(node.url, { requestTimeoutMs: 2_000 }));
      node.behaviour = behaviour;
      const error = await provider.getBlockNumber().catch((e: unknown) => e);
      expect(isChainError(error, "RPC_FAILED"), String(error)).to.equal(true);
      expect((error as Error).message).to.equal(`${node.url.replace(KEY, "***")}: eth_blockNumber: ${text}`);
    });
  }

  it("a node that answers is read as before", async () => {
    ({ provider } = await connectRpc(node.url, { requestTimeoutMs: 2_000 }));
    node.behaviour = "answer";
    expect(await provider.getBlockNumber()).to.equal(16);
  });

  it("the default request timeout is 30 s, not ethers' 300 s; the provider options stay", async () => {
    ({ provider } = await connectRpc(node.url));
    expect(DEFAULT_REQUEST_TIMEOUT_MS).to.equal(30_000);
    expect(provider._getConnection().timeout).to.equal(30_000);
    expect(provider._getConnection().url).to.equal(node.url);
    expect(provider._getOption("staticNetwork")).to.equal(true);
    expect(provider._getOption("cacheTimeout")).to.equal(-1);
    expect(provider._getOption("batchStallTime")).to.equal(0);
    expect(provider._getOption("batchMaxCount")).to.equal(1);
    expect((await provider.getNetwork()).chainId).to.equal(31_337n);
  });

  it("a number as the second argument is still the probe timeout", async () => {
    node.answerProbe = false;
    const error = await connectRpc(node.url, 200).catch((e: unknown) => e);
    expect(isChainError(error, "RPC_FAILED"), String(error)).to.equal(true);
    expect((error as Error).message).to.match(/^http:\/\/127\.0\.0\.1:\d+\/v2\/\*\*\*: cannot reach the RPC/);
  });

  for (const requestTimeoutMs of [0, -1, 1.5, Number.NaN]) {
    it(`refuses requestTimeoutMs ${requestTimeoutMs} naming the option`, async () => {
      const error = await connectRpc(node.url, { requestTimeoutMs }).catch((e: unknown) => e);
      expect(isChainError(error, "INPUT_INVALID"), String(error)).to.equal(true);
      expect((error as Error).message).to.match(/^requestTimeoutMs: /);
    });
  }
});
