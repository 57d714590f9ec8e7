// `riskkeeper run` against a real chain on 127.0.0.1, set up as an operator would: an in-process EDR
// chain served over HTTP, the contracts deployed with the default policy's bounds, a deployment
// file, an encrypted keystore, a config whose history is the feed's rounds behind a backfill file,
// and the feed (a ReplayAggregator) loaded with the rounds the test chooses.
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { HDNodeWallet, encryptKeystoreJson, type Contract } from "ethers";
import { network } from "hardhat";
import { validatePolicy } from "../../bot/backtest/policy.ts";
import { generatedHourlySeries } from "../../bot/data/generated.ts";
import { main } from "../../bot/cli.ts";
import { managedRulesFromPolicy } from "../../bot/keeper/decide.ts";
import { DEV_MNEMONIC, marketConfigFor } from "../../bot/keeper/embedded.ts";
import { startLoopbackRpcServer } from "../../bot/keeper/rpc-server.ts";
import { readStateSnapshot, type StateSnapshot } from "../../bot/keeper/state.ts";
import { deployRiskkeeper, writeDeployment, type Deployment } from "../../deploy/deploy.ts";

export const KEYSTORE_PASSWORD = "correct horse battery staple";

export interface FeedRoundInput {
  /** Price in USD (8 decimals on chain). */
  answer: number | bigint;
  /** Unix seconds. */
  updatedAt: number;
}

export interface LiveKeeperOptions {
  /** Closes of the backfill file (ISO timestamp, price), oldest first. */
  backfill: Array<{ t: number; price: number }>;
  rounds: FeedRoundInput[];
  launch?: { maintenanceMarginBps: number; volAnnualPpm: number };
  /** Extra config keys (merged over the defaults). */
  config?: Record<string, unknown>;
}

export interface LiveKeeper {
  dir: string;
  deployment: Deployment;
  admin: Awaited<ReturnType<typeof network.create>>;
  feed: Contract;
  /** `riskkeeper run --config … --keystore … --once`: exit code, stdout and the state after. */
  runOnce(extra?: string[]): Promise<{ code: number; out: string; state: StateSnapshot; log: string }>;
  /** The managed parameter's on-chain value (1: maintenance margin). */
  param(id: number): Promise<bigint>;
  close(): Promise<void>;
}

/**
 * 400 days of a calm generated hourly path ending at the current hour: the backfill file holds all
 * but the last 30 days, the feed's rounds the last 30, each a minute before its hour (the close of
 * the hour before). Seed 1 passes the default policy's backtest gate.
 */
export function calmFeedHistory(): { backfill: LiveKeeperOptions["backfill"]; rounds: FeedRoundInput[]; now: number; hours: number; feedHours: number } {
  const H = 3_600;
  const hours = 400 * 24;
  const feedHours = 30 * 24;
  const now = Math.floor(Date.now() / 1000);
  const s = generatedHourlySeries({ hours, seed: 1, crashFraction: 0, startTime: Math.floor(now / H) * H - (hours - 1) * H });
  return {
    backfill: Array.from({ length: hours - feedHours }, (_, i) => ({ t: s.t[i], price: s.close[i] })),
    rounds: Array.from({ length: feedHours }, (_, j) => ({ answer: s.close[hours - feedHours + j], updatedAt: s.t[hours - feedHours + j] - 60 })),
    now,
    hours,
    feedHours,
  };
}

export async function captureStdout(fn: () => Promise<number>): Promise<{ code: number; out: string }> {
  const chunks: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((c: string) => { chunks.push(String(c)); return true; }) as typeof process.stdout.write;
  try {
    return { code: await fn(), out: chunks.join("") };
  } finally {
    process.stdout.write = write;
  }
}

export async function startLiveKeeper(options: LiveKeeperOptions): Promise<LiveKeeper> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "rk-live-"));
  // Genesis three days back: deployed "then", the chain is brought to the wall clock, so the
  // launch values' min delay has passed and the keeper's wall clock and chain time agree.
  const chain = await network.create({ network: "hardhat", override: { initialDate: new Date(Date.now() - 3 * 86_400_000) } });
  const server = await startLoopbackRpcServer(chain.provider);
  const admin = await network.create({ network: "localhost", override: { url: server.url } });
  let miner: ReturnType<typeof setInterval> | undefined;
  const close = async () => {
    clearInterval(miner);
    await admin.close();
    await server.close();
    await chain.close();
  };
  try {
    const policyFile = path.resolve("policies/default-1h.json");
    const policy = validatePolicy(JSON.parse(await readFile(policyFile, "utf8")), policyFile);
    const deployment = await deployRiskkeeper(admin.ethers, { market: marketConfigFor(managedRulesFromPolicy(policy), options.launch ?? { maintenanceMarginBps: 100, volAnnualPpm: 800_000 }) });
    const chainNow = Number((await admin.ethers.provider.getBlock("latest"))!.timestamp);
    await admin.networkHelpers.time.increaseTo(Math.floor(Date.now() / 1000) - 5);
    if (Math.floor(Date.now() / 1000) - chainNow < 86_400) throw new Error("the test chain did not start in the past");
    const feed = (await admin.ethers.getContractAt("ReplayAggregator", deployment.contracts.feed)) as unknown as Contract;
    // 100 rounds per transaction keeps each under the block gas limit.
    for (let k = 0; k < options.rounds.length; k += 100) {
      const batch = options.rounds.slice(k, k + 100);
      const ids = batch.map((_, j) => BigInt(k + j + 1));
      const answers = batch.map((r) => (typeof r.answer === "bigint" ? r.answer : BigInt(Math.round(r.answer * 1e8))));
      const times = batch.map((r) => BigInt(r.updatedAt));
      await (await feed.getFunction("loadRounds")(ids, answers, times, times)).wait();
    }
    await (await feed.getFunction("publishThrough")(options.rounds.length)).wait();
    await writeFile(path.join(dir, "backfill.csv"), ["timestamp,price", ...options.backfill.map((b) => `${new Date(b.t * 1000).toISOString()},${b.price}`)].join("\n"));
    await writeDeployment(path.join(dir, "deployment.json"), deployment);
    const keeper = HDNodeWallet.fromPhrase(DEV_MNEMONIC, undefined, "m/44'/60'/0'/0/1");
    await writeFile(path.join(dir, "keeper.json"), await encryptKeystoreJson({ address: keeper.address, privateKey: keeper.privateKey }, KEYSTORE_PASSWORD, { scrypt: { N: 1 << 10 } }));
    await writeFile(path.join(dir, "config.json"), JSON.stringify({
      rpcUrl: server.url,
      rpcRequestsPerSecond: 2_000,
      deployment: "deployment.json",
      markets: [{ name: "ETH-USD", feed: deployment.contracts.feed, data: "backfill.csv", history: "feed", policy: "default-1h" }],
      health: { port: 0 },
      state: { file: "state/state.json" },
      log: { level: "info", file: "keeper.log" },
      ...options.config,
    }));
    // A live chain makes blocks on its own: the keeper waits for 2 confirmations.
    miner = setInterval(() => { void chain.provider.request({ method: "evm_mine", params: [] }).catch(() => {}); }, 250);
    const steward = await admin.ethers.getContractAt("RiskParameterSteward", deployment.contracts.steward);
    return {
      dir,
      deployment,
      admin,
      feed,
      async runOnce(extra = []) {
        process.env.RISKKEEPER_KEYSTORE_PASSWORD = KEYSTORE_PASSWORD;
        try {
          const { code, out } = await captureStdout(() => main(["run", "--config", path.join(dir, "config.json"), "--once", "--keystore", path.join(dir, "keeper.json"), ...extra]));
          const state = await readStateSnapshot(path.join(dir, "state", "state.json"));
          return { code, out, state, log: await readFile(path.join(dir, "keeper.log"), "utf8").catch(() => "") };
        } finally {
          delete process.env.RISKKEEPER_KEYSTORE_PASSWORD;
        }
      },
      async param(id: number) {
        const [value] = await steward.getFunction("getParam")(deployment.market.id, id);
        return value as bigint;
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
