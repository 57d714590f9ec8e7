import { expect } from "chai";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { FetchRequest, FetchResponse } from "ethers";
import { isChainError } from "../../bot/chain/errors.ts";
import { JsonFileJournal, MemoryJournal, type SubmissionRecord } from "../../bot/chain/journal.ts";
import { submitDirectUpdate } from "../../bot/chain/steward.ts";
import { EVIDENCE, GWEI, chainFixture, expectRetryResumesOnce, fakeClock, type ChainFixture } from "./support.ts";

const hex = (n: bigint) => `0x${n.toString(16)}`;

describe("chain: transaction manager", () => {
  let f: ChainFixture;
  let dir: string;
  beforeEach(async () => {
    f = await chainFixture();
    dir = await mkdtemp(path.join(tmpdir(), "riskkeeper-tx-"));
  });
  afterEach(async () => {
    await f.connection.close();
    await rm(dir, { recursive: true, force: true });
  });

  const paramLogs = async () =>
    f.provider.getLogs({ address: f.steward.address, fromBlock: 0, topics: [f.steward.iface.getEvent("ParamUpdated")!.topicHash, null, null, EVIDENCE] });

  it("holds the fee ceiling while the base fee is above it, and sends once it falls", async () => {
    const ceiling = 50n * GWEI;
    await f.rpc("hardhat_setNextBlockBaseFeePerGas", [hex(100n * GWEI)]);
    const pendingDuringWait: number[] = [];
    const clock = fakeClock(async (c) => {
      pendingDuringWait.push(await f.provider.getTransactionCount(f.keeper.address, "pending"));
      if (c.sleeps === 3) await f.rpc("hardhat_setNextBlockBaseFeePerGas", [hex(2n * GWEI)]);
    });
    const manager = f.manager({ clock, fees: { maxFeePerGas: ceiling, maxPriorityFeePerGas: GWEI } });
    const r = await submitDirectUpdate(manager, f.steward, f.provider, f.change([{ parameter: "initialMarginBps", value: 1_100n }]));
    expect(f.events.filter((e) => e.type === "fee-wait")).to.have.length(3);
    expect(pendingDuringWait.slice(0, 3)).to.deep.equal([0, 0, 0]);
    const tx = await f.provider.getTransaction(r.events.length ? (r.submission as { receipt: { hash: string } }).receipt.hash : "");
    expect(tx!.maxFeePerGas! <= ceiling).to.equal(true);
    expect(tx!.maxFeePerGas).to.equal(2n * 2n * GWEI + GWEI); // 2 x base + tip, under the ceiling
  });

  it("refuses after the maximum wait when the base fee never falls; nothing signed or recorded", async () => {
    await f.rpc("hardhat_setNextBlockBaseFeePerGas", [hex(100n * GWEI)]);
    const journal = new MemoryJournal();
    const manager = f.manager({ journal, maxFeeWaitMs: 10_000 });
    const error = await submitDirectUpdate(manager, f.steward, f.provider, f.change([{ parameter: "initialMarginBps", value: 1_100n }])).catch((e: unknown) => e);
    expect(isChainError(error, "FEE_ABOVE_CEILING"), String(error)).to.equal(true);
    expect(journal.all()).to.have.length(0);
    expect(await f.provider.getTransactionCount(f.keeper.address, "pending")).to.equal(0);
  });

  it("replaces a stuck transaction: same nonce, fees bumped >= 12.5% under the ceiling; only the replacement lands", async () => {
    await f.rpc("evm_setAutomine", [false]);
    const clock = fakeClock(async () => {
      if (f.events.some((e) => e.type === "replaced")) await f.rpc("evm_mine");
    });
    const manager = f.manager({ clock, stuckAfterMs: 5_000 });
    const r = await submitDirectUpdate(manager, f.steward, f.provider, f.change([{ parameter: "initialMarginBps", value: 1_100n }]));
    const record = (r.submission as { record: SubmissionRecord }).record;
    expect(record.attempts).to.have.length(2);
    const [first, second] = record.attempts as [SubmissionRecord["attempts"][0], SubmissionRecord["attempts"][0]];
    expect(record.mined!.hash).to.equal(second.hash);
    expect(BigInt(second.maxFeePerGas) * 1000n >= BigInt(first.maxFeePerGas) * 1125n).to.equal(true);
    expect(BigInt(second.maxPriorityFeePerGas) * 1000n >= BigInt(first.maxPriorityFeePerGas) * 1125n).to.equal(true);
    expect(BigInt(second.maxFeePerGas) <= 50n * GWEI).to.equal(true);
    expect(await f.provider.getTransaction(first.hash)).to.equal(null);
    expect(await f.provider.getTransactionReceipt(first.hash)).to.equal(null);
    const tx = await f.provider.getTransaction(second.hash);
    expect(tx!.nonce).to.equal(record.nonce);
    expect(await paramLogs()).to.have.length(1);
  });

  it("does not replace above the ceiling: waits with the first transaction instead", async () => {
    await f.rpc("evm_setAutomine", [false]);
    const clock = fakeClock(async () => {
      if (f.events.some((e) => e.type === "replace-capped")) await f.rpc("evm_mine");
    });
    // Ceiling 3 gwei, next base fee 1 gwei: first maxFee = min(3, 2 x 1 + 1) = 3 gwei; a 12.5% bump needs 3.375.
    await f.rpc("hardhat_setNextBlockBaseFeePerGas", [hex(GWEI)]);
    const manager = f.manager({ clock, stuckAfterMs: 5_000, fees: { maxFeePerGas: 3n * GWEI, maxPriorityFeePerGas: GWEI } });
    const r = await submitDirectUpdate(manager, f.steward, f.provider, f.change([{ parameter: "initialMarginBps", value: 1_100n }]));
    const record = (r.submission as { record: SubmissionRecord }).record;
    expect(record.attempts).to.have.length(1);
    expect(record.status).to.equal("confirmed");
    expect(f.events.some((e) => e.type === "replaced")).to.equal(false);
  });

  it("a restart between send and confirmation does not send again: the new instance follows the recorded tx", async () => {
    await f.rpc("evm_setAutomine", [false]);
    const file = path.join(dir, "journal.json");
    const crashing = fakeClock(() => {
      throw new Error("process killed");
    });
    const change = f.change([{ parameter: "initialMarginBps", value: 1_100n }]);
    const a = f.manager({ journal: new JsonFileJournal(file), clock: crashing });
    await submitDirectUpdate(a, f.steward, f.provider, change).then(
      () => expect.fail("the first instance should have crashed"),
      (e: Error) => expect(e.message).to.equal("process killed"),
    );
    const recorded = (await new JsonFileJournal(file).get(`${(await readJournalIds(file))[0]}`))!;
    expect(recorded.status).to.equal("sent");

    const b = f.manager({ journal: new JsonFileJournal(file), clock: fakeClock(async () => { await f.rpc("evm_mine"); }) });
    const r = await submitDirectUpdate(b, f.steward, f.provider, change);
    const result = r.submission as { resumed: boolean; record: SubmissionRecord };
    expect(result.resumed).to.equal(true);
    expect(result.record.attempts.map((x) => x.hash)).to.deep.equal(recorded.attempts.map((x) => x.hash));
    expect(result.record.status).to.equal("confirmed");
    expect(await f.provider.getTransactionCount(f.keeper.address, "latest")).to.equal(1);
    expect(await paramLogs()).to.have.length(1);
    // A third run after confirmation sends nothing either.
    const c = f.manager({ journal: new JsonFileJournal(file) });
    await submitDirectUpdate(c, f.steward, f.provider, change);
    expect(await f.provider.getTransactionCount(f.keeper.address, "pending")).to.equal(1);
  });

  it("a crash after recording the intent but before broadcasting re-broadcasts the same signed tx on restart", async () => {
    const file = path.join(dir, "journal.json");
    const inner = new JsonFileJournal(file);
    const crashAfterIntent = {
      get: (id: string) => inner.get(id),
      put: async (r: SubmissionRecord) => {
        await inner.put(r);
        if (r.status === "signed") throw new Error("process killed");
      },
    };
    const change = f.change([{ parameter: "initialMarginBps", value: 1_100n }]);
    await submitDirectUpdate(f.manager({ journal: crashAfterIntent }), f.steward, f.provider, change).catch((e: Error) => expect(e.message).to.equal("process killed"));
    const [id] = await readJournalIds(file);
    const recorded = (await inner.get(id!))!;
    expect(recorded.status).to.equal("signed");
    expect(await f.provider.getTransaction(recorded.attempts[0]!.hash)).to.equal(null);

    const r = await submitDirectUpdate(f.manager({ journal: new JsonFileJournal(file) }), f.steward, f.provider, change);
    expect((r.submission as { receipt: { hash: string } }).receipt.hash).to.equal(recorded.attempts[0]!.hash);
    expect(f.events.some((e) => e.type === "rebroadcast")).to.equal(true);
    expect(await paramLogs()).to.have.length(1);
  });

  it("notices a reorg (receipt gone after evm_revert), re-checks the tx, re-broadcasts it and confirms it again", async () => {
    const snapshot = await f.rpc("evm_snapshot");
    let reverted = false;
    const clock = fakeClock(async () => {
      if (!reverted && f.events.some((e) => e.type === "mined")) {
        reverted = true;
        await f.rpc("evm_revert", [snapshot]);
        return;
      }
      await f.rpc("evm_mine");
    });
    const manager = f.manager({ clock, confirmations: 3 });
    const r = await submitDirectUpdate(manager, f.steward, f.provider, f.change([{ parameter: "initialMarginBps", value: 1_100n }]));
    const record = (r.submission as { record: SubmissionRecord }).record;
    expect(record.reorgs).to.have.length(1);
    expect(record.status).to.equal("confirmed");
    expect(f.events.map((e) => e.type)).to.include.members(["mined", "reorg", "rebroadcast", "confirmed"]);
    expect(await f.provider.getTransactionReceipt(record.mined!.hash)).to.not.equal(null);
    expect(await paramLogs()).to.have.length(1);
    expect(await f.provider.getTransactionCount(f.keeper.address, "latest")).to.equal(1);
  });

  it("a reorg after confirmation is noticed when the update is submitted again, and the tx re-sent once", async () => {
    const snapshot = await f.rpc("evm_snapshot");
    const journal = new MemoryJournal();
    const change = f.change([{ parameter: "initialMarginBps", value: 1_100n }]);
    const first = await submitDirectUpdate(f.manager({ journal }), f.steward, f.provider, change);
    const confirmedIn = (first.submission as { record: SubmissionRecord }).record.mined!;
    await f.rpc("evm_revert", [snapshot]);
    expect(await paramLogs()).to.have.length(0);
    const again = await submitDirectUpdate(f.manager({ journal }), f.steward, f.provider, change);
    const record = (again.submission as { record: SubmissionRecord }).record;
    expect(record.status).to.equal("confirmed");
    expect(record.reorgs.map((r) => r.blockHash)).to.deep.equal([confirmedIn.blockHash]);
    expect(record.attempts).to.have.length(1);
    expect(await paramLogs()).to.have.length(1);
  });

  it("re-simulates after a fee wait: a call the chain turned against meanwhile is not sent", async () => {
    await f.rpc("hardhat_setNextBlockBaseFeePerGas", [hex(100n * GWEI)]);
    const clock = fakeClock(async (c) => {
      if (c.sleeps === 2) {
        // While the fee is too high, the guardian freezes the market (its tx pays the high base fee).
        const steward = await f.ethers.getContractAt("RiskParameterSteward", f.steward.address);
        const [, , guardian] = await f.ethers.getSigners();
        await (await steward.connect(guardian!).getFunction("setMarketFrozen")(f.deployment.market.id, true, { maxFeePerGas: 200n * GWEI })).wait();
        await f.rpc("hardhat_setNextBlockBaseFeePerGas", [hex(GWEI)]);
      }
    });
    const journal = new MemoryJournal();
    const error = await submitDirectUpdate(f.manager({ clock, journal }), f.steward, f.provider, f.change([{ parameter: "initialMarginBps", value: 1_100n }])).catch((e: unknown) => e);
    expect(isChainError(error, "SIMULATION_REVERTED"), String(error)).to.equal(true);
    expect((error as Error).message).to.include("StewardMarketIsFrozen");
    expect(journal.all()).to.have.length(0);
    expect(await f.provider.getTransactionCount(f.keeper.address, "pending")).to.equal(0);
  });

  it("after a reorg, a tx that no longer passes is marked failed, not re-sent", async () => {
    const snapshot = await f.rpc("evm_snapshot");
    let reverted = false;
    const clock = fakeClock(async () => {
      if (!reverted && f.events.some((e) => e.type === "mined")) {
        reverted = true;
        await f.rpc("evm_revert", [snapshot]);
        // On the new branch the guardian froze the market first.
        const steward = await f.ethers.getContractAt("RiskParameterSteward", f.steward.address);
        const [, , guardian] = await f.ethers.getSigners();
        await (await steward.connect(guardian!).getFunction("setMarketFrozen")(f.deployment.market.id, true)).wait();
      }
    });
    const manager = f.manager({ clock, confirmations: 3 });
    const error = await submitDirectUpdate(manager, f.steward, f.provider, f.change([{ parameter: "initialMarginBps", value: 1_100n }])).catch((e: unknown) => e);
    expect(isChainError(error, "SIMULATION_REVERTED"), String(error)).to.equal(true);
    expect((error as Error).message).to.include("StewardMarketIsFrozen");
    const [record] = (manager.journal as MemoryJournal).all();
    expect(record!.status).to.equal("failed");
    expect(record!.reorgs).to.have.length(1);
    expect(await f.provider.getTransactionCount(f.keeper.address, "latest")).to.equal(0);
  });

  it("tracks nonces locally for concurrent submissions", async () => {
    await f.rpc("evm_setAutomine", [false]);
    const clock = fakeClock(async () => { await f.rpc("evm_mine"); });
    const manager = f.manager({ clock });
    const [a, b] = await Promise.all([
      submitDirectUpdate(manager, f.steward, f.provider, f.change([{ parameter: "initialMarginBps", value: 1_100n }])),
      submitDirectUpdate(manager, f.steward, f.provider, f.change([{ parameter: "liquidationBufferBps", value: 120n }])),
    ]);
    const nonces = [a, b].map((x) => (x.submission as { record: SubmissionRecord }).record.nonce).sort();
    expect(nonces).to.deep.equal([0, 1]);
    expect(await paramLogs()).to.have.length(2);
  });

  it("a nonce taken by a transaction outside the journal fails the submission; --retry-failed sends it again once", async () => {
    await f.rpc("evm_setAutomine", [false]);
    let hijacked = false;
    const clock = fakeClock(async () => {
      if (!hijacked) {
        hijacked = true;
        // The same key used elsewhere: a self-transfer with the same nonce and higher fees wins.
        await f.keeper.connect(f.provider).sendTransaction({ to: f.keeper.address, nonce: 0, maxFeePerGas: 40n * GWEI, maxPriorityFeePerGas: 5n * GWEI });
      }
      await f.rpc("evm_mine");
    });
    const manager = f.manager({ clock });
    const change = f.change([{ parameter: "initialMarginBps", value: 1_100n }]);
    const error = await submitDirectUpdate(manager, f.steward, f.provider, change).catch((e: unknown) => e);
    expect(isChainError(error, "NONCE_CONSUMED"), String(error)).to.equal(true);
    const [failed] = (manager.journal as MemoryJournal).all();
    expect(failed).to.include({ status: "failed", nonce: 0 });
    // Not sent again by default...
    const again = await submitDirectUpdate(manager, f.steward, f.provider, change).catch((e: unknown) => e);
    expect(isChainError(again, "SEND_FAILED")).to.equal(true);
    expect((again as Error).message).to.include("not sent again");
    // ...only when asked, with a fresh nonce, the failed try kept in the record.
    const r = await submitDirectUpdate(manager, f.steward, f.provider, change, { retryFailed: true });
    const record = (r.submission as { record: SubmissionRecord }).record;
    expect(record).to.include({ status: "confirmed", nonce: 1 });
    expect(record.superseded).to.have.length(1);
    expect(record.superseded![0]!.nonce).to.equal(0);
    expect(await paramLogs()).to.have.length(1);
  });

  describe("broadcast outcomes", () => {
    /** The fixture's provider with broadcastTransaction replaced. */
    const withBroadcast = (broadcast: (raw: string, real: (raw: string) => Promise<unknown>) => Promise<unknown>) =>
      new Proxy(f.provider, {
        get(target, prop) {
          if (prop === "broadcastTransaction") return (raw: string) => broadcast(raw, (r) => target.broadcastTransaction(r));
          const value = Reflect.get(target, prop, target) as unknown;
          return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      });
    const timeout = () => Object.assign(new Error("request timeout"), { code: "TIMEOUT" });

    it("a timeout after the node took the tx is followed to confirmation, not marked failed", async () => {
      const provider = withBroadcast(async (raw, real) => { await real(raw); throw timeout(); });
      const r = await submitDirectUpdate(f.manager({ provider }), f.steward, provider, f.change([{ parameter: "initialMarginBps", value: 1_100n }]));
      expect((r.submission as { record: SubmissionRecord }).record.status).to.equal("confirmed");
      expect(await paramLogs()).to.have.length(1);
    });

    it("a timeout before the node took the tx: followed, re-broadcast (same bytes), confirmed once", async () => {
      let calls = 0;
      const provider = withBroadcast(async (raw, real) => { calls += 1; if (calls === 1) throw timeout(); return real(raw); });
      const r = await submitDirectUpdate(f.manager({ provider }), f.steward, provider, f.change([{ parameter: "initialMarginBps", value: 1_100n }]));
      const record = (r.submission as { record: SubmissionRecord }).record;
      expect(record.status).to.equal("confirmed");
      expect(record.attempts).to.have.length(1);
      expect(f.events.map((e) => e.type)).to.include.members(["send-error", "rebroadcast", "confirmed"]);
      expect(await paramLogs()).to.have.length(1);
    });

    it("a definite refusal (insufficient funds) is SEND_FAILED and recorded failed", async () => {
      await f.helpers.setBalance(f.keeper.address, 0n);
      const journal = new MemoryJournal();
      const error = await submitDirectUpdate(f.manager({ journal }), f.steward, f.provider, f.change([{ parameter: "initialMarginBps", value: 1_100n }])).catch((e: unknown) => e);
      expect(isChainError(error, "SEND_FAILED"), String(error)).to.equal(true);
      expect(journal.all()[0]).to.include({ status: "failed" });
      expect(await f.provider.getTransactionCount(f.keeper.address, "pending")).to.equal(0);
    });
  });

  describe("provider read failures", () => {
    /** The fixture's provider with `method` replaced while `broken()` says so. */
    const breaking = (method: string, broken: () => boolean, fault: () => Error) =>
      new Proxy(f.provider, {
        get(target, prop) {
          const value = Reflect.get(target, prop, target) as unknown;
          if (typeof value !== "function") return value;
          const real = (value as (...a: unknown[]) => unknown).bind(target);
          return prop === method ? async (...args: unknown[]) => { if (broken()) throw fault(); return real(...args); } : real;
        },
      });
    // What ethers' JsonRpcProvider throws on an HTTP 503; its full message carries the URL.
    const http503 = (): Error => {
      try {
        new FetchResponse(503, "Service Unavailable", {}, null, new FetchRequest("https://rpc.example.org/v2/s3cretKey42abc")).assertOk();
      } catch (error) {
        return error as Error;
      }
      throw new Error("assertOk accepted a 503");
    };

    it("a failed receipt read is RPC_FAILED, not an ethers SERVER_ERROR; the tx stays journaled and the retry reconciles it (one tx)", async () => {
      const journal = new MemoryJournal();
      const change = f.change([{ parameter: "initialMarginBps", value: 1_100n }]);
      const provider = breaking("getTransactionReceipt", () => true, http503);
      const error = await submitDirectUpdate(f.manager({ provider, journal }), f.steward, provider, change).catch((e: unknown) => e);
      expect(isChainError(error, "RPC_FAILED"), String(error)).to.equal(true);
      const message = (error as Error).message;
      expect(message).to.include("reading the receipt failed").and.include("server response 503 Service Unavailable").and.include("a retry with the same update id resumes it");
      expect(message).to.not.include("s3cretKey42abc");
      const [recorded] = journal.all();
      expect(recorded!.status).to.equal("sent");
      expect(await f.provider.getTransactionCount(f.keeper.address, "latest")).to.equal(1);

      await expectRetryResumesOnce(f, journal, change, recorded!);
    });

    it("a simulation that fails on the transport is RPC_FAILED and does not quote the provider's request URL (it can carry the key)", async () => {
      const provider = breaking("call", () => true, http503);
      const error = await submitDirectUpdate(f.manager({ provider }), f.steward, provider, f.change([{ parameter: "initialMarginBps", value: 1_100n }])).catch((e: unknown) => e);
      expect(isChainError(error, "RPC_FAILED"), String(error)).to.equal(true);
      expect((error as Error).message).to.include("server response 503 Service Unavailable").and.not.include("s3cretKey42abc");
      expect(await f.provider.getTransactionCount(f.keeper.address, "pending")).to.equal(0);
    });

    it("a failed head-block read after mining is RPC_FAILED too, the record left as mined", async () => {
      const journal = new MemoryJournal();
      const provider = breaking("getBlockNumber", () => true, http503);
      const error = await submitDirectUpdate(f.manager({ provider, journal }), f.steward, provider, f.change([{ parameter: "initialMarginBps", value: 1_100n }])).catch((e: unknown) => e);
      expect(isChainError(error, "RPC_FAILED"), String(error)).to.equal(true);
      expect((error as Error).message).to.include("reading the head block failed");
      expect(journal.all()[0]!.status).to.equal("mined");
    });
  });

  describe("a node that switches chains under a live manager", () => {
    /** The fixture's provider, answering eth_chainId for Polygon (137) once `switched` is set. */
    const switching = () => {
      const state = { switched: false, chainIdCalls: 0 };
      const provider = new Proxy(f.provider, {
        get(target, prop) {
          const value = Reflect.get(target, prop, target) as unknown;
          if (typeof value !== "function") return value;
          const real = (value as (...a: unknown[]) => unknown).bind(target);
          if (prop !== "send") return real;
          return async (method: string, params: unknown[]) => {
            if (method !== "eth_chainId") return real(method, params);
            state.chainIdCalls += 1;
            return state.switched ? "0x89" : real(method, params);
          };
        },
      });
      return { provider, state };
    };

    it("the chain id is asked again before the next signature: CHAIN_MISMATCH, nothing signed, nonce untouched", async () => {
      const { provider, state } = switching();
      const journal = new MemoryJournal();
      const manager = f.manager({ provider, journal });
      await submitDirectUpdate(manager, f.steward, provider, f.change([{ parameter: "initialMarginBps", value: 1_100n }]));
      expect(state.chainIdCalls).to.equal(1);
      state.switched = true;
      const error = await submitDirectUpdate(manager, f.steward, provider, f.change([{ parameter: "liquidationBufferBps", value: 120n }])).catch((e: unknown) => e);
      expect(isChainError(error, "CHAIN_MISMATCH"), String(error)).to.equal(true);
      expect((error as Error).message).to.include("serves chain 137").and.include("chain 31337").and.include("nothing sent");
      expect(journal.all()).to.have.length(1);
      expect(f.events.filter((e) => e.type === "signed")).to.have.length(1);
      expect(await f.provider.getTransactionCount(f.keeper.address, "pending")).to.equal(1);
      // Back on its chain, the same manager sends the next nonce (no gap left by the refusal).
      state.switched = false;
      const r = await submitDirectUpdate(manager, f.steward, provider, f.change([{ parameter: "liquidationBufferBps", value: 120n }]));
      expect((r.submission as { record: SubmissionRecord }).record).to.include({ status: "confirmed", nonce: 1 });
    });

    it("a replacement is not signed once the node serves another chain; the sent transaction stays journaled", async () => {
      await f.rpc("evm_setAutomine", [false]);
      const { provider, state } = switching();
      const journal = new MemoryJournal();
      const clock = fakeClock(() => {
        if (f.events.some((e) => e.type === "sent")) state.switched = true;
      });
      const error = await submitDirectUpdate(f.manager({ provider, journal, clock, stuckAfterMs: 5_000 }), f.steward, provider, f.change([{ parameter: "initialMarginBps", value: 1_100n }])).catch((e: unknown) => e);
      expect(isChainError(error, "CHAIN_MISMATCH"), String(error)).to.equal(true);
      expect((error as Error).message).to.include("no replacement signed");
      const [record] = journal.all();
      expect(record).to.include({ status: "sent", nonce: 0 });
      expect(record!.attempts).to.have.length(1);
      expect(f.events.some((e) => e.type === "replaced")).to.equal(false);
    });
  });

  it("refuses an RPC on another chain than the deployment's; nothing sent", async () => {
    const manager = f.manager({ chainId: 1n });
    const error = await submitDirectUpdate(manager, f.steward, f.provider, f.change([{ parameter: "initialMarginBps", value: 1_100n }])).catch((e: unknown) => e);
    expect(isChainError(error, "CHAIN_MISMATCH"), String(error)).to.equal(true);
    expect((error as Error).message).to.include("31337").and.include("chain 1");
    expect(await f.provider.getTransactionCount(f.keeper.address, "pending")).to.equal(0);
  });
});

async function readJournalIds(file: string): Promise<string[]> {
  return Object.keys((JSON.parse(await readFile(file, "utf8")) as { submissions: Record<string, unknown> }).submissions);
}
