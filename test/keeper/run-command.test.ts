// `riskkeeper run` against a node on 127.0.0.1: the live entry point with a config file, a
// deployment file and an encrypted keystore. --once lands one bounded update; --shadow records
// what it would have done and sends nothing.
import { expect } from "chai";
import { existsSync } from "node:fs";
import { isRiskkeeperError } from "../../bot/errors.ts";
import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { HDNodeWallet, encryptKeystoreJson } from "ethers";
import { network } from "hardhat";
import { readFile } from "node:fs/promises";
import { validatePolicy } from "../../bot/backtest/policy.ts";
import { managedRulesFromPolicy } from "../../bot/keeper/decide.ts";
import { DEV_MNEMONIC, marketConfigFor } from "../../bot/keeper/embedded.ts";
import { startLoopbackRpcServer } from "../../bot/keeper/rpc-server.ts";
import { readStateSnapshot } from "../../bot/keeper/state.ts";
import { deployRiskkeeper, writeDeployment } from "../../deploy/deploy.ts";
import { main } from "../../bot/cli.ts";
import { sharedDataPath } from "../support/shared-data.ts";
import { calmFeedHistory, captureStdout, KEYSTORE_PASSWORD as PASSWORD, startLiveKeeper } from "../support/live-keeper.ts";


describe("riskkeeper run (live entry point, node on 127.0.0.1)", function () {
  this.timeout(180_000);

  it("--once with history from the feed behind a backfill file: reads the rounds on chain, joins them to the file, lands the update", async function () {
    const { backfill, rounds, hours, feedHours } = calmFeedHistory();
    const keeper = await startLiveKeeper({ backfill, rounds });
    try {
      const { code, out, state } = await keeper.runOnce();
      expect(code, out).to.equal(0);
      const [record] = Object.values(state.data.updates);
      expect(record.state, out).to.equal("confirmed");
      const observed = record.evidence.observed as { data: { source: string; rowsKnown: number; feed: { address: string; roundsRead: number; notes: string[] } } };
      expect(observed.data.source).to.equal(`${path.join(keeper.dir, "backfill.csv")} + feed ${keeper.deployment.contracts.feed}`);
      expect(observed.data.feed.roundsRead).to.equal(feedHours);
      expect(observed.data.feed.notes).to.deep.equal([]);
      // Every hour of the file and the feed whose close is known by now.
      expect(observed.data.rowsKnown).to.be.within(hours - 1, hours);
      expect(out).to.match(/ETH-USD confirmed: maintenanceMarginBps=/);
    } finally {
      await keeper.close();
    }
  });

  it("a keeper account without funds: the node's refusal settles the record as refused (not stuck at submitted), and after a refund the next run lands", async function () {
    const keeper = await startLiveKeeper(calmFeedHistory());
    try {
      const signer = HDNodeWallet.fromPhrase(DEV_MNEMONIC, undefined, "m/44'/60'/0'/0/1").address;
      await keeper.admin.networkHelpers.setBalance(signer, 0n);
      const first = await keeper.runOnce();
      const [refused] = Object.values(first.state.data.updates);
      expect(refused.state, first.out).to.equal("rejected");
      expect(refused.rejection?.code).to.equal("submission-refused");
      expect(refused.rejection?.message).to.match(/refused/);
      expect(await keeper.param(1)).to.equal(100n);

      await keeper.admin.networkHelpers.setBalance(signer, 10n ** 19n);
      const second = await keeper.runOnce();
      const records = Object.values(second.state.data.updates);
      expect(records.map((r) => r.state).sort()).to.deep.equal(["confirmed", "rejected"]);
      expect(await keeper.param(1) > 100n).to.equal(true);
    } finally {
      await keeper.close();
    }
  });

  it("honours the config's fork settings: fork.enabled false skips the gate and says so in the evidence; a validation over fork.timeoutMs rejects the update", async function () {
    const off = await startLiveKeeper({ ...calmFeedHistory(), config: { fork: { enabled: false } } });
    try {
      const { out, state, log } = await off.runOnce();
      const [record] = Object.values(state.data.updates);
      expect(record.state, out).to.equal("confirmed");
      expect(record.evidence["fork-validated"]).to.deep.equal({ verdict: "skipped", reason: "fork gate disabled by the config (fork.enabled: false)" });
      expect(log).to.include("fork gate disabled by the config");
    } finally {
      await off.close();
    }
    const slow = await startLiveKeeper({ ...calmFeedHistory(), config: { fork: { timeoutMs: 50 } } });
    try {
      const { out, state } = await slow.runOnce();
      const [record] = Object.values(state.data.updates);
      expect(record.state, out).to.equal("rejected");
      expect(record.rejection).to.deep.include({ code: "fork-error", message: "fork.timeoutMs: the fork validation of ETH-USD did not finish within 50 ms" });
      expect(await slow.param(1)).to.equal(100n);
    } finally {
      await slow.close();
    }
  });

  it("honours gas.gasLimit (an update needing more is refused before signing) and refuses a submission mode it does not send", async function () {
    const tight = await startLiveKeeper({ ...calmFeedHistory(), config: { gas: { gasLimit: 21_000 }, fork: { enabled: false } } });
    try {
      const { out, state } = await tight.runOnce();
      const [record] = Object.values(state.data.updates);
      expect(record.state, out).to.equal("rejected");
      expect(record.rejection?.code).to.equal("submission-refused");
      expect(record.rejection?.message).to.match(/needs a gas limit of \d+ \(estimate \d+ \+ headroom\), above the ceiling 21000; nothing sent/);
      expect(state.data.journal).to.deep.equal({});
      expect(await tight.param(1)).to.equal(100n);
    } finally {
      await tight.close();
    }
    const governed = await startLiveKeeper({ ...calmFeedHistory(), config: { submission: { mode: "governance" } } });
    try {
      const { command } = await import("../../bot/commands/run.ts");
      const error = await command.run(["--config", path.join(governed.dir, "config.json"), "--once", "--shadow"], { stdout: () => {}, stderr: () => {} }).then(() => undefined, (e: unknown) => e);
      expect(isRiskkeeperError(error, "CONFIG_INVALID"), String(error)).to.equal(true);
      expect((error as { input: string }).input).to.match(/config\.json: submission\.mode$/);
      expect(existsSync(path.join(governed.dir, "state")), "nothing written").to.equal(false);
    } finally {
      await governed.close();
    }
  });

  for (const shadow of [false, true]) {
    it(shadow ? "--shadow --once records the update it would make and sends nothing" : "--once lands one bounded update from a keystore signer", async function () {
      const data = sharedDataPath("binance-spot-1h/ETHUSDT_1h.csv");
      if (!data) this.skip();
      const dir = await mkdtemp(path.join(os.tmpdir(), "rk-run-"));
      const chain = await network.create();
      const server = await startLoopbackRpcServer(chain.provider);
      const admin = await network.create({ network: "localhost", override: { url: server.url } });
      let miner: ReturnType<typeof setInterval> | undefined;
      try {
        const policyFile = path.resolve("policies/default-1h.json");
        const policy = validatePolicy(JSON.parse(await readFile(policyFile, "utf8")), policyFile);
        const deployment = await deployRiskkeeper(admin.ethers, { market: marketConfigFor(managedRulesFromPolicy(policy), { maintenanceMarginBps: 100, volAnnualPpm: 800_000 }) });
        await admin.networkHelpers.time.increase(2 * 86_400);
        await writeDeployment(path.join(dir, "deployment.json"), deployment);
        const keeper = HDNodeWallet.fromPhrase(DEV_MNEMONIC, undefined, "m/44'/60'/0'/0/1");
        await writeFile(path.join(dir, "keeper.json"), await encryptKeystoreJson({ address: keeper.address, privateKey: keeper.privateKey }, PASSWORD, { scrypt: { N: 1 << 10 } }));
        await writeFile(path.join(dir, "config.json"), JSON.stringify({
          rpcUrl: server.url,
          deployment: "deployment.json",
          markets: [{ name: "ETH-USD", feed: deployment.contracts.feed, data, policy: "default-1h" }],
          health: { port: 0 },
          state: { file: "state/state.json" },
          log: { level: "warn" },
        }));
        process.env.RISKKEEPER_KEYSTORE_PASSWORD = PASSWORD;
        // A live chain makes blocks on its own: the keeper waits for 2 confirmations.
        miner = setInterval(() => { void chain.provider.request({ method: "evm_mine", params: [] }).catch(() => {}); }, 250);
        const args = ["run", "--config", path.join(dir, "config.json"), "--once", ...(shadow ? ["--shadow"] : ["--keystore", path.join(dir, "keeper.json")])];
        const { code, out } = await captureStdout(() => main(args));
        expect(code, out).to.equal(0);
        const state = await readStateSnapshot(path.join(dir, "state", "state.json"));
        const records = Object.values(state.data.updates);
        expect(records).to.have.length(1);
        const steward = await admin.ethers.getContractAt("RiskParameterSteward", deployment.contracts.steward);
        const [mm] = await steward.getFunction("getParam")(deployment.market.id, 1);
        if (shadow) {
          expect(records[0].state).to.equal("rejected");
          expect(records[0].rejection?.code).to.equal("shadow");
          expect(mm).to.equal(100n);
          expect(out).to.match(/ETH-USD rejected: .*shadow mode: would have proposed maintenanceMarginBps=/);
        } else {
          expect(records[0].state, out).to.equal("confirmed");
          expect(mm > 100n).to.equal(true);
          expect(out).to.match(/ETH-USD confirmed: maintenanceMarginBps=/);
        }
      } finally {
        clearInterval(miner);
        delete process.env.RISKKEEPER_KEYSTORE_PASSWORD;
        await admin.close();
        await server.close();
        await chain.close();
      }
    });
  }
});
