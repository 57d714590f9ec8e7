// A fault-injecting JSON-RPC proxy on 127.0.0.1, in front of a real node. One fault at a time,
// switched while it runs (`proxy.fault = ...`):
//   none        pass through
//   delay       answer after `delayMs`
//   hang        never answer (the client's timeout decides)
//   drop        destroy the connection without an answer
//   http429     429 with Retry-After: 1
//   http5xx     503 (or `status`)
//   malformed   200 with a body that is not JSON
//   wrong-chain eth_chainId / net_version answer another chain (137)
//   lagging     the node is `lagBlocks` behind: eth_blockNumber, "latest" block tags and
//               eth_getBlockByNumber("latest") all answer from the old block
//   old-block   eth_blockNumber is current, but eth_call / eth_getBalance... at "latest" answer
//               from the old block (an inconsistent load balancer)
//   lose-answer  requests for `method` reach the node, but the answer is lost (connection dropped)
//   fail-method  requests for `method` get a 503 and never reach the node
// Counts requests and faults served. Used by test/reliability/chaos-rpc.test.ts.
import http from "node:http";
import type { AddressInfo } from "node:net";

export type ChaosFault =
  | { kind: "none" }
  | { kind: "delay"; delayMs: number }
  | { kind: "hang" }
  | { kind: "drop" }
  | { kind: "http429" }
  | { kind: "http5xx"; status?: number }
  | { kind: "malformed" }
  | { kind: "wrong-chain"; chainId?: bigint }
  | { kind: "lagging"; lagBlocks: number }
  | { kind: "old-block"; lagBlocks: number }
  | { kind: "lose-answer"; method: string }
  | { kind: "fail-method"; method: string; status?: number };

export interface ChaosProxy {
  url: string;
  fault: ChaosFault;
  readonly stats: { requests: number; faulted: number };
  /** Ends every request held by a "hang" fault by destroying its connection. */
  releaseHanging(): void;
  /** Requests held by a "hang" fault whose connection is still open (a client that gave up should have closed it). */
  held(): number;
  close(): Promise<void>;
}

type RpcRequest = { jsonrpc: "2.0"; id: unknown; method: string; params?: unknown[] };

const BLOCK_TAG_PARAM: Record<string, number> = { eth_call: 1, eth_getBalance: 1, eth_getCode: 1, eth_getTransactionCount: 1, eth_getStorageAt: 2, eth_estimateGas: 1 };

export async function startChaosProxy(upstream: string, initial: ChaosFault = { kind: "none" }): Promise<ChaosProxy> {
  const stats = { requests: 0, faulted: 0 };
  const hanging = new Set<http.ServerResponse>();
  const forward = async (body: RpcRequest): Promise<{ id: unknown; result?: unknown; error?: unknown }> => {
    const response = await fetch(upstream, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    return (await response.json()) as { id: unknown; result?: unknown; error?: unknown };
  };
  const head = async () => BigInt((await forward({ jsonrpc: "2.0", id: 0, method: "eth_blockNumber", params: [] })).result as string);

  const proxy: ChaosProxy = {
    url: "",
    fault: initial,
    stats,
    releaseHanging: () => {
      for (const res of hanging) res.socket?.destroy();
      hanging.clear();
    },
    held: () => hanging.size,
    close: async () => {
      for (const res of hanging) res.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
    },
  };

  /** Rewrites one request (or its answer) for the current fault. */
  const handleOne = async (req: RpcRequest): Promise<unknown> => {
    const fault = proxy.fault;
    if (fault.kind === "wrong-chain" && (req.method === "eth_chainId" || req.method === "net_version")) {
      const id = fault.chainId ?? 137n;
      return { jsonrpc: "2.0", id: req.id, result: req.method === "eth_chainId" ? `0x${id.toString(16)}` : id.toString() };
    }
    if (fault.kind === "lagging" || fault.kind === "old-block") {
      const old = (await head()) - BigInt(fault.lagBlocks);
      const oldTag = `0x${(old < 0n ? 0n : old).toString(16)}`;
      if (req.method === "eth_blockNumber" && fault.kind === "lagging") return { jsonrpc: "2.0", id: req.id, result: oldTag };
      if (req.method === "eth_getBlockByNumber" && fault.kind === "lagging" && (req.params?.[0] === "latest" || req.params?.[0] === "pending")) {
        return forward({ ...req, params: [oldTag, ...(req.params ?? []).slice(1)] });
      }
      const at = BLOCK_TAG_PARAM[req.method];
      if (at !== undefined && req.method !== "eth_estimateGas") {
        const params = [...(req.params ?? [])];
        if (params[at] === undefined || params[at] === "latest" || params[at] === "pending") params[at] = oldTag;
        return forward({ ...req, params });
      }
    }
    return forward(req);
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      void (async () => {
        stats.requests++;
        const fault = proxy.fault;
        if (fault.kind !== "none") stats.faulted++;
        try {
          if (fault.kind === "hang") {
            hanging.add(res);
            res.on("close", () => hanging.delete(res));
            return;
          }
          if (fault.kind === "drop") {
            req.socket.destroy();
            return;
          }
          if (fault.kind === "http429") {
            res.writeHead(429, { "content-type": "text/plain", "retry-after": "1" }).end("too many requests\n");
            return;
          }
          if (fault.kind === "http5xx") {
            res.writeHead(fault.status ?? 503, { "content-type": "text/plain" }).end("upstream unavailable\n");
            return;
          }
          if (fault.kind === "malformed") {
            res.writeHead(200, { "content-type": "application/json" }).end('{"jsonrpc":"2.0","id":1,"result":"0x');
            return;
          }
          if (fault.kind === "delay") await new Promise((r) => setTimeout(r, fault.delayMs));
          const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as RpcRequest | RpcRequest[];
          const methods = (Array.isArray(body) ? body : [body]).map((b) => b.method);
          if (fault.kind === "fail-method" && methods.includes(fault.method)) {
            res.writeHead(fault.status ?? 503, { "content-type": "text/plain" }).end("upstream unavailable\n");
            return;
          }
          if (fault.kind === "lose-answer" && methods.includes(fault.method)) {
            await (Array.isArray(body) ? Promise.all(body.map(handleOne)) : handleOne(body));
            req.socket.destroy();
            return;
          }
          const answer = Array.isArray(body) ? await Promise.all(body.map(handleOne)) : await handleOne(body);
          if (!res.destroyed) res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(answer));
        } catch (error) {
          if (!res.destroyed) res.writeHead(502, { "content-type": "text/plain" }).end(`proxy: ${(error as Error).message}\n`);
        }
      })();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}
