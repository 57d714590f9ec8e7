import { fileURLToPath } from "node:url";
import { defineConfig } from "hardhat/config";
import hardhatEthers from "@nomicfoundation/hardhat-ethers";
import hardhatMocha from "@nomicfoundation/hardhat-mocha";
import hardhatChaiMatchers from "@nomicfoundation/hardhat-ethers-chai-matchers";
import hardhatNetworkHelpers from "@nomicfoundation/hardhat-network-helpers";

// Hardhat cannot download compilers on these machines: use the soljson.js shipped by the npm
// `solc` package, pinned to the same version.
const SOLC_VERSION = "0.8.30";
const soljsonPath = fileURLToPath(import.meta.resolve("solc/soljson.js"));

export default defineConfig({
  plugins: [hardhatEthers, hardhatMocha, hardhatChaiMatchers, hardhatNetworkHelpers],
  solidity: {
    profiles: {
      default: {
        version: SOLC_VERSION,
        path: soljsonPath,
        settings: { optimizer: { enabled: true, runs: 200 }, evmVersion: "cancun" },
      },
      production: {
        version: SOLC_VERSION,
        path: soljsonPath,
        settings: { optimizer: { enabled: true, runs: 200 }, evmVersion: "cancun" },
      },
    },
  },
  // Hardforks of the local chain id, so an EDR network can fork a local node (test/fork): without
  // a history EDR refuses to execute on the node's blocks ("No known hardfork ... chain 31337").
  chainDescriptors: {
    31337: { name: "Hardhat local", chainType: "l1", hardforkHistory: { cancun: { blockNumber: 0 } } },
  },
  networks: {
    // In-process EDR chain; `allowUnlimitedContractSize` stays off so sizes match a real chain.
    hardhat: { type: "edr-simulated", chainType: "l1", hardfork: "cancun" },
    localhost: { type: "http", chainType: "l1", url: "http://127.0.0.1:8545" },
  },
  test: {
    mocha: { timeout: 120_000 },
  },
});
