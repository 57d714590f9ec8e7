// The world a crash test kills the keeper in: an in-process EDR chain served on 127.0.0.1 (with an
// interval miner, because the TxManager waits for 2 confirmations), the riskkeeper contracts
// deployed on it, and the files `riskkeeper run` reads (deployment, encrypted keystore, config).
// The keeper itself runs as a child process (`node bot/cli.ts run --once`) that can be SIGKILLed
// at a chosen delay. close() stops every child, the miner, the server and the chain.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { HDNodeWallet, encryptKeystoreJson } from "ethers";
import { network } from "hardhat";
import { validatePolicy } from "../../../bot/backtest/policy.ts";
import { generatedHourlySeries } from "../../../bot/data/generated.ts";
import { managedRulesFromPolicy } from "../../../bot/keeper/decide.ts";
import { DEV_MNEMONIC, marketConfigFor } from "../../../bot/keeper/embedded.ts";
import { readLockHolder } from "../../../bot/keeper/lock.ts";
import { startLoopbackRpcServer, type LoopbackRpcServer } from "../../../bot/keeper/rpc-server.ts";
import { deployRiskkeeper, writeDeployment, type Deployment } from "../../../deploy/deploy.ts";
import { PARAM, type ParamName } from "../../../deploy/market-config.ts";
import { sharedDataPath } from "../../support/shared-data.ts";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const PASSWORD = "crash loop keystore password";
/** The parameters the keeper manages; governance puts them back to their launch values each cycle. */
export const MANAGED: readonly ParamName[] = ["maintenanceMarginBps", "initialMarginBps", "volAnnualPpm"];
const MINE_EVERY_MS = 250;

type Connection = Awaited<ReturnType<typeof network.create>>;

export interface ChildRun {
  pid: number;
  /** Wall-clock ms of the spawn (the keeper's RealClock stamps its records on the same clock). */
  spawnedAt: number;
  /** Spawn to exit, ms. */
  ms: number;
  /** Spawn to the moment the child held the state lock (its runtime had started), ms; absent if it never did. */
  lockMs?: number;
  /** True when the SIGKILL was delivered to a live child (false: it had already exited). */
  killed: boolean;
  timedOut: boolean;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Last few KiB of stdout and stderr, for diagnostics. */
  output: string;
}

export interface CrashRig {
  dir: string;
  url: string;
  deployment: Deployment;
  keeperAddress: string;
  configFile: string;
  keystoreFile: string;
  stateFile: string;
  /** The folder evidence bundles go to (`<state dir>/evidence`). */
  evidenceDir: string;
  dataFile: string;
  /** Raw EIP-1193 requests to the in-process chain (no HTTP). */
  request(method: string, params?: unknown[]): Promise<unknown>;
  headBlock(): Promise<number>;
  /**
   * Makes an update necessary again: governance (the timelock) puts the managed parameters back
   * to their launch values, then chain time moves past the keeper's min delay (plus `extraSeconds`).
   */
  resetByGovernance(extraSeconds: number): Promise<void>;
  /** One keeper process, SIGKILLed (with its process group) after `killAfterMs` if still alive. */
  runKeeper(options: { killAfterMs?: number; timeoutMs: number }): Promise<ChildRun>;
  close(): Promise<void>;
}

/** Writes an hourly CSV from the seeded generated series, for machines without ../shared/data. */
async function writeGeneratedCsv(file: string): Promise<void> {
  const s = generatedHourlySeries();
  const rows = ["timestamp_utc,unix_s,open,high,low,close,volume_base,source"];
  for (let i = 0; i < s.t.length; i++) {
    const c = s.close[i]!.toFixed(4);
    rows.push(`${new Date(s.t[i]! * 1000).toISOString().slice(0, 19).replace("T", " ")},${s.t[i]},${c},${c},${c},${c},0,generated`);
  }
  await writeFile(file, `${rows.join("\n")}\n`);
}

export async function startCrashRig(options: { dataFile?: string; keepDir?: boolean } = {}): Promise<CrashRig> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "rk-crash-"));
  const children = new Set<ChildProcess>();
  let chain: Connection | undefined;
  let server: LoopbackRpcServer | undefined;
  let admin: Connection | undefined;
  let miner: ReturnType<typeof setInterval> | undefined;
  let closed = false;
  // The children lead their own process groups: a parent that dies must take them along.
  const killAll = () => { for (const child of children) killGroup(child); };
  process.on("exit", killAll);
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    process.off("exit", killAll);
    for (const child of children) killGroup(child);
    await Promise.all([...children].map((c) => new Promise((resolve) => (c.exitCode !== null || c.signalCode !== null ? resolve(undefined) : c.once("close", resolve)))));
    clearInterval(miner);
    await admin?.close().catch(() => {});
    await server?.close().catch(() => {});
    await chain?.close().catch(() => {});
    if (!options.keepDir) await rm(dir, { recursive: true, force: true }).catch(() => {});
  };
  try {
    chain = await network.create();
    const provider = chain.provider;
    server = await startLoopbackRpcServer(provider);
    admin = await network.create({ network: "localhost", override: { url: server.url } });
    const request = (method: string, params: unknown[] = []) => provider.request({ method, params });

    const policyFile = path.join(REPO_ROOT, "policies", "default-1h.json");
    const policy = validatePolicy(JSON.parse(await readFile(policyFile, "utf8")), policyFile);
    // Launched at the floor: the model's target is far above, so every reset leaves a step to take.
    const market = marketConfigFor(managedRulesFromPolicy(policy), { maintenanceMarginBps: 100, volAnnualPpm: 800_000 });
    const deployment = await deployRiskkeeper(admin.ethers, { market });
    await admin.networkHelpers.time.increase(2 * 86_400);
    const minDelay = Math.max(...MANAGED.map((p) => Number(market.bounds[p].minDelaySeconds)));

    const timelock = deployment.contracts.timelock;
    await admin.networkHelpers.impersonateAccount(timelock);
    await admin.networkHelpers.setBalance(timelock, 10n ** 21n);
    const governance = await admin.ethers.getContractAt("RiskParameterSteward", deployment.contracts.steward, await admin.ethers.getSigner(timelock));
    const launch = MANAGED.map((p) => [PARAM[p], market.initialValues[p]] as const);
    let resets = 0;

    const dataFile = options.dataFile ?? sharedDataPath("binance-spot-1h/ETHUSDT_1h.csv") ?? path.join(dir, "generated-1h.csv");
    if (dataFile === path.join(dir, "generated-1h.csv")) await writeGeneratedCsv(dataFile);
    const keeper = HDNodeWallet.fromPhrase(DEV_MNEMONIC, undefined, "m/44'/60'/0'/0/1");
    const keystoreFile = path.join(dir, "keeper.json");
    await writeFile(keystoreFile, await encryptKeystoreJson({ address: keeper.address, privateKey: keeper.privateKey }, PASSWORD, { scrypt: { N: 1 << 10 } }));
    await writeDeployment(path.join(dir, "deployment.json"), deployment);
    const configFile = path.join(dir, "config.json");
    await writeFile(configFile, JSON.stringify({
      rpcUrl: server.url,
      deployment: "deployment.json",
      markets: [{ name: deployment.market.name, feed: deployment.contracts.feed, data: dataFile, policy: "default-1h" }],
      health: { port: 0 },
      // Nothing compacted: the audit matches every on-chain update with its record.
      state: { file: "state/state.json", keepTerminalPerMarket: 1_000_000 },
      log: { level: "info" },
    }, null, 2));
    const stateFile = path.join(dir, "state", "state.json");

    // A live chain makes blocks on its own.
    miner = setInterval(() => { void request("evm_mine").catch(() => {}); }, MINE_EVERY_MS);

    const runKeeper = async ({ killAfterMs, timeoutMs }: { killAfterMs?: number; timeoutMs: number }): Promise<ChildRun> => {
      if (closed) throw new Error("crash rig is closed");
      const started = performance.now();
      const spawnedAt = Date.now();
      // Its own process group, so a kill takes anything it started with it.
      const child = spawn(process.execPath, [path.join(REPO_ROOT, "bot", "cli.ts"), "run", "--config", configFile, "--keystore", keystoreFile, "--once"], {
        cwd: REPO_ROOT,
        env: { ...process.env, RISKKEEPER_KEYSTORE_PASSWORD: PASSWORD },
        stdio: ["ignore", "pipe", "pipe"],
        detached: true,
      });
      children.add(child);
      let output = "";
      const keep = (chunk: Buffer) => { output = (output + chunk.toString("utf8")).slice(-6_000); };
      child.stdout!.on("data", keep);
      child.stderr!.on("data", keep);
      let lockMs: number | undefined;
      let killSent = false;
      let timedOut = false;
      // Polled rather than watched: fs.watch misses a create+write that lands between two events.
      const lockPoll = setInterval(() => {
        if (lockMs === undefined && readLockHolder(stateFile)?.pid === child.pid) lockMs = performance.now() - started;
      }, 5);
      const alive = () => child.exitCode === null && child.signalCode === null;
      const killTimer = killAfterMs === undefined ? undefined : setTimeout(() => { if (alive()) { killSent = true; killGroup(child); } }, killAfterMs);
      const deadline = setTimeout(() => { if (alive()) { timedOut = true; killGroup(child); } }, timeoutMs);
      const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
        child.once("error", reject);
        child.once("close", (c, s) => resolve({ code: c, signal: s }));
      }).finally(() => {
        clearInterval(lockPoll);
        clearTimeout(killTimer);
        clearTimeout(deadline);
        children.delete(child);
      });
      // A child that exited a moment before the signal (not yet reaped) was not killed.
      const killed = killSent && signal === "SIGKILL";
      if (lockMs === undefined && killed && readLockHolder(stateFile)?.pid === child.pid) lockMs = performance.now() - started;
      return { pid: child.pid!, spawnedAt, ms: performance.now() - started, ...(lockMs !== undefined ? { lockMs } : {}), killed, timedOut, code, signal, output };
    };

    return {
      dir, url: server.url, deployment, keeperAddress: keeper.address, configFile, keystoreFile, stateFile,
      evidenceDir: path.join(path.dirname(stateFile), "evidence"), dataFile,
      request,
      headBlock: async () => Number(BigInt((await request("eth_blockNumber")) as string)),
      resetByGovernance: async (extraSeconds) => {
        const tx = await governance.getFunction("setParams")(deployment.market.id, launch, admin!.ethers.id(`crash-loop:reset:${++resets}`));
        await tx.wait();
        await request("evm_increaseTime", [minDelay + Math.max(1, Math.round(extraSeconds))]);
        await request("evm_mine");
      },
      runKeeper,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch {
    child.kill("SIGKILL"); // the group is gone already (or never formed): the child alone
  }
}
