// Transport failures are not reverts. A simulation the node could not be asked (HTTP 503 or 429,
// a dropped connection, a timeout, a body that is not JSON) is RPC_FAILED, which the keeper
// pipeline treats as transient: nothing is signed, the update stays `submitted`, and the next
// run sends it once. Only the node's own verdict (a revert) refuses an update before sending or
// retires a journaled transaction after.
import { expect } from "chai";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { FetchRequest, FetchResponse, makeError, toUtf8Bytes, type Provider } from "ethers";
import { ChainError, isChainError } from "../../bot/chain/errors.ts";
import { MemoryJournal, type SubmissionRecord } from "../../bot/chain/journal.ts";
import { keeperChainPort } from "../../bot/chain/keeper-port.ts";
import { submitDirectUpdate } from "../../bot/chain/steward.ts";
import { RealClock } from "../../bot/keeper/clock.ts";
import { writeEvidence } from "../../bot/keeper/evidence.ts";
import { createKeeperLogger } from "../../bot/keeper/log.ts";
import { MarketPipeline, type PipelineMarket } from "../../bot/keeper/pipeline.ts";
import { StateStore } from "../../bot/keeper/state.ts";
import { EVIDENCE, chainFixture, expectRetryResumesOnce, type ChainFixture } from "./support.ts";

const KEY = "s3cretKey42abc";
const request = () => new FetchRequest(`https://rpc.example.org/v2/${KEY}`);
const thrown = (fn: () => unknown): Error => {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a throw");
};

// What ethers (and Node under it) throw for each fault, as the chaos proxy makes them.
const TRANSPORT_FAULTS: { name: string; fault: () => Error }[] = [
  { name: "HTTP 503", fault: () => thrown(() => new FetchResponse(503, "Service Unavailable", {}, null, request()).assertOk()) },
  { name: "HTTP 429 past ethers' retries", fault: () => thrown(() => new FetchResponse(429, "Too Many Requests", {}, null, request()).makeServerError("exceeded maximum retry limit").assertOk()) },
  { name: "malformed JSON body", fault: () => thrown(() => new FetchResponse(200, "OK", {}, toUtf8Bytes('{"jsonrpc":"2.0","id":1,"result":"0x'), request()).bodyJson) },
  { name: "dropped connection (ethers' Node client: a bare socket error)", fault: () => Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }) },
  { name: "network error", fault: () => makeError("connection failed: socket hang up", "NETWORK_ERROR", { event: "request" }) },
  { name: "ethers timeout", fault: () => makeError("timeout", "TIMEOUT", { operation: "request.send", reason: "timeout" }) },
  { name: "connectRpc's coded failure", fault: () => new ChainError("RPC_FAILED", "eth_call: server response 503 Service Unavailable", { input: "https://rpc.example.org/v2/***" }) },
];

/** The fixture's provider with `method` throwing `fault()` while `broken()` says so. */
function breaking(provider: Provider, method: string, broken: () => boolean, fault: () => Error): Provider {
  return new Proxy(provider, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== "function") return value;
      const real = (value as (...a: unknown[]) => unknown).bind(target);
      return prop === method ? async (...args: unknown[]) => { if (broken()) throw fault(); return real(...args); } : real;
    },
  });
}

describe("chain: transport failures are not reverts", () => {
  let f: ChainFixture;
  beforeEach(async () => { f = await chainFixture(); });
  afterEach(async () => { await f.connection.close(); });

  /** The keeper's updates carrying `evidence` (deployment's genesis values have none). */
  const paramLogs = async (evidence = EVIDENCE) =>
    f.provider.getLogs({ address: f.steward.address, fromBlock: 0, topics: [f.steward.iface.getEvent("ParamUpdated")!.topicHash, null, null, evidence] });

  for (const { name, fault } of TRANSPORT_FAULTS) {
    for (const method of ["call", "estimateGas"]) {
      it(`simulation, ${name} on ${method}: RPC_FAILED (transient), nothing signed; the retry lands once`, async () => {
        const journal = new MemoryJournal();
        const change = f.change([{ parameter: "initialMarginBps", value: 1_100n }]);
        const provider = breaking(f.provider, method, () => true, fault);
        const error = await submitDirectUpdate(f.manager({ provider, journal }), f.steward, provider, change).catch((e: unknown) => e);
        expect(isChainError(error, "RPC_FAILED"), String(error)).to.equal(true);
        // The code the keeper pipeline reads: RPC_FAILED leaves the update for a retry, SUBMISSION_REFUSED rejects it.
        expect((error as ChainError).code).to.equal("RPC_FAILED");
        expect((error as Error).message).to.not.include(KEY).and.not.include("reverts");
        expect(f.events.some((e) => e.type === "signed")).to.equal(false);
        expect(journal.all()).to.have.length(0);
        expect(await f.provider.getTransactionCount(f.keeper.address, "pending")).to.equal(0);

        const r = await submitDirectUpdate(f.manager({ journal }), f.steward, f.provider, change);
        expect((r.submission as { record: SubmissionRecord }).record.status).to.equal("confirmed");
        expect(await f.provider.getTransactionCount(f.keeper.address, "latest")).to.equal(1);
        expect(await paramLogs()).to.have.length(1);
      });
    }
  }

  it("an uncoded transport failure names the simulation and says a retry simulates again", async () => {
    const provider = breaking(f.provider, "call", () => true, TRANSPORT_FAULTS[0]!.fault);
    const error = await submitDirectUpdate(f.manager({ provider }), f.steward, provider, f.change([{ parameter: "initialMarginBps", value: 1_100n }])).catch((e: unknown) => e);
    expect((error as Error).message).to.match(/simulation of .* could not reach the node: server response 503 Service Unavailable; nothing sent, a retry simulates again$/);
  });

  it("a real revert is still SIMULATION_REVERTED (SUBMISSION_REFUSED), decoded", async () => {
    const steward = await f.ethers.getContractAt("RiskParameterSteward", f.steward.address);
    const [, , guardian] = await f.ethers.getSigners();
    // Frozen after the bounds check passed, so it is the manager's simulation that meets the revert.
    const provider = new Proxy(f.provider, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target) as unknown;
        if (typeof value !== "function") return value;
        const real = (value as (...a: unknown[]) => unknown).bind(target);
        if (prop !== "estimateGas") return real;
        return async (...args: unknown[]) => {
          await (await steward.connect(guardian!).getFunction("setMarketFrozen")(f.deployment.market.id, true)).wait();
          return real(...args);
        };
      },
    });
    const error = await submitDirectUpdate(f.manager({ provider }), f.steward, provider, f.change([{ parameter: "initialMarginBps", value: 1_100n }])).catch((e: unknown) => e);
    expect(isChainError(error, "SIMULATION_REVERTED"), String(error)).to.equal(true);
    expect((error as ChainError).code).to.equal("SUBMISSION_REFUSED");
    expect((error as Error).message).to.include("StewardMarketIsFrozen");
  });

  describe("following a lost transaction", () => {
    /** A broadcast that never reaches the node (timed out), then `call` failing with `fault` while `broken()`. */
    const losing = (broken: () => boolean, fault: () => Error) => {
      const calls = breaking(f.provider, "call", broken, fault);
      return new Proxy(calls, {
        get(target, prop) {
          if (prop === "broadcastTransaction") return async () => { throw makeError("timeout", "TIMEOUT", { operation: "request.send", reason: "timeout" }); };
          return Reflect.get(target, prop, target) as unknown;
        },
      });
    };

    for (const { name, fault } of TRANSPORT_FAULTS) {
      it(`${name} while re-simulating before the re-broadcast: RPC_FAILED, the record left sent; the next attempt re-broadcasts the same tx once`, async () => {
        const journal = new MemoryJournal();
        const change = f.change([{ parameter: "initialMarginBps", value: 1_100n }]);
        const provider = losing(() => f.events.some((e) => e.type === "send-error"), fault);
        const error = await submitDirectUpdate(f.manager({ provider, journal }), f.steward, provider, change).catch((e: unknown) => e);
        expect(isChainError(error, "RPC_FAILED"), String(error)).to.equal(true);
        expect((error as Error).message).to.include("re-simulating the lost transaction failed").and.include("a retry with the same update id resumes it").and.not.include(KEY);
        const [recorded] = journal.all();
        expect(recorded).to.include({ status: "sent", nonce: 0 });
        expect(recorded!.error).to.equal(undefined);
        expect(await f.provider.getTransactionCount(f.keeper.address, "pending")).to.equal(0);

        // Not --retry-failed: the record was never failed, so a plain retry resumes it.
        await expectRetryResumesOnce(f, journal, change, recorded!);
      });
    }

    it("a real revert while re-simulating still retires the record as failed", async () => {
      const journal = new MemoryJournal();
      const steward = await f.ethers.getContractAt("RiskParameterSteward", f.steward.address);
      const [, , guardian] = await f.ethers.getSigners();
      let frozen = false;
      const provider = losing(() => false, () => new Error("unused"));
      const clock = { now: () => 0, sleep: async () => {
        if (frozen) return;
        frozen = true;
        await (await steward.connect(guardian!).getFunction("setMarketFrozen")(f.deployment.market.id, true)).wait();
      } };
      // The freeze lands on the first poll; the lost tx is re-simulated after it.
      const error = await submitDirectUpdate(f.manager({ provider, journal, clock }), f.steward, provider, f.change([{ parameter: "initialMarginBps", value: 1_100n }])).catch((e: unknown) => e);
      expect(isChainError(error, "SIMULATION_REVERTED"), String(error)).to.equal(true);
      expect((error as Error).message).to.include("StewardMarketIsFrozen").and.include("not re-sent");
      expect(journal.all()[0]).to.include({ status: "failed" });
    });
  });

  it("keeper pipeline: a 503 during simulation leaves the update submitted (not rejected); the next run confirms it once", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "riskkeeper-transport-"));
    const clock = new RealClock();
    const { logger, close } = createKeeperLogger({ level: "error", clock, terminal: false });
    const store = await StateStore.open(path.join(dir, "state.json"), { clock });
    try {
      const { name, id: marketId } = f.deployment.market;
      // A record carried up to `submitted`, as a keeper killed after writing it would leave it.
      const { record } = await store.begin(name, "0x" + "01".repeat(32));
      await store.advance(record.updateId, "calibrated");
      await store.advance(record.updateId, "bounded", { evidence: { changes: [{ parameter: "initialMarginBps", value: "1100" }] } });
      await store.advance(record.updateId, "backtested");
      await store.advance(record.updateId, "fork-validated");
      const { hash } = await writeEvidence(dir, { dataReport: null, modelFit: null, backtest: null, fork: null, configHash: "0x" + "00".repeat(32), proposal: null });
      await store.advance(record.updateId, "submitted", { evidenceHash: hash });

      let broken = true;
      const provider = breaking(f.provider, "call", () => broken, TRANSPORT_FAULTS[0]!.fault);
      const manager = f.manager({ provider, journal: store.journalFor<SubmissionRecord>() });
      const pipeline = new MarketPipeline(
        { name, marketId } as PipelineMarket, // a record past `bounded` needs neither model nor history
        {
          store, chain: keeperChainPort({ provider, steward: f.steward, manager }), stateDir: dir, configHash: "0x" + "00".repeat(32), logger,
          backtestGate: { judge: () => Promise.reject(new Error("not reached")) },
          forkGate: { validate: () => Promise.reject(new Error("not reached")) },
        },
      );
      const first = await pipeline.run(() => true).catch((e: unknown) => e);
      expect(isChainError(first, "RPC_FAILED"), String(first)).to.equal(true);
      expect(store.get(record.updateId)!.state).to.equal("submitted");
      expect(await f.provider.getTransactionCount(f.keeper.address, "pending")).to.equal(0);

      broken = false;
      const second = await pipeline.run(() => true);
      expect(second.outcome, second.reason).to.equal("confirmed");
      expect(store.get(record.updateId)!.state).to.equal("confirmed");
      expect(await paramLogs(hash)).to.have.length(1);
    } finally {
      await store.close();
      await close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
