// Restart safety: the keeper is stopped dead at each point of an update's life (before each stage
// is written, inside each gate, before and after the transaction is sent, before it is marked
// confirmed), then a new keeper process starts on the same state file and finishes the job. The
// update must land on chain exactly once, whatever the point.
import { expect } from "chai";
import { mkdtemp, readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { HDNodeWallet, JsonRpcProvider, Wallet } from "ethers";
import { network } from "hardhat";
import { generatedHourlySeries } from "../../bot/data/generated.ts";
import { validatePolicy } from "../../bot/backtest/policy.ts";
import { createBufferModel } from "../../bot/backtest/model.ts";
import { bindSteward, errorInterfaces } from "../../bot/chain/bindings.ts";
import { keeperChainPort } from "../../bot/chain/keeper-port.ts";
import { TxManager } from "../../bot/chain/tx-manager.ts";
import type { SubmissionRecord } from "../../bot/chain/journal.ts";
import { deployRiskkeeper, type Deployment } from "../../deploy/deploy.ts";
import { managedRulesFromPolicy } from "../../bot/keeper/decide.ts";
import { DEV_MNEMONIC, marketConfigFor } from "../../bot/keeper/embedded.ts";
import { ForkValidationGate, WalkForwardGate } from "../../bot/keeper/gates.ts";
import { SeriesHistory } from "../../bot/keeper/history.ts";
import { MarketPipeline, type ChainPort, type BacktestGate, type ForkGate } from "../../bot/keeper/pipeline.ts";
import { StateStore, type UpdateStage } from "../../bot/keeper/state.ts";
import { RealClock } from "../../bot/keeper/clock.ts";
import { createKeeperLogger } from "../../bot/keeper/log.ts";
import { startLoopbackRpcServer } from "../../bot/keeper/rpc-server.ts";

class Crash extends Error {}
type CrashPoint =
  | { kind: "before-stage"; stage: UpdateStage }
  | { kind: "in-backtest-gate" }
  | { kind: "in-fork-gate" }
  | { kind: "before-send" }
  | { kind: "after-send" };

const POINTS: Array<{ name: string; point: CrashPoint }> = [
  { name: "before calibrated is written", point: { kind: "before-stage", stage: "calibrated" } },
  { name: "before bounded is written", point: { kind: "before-stage", stage: "bounded" } },
  { name: "inside the backtest gate", point: { kind: "in-backtest-gate" } },
  { name: "inside the fork gate", point: { kind: "in-fork-gate" } },
  { name: "before submitted is written (evidence on disk)", point: { kind: "before-stage", stage: "submitted" } },
  { name: "after submitted is written, before sending", point: { kind: "before-send" } },
  { name: "after the transaction is sent and mined", point: { kind: "after-send" } },
  { name: "before confirmed is written", point: { kind: "before-stage", stage: "confirmed" } },
];

const policyFile = path.resolve("policies/default-1h.json");

describe("keeper restart safety: killed at each stage, restarted, the update lands exactly once", function () {
  this.timeout(300_000);
  const series = generatedHourlySeries();
  const history = new SeriesHistory(series, { source: "generated" });
  let policy: ReturnType<typeof validatePolicy>;

  before(async () => {
    policy = validatePolicy(JSON.parse(await readFile(policyFile, "utf8")), policyFile);
  });

  for (const { name, point } of POINTS) {
    it(`killed ${name}`, async () => {
      const chainConnection = await network.create();
      const server = await startLoopbackRpcServer(chainConnection.provider);
      const url = server.url;
      const admin = await network.create({ network: "localhost", override: { url } });
      const provider = new JsonRpcProvider(url, undefined, { staticNetwork: true, cacheTimeout: -1, batchStallTime: 0, batchMaxCount: 1 });
      const stateDir = await mkdtemp(path.join(os.tmpdir(), "rk-restart-"));
      const stateFile = path.join(stateDir, "state.json");
      const clock = new RealClock();
      const log = createKeeperLogger({ level: "warn", clock, terminal: false });
      try {
        const rules = managedRulesFromPolicy(policy);
        // Launched at the floor: the model's target is far above, so the keeper has a step to take.
        const deployment: Deployment = await deployRiskkeeper(admin.ethers, { market: marketConfigFor(rules, { maintenanceMarginBps: 100, volAnnualPpm: 800_000 }) });
        const feed = await admin.ethers.getContractAt("ReplayAggregator", deployment.contracts.feed);
        const now = BigInt((await provider.getBlock("latest"))!.timestamp);
        await (await feed.getFunction("loadRounds")([1n], [3_000n * 10n ** 8n], [now], [now])).wait();
        await (await feed.getFunction("publishThrough")(1n)).wait();
        await admin.networkHelpers.time.increase(2 * 86_400); // past the launch values' min delay
        const steward = bindSteward(deployment.contracts.steward, provider);

        const keeperProcess = async (crash: CrashPoint | undefined) => {
          const store = await StateStore.open(stateFile, { clock });
          const keeperSigner = new Wallet(HDNodeWallet.fromPhrase(DEV_MNEMONIC, undefined, "m/44'/60'/0'/0/1").privateKey);
          const manager = new TxManager({
            provider, signer: keeperSigner, chainId: 31337n, journal: store.journalFor<SubmissionRecord>(),
            fees: { maxFeePerGas: 500n * 10n ** 9n, maxPriorityFeePerGas: 10n ** 9n }, confirmations: 1, pollIntervalMs: 50, errorInterfaces: errorInterfaces(),
          });
          const realChain = keeperChainPort({ provider, steward, manager });
          const chain: ChainPort = {
            ...realChain,
            submit: async (change) => {
              if (crash?.kind === "before-send") throw new Crash("killed before send");
              const sent = await realChain.submit(change);
              if (crash?.kind === "after-send") throw new Crash("killed after send");
              return sent;
            },
          };
          const realBacktest = new WalkForwardGate(history, policy);
          const backtestGate: BacktestGate = { judge: async (t) => { if (crash?.kind === "in-backtest-gate") throw new Crash("killed in the backtest gate"); return realBacktest.judge(t); } };
          const realFork = new ForkValidationGate(history, { forkUrl: url, deployment, positions: 5, windowSteps: 24, horizonSteps: 12 });
          const forkGate: ForkGate = { validate: async (...a) => { if (crash?.kind === "in-fork-gate") throw new Crash("killed in the fork gate"); return realFork.validate(...a); } };
          // The kill: the state store's write of the chosen stage never happens (nor anything after).
          const advance = store.advance.bind(store);
          store.advance = (async (id: string, to: UpdateStage, o?: Parameters<StateStore["advance"]>[2]) => {
            if (crash?.kind === "before-stage" && crash.stage === to) throw new Crash(`killed before ${to}`);
            return advance(id, to, o);
          }) as StateStore["advance"];
          const pipeline = new MarketPipeline(
            { name: deployment.market.name, marketId: deployment.market.id, policy, model: createBufferModel(policy.modelSpec), rules, history },
            { store, chain, backtestGate, forkGate, stateDir, configHash: "0x" + "00".repeat(32), logger: log.logger },
          );
          try {
            const result = await pipeline.run(() => true);
            return { ...result, alerts: pipeline.alerts };
          } finally {
            await store.close(); // the process is gone: its lock goes with it
          }
        };

        let crashed = false;
        try {
          const first = await keeperProcess(point);
          expect.fail(`no kill happened: ${first.outcome} ${first.reason.slice(0, 300)}`);
        } catch (error) {
          if (!(error instanceof Crash)) throw error;
          crashed = true;
        }
        expect(crashed, "the injected kill happened").to.equal(true);
        const result = await keeperProcess(undefined);
        expect(result.outcome, result.reason).to.equal("confirmed");

        const events = await steward.read.getAllParams(deployment.market.id);
        expect(Number(events[0][1])).to.be.greaterThan(100); // maintenance raised
        const logs = await provider.getLogs({ address: deployment.contracts.steward, fromBlock: 0, toBlock: "latest" });
        const keeperUpdates = logs
          .map((l) => steward.iface.parseLog({ topics: [...l.topics], data: l.data }))
          .filter((p) => p?.name === "ParamUpdated" && Number(p.args[5]) === 0 && Number(p.args[1]) === 1);
        expect(keeperUpdates, "exactly one keeper update of the maintenance margin on chain").to.have.length(1);
        const store = await StateStore.open(stateFile, { clock });
        try {
          const records = store.list({ market: deployment.market.name });
          expect(records.filter((r) => r.state === "confirmed")).to.have.length(1);
          expect(store.pending(deployment.market.name)).to.have.length(0);
          const confirmed = records.find((r) => r.state === "confirmed")!;
          expect(keeperUpdates[0]!.args[4]).to.equal(confirmed.evidenceHash);
        } finally {
          await store.close();
        }

        // A third process: the chain holds the keeper's own update, which it must not take for
        // another writer's although the process that made it is gone.
        const third = await keeperProcess(undefined);
        expect(third.alerts, "own update flagged as foreign after a restart").to.deep.equal([]);
        // Governance (the timelock) then sets the margin while no keeper runs: the next process
        // reports it from what the state file says the keeper last saw.
        const timelock = deployment.contracts.timelock;
        await admin.networkHelpers.impersonateAccount(timelock);
        await admin.networkHelpers.setBalance(timelock, 10n ** 21n);
        const governed = await admin.ethers.getContractAt("RiskParameterSteward", deployment.contracts.steward, await admin.ethers.getSigner(timelock));
        const before = Number(events[0][1]);
        await (await governed.getFunction("setParams")(deployment.market.id, [{ param: 1, value: before + 25 }], "0x" + "ab".repeat(32))).wait();
        const fourth = await keeperProcess(undefined);
        expect(fourth.alerts.map((a) => a.message)).to.deep.equal([`maintenanceMarginBps changed by another writer: ${before} -> ${before + 25}`]);
      } finally {
        await log.close();
        provider.destroy();
        await admin.close();
        await server.close();
        await chainConnection.close();
      }
    });
  }
});
