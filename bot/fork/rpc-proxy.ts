// RPC politeness for forks of remote nodes: a small JSON-RPC proxy on 127.0.0.1 that EDR forks
// through instead of the remote URL. It
//   - caps the request rate to the remote node (requests per second, spaced evenly);
//   - retries with exponential back-off on HTTP 429 and 5xx (and JSON-RPC rate-limit errors),
//     honouring Retry-After;
//   - keeps a disk cache of answers that can never change — state at an explicit block number at or
//     before the pinned block: eth_getStorageAt, eth_getCode, eth_getBalance,
//     eth_getTransactionCount, eth_getBlockByNumber, eth_feeHistory, and eth_chainId/net_version —
//     keyed by (chain id, block, method, params). Answers for "latest", "pending" and other moving
//     tags are never cached; with freezeAtPinnedBlock (what fork sessions use) such questions are
//     asked about the pinned block instead;
//   - counts remote calls, cache hits and retries.
// One JSON Lines file per chain and block: a torn last line (a crash mid-write) is skipped on load.
import { createHash } from "node:crypto";
import { appendFile, mkdir, readFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { RiskkeeperError } from "../errors.ts";

export interface RpcProxyOptions {
  /** The remote JSON-RPC URL (may carry an API key: it is never written to disk or to errors). */
  upstream: string;
  /** Directory of the disk cache; absent = answers are cached in memory only. */
  cacheDir?: string;
  /** Block the fork is pinned at: only answers at an explicit block <= this one are cached (settable later). */
  pinnedBlock?: number;
  /**
   * Serve the remote chain as it stood at the pinned block (default false): eth_blockNumber answers
   * the pinned block and "latest"/"pending"/"safe"/"finalized" block tags are rewritten to it, so
   * EDR's questions about the head of a pinned fork are answered at the fork block (and cached like
   * any explicit block) instead of reaching the moving head of the remote chain.
   */
  freezeAtPinnedBlock?: boolean;
  /** Dev chains (31337, 1337) restart with the same id and block numbers: cached on disk only when true. */
  cacheDevChains?: boolean;
  /** Cap on requests per second to the remote node (default 25). */
  maxRequestsPerSecond?: number;
  /** Retries after a 429/5xx before the error is passed on (default 6). */
  maxRetries?: number;
  /** First back-off delay, doubled on each retry (default 250 ms), and its ceiling (default 8 s). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Timeout of one remote request (default 30 s). */
  timeoutMs?: number;
}

export interface RpcStats {
  /** HTTP requests sent to the remote node (each retry counts). */
  remoteCalls: number;
  /** Requests answered from the cache (memory or disk). */
  cacheHits: number;
  /** Remote requests repeated after a 429, a 5xx or a rate-limit error. */
  retries: number;
  /** Remote calls per JSON-RPC method. */
  remoteByMethod: Record<string, number>;
}

export interface RpcProxy {
  /** http://127.0.0.1:<port> */
  url: string;
  port: number;
  setPinnedBlock(block: number): void;
  stats(): RpcStats;
  close(): Promise<void>;
}

interface JsonRpcRequest {
  jsonrpc?: string;
  id?: unknown;
  method: string;
  params?: unknown[];
}

interface JsonRpcResponse {
  jsonrpc: "2.0";
  id: unknown;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

/** Header set on a 502 when the remote node could not be reached at all. */
export const UPSTREAM_UNREACHABLE_HEADER = "x-riskkeeper-upstream-unreachable";

/** Position of the block parameter of each method whose answers at a fixed block never change. */
const BLOCK_PARAM: Record<string, number> = {
  eth_getStorageAt: 2,
  eth_getCode: 1,
  eth_getBalance: 1,
  eth_getTransactionCount: 1,
  eth_getBlockByNumber: 0,
  eth_feeHistory: 1,
};
/** Answers fixed for a chain, cached per upstream (the chain id is not known before them). */
const PER_UPSTREAM = new Set(["eth_chainId", "net_version"]);
const MOVING_TAGS = new Set(["latest", "pending", "safe", "finalized"]);
const DEV_CHAINS = new Set(["0x7a69", "0x539"]); // 31337, 1337
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The explicit block number a request asks about, or undefined for tags ("latest", "pending", ...). */
export function explicitBlock(method: string, params: readonly unknown[] | undefined): number | undefined {
  const index = BLOCK_PARAM[method];
  if (index === undefined || !params) return undefined;
  let tag = params[index];
  if (tag && typeof tag === "object" && "blockNumber" in tag) tag = (tag as { blockNumber: unknown }).blockNumber; // EIP-1898
  if (typeof tag !== "string" || !/^0x[0-9a-fA-F]+$/.test(tag)) return undefined;
  return Number(BigInt(tag));
}

class RateLimiter {
  readonly #intervalMs: number;
  #next = 0;
  constructor(perSecond: number) {
    this.#intervalMs = 1_000 / perSecond;
  }
  /** Resolves when the next request may go: requests are spaced evenly, never bunched. */
  async take(): Promise<void> {
    const now = performance.now();
    const at = Math.max(now, this.#next);
    this.#next = at + this.#intervalMs;
    if (at > now) await sleep(at - now);
  }
}

class DiskCache {
  readonly #dir: string | undefined;
  readonly #files = new Map<string, Promise<Map<string, unknown>>>();
  #writes: Promise<void> = Promise.resolve();

  constructor(dir: string | undefined) {
    this.#dir = dir;
  }

  #file(chainId: string, block: number | "chain"): string | undefined {
    if (!this.#dir) return undefined;
    // Chain answers under the chain id in decimal; the chain id itself under the upstream's hash.
    return block === "chain" ? path.join(this.#dir, "upstreams", `${chainId}.jsonl`) : path.join(this.#dir, BigInt(chainId).toString(), `${block}.jsonl`);
  }

  #load(chainId: string, block: number | "chain", persist: boolean): Promise<Map<string, unknown>> {
    const id = `${chainId}/${block}/${persist}`;
    let entries = this.#files.get(id);
    if (!entries) {
      const file = persist ? this.#file(chainId, block) : undefined;
      entries = file ? readEntries(file) : Promise.resolve(new Map());
      this.#files.set(id, entries);
    }
    return entries;
  }

  async get(chainId: string, block: number | "chain", key: string, persist: boolean): Promise<{ hit: boolean; value?: unknown }> {
    const entries = await this.#load(chainId, block, persist);
    return entries.has(key) ? { hit: true, value: entries.get(key) } : { hit: false };
  }

  async set(chainId: string, block: number | "chain", key: string, value: unknown, persist: boolean): Promise<void> {
    const entries = await this.#load(chainId, block, persist);
    if (entries.has(key)) return;
    entries.set(key, value);
    const file = persist ? this.#file(chainId, block) : undefined;
    if (!file) return;
    const line = JSON.stringify({ k: key, r: value }) + "\n";
    // One append at a time, in order: lines never interleave.
    this.#writes = this.#writes.then(async () => {
      await mkdir(path.dirname(file), { recursive: true });
      await appendFile(file, line);
    });
    await this.#writes;
  }

  flush(): Promise<void> {
    return this.#writes;
  }
}

async function readEntries(file: string): Promise<Map<string, unknown>> {
  const entries = new Map<string, unknown>();
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    return entries;
  }
  for (const line of text.split("\n")) {
    if (!line) continue;
    try {
      const { k, r } = JSON.parse(line) as { k: string; r: unknown };
      entries.set(k, r);
    } catch {
      // a torn line from an interrupted write: that answer is fetched again
    }
  }
  return entries;
}

/** Starts the proxy on 127.0.0.1 at a free port. `close()` it when the fork is done. */
export async function startRpcProxy(options: RpcProxyOptions): Promise<RpcProxy> {
  const upstream = options.upstream;
  const limiter = new RateLimiter(options.maxRequestsPerSecond ?? 25);
  const maxRetries = options.maxRetries ?? 6;
  const baseDelay = options.baseDelayMs ?? 250;
  const maxDelay = options.maxDelayMs ?? 8_000;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const cache = new DiskCache(options.cacheDir);
  const upstreamKey = createHash("sha256").update(upstream).digest("hex").slice(0, 32);
  let pinnedBlock = options.pinnedBlock;
  let chainId: string | undefined;
  const stats: RpcStats = { remoteCalls: 0, cacheHits: 0, retries: 0, remoteByMethod: {} };
  const inFlight = new Set<AbortController>();

  /** One request to the remote node, rate-limited, retried on 429/5xx. */
  async function remote(request: JsonRpcRequest): Promise<{ status: number; body: JsonRpcResponse | undefined; unreachable?: string }> {
    for (let attempt = 0; ; attempt++) {
      await limiter.take();
      stats.remoteCalls++;
      stats.remoteByMethod[request.method] = (stats.remoteByMethod[request.method] ?? 0) + 1;
      const abort = new AbortController();
      inFlight.add(abort);
      const timer = setTimeout(() => abort.abort(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs);
      let response: Response;
      let body: JsonRpcResponse | undefined;
      try {
        response = await fetch(upstream, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ jsonrpc: "2.0", id: request.id ?? 1, method: request.method, params: request.params ?? [] }),
          signal: abort.signal,
        });
        body = (await response.json().catch(() => undefined)) as JsonRpcResponse | undefined;
      } catch (error) {
        const cause = (error as Error & { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
        return { status: 502, body: undefined, unreachable: String(cause) };
      } finally {
        clearTimeout(timer);
        inFlight.delete(abort);
      }
      const rateLimited = response.status === 429 || response.status >= 500 || body?.error?.code === 429 || body?.error?.code === -32005;
      if (!rateLimited || attempt >= maxRetries) return { status: response.status, body };
      stats.retries++;
      const retryAfter = Number(response.headers.get("retry-after"));
      const backoff = Math.min(maxDelay, baseDelay * 2 ** attempt);
      await sleep(Number.isFinite(retryAfter) && retryAfter > 0 ? Math.min(maxDelay, retryAfter * 1_000) : backoff);
    }
  }

  async function knownChainId(): Promise<string | undefined> {
    if (chainId) return chainId;
    const cached = await cache.get(upstreamKey, "chain", "eth_chainId", true);
    if (cached.hit) return (chainId = String(cached.value));
    const { body } = await remote({ id: 1, method: "eth_chainId", params: [] });
    if (typeof body?.result === "string") {
      chainId = body.result;
      await cache.set(upstreamKey, "chain", "eth_chainId", chainId, true);
    }
    return chainId;
  }

  async function handle(request: JsonRpcRequest): Promise<{ status: number; body: JsonRpcResponse; unreachable?: string }> {
    const id = request.id ?? null;
    if (PER_UPSTREAM.has(request.method)) {
      // Keyed by the upstream (a hash of its URL): answers needed before the chain id is known.
      const cached = request.method === "eth_chainId" && chainId !== undefined ? { hit: true, value: chainId } : await cache.get(upstreamKey, "chain", request.method, true);
      if (cached.hit) {
        stats.cacheHits++;
        return { status: 200, body: { jsonrpc: "2.0", id, result: cached.value } };
      }
    }
    if (options.freezeAtPinnedBlock && pinnedBlock !== undefined) {
      if (request.method === "eth_blockNumber") {
        stats.cacheHits++;
        return { status: 200, body: { jsonrpc: "2.0", id, result: `0x${pinnedBlock.toString(16)}` } };
      }
      const index = BLOCK_PARAM[request.method];
      if (index !== undefined && request.params && typeof request.params[index] === "string" && MOVING_TAGS.has(request.params[index] as string)) {
        const params = [...request.params];
        params[index] = `0x${pinnedBlock.toString(16)}`;
        request = { ...request, params };
      }
    }
    const block = explicitBlock(request.method, request.params);
    const cacheable = block !== undefined && pinnedBlock !== undefined && block <= pinnedBlock;
    const chain = cacheable ? await knownChainId() : undefined;
    const persist = chain !== undefined && (options.cacheDevChains === true || !DEV_CHAINS.has(chain));
    const key = `${request.method}:${JSON.stringify(request.params ?? []).toLowerCase()}`;
    if (cacheable && chain !== undefined) {
      const hit = await cache.get(chain, block, key, persist);
      if (hit.hit) {
        stats.cacheHits++;
        return { status: 200, body: { jsonrpc: "2.0", id, result: hit.value } };
      }
    }
    const answer = await remote(request);
    if (!answer.body) {
      const message = answer.unreachable ? `remote RPC unreachable: ${answer.unreachable}` : `remote RPC answered HTTP ${answer.status} without JSON`;
      return { status: 502, body: { jsonrpc: "2.0", id, error: { code: -32603, message } }, ...(answer.unreachable ? { unreachable: answer.unreachable } : {}) };
    }
    const body = { ...answer.body, id };
    if (PER_UPSTREAM.has(request.method) && answer.status === 200 && typeof body.result === "string") {
      if (request.method === "eth_chainId") chainId = body.result;
      await cache.set(upstreamKey, "chain", request.method, body.result, true);
    } else if (cacheable && chain !== undefined && answer.status === 200 && body.error === undefined && body.result !== undefined && body.result !== null) {
      await cache.set(chain, block, key, body.result, persist);
    }
    return { status: answer.status, body };
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      void (async () => {
        let parsed: JsonRpcRequest | JsonRpcRequest[];
        try {
          parsed = JSON.parse(Buffer.concat(chunks).toString("utf8")) as JsonRpcRequest | JsonRpcRequest[];
        } catch {
          res.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify({ jsonrpc: "2.0", id: null, error: { code: -32700, message: "parse error" } }));
          return;
        }
        try {
          if (Array.isArray(parsed)) {
            const answers = await Promise.all(parsed.map(handle));
            res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(answers.map((a) => a.body)));
          } else {
            const answer = await handle(parsed);
            const headers: Record<string, string> = { "content-type": "application/json" };
            if (answer.unreachable) headers[UPSTREAM_UNREACHABLE_HEADER] = answer.unreachable;
            res.writeHead(answer.status, headers).end(JSON.stringify(answer.body));
          }
        } catch (error) {
          if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
          res.end(JSON.stringify({ jsonrpc: "2.0", id: null, error: { code: -32603, message: (error as Error).message } }));
        }
      })();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  if (address !== "127.0.0.1") {
    server.close();
    throw new RiskkeeperError("RPC_FAILED", `the RPC proxy must listen on 127.0.0.1, got ${address}`, { input: "rpc proxy" });
  }
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    setPinnedBlock(block) {
      pinnedBlock = block;
    },
    stats: () => ({ ...stats, remoteByMethod: { ...stats.remoteByMethod } }),
    async close() {
      for (const abort of inFlight) abort.abort(new Error("proxy closed"));
      await cache.flush().catch(() => undefined);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
