// A polite JSON-RPC client for reading feeds: a requests-per-second cap, retry with exponential
// back-off (honouring Retry-After) on HTTP 429 / 5xx and dropped connections, a cache for answers
// that can no longer change (old rounds, old blocks), and a hard budget of transport calls. The
// clock is injected so that tests and replays never wait on real time.
import { RiskkeeperError } from "../errors.ts";
import { maskRpcUrl } from "../url-mask.ts";
import { systemClock, type Clock } from "../sleep-clock.ts";

export { systemClock, type Clock };

/** One JSON-RPC call over some transport (HTTP, an EIP-1193 provider, an ethers provider). */
export type RpcTransport = (method: string, params: unknown[]) => Promise<unknown>;

/**
 * A transport-level failure: `status` is the HTTP status (0 for a network error). `retryable` is
 * true for a network error, 429 and 5xx, and for an answer that is not JSON-RPC at all (a proxy's
 * error page, a body cut short): the node never answered the call, so asking again may work.
 */
export class RpcTransportError extends Error {
  override readonly name = "RpcTransportError";
  readonly status: number;
  readonly retryAfterMs: number | undefined;
  readonly retryable: boolean;
  constructor(message: string, status: number, retryAfterMs?: number, cause?: unknown, retryable = status === 0 || status === 429 || status >= 500) {
    super(message, { cause });
    this.status = status;
    this.retryAfterMs = retryAfterMs;
    this.retryable = retryable;
  }
}

/** A JSON-RPC error response (e.g. a revert): the node answered, retrying will not help. */
export class RpcResponseError extends Error {
  override readonly name = "RpcResponseError";
  readonly rpcCode: number | undefined;
  readonly data: unknown;
  constructor(message: string, rpcCode?: number, data?: unknown, cause?: unknown) {
    super(message, { cause });
    this.rpcCode = rpcCode;
    this.data = data;
  }
}

/** JSON-RPC over HTTP POST with the global fetch. */
export function httpTransport(url: string, options: { timeoutMs?: number } = {}): RpcTransport {
  let id = 0;
  const where = maskRpcUrl(url);
  return async (method, params) => {
    let res: Response;
    try {
      res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: ++id, method, params }),
        signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
      });
    } catch (cause) {
      throw new RpcTransportError(`${method}: ${(cause as Error).message}`, 0, undefined, cause);
    }
    if (!res.ok) {
      const ra = res.headers.get("retry-after");
      const retryAfterMs = ra !== null && /^\d+(\.\d+)?$/.test(ra.trim()) ? Number(ra) * 1000 : undefined;
      await res.body?.cancel();
      throw new RpcTransportError(`${method}: HTTP ${res.status}`, res.status, retryAfterMs);
    }
    let text: string;
    try {
      text = await res.text();
    } catch (cause) {
      throw new RpcTransportError(`${method}: answer from ${where} cut short: ${(cause as Error).message}`, 0, undefined, cause);
    }
    let body: { result?: unknown; error?: { code?: number; message?: string; data?: unknown } };
    try {
      body = JSON.parse(text) as typeof body;
    } catch (cause) {
      // The parser's message quotes the body; it stays in `cause` only.
      throw new RpcTransportError(`${method}: answer from ${where} is not JSON (HTTP ${res.status}, ${text.length} characters)`, res.status, undefined, cause, true);
    }
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      throw new RpcTransportError(`${method}: answer from ${where} is not a JSON-RPC object (HTTP ${res.status})`, res.status, undefined, undefined, true);
    }
    if (body.error) throw new RpcResponseError(`${method}: ${body.error.message ?? "error"}`, body.error.code, body.error.data);
    return body.result;
  };
}

/** Adapts an EIP-1193 provider (Hardhat's `network.connect()` provider) or anything with `send`. */
export function providerTransport(provider: { request(args: { method: string; params?: unknown[] }): Promise<unknown> } | { send(method: string, params: unknown[]): Promise<unknown> }): RpcTransport {
  return async (method, params) => {
    try {
      return "request" in provider ? await provider.request({ method, params }) : await provider.send(method, params);
    } catch (cause) {
      const e = cause as { message?: string; code?: number; data?: unknown; status?: number };
      if (typeof e.status === "number" && (e.status === 429 || e.status >= 500)) throw new RpcTransportError(`${method}: HTTP ${e.status}`, e.status, undefined, cause);
      throw new RpcResponseError(`${method}: ${e.message ?? String(cause)}`, typeof e.code === "number" ? e.code : undefined, e.data, cause);
    }
  };
}

export interface PoliteRpcOptions {
  /** Name used in errors: the RPC URL (without secrets) or "hardhat". */
  label?: string;
  /** Requests-per-second cap over all calls. Default 10. */
  requestsPerSecond?: number;
  /** Retries after the first attempt on 429 / 5xx / network errors. Default 5. */
  maxRetries?: number;
  /** First back-off delay; doubled on each retry. Default 250 ms. */
  baseDelayMs?: number;
  /** Longest back-off delay. Default 8,000 ms. */
  maxDelayMs?: number;
  /** Transport calls allowed in this client's life (retries count). Default unlimited. */
  budget?: number;
  /** Entries kept in the immutable-answer cache (oldest dropped first). Default 10,000. */
  cacheSize?: number;
  clock?: Clock;
}

export interface RpcStats {
  calls: number;
  retries: number;
  cacheHits: number;
  waitedMs: number;
}

function retryable(error: unknown): error is RpcTransportError {
  return error instanceof RpcTransportError && error.retryable;
}

/** See the module comment. `request(..., { immutable: true })` caches the answer for good. */
export class PoliteRpc {
  readonly label: string;
  readonly stats: RpcStats = { calls: 0, retries: 0, cacheHits: 0, waitedMs: 0 };
  readonly #transport: RpcTransport;
  readonly #spacingMs: number;
  readonly #maxRetries: number;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #budget: number;
  readonly #cacheSize: number;
  readonly #clock: Clock;
  readonly #cache = new Map<string, unknown>();
  #nextSlot = -Infinity;

  constructor(transport: RpcTransport, options: PoliteRpcOptions = {}) {
    const rps = options.requestsPerSecond ?? 10;
    if (!(rps > 0)) throw new RiskkeeperError("CONFIG_INVALID", `must be > 0, got ${rps}`, { input: "requestsPerSecond" });
    this.label = options.label ?? "rpc";
    this.#transport = transport;
    this.#spacingMs = 1000 / rps;
    this.#maxRetries = options.maxRetries ?? 5;
    this.#baseDelayMs = options.baseDelayMs ?? 250;
    this.#maxDelayMs = options.maxDelayMs ?? 8000;
    this.#budget = options.budget ?? Infinity;
    this.#cacheSize = options.cacheSize ?? 10_000;
    this.#clock = options.clock ?? systemClock;
  }

  /** Transport calls left in the budget. */
  get budgetLeft(): number {
    return this.#budget - this.stats.calls;
  }

  async request(method: string, params: unknown[], options: { immutable?: boolean } = {}): Promise<unknown> {
    const key = options.immutable ? `${method}:${JSON.stringify(params, (_k, v) => (typeof v === "bigint" ? v.toString() : v))}` : undefined;
    if (key !== undefined && this.#cache.has(key)) {
      this.stats.cacheHits++;
      return this.#cache.get(key);
    }
    for (let attempt = 0; ; attempt++) {
      if (this.stats.calls >= this.#budget) {
        throw new RiskkeeperError("RPC_FAILED", `RPC call budget of ${this.#budget} exhausted before ${method}`, { input: this.label, details: { ...this.stats } });
      }
      await this.#throttle();
      this.stats.calls++;
      try {
        const result = await this.#transport(method, params);
        if (key !== undefined) {
          if (this.#cache.size >= this.#cacheSize) this.#cache.delete(this.#cache.keys().next().value as string);
          this.#cache.set(key, result);
        }
        return result;
      } catch (error) {
        if (!retryable(error)) throw error;
        if (attempt >= this.#maxRetries) {
          throw new RiskkeeperError("RPC_FAILED", `${method} failed after ${attempt + 1} attempts: ${error.message}`, { input: this.label, cause: error });
        }
        const backoff = Math.min(this.#maxDelayMs, this.#baseDelayMs * 2 ** attempt);
        const delay = Math.max(backoff, Math.min(this.#maxDelayMs, error.retryAfterMs ?? 0));
        this.stats.retries++;
        this.stats.waitedMs += delay;
        await this.#clock.sleep(delay);
      }
    }
  }

  async #throttle(): Promise<void> {
    const now = this.#clock.now();
    const slot = Math.max(now, this.#nextSlot);
    this.#nextSlot = slot + this.#spacingMs;
    if (slot > now) {
      this.stats.waitedMs += slot - now;
      await this.#clock.sleep(slot - now);
    }
  }
}
