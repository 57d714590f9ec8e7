// Providers for the chain layer: a JSON-RPC URL (probed first, so an unreachable node fails with
// the URL named instead of ethers retrying forever) or any EIP-1193 provider (Hardhat's in-process
// chain in tests). Request caching is off: the manager re-reads nonces and receipts right after
// blocks are mined.
import { BrowserProvider, JsonRpcProvider, Network, type Eip1193Provider, type Provider } from "ethers";
import { ChainError } from "./errors.ts";

/** Hides credentials and API keys in an RPC URL. */
import { maskRpcUrl } from "../url-mask.ts";

export { maskRpcUrl };

/** Opens a provider on a JSON-RPC URL after checking it answers eth_chainId. */
export async function connectRpc(url: string, timeoutMs = 10_000): Promise<{ provider: JsonRpcProvider; chainId: bigint }> {
  let chainId: bigint;
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = (await response.json()) as { result?: string; error?: { message?: string } };
    if (!body.result) throw new Error(body.error?.message ?? `HTTP ${response.status}`);
    chainId = BigInt(body.result);
  } catch (error) {
    throw new ChainError("RPC_FAILED", `cannot reach the RPC: ${(error as Error).message}`, { input: maskRpcUrl(url), cause: error });
  }
  const provider = new JsonRpcProvider(url, Network.from(chainId), { staticNetwork: true, cacheTimeout: -1, batchMaxCount: 1 });
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
