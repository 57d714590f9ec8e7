// Shared set-up of the chain-layer tests: a fresh in-process chain with everything deployed and
// a random keeper key (so secrets tests grep for a key nobody else uses), an ethers provider over
// the connection, a fake clock whose sleep runs a hook (the test moves the chain while the
// manager waits), and a manager factory.
import { writeFile } from "node:fs/promises";
import { Wallet, encryptKeystoreJson, parseUnits } from "ethers";
import { network } from "hardhat";
import { deployRiskkeeper, type Deployment } from "../../deploy/deploy.ts";
import { bindGovernor, bindSteward, errorInterfaces } from "../../bot/chain/bindings.ts";
import { expect } from "chai";
import { MemoryJournal, type SubmissionJournal, type SubmissionRecord } from "../../bot/chain/journal.ts";
import { fromEip1193 } from "../../bot/chain/provider.ts";
import { submitDirectUpdate, type MarketChange } from "../../bot/chain/steward.ts";
import { TxManager, type ChainEvent, type Clock, type TxManagerOptions } from "../../bot/chain/tx-manager.ts";

export const GWEI = 10n ** 9n;
export const EVIDENCE = "0x" + "5e".repeat(32);

export interface FakeClock extends Clock {
  t: number;
  sleeps: number;
  /** Runs on every sleep, after the time moved. */
  onSleep: (clock: FakeClock) => Promise<void> | void;
}

export function fakeClock(onSleep: FakeClock["onSleep"] = () => undefined): FakeClock {
  const clock: FakeClock = {
    t: 1_000_000,
    sleeps: 0,
    onSleep,
    now: () => clock.t,
    sleep: async (ms) => {
      clock.t += ms;
      clock.sleeps += 1;
      if (clock.sleeps > 10_000) throw new Error("fake clock: runaway wait");
      await clock.onSleep(clock);
    },
  };
  return clock;
}

export async function chainFixture(options: { keeperKey?: string } = {}) {
  const connection = await network.create();
  const { ethers } = connection;
  const [deployer, , guardian, voter, outsiderSigner] = await ethers.getSigners();
  const keeper = options.keeperKey ? new Wallet(options.keeperKey) : Wallet.createRandom();
  const deployment: Deployment = await deployRiskkeeper(ethers, { signers: { deployer: deployer!, keeper, guardian: guardian! } });
  await connection.networkHelpers.setBalance(keeper.address, 10n ** 20n);
  // Genesis values were just set: let the keeper's min delay (1 h) pass.
  await connection.networkHelpers.time.increase(3_600);
  const provider = fromEip1193(connection.provider);
  const steward = bindSteward(deployment.contracts.steward, provider);
  const governor = bindGovernor(deployment.contracts.governor, provider);
  const rpc = (method: string, params: unknown[] = []) => connection.provider.request({ method, params });
  const events: ChainEvent[] = [];
  const manager = (extra: Partial<TxManagerOptions> & { journal?: SubmissionJournal; signer?: TxManagerOptions["signer"] } = {}) =>
    new TxManager({
      provider,
      signer: keeper,
      chainId: BigInt(deployment.chainId),
      journal: new MemoryJournal(),
      fees: { maxFeePerGas: 50n * GWEI, maxPriorityFeePerGas: 1n * GWEI },
      confirmations: 1,
      clock: fakeClock(),
      pollIntervalMs: 1_000,
      stuckAfterMs: 5_000,
      maxFeeWaitMs: 60_000,
      maxConfirmWaitMs: 600_000,
      errorInterfaces: errorInterfaces(),
      logger: (e) => events.push(e),
      ...extra,
    });
  const change = (updates: MarketChange["updates"], evidenceHash = EVIDENCE): MarketChange => ({
    market: deployment.market.name,
    marketId: deployment.market.id,
    updates,
    evidenceHash,
  });
  return { connection, ethers, helpers: connection.networkHelpers, deployment, provider, steward, governor, keeper, deployer: deployer!, voter: voter!, outsiderSigner: outsiderSigner!, rpc, events, manager, change };
}

export type ChainFixture = Awaited<ReturnType<typeof chainFixture>>;

export const gwei = (n: string) => parseUnits(n, "gwei");

/** A keystore with a cheap scrypt (N = 1024) so tests stay fast. */
export async function writeKeystore(file: string, wallet: { address: string; privateKey: string }, password: string): Promise<void> {
  await writeFile(file, await encryptKeystoreJson({ address: wallet.address, privateKey: wallet.privateKey }, password, { scrypt: { N: 1 << 10 } }));
}

/** ParamUpdated events of the fixture's steward carrying `evidence`. */
export function paramLogsOf(f: ChainFixture, evidence = EVIDENCE) {
  return f.provider.getLogs({ address: f.steward.address, fromBlock: 0, topics: [f.steward.iface.getEvent("ParamUpdated")!.topicHash, null, null, evidence] });
}

/**
 * A plain retry (not --retry-failed) of a journaled, sent update resumes it: the same signed
 * transaction is confirmed, one transaction from the keeper, one ParamUpdated on chain.
 */
export async function expectRetryResumesOnce(f: ChainFixture, journal: SubmissionJournal, change: Parameters<typeof submitDirectUpdate>[3], recorded: SubmissionRecord): Promise<void> {
  const r = await submitDirectUpdate(f.manager({ journal }), f.steward, f.provider, change);
  const result = r.submission as { resumed: boolean; record: SubmissionRecord };
  expect(result.resumed).to.equal(true);
  expect(result.record.status).to.equal("confirmed");
  expect(result.record.attempts.map((a) => a.hash)).to.deep.equal(recorded.attempts.map((a) => a.hash));
  expect(await f.provider.getTransactionCount(f.keeper.address, "latest")).to.equal(1);
  expect(await paramLogsOf(f)).to.have.length(1);
}
