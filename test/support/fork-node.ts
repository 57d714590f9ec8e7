// A real Hardhat JSON-RPC node on the loopback interface, reached over HTTP, and EDR forks of it
// pinned to a block: what fork validations do against a live chain, without leaving the machine.
// Callers must `close()` what they start (in an `after` hook): an open server keeps mocha alive.
import { rm } from "node:fs/promises";
import path from "node:path";
import hre, { network } from "hardhat";

const LOOPBACK = "127.0.0.1";

export type Connection = Awaited<ReturnType<typeof network.create>>;

export interface LocalNode {
  /** http://127.0.0.1:<port> */
  url: string;
  port: number;
  /** An HTTP connection to the node (the node's own unlocked accounts sign). */
  connection: Connection;
  close(): Promise<void>;
}

/**
 * Starts an in-process Hardhat node (the "hardhat" EDR network) serving JSON-RPC on 127.0.0.1 at
 * a free port, and connects to it over HTTP as a client would.
 */
export async function startLocalNode(): Promise<LocalNode> {
  const server = await network.createServer({ network: "hardhat" }, LOOPBACK, 0);
  const { address, port } = await server.listen();
  if (address !== LOOPBACK) {
    await server.close();
    throw new Error(`the test node must listen on ${LOOPBACK} only, got ${address}`);
  }
  const url = `http://${LOOPBACK}:${port}`;
  let connection: Connection;
  try {
    connection = await network.create({ network: "localhost", override: { url } });
  } catch (error) {
    await server.close();
    throw new Error(`cannot connect to the test node at ${url}`, { cause: error });
  }
  let closed = false;
  return {
    url,
    port,
    connection,
    async close() {
      if (closed) return;
      closed = true;
      try {
        await connection.close();
      } finally {
        await server.close();
        await removeForkCache(port);
      }
    },
  };
}

/**
 * An in-process EDR chain forked from `url` at `blockNumber`. Forking the local chain id (31337)
 * needs its hardfork history, which hardhat.config.ts declares under `chainDescriptors`.
 */
export async function forkAt(url: string, blockNumber: number): Promise<Connection> {
  return network.create({ network: "hardhat", override: { forking: { url, blockNumber } } });
}

/**
 * EDR caches fork RPC answers per host and port under the project cache. Ports are reused across
 * runs while the node's chain is new each time, so a node's cache entry is removed with it.
 */
async function removeForkCache(port: number): Promise<void> {
  const dir = path.join(hre.config.paths.cache, "edr-fork-cache", "rpc_cache", "v2", `${LOOPBACK}_${port}`);
  await rm(dir, { recursive: true, force: true });
}
