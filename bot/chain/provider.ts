// Providers for the chain layer: a JSON-RPC URL (probed first, so an unreachable node fails with
// the URL named instead of ethers retrying forever) or any EIP-1193 provider (Hardhat's in-process
// chain in tests). Request caching is off: the manager re-reads nonces and receipts right after
// blocks are mined.
import http from "node:http";
import https from "node:https";
import { gunzipSync } from "node:zlib";
import { BrowserProvider, FetchRequest, JsonRpcProvider, Network, isError, makeError, type Eip1193Provider, type FetchCancelSignal, type GetUrlResponse, type JsonRpcPayload, type JsonRpcResult, type Provider } from "ethers";
import { ChainError } from "./errors.ts";

/** Hides credentials and API keys in an RPC URL. */
import { maskRpcUrl } from "../url-mask.ts";

export { maskRpcUrl };

export interface ConnectRpcOptions {
  /** Longest wait for the eth_chainId probe. Default 10 s. */
  probeTimeoutMs?: number;
  /**
   * Longest wait for any later request (ethers' own default is 300 s, which stalls a submission
   * for 5 minutes on a node that never answers). Default 30 s.
   */
  requestTimeoutMs?: number;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/**
 * ethers' getUrl, with the socket closed when the request times out or is cancelled. ethers' own
 * Node client rejects on its timeout but leaves the request running (its abort signal is never
 * handed to node:http), so a node that stops answering keeps one open connection per timed-out
 * request until it closes them itself. node:http rather than fetch: an aborted fetch (undici,
 * Node 22) was seen to open a fresh idle connection to the same node at once, and fetch refuses
 * URLs with credentials.
 * The deadline covers the whole exchange, connection to the last byte of the body.
 */
function getUrlClosingOnTimeout(req: FetchRequest, cancel?: FetchCancelSignal): Promise<GetUrlResponse> {
  const url = new URL(req.url);
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return Promise.reject(makeError(`unsupported protocol ${url.protocol}`, "UNSUPPORTED_OPERATION", { operation: "request", info: { protocol: url.protocol } }));
  }
  const abort = new AbortController();
  return new Promise<GetUrlResponse>((resolve, reject) => {
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      outcome();
    };
    const stop = (error: Error) => settle(() => {
      abort.abort(); // destroys the request and its socket
      reject(error);
    });
    const timer = setTimeout(() => stop(makeError("request timeout", "TIMEOUT", { operation: "request", reason: "timeout", request: req })), req.timeout);
    cancel?.addListener(() => stop(makeError("request cancelled", "CANCELLED", {})));
    // A failure of the socket itself: coded, so it reads as a transport failure like ethers' own.
    const lost = (error: NodeJS.ErrnoException) => settle(() => reject(makeError(`connection failed: ${error.message}${error.code && !error.message.includes(error.code) ? ` (${error.code})` : ""}`, "NETWORK_ERROR", { event: "request", error })));
    // content-length is left to node:http (it counts the bytes it sends).
    const { "content-length": _, ...headers } = req.headers;
    const request = (url.protocol === "https:" ? https : http).request(url, { method: req.method, headers, signal: abort.signal }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("error", lost);
      response.on("end", () => settle(() => {
        let body: Uint8Array | null = chunks.length > 0 ? Buffer.concat(chunks) : null;
        try {
          if (body && response.headers["content-encoding"] === "gzip") body = gunzipSync(body);
        } catch (error) {
          reject(makeError("bad response data", "SERVER_ERROR", { request: req, info: { error } }));
          return;
        }
        const out: Record<string, string> = {};
        for (const [name, value] of Object.entries(response.headers)) if (value !== undefined) out[name] = Array.isArray(value) ? value.join(", ") : value;
        resolve({ statusCode: response.statusCode ?? 0, statusMessage: response.statusMessage ?? "", headers: out, body });
      }));
    });
    request.on("error", lost);
    request.end(req.body ? Buffer.from(req.body) : undefined);
  });
}

/** One line for a transport failure: ethers' short message, or the HTTP answer ethers gave up on. */
function transportText(error: unknown): string {
  const e = error as { shortMessage?: string; message?: string; response?: { statusMessage?: string } };
  // After its own retries (a 429), ethers reports a made-up status 599 whose message holds the real one.
  const escalated = /^CLIENT ESCALATED SERVER ERROR \((.+)\)$/.exec(e.response?.statusMessage ?? "");
  if (escalated) return `HTTP ${escalated[1]}`;
  return e.shortMessage ?? String(e.message ?? error).split("\n")[0]!.slice(0, 300);
}

/**
 * A JsonRpcProvider whose transport failures are RPC_FAILED naming the (masked) URL and the method.
 * Everything `_send` throws is a transport failure: the node's own JSON-RPC errors (reverts,
 * refusals) come back as answers and are decoded by ethers after it.
 */
class TimedJsonRpcProvider extends JsonRpcProvider {
  readonly #where: string;
  readonly #timeoutMs: number;

  constructor(request: FetchRequest, network: Network, where: string) {
    // No batching and no stall: each request is its own HTTP call, so a timeout or a failure
    // belongs to one method, and a submission's reads go out at once.
    super(request, network, { staticNetwork: true, cacheTimeout: -1, batchStallTime: 0, batchMaxCount: 1 });
    this.#where = where;
    this.#timeoutMs = request.timeout;
  }

  override async _send(payload: JsonRpcPayload | JsonRpcPayload[]): Promise<JsonRpcResult[]> {
    try {
      return await super._send(payload);
    } catch (error) {
      const methods = (Array.isArray(payload) ? payload : [payload]).map((p) => p.method).join(", ");
      const timedOut = isError(error, "TIMEOUT");
      // ethers' own message is not quoted: it carries the request URL, API key included.
      throw new ChainError("RPC_FAILED", `${methods}: ${timedOut ? `request timed out after ${this.#timeoutMs} ms` : transportText(error)}`, {
        input: this.#where,
        details: { methods, ...(timedOut ? { timeoutMs: this.#timeoutMs } : {}) },
        cause: error,
      });
    }
  }
}

/**
 * Opens a provider on a JSON-RPC URL after checking it answers eth_chainId. A number as the second
 * argument is the probe timeout (the older signature).
 *
 * @example
 * const { provider, chainId } = await connectRpc(url, { requestTimeoutMs: 10_000 });
 */
export async function connectRpc(url: string, options: number | ConnectRpcOptions = {}): Promise<{ provider: JsonRpcProvider; chainId: bigint }> {
  const { probeTimeoutMs = 10_000, requestTimeoutMs = DEFAULT_REQUEST_TIMEOUT_MS } = typeof options === "number" ? { probeTimeoutMs: options } : options;
  for (const [name, value] of [["probeTimeoutMs", probeTimeoutMs], ["requestTimeoutMs", requestTimeoutMs]] as const) {
    if (!(Number.isSafeInteger(value) && value > 0)) throw new ChainError("INPUT_INVALID", `must be a whole number of ms > 0, got ${value}`, { input: name });
  }
  let chainId: bigint;
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      signal: AbortSignal.timeout(probeTimeoutMs),
    });
    const body = (await response.json()) as { result?: string; error?: { message?: string } };
    if (!body.result) throw new Error(body.error?.message ?? `HTTP ${response.status}`);
    chainId = BigInt(body.result);
  } catch (error) {
    throw new ChainError("RPC_FAILED", `cannot reach the RPC: ${(error as Error).message}`, { input: maskRpcUrl(url), cause: error });
  }
  const request = new FetchRequest(url);
  request.timeout = requestTimeoutMs;
  request.getUrlFunc = getUrlClosingOnTimeout;
  const provider = new TimedJsonRpcProvider(request, Network.from(chainId), maskRpcUrl(url));
  return { provider, chainId };
}

/** Wraps an EIP-1193 provider (e.g. a Hardhat network connection's) as an ethers Provider. */
export function fromEip1193(eip1193: Eip1193Provider): Provider {
  return new BrowserProvider(eip1193, undefined, { cacheTimeout: -1 });
}

/** Throws CHAIN_MISMATCH unless the provider serves `expected`. */
export async function assertChainId(provider: Provider, expected: bigint | string, what = "the deployment"): Promise<bigint> {
  let actual: bigint;
  try {
    actual = (await provider.getNetwork()).chainId;
  } catch (error) {
    throw new ChainError("RPC_FAILED", `cannot read the chain id: ${(error as Error).message}`, { cause: error });
  }
  if (actual !== BigInt(expected)) {
    throw new ChainError("CHAIN_MISMATCH", `the RPC serves chain ${actual}, ${what} is on chain ${expected}; nothing sent`, {
      details: { expected: String(expected), actual: actual.toString() },
    });
  }
  return actual;
}
