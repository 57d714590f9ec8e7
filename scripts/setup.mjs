// One-time set-up run by `npm install` (postinstall). It makes a fresh clone usable on a machine
// whose system Node is older than Hardhat 3 needs and which cannot download anything but npm
// packages:
//   1. make sure we run on the Node 22 runtime shipped by the npm `node` package;
//   2. install EDR's native platform package, which npm skips when it itself runs on Node < 22;
//   3. compile the contracts with the offline solc (soljson.js from the npm `solc` package).
// Each step is idempotent, so running `npm install` twice is harmless.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const localNode = path.join(root, "node_modules", ".bin", "node");
const MIN_NODE = [22, 13];

function nodeIsRecentEnough(version) {
  const [major, minor] = version.replace(/^v/, "").split(".").map(Number);
  return major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1]);
}

function run(cmd, args, extraEnv = {}) {
  const result = spawnSync(cmd, args, { cwd: root, stdio: "inherit", env: { ...process.env, ...extraEnv } });
  if (result.status !== 0) {
    console.error(`[riskkeeper setup] '${[path.basename(cmd), ...args].join(" ")}' failed with status ${result.status}`);
    process.exit(result.status ?? 1);
  }
}

if (!nodeIsRecentEnough(process.version)) {
  if (!existsSync(localNode)) {
    console.error(`[riskkeeper setup] Node ${process.version} is too old for Hardhat 3 and ${localNode} is missing; ` +
      "the npm package `node` should have provided it. Re-run `npm install`.");
    process.exit(1);
  }
  run(localNode, [fileURLToPath(import.meta.url)]);
  process.exit(0);
}

const require = createRequire(path.join(root, "package.json"));

function edrNativeInstalled() {
  const probe = spawnSync(process.execPath, ["-e", "require('@nomicfoundation/edr')"], { cwd: root, stdio: "ignore" });
  return probe.status === 0;
}

if (!edrNativeInstalled()) {
  if (process.env.RISKKEEPER_SETUP_NESTED) {
    console.error("[riskkeeper setup] EDR's native package is still missing after a reinstall under " +
      `Node ${process.version}; check that the npm registry is reachable.`);
    process.exit(1);
  }
  const npmCli = process.env.npm_execpath;
  if (!npmCli || !existsSync(npmCli)) {
    console.error("[riskkeeper setup] cannot locate npm (npm_execpath is unset); run `npm install` through npm.");
    process.exit(1);
  }
  console.log(`[riskkeeper setup] installing EDR's native package under Node ${process.version}`);
  // npm under Node 22 sees the platform package as installable; --ignore-scripts avoids re-running
  // this script inside itself (we compile below).
  run(process.execPath, [npmCli, "install", "--no-audit", "--no-fund", "--ignore-scripts"], { RISKKEEPER_SETUP_NESTED: "1" });
  // --ignore-scripts also skipped the `node` package's own install; restore its binary link.
  if (!edrNativeInstalled()) {
    console.error("[riskkeeper setup] EDR's native package could not be installed.");
    process.exit(1);
  }
}

// Compile with the offline compiler so that `npm start` and `npm test` need no network.
require.resolve("solc/soljson.js");
run(process.execPath, [path.join(root, "node_modules", "hardhat", "dist", "src", "cli.js"), "build", "--quiet"]);
console.log(`[riskkeeper setup] ready: Node ${process.version}, EDR native package present, contracts compiled`);
