// httpTransport + PoliteRpc against answers that are not JSON-RPC: a body that is not JSON, JSON
// that is not an object, a body cut short. Each is a transport failure (retried like a 5xx), and
// the caller ends with RPC_FAILED naming the method and the masked URL, never a bare SyntaxError.
import { expect } from "chai";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { PoliteRpc, RpcTransportError, httpTransport, type Clock } from "../../bot/data/rpc.ts";
import { isRiskkeeperError } from "../../bot/errors.ts";

type Answer = "ok" | "not-json" | "null" | "cut";

interface Node {
  server: Server;
  /** URL with an API key in its path, as a hosted provider hands out. */
  url: string;
  /** Answers to give, in order, before answering normally. */
  answers: Answer[];
  requests: number;
}

const KEY = "s3cretKey42abc";

async function startNode(): Promise<Node> {
  const node: Node = { server: undefined as unknown as Server, url: "", answers: [], requests: 0 };
  node.server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      node.requests++;
      const { id } = JSON.parse(body) as { id: number };
      const answer = node.answers.shift() ?? "ok";
      if (answer === "not-json") {
        res.writeHead(200, { "content-type": "application/json" }).end('{"jsonrpc":"2.0","id":1,"result":"0x');
      } else if (answer === "null") {
        res.writeHead(200, { "content-type": "application/json" }).end("null");
      } else if (answer === "cut") {
        res.writeHead(200, { "content-type": "application/json", "content-length": "200" });
        res.write('{"jsonrpc":"2.0",', () => res.socket?.destroy());
      } else {
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ jsonrpc: "2.0", id, result: "0x2a" }));
      }
    });
  });
  await new Promise<void>((resolve) => node.server.listen(0, "127.0.0.1", resolve));
  node.url = `http://127.0.0.1:${(node.server.address() as AddressInfo).port}/v2/${KEY}`;
  return node;
}

const instant = (): Clock & { sleeps: number[] } => {
  let t = 0;
  const sleeps: number[] = [];
  return { sleeps, now: () => t, sleep: async (ms) => { sleeps.push(ms); t += ms; } };
};

describe("data/rpc: answers that are not JSON-RPC", () => {
  let node: Node;
  before(async () => { node = await startNode(); });
  after(async () => {
    node.server.closeAllConnections();
    await new Promise((resolve) => node.server.close(resolve));
  });
  beforeEach(() => { node.answers = []; node.requests = 0; });

  const CASES: { name: string; answer: Answer; message: RegExp }[] = [
    { name: "a body that is not JSON", answer: "not-json", message: /is not JSON \(HTTP 200, 36 characters\)/ },
    { name: "JSON that is not an object", answer: "null", message: /is not a JSON-RPC object \(HTTP 200\)/ },
    { name: "a body cut short", answer: "cut", message: /cut short/ },
  ];

  for (const { name, answer, message } of CASES) {
    it(`${name}: the transport throws a retryable RpcTransportError naming the method and the masked URL`, async () => {
      node.answers = [answer];
      const error = await httpTransport(node.url)("eth_blockNumber", []).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(RpcTransportError);
      const e = error as RpcTransportError;
      expect(e.retryable).to.equal(true);
      expect(e.message).to.match(/^eth_blockNumber: answer from http:\/\/127\.0\.0\.1:\d+\/v2\/\*\*\* /).and.match(message);
      expect(e.message).to.not.include(KEY);
    });

    it(`${name}: PoliteRpc retries it like a 5xx and succeeds when the node answers again`, async () => {
      const clock = instant();
      const rpc = new PoliteRpc(httpTransport(node.url), { clock, requestsPerSecond: 1000, baseDelayMs: 250 });
      node.answers = [answer, answer];
      expect(await rpc.request("eth_blockNumber", [])).to.equal("0x2a");
      expect(rpc.stats).to.include({ calls: 3, retries: 2 });
      expect(clock.sleeps).to.deep.equal([250, 500]);
    });
  }

  it("malformed answers every time: RPC_FAILED after the retries, naming the method and the masked URL", async () => {
    const rpc = new PoliteRpc(httpTransport(node.url), { clock: instant(), maxRetries: 2, label: "test-rpc" });
    node.answers = ["not-json", "not-json", "not-json", "ok"];
    const error = await rpc.request("eth_call", [{ to: "0x" + "11".repeat(20), data: "0x" }, "latest"]).catch((e: unknown) => e);
    expect(isRiskkeeperError(error, "RPC_FAILED"), String(error)).to.equal(true);
    const message = (error as Error).message;
    expect(message).to.match(/^test-rpc: eth_call failed after 3 attempts: eth_call: answer from http:\/\/127\.0\.0\.1:\d+\/v2\/\*\*\* is not JSON/);
    expect(message).to.not.include(KEY);
    expect((error as Error).cause).to.be.instanceOf(RpcTransportError);
    expect(node.requests).to.equal(3);
  });

  it("other HTTP statuses (401, a bad key) are still not retried", async () => {
    const rpc = new PoliteRpc(async () => {
      throw new RpcTransportError("eth_call: HTTP 401", 401);
    }, { clock: instant() });
    const error = await rpc.request("eth_call", []).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(RpcTransportError);
    expect(rpc.stats.retries).to.equal(0);
  });
});
