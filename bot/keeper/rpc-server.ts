// A JSON-RPC server over HTTP on 127.0.0.1 in front of an EIP-1193 provider (the in-process EDR
// chain), so the embedded chain is reached — and forked — like any node. Unlike Hardhat's own
// server, close() also drops idle keep-alive connections (a fork's HTTP client keeps a pool open,
// which would otherwise hold close() for a minute).
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface Eip1193 {
  request(args: { method: string; params?: unknown[] | object }): Promise<unknown>;
}

export interface LoopbackRpcServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

interface RpcRequest { jsonrpc?: string; id?: unknown; method?: unknown; params?: unknown }

async function answer(provider: Eip1193, req: RpcRequest): Promise<object> {
  const id = req.id ?? null;
  if (typeof req.method !== "string") return { jsonrpc: "2.0", id, error: { code: -32600, message: "invalid request: method" } };
  try {
    const result = await provider.request({ method: req.method, params: (req.params as unknown[] | undefined) ?? [] });
    return { jsonrpc: "2.0", id, result: result === undefined ? null : result };
  } catch (error) {
    const e = error as { code?: number; message?: string; data?: unknown };
    return { jsonrpc: "2.0", id, error: { code: typeof e.code === "number" ? e.code : -32603, message: e.message ?? String(error), ...(e.data !== undefined ? { data: e.data } : {}) } };
  }
}

export async function startLoopbackRpcServer(provider: Eip1193, port = 0): Promise<LoopbackRpcServer> {
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (c: Buffer) => chunks.push(c));
    request.on("end", () => {
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        response.writeHead(400, { "content-type": "application/json" });
        response.end(JSON.stringify({ jsonrpc: "2.0", id: null, error: { code: -32700, message: "parse error" } }));
        return;
      }
      const work = Array.isArray(body) ? Promise.all(body.map((r) => answer(provider, r as RpcRequest))) : answer(provider, body as RpcRequest);
      work.then((out) => {
        response.writeHead(200, { "content-type": "application/json" });
        response.end(JSON.stringify(out, (_, v) => (typeof v === "bigint" ? `0x${v.toString(16)}` : v)));
      }, (error: unknown) => {
        response.writeHead(500, { "content-type": "application/json" });
        response.end(JSON.stringify({ jsonrpc: "2.0", id: null, error: { code: -32603, message: String(error) } }));
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}`,
    port: bound,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
