// State store: forward-only transitions, persistence, rollback on a failed write, migration,
// newer-version refusal, compaction, idempotent resume, the lock, and the journal view.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import type { SubmissionJournal, SubmissionRecord } from "../../bot/chain/journal.ts";
import { isRiskkeeperError } from "../../bot/errors.ts";
import { writeFileAtomic } from "../../bot/keeper/atomic-file.ts";
import { SimulatedClock } from "../../bot/keeper/clock.ts";
import { writeEvidence } from "../../bot/keeper/evidence.ts";
import { lockFileOf } from "../../bot/keeper/lock.ts";
import { readStateSnapshot, STATE_SCHEMA_VERSION, StateStore, UPDATE_STAGES } from "../../bot/keeper/state.ts";
import { folderContents, tempDir } from "./helpers.ts";

const H = (n: number) => `0x${n.toString(16).padStart(64, "0")}`;

async function rejects(p: Promise<unknown>, code: string): Promise<Error> {
  const error = await p.then(() => undefined, (e: unknown) => e);
  expect(isRiskkeeperError(error), `expected ${code}, got ${String(error)}`).to.equal(true);
  expect((error as { code: string }).code).to.equal(code);
  return error as Error;
}

describe("keeper/state", () => {
  let t: ReturnType<typeof tempDir>;
  let file: string;
  let clock: SimulatedClock;
  const open = (options: Partial<Parameters<typeof StateStore.open>[1]> = {}) => StateStore.open(file, { clock, ...options });
  beforeEach(() => {
    t = tempDir();
    file = path.join(t.dir, "state", "state.json");
    clock = new SimulatedClock(Date.UTC(2026, 0, 1));
  });
  afterEach(() => t.cleanup());

  it("walks a record through every stage to confirmed, each step on disk before the call returns", async () => {
    const store = await open();
    const { hash } = await writeEvidence(path.dirname(file), { dataReport: {}, modelFit: {}, backtest: {}, fork: null, configHash: H(1), proposal: { value: 725n } });
    const { record, resumed } = await store.begin("ETH-USD", H(1), { rows: 8760 });
    expect(resumed).to.equal(false);
    expect(record).to.deep.include({ updateId: "ETH-USD-000001", state: "observed", idempotencyKey: `ETH-USD:${H(1)}` });
    for (const stage of UPDATE_STAGES.slice(1)) {
      await clock.advance(1000);
      await store.advance(record.updateId, stage, { evidence: { stage }, ...(stage === "fork-validated" ? { evidenceHash: hash } : {}) });
      const onDisk = JSON.parse(readFileSync(file, "utf8"));
      expect(onDisk.updates[record.updateId].state).to.equal(stage);
    }
    const done = store.get(record.updateId)!;
    expect(done.history.map((h) => h.state)).to.deep.equal([...UPDATE_STAGES]);
    expect(done.evidence.observed).to.deep.equal({ rows: 8760 });
    expect(done.evidenceHash).to.equal(hash);
    expect(store.counters()["ETH-USD"]).to.deep.include({ created: 1, confirmed: 1, compacted: 0 });
    await store.close();
    expect(existsSync(lockFileOf(file))).to.equal(false);
  });

  it("refuses illegal transitions: skipping, going back, leaving a terminal state, submitting without evidence", async () => {
    const store = await open();
    const { record } = await store.begin("ETH-USD", H(1));
    const id = record.updateId;
    let e = await rejects(store.advance(id, "bounded"), "STATE_INVALID");
    expect(e.message).to.contain("illegal transition observed → bounded");
    await store.advance(id, "calibrated");
    await rejects(store.advance(id, "observed"), "STATE_INVALID");
    await store.advance(id, "bounded");
    await store.advance(id, "backtested");
    await store.advance(id, "fork-validated");
    e = await rejects(store.advance(id, "submitted"), "STATE_INVALID");
    expect(e.message).to.contain("evidence hash");
    // A hash without its bundle on disk, or with a bundle that does not match, cannot be submitted.
    e = await rejects(store.advance(id, "submitted", { evidenceHash: H(5) }), "STATE_INVALID");
    expect(e.message).to.contain(`evidence bundle ${path.join(path.dirname(file), "evidence", `${H(5)}.json`)} is missing`);
    mkdirSync(path.join(path.dirname(file), "evidence"), { recursive: true });
    writeFileSync(path.join(path.dirname(file), "evidence", `${H(5)}.json`), "{}");
    e = await rejects(store.advance(id, "submitted", { evidenceHash: H(5) }), "STATE_INVALID");
    expect(e.message).to.contain("does not match its hash");
    expect(store.get(id)!.state).to.equal("fork-validated");
    await store.reject(id, { code: "fork-bad-debt", message: "bad debt rose by 12 USD" });
    await rejects(store.advance(id, "submitted", { evidenceHash: H(5) }), "STATE_INVALID");
    await rejects(store.reject(id, { code: "again", message: "" }), "STATE_INVALID");
    await rejects(store.advance("nope", "calibrated"), "INPUT_INVALID");
    await rejects(store.reject(id, { code: "Not A Code", message: "" }), "INPUT_INVALID");
    const r = store.get(id)!;
    expect(r.rejection).to.deep.include({ code: "fork-bad-debt", stage: "fork-validated" });
    expect(store.counters()["ETH-USD"].rejected).to.deep.equal({ "fork-bad-debt": 1 });
    await store.close();
  });

  it("a failed write leaves the previous file intact and rolls the in-memory state back", async () => {
    let fail = false;
    const store = await open({
      writeFile: async (f, text) => {
        if (!fail) return writeFileAtomic(f, text);
        // Simulate a crash mid-write: half of the new content lands in the temp file, then the write fails.
        writeFileSync(`${f}.partial.tmp`, text.slice(0, text.length / 2));
        throw Object.assign(new Error("ENOSPC: no space left on device"), { code: "ENOSPC" });
      },
    });
    const { record } = await store.begin("ETH-USD", H(1));
    const before = readFileSync(file, "utf8");
    fail = true;
    const e = await rejects(store.advance(record.updateId, "calibrated"), "STATE_INVALID");
    expect(e.message).to.contain("ENOSPC");
    expect(readFileSync(file, "utf8")).to.equal(before);
    expect(store.get(record.updateId)!.state).to.equal("observed");
    await rejects(store.begin("ETH-USD", H(2)), "STATE_INVALID");
    expect(store.list()).to.have.length(1);
    fail = false;
    await store.advance(record.updateId, "calibrated");
    expect(store.get(record.updateId)!.state).to.equal("calibrated");
    await store.close();
  });

  it("the real atomic writer leaves the previous file intact when the write fails", async function () {
    const target = path.join(t.dir, "atomic", "x.json");
    await writeFileAtomic(target, "old");
    if (os.userInfo().uid !== 0) {
      // A read-only folder: the temp file cannot be created.
      const { chmodSync } = await import("node:fs");
      chmodSync(path.dirname(target), 0o555);
      try {
        await writeFileAtomic(target, "new").then(() => expect.fail("write should fail"), () => {});
      } finally {
        chmodSync(path.dirname(target), 0o755);
      }
    } else {
      // root ignores read-only folders: make the rename fail instead (the target turns into a folder).
      const dirTarget = path.join(t.dir, "atomic", "d");
      mkdirSync(path.join(dirTarget, "inside"), { recursive: true });
      await writeFileAtomic(dirTarget, "new").then(() => expect.fail("write should fail"), () => {});
      expect(Object.keys(folderContents(path.join(t.dir, "atomic")))).to.deep.equal(["x.json"]);
    }
    expect(readFileSync(target, "utf8")).to.equal("old");
  });

  it("resumes a non-terminal record by idempotency key after a restart, and keeps terminal ones as they are", async () => {
    let store = await open();
    const { record } = await store.begin("ETH-USD", H(1));
    await store.advance(record.updateId, "calibrated");
    await store.close();

    store = await open();
    const again = await store.begin("ETH-USD", H(1));
    expect(again.resumed).to.equal(true);
    expect(again.record.updateId).to.equal(record.updateId);
    expect(again.record.state).to.equal("calibrated");
    expect(store.pending("ETH-USD").map((r) => r.updateId)).to.deep.equal([record.updateId]);
    const other = await store.begin("BTC-USD", H(1));
    expect(other.resumed).to.equal(false);
    expect(other.record.updateId).to.equal("BTC-USD-000002");
    await store.reject(record.updateId, { code: "backtest-coverage", message: "kupiec p=0.001" });
    const terminal = await store.begin("ETH-USD", H(1));
    expect(terminal).to.deep.include({ resumed: false });
    expect(terminal.record.state).to.equal("rejected");
    await store.close();
  });

  it("compacts terminal records beyond the last N per market into counters, dropping their journal entries", async () => {
    const store = await open({ keepTerminalPerMarket: 3 });
    for (let i = 1; i <= 7; i++) {
      await clock.advance(60_000);
      const { record } = await store.begin("ETH-USD", H(i));
      await store.journal.put({ updateId: record.updateId, nonce: BigInt(i) });
      await store.reject(record.updateId, { code: i % 2 ? "no-change" : "bounds", message: "" });
    }
    const live = await store.begin("ETH-USD", H(100));
    const ids = store.list({ market: "ETH-USD" }).map((r) => r.updateId);
    expect(ids).to.deep.equal(["ETH-USD-000005", "ETH-USD-000006", "ETH-USD-000007", live.record.updateId]);
    expect(store.counters()["ETH-USD"]).to.deep.include({ created: 8, compacted: 4, rejected: { "no-change": 4, bounds: 3 } });
    expect(await store.journal.get("ETH-USD-000001")).to.equal(undefined);
    expect(await store.journal.get("ETH-USD-000007")).to.deep.equal({ updateId: "ETH-USD-000007", nonce: 7n });
    await store.close();
  });

  it("compacts the transaction manager's journal entry, keyed by its own submission id, with its confirmed record", async () => {
    const store = await open({ keepTerminalPerMarket: 1 });
    const { hash } = await writeEvidence(path.dirname(file), { dataReport: {}, modelFit: {}, backtest: {}, fork: null, configHash: H(1), proposal: {} });
    const submissionIds: string[] = [];
    for (let i = 1; i <= 3; i++) {
      await clock.advance(60_000);
      const { record } = await store.begin("ETH-USD", H(i));
      for (const stage of UPDATE_STAGES.slice(1, -1)) await store.advance(record.updateId, stage, stage === "submitted" ? { evidenceHash: hash } : {});
      const submissionId = `direct:ETH-USD:${H(1000 + i)}`;
      submissionIds.push(submissionId);
      await store.journal.put({ updateId: submissionId, status: "confirmed" });
      await store.advance(record.updateId, "confirmed", { evidence: { submissionId } });
    }
    expect(await store.journal.get(submissionIds[0]), "compacted with its record").to.equal(undefined);
    expect(await store.journal.get(submissionIds[1])).to.equal(undefined);
    expect(await store.journal.get(submissionIds[2])).to.deep.equal({ updateId: submissionIds[2], status: "confirmed" });
    await store.close();
  });

  it("keeps what the keeper last saw on chain across a reopen, and refuses a NaN value writing nothing", async () => {
    const store = await open();
    await store.recordSeenParams("ETH-USD", { maintenanceMarginBps: { value: 550, updatedAt: 1_767_225_600 } });
    const onDisk = readFileSync(file, "utf8");
    await rejects(store.recordSeenParams("ETH-USD", { maintenanceMarginBps: { value: Number.NaN, updatedAt: 1 } }), "INPUT_INVALID");
    expect(readFileSync(file, "utf8")).to.equal(onDisk);
    await store.close();
    const reopened = await open();
    expect(reopened.seenParams("ETH-USD")).to.deep.equal({ maintenanceMarginBps: { value: 550, updatedAt: 1_767_225_600 } });
    expect(reopened.seenParams("BTC-USD")).to.equal(undefined);
    await reopened.close();
  });

  it("persists journal records with bigint values and refuses records without an updateId", async () => {
    let store = await open();
    await store.journal.put({ updateId: "ETH-USD-000001", txHash: H(7), nonce: 12n, maxFeePerGas: 30_000_000_000n, sent: ["a", 1n] });
    await store.close();
    store = await open();
    expect(await store.journal.get("ETH-USD-000001")).to.deep.equal({ updateId: "ETH-USD-000001", txHash: H(7), nonce: 12n, maxFeePerGas: 30_000_000_000n, sent: ["a", 1n] });
    await rejects(store.journal.put({} as never), "INPUT_INVALID");
    await store.close();
  });

  it("serves bot/chain's tx manager as its SubmissionJournal", async () => {
    let store = await open();
    const journal: SubmissionJournal = store.journalFor<SubmissionRecord>();
    const record: SubmissionRecord = {
      updateId: "ETH-USD-000001", chainId: "31337", from: `0x${"1".repeat(40)}`, to: `0x${"2".repeat(40)}`, data: "0x", value: "0",
      nonce: 3, gasLimit: "500000", status: "signed", attempts: [{ hash: H(1), raw: "0x02", maxFeePerGas: "1", maxPriorityFeePerGas: "1", at: 1 }],
      reorgs: [], createdAt: 1, updatedAt: 1,
    };
    await journal.put(record);
    await store.close();
    store = await open();
    expect(await store.journalFor<SubmissionRecord>().get("ETH-USD-000001")).to.deep.equal(record);
    await store.close();
  });

  it("refuses a file from a newer schema version, naming the file, and writes nothing", async () => {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify({ schemaVersion: STATE_SCHEMA_VERSION + 1, updates: {} }));
    const before = folderContents(t.dir);
    const e = await rejects(open(), "STATE_INVALID");
    expect(e.message).to.contain(file).and.contain(`schemaVersion ${STATE_SCHEMA_VERSION + 1} is newer`);
    expect(folderContents(t.dir)).to.deep.equal(before);
  });

  it("refuses a malformed file and a file without schemaVersion, writing nothing", async () => {
    mkdirSync(path.dirname(file), { recursive: true });
    for (const text of ["{ nope", JSON.stringify({ updates: {} }), JSON.stringify({ schemaVersion: 2, nextSeq: 1, updates: [], journal: {}, markets: {} })]) {
      writeFileSync(file, text);
      const before = folderContents(t.dir);
      const e = await rejects(open(), "STATE_INVALID");
      expect(e.message).to.contain(file);
      expect(folderContents(t.dir)).to.deep.equal(before);
    }
  });

  it("migrates a v1 file to v2, keeping a backup", async () => {
    mkdirSync(path.dirname(file), { recursive: true });
    const v1 = {
      schemaVersion: 1,
      records: [
        { id: "ETH-USD-1", market: "ETH-USD", key: `ETH-USD:${H(1)}`, status: "confirmed", createdAt: 1, updatedAt: 2, evidenceHash: H(9) },
        { id: "ETH-USD-2", market: "ETH-USD", key: `ETH-USD:${H(2)}`, status: "rejected", createdAt: 3, updatedAt: 4, reason: "too soon" },
        { id: "ETH-USD-3", market: "ETH-USD", key: `ETH-USD:${H(3)}`, status: "bounded", createdAt: 5, updatedAt: 6 },
      ],
    };
    writeFileSync(file, JSON.stringify(v1));
    const store = await open();
    const snap = store.snapshot();
    expect(snap.schemaVersion).to.equal(2);
    expect(snap.nextSeq).to.equal(4);
    expect(store.get("ETH-USD-2")!.rejection).to.deep.include({ code: "legacy", message: "too soon" });
    expect(store.counters()["ETH-USD"]).to.deep.include({ created: 3, confirmed: 1, rejected: { legacy: 1 } });
    expect((await store.begin("ETH-USD", H(3))).resumed).to.equal(true);
    expect(JSON.parse(readFileSync(`${file}.v1.bak`, "utf8"))).to.deep.equal(v1);
    expect(JSON.parse(readFileSync(file, "utf8")).schemaVersion).to.equal(2);
    await store.close();
  });

  it("locks the file: a second keeper gets STATE_LOCKED naming the holder; nothing is written", async () => {
    const store = await open();
    await store.begin("ETH-USD", H(1));
    const before = folderContents(t.dir);
    const e = await rejects(open(), "STATE_LOCKED");
    expect(e.message).to.contain(file).and.contain(`pid ${process.pid} on ${os.hostname()}`);
    expect(folderContents(t.dir)).to.deep.equal(before);
    await store.close();
    await (await open()).close();
  });

  it("takes over a stale lock: dead pid, our own pid from an earlier incarnation, or a reused pid", async () => {
    mkdirSync(path.dirname(file), { recursive: true });
    const lockOf = (pid: number, startedAt: string, hostname = os.hostname()) => writeFileSync(lockFileOf(file), JSON.stringify({ pid, hostname, startedAt }));
    // pid 2^22+ is above Linux's pid_max default: never alive.
    lockOf(4_194_999, "2026-01-01T00:00:00.000Z");
    let store = await open();
    expect(JSON.parse(readFileSync(lockFileOf(file), "utf8")).pid).to.equal(process.pid);
    await store.close();

    // A container restarted: the new keeper has the old keeper's pid, but never took this lock.
    lockOf(process.pid, "2020-01-01T00:00:00.000Z");
    store = await open();
    await store.close();

    // The pid is alive but its process started after the lock was written: the pid was reused.
    const child = spawn("sleep", ["30"], { stdio: "ignore" });
    try {
      await new Promise((r) => child.once("spawn", r));
      lockOf(child.pid!, new Date(Date.now() - 3_600_000).toISOString());
      if (existsSync(`/proc/${child.pid}/stat`)) {
        store = await open();
        await store.close();
      }
      // Written after the process started: it is the holder.
      lockOf(child.pid!, new Date(Date.now() + 60_000).toISOString());
      const e = await rejects(open(), "STATE_LOCKED");
      expect(e.message).to.contain(`pid ${child.pid} on ${os.hostname()}`);
    } finally {
      child.kill();
    }

    // A lock from another host cannot be judged: refused.
    lockOf(1, "2026-01-01T00:00:00.000Z", "elsewhere");
    const e = await rejects(open(), "STATE_LOCKED");
    expect(e.message).to.contain("pid 1 on elsewhere");
  });

  it("readStateSnapshot reads without locking or writing", async () => {
    const missing = await readStateSnapshot(file);
    expect(missing.exists).to.equal(false);
    const store = await open();
    await store.begin("ETH-USD", H(1));
    const before = folderContents(t.dir);
    const snap = await readStateSnapshot(file);
    expect(snap.exists).to.equal(true);
    expect(Object.keys(snap.data.updates)).to.deep.equal(["ETH-USD-000001"]);
    expect(snap.lockHolder?.pid).to.equal(process.pid);
    expect(folderContents(t.dir)).to.deep.equal(before);
    await store.close();
  });
});
