// Disk faults on the state store: every mutating call (begin, advance, reject, recordRun, journal
// put) against every fault (ENOSPC, EIO, EDQUOT, EROFS from an injected writer, a crash after half
// the new text reached a temp file, the state file turned into a folder so the real rename fails,
// and a real full file system: a 64 KiB tmpfs in a private mount namespace). After each fault:
// the call is refused with STATE_INVALID naming the cause, the file on disk is byte-identical and
// parses, no temp file is left behind, the in-memory state is rolled back, and once the fault ends
// the same call goes through and a reopened store reads what memory holds.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "chai";
import { writeFileAtomic } from "../../bot/keeper/atomic-file.ts";
import { SimulatedClock } from "../../bot/keeper/clock.ts";
import { StateStore } from "../../bot/keeper/state.ts";
import { tempDir } from "../keeper/helpers.ts";

const H = (n: number) => `0x${n.toString(16).padStart(64, "0")}`;
const here = path.dirname(fileURLToPath(import.meta.url));

type Fault = { name: string; inject: (file: string, text: string) => Promise<void> };
const errno = (code: string) => Object.assign(new Error(`${code}: injected`), { code });
const FAULTS: Fault[] = [
  { name: "ENOSPC (disk full)", inject: async () => { throw errno("ENOSPC"); } },
  { name: "EIO (device error)", inject: async () => { throw errno("EIO"); } },
  { name: "EDQUOT (quota)", inject: async () => { throw errno("EDQUOT"); } },
  { name: "EROFS (remounted read-only)", inject: async () => { throw errno("EROFS"); } },
  {
    name: "crash after half the text reached the temp file",
    inject: async (file, text) => {
      writeFileSync(`${file}.half.tmp`, text.slice(0, text.length / 2));
      rmSync(`${file}.half.tmp`); // the real writer removes its temp file; a crash would leave one beside, never over, the target
      throw errno("ENOSPC");
    },
  },
  {
    name: "real rename failure (the state file became a folder)",
    inject: async (file, text) => {
      // Move the file aside, put a non-empty folder in its place, let the REAL writer fail on
      // rename, then put the file back: the writer's failure path is the real one.
      renameSync(file, `${file}.aside`);
      mkdirSync(path.join(file, "blocker"), { recursive: true });
      try {
        await writeFileAtomic(file, text);
      } finally {
        rmSync(file, { recursive: true, force: true });
        renameSync(`${file}.aside`, file);
      }
    },
  },
];

type Store = StateStore;
/** Each mutating call, with a precondition setup that leaves the store ready for it. */
const CALLS: { name: string; setup: (s: Store) => Promise<string | undefined>; run: (s: Store, id: string | undefined) => Promise<unknown> }[] = [
  { name: "begin", setup: async () => undefined, run: (s) => s.begin("ETH-USD", H(999)) },
  { name: "advance", setup: async (s) => (await s.begin("ETH-USD", H(1))).record.updateId, run: (s, id) => s.advance(id!, "calibrated", { evidence: { x: 1 } }) },
  { name: "reject", setup: async (s) => (await s.begin("ETH-USD", H(2))).record.updateId, run: (s, id) => s.reject(id!, { code: "fork-bad-debt", message: "m" }) },
  { name: "recordRun", setup: async () => undefined, run: (s) => s.recordRun("ETH-USD", { ok: false, error: "boom" }) },
  { name: "journal.put", setup: async (s) => (await s.begin("ETH-USD", H(3))).record.updateId, run: (s, id) => s.journal.put({ updateId: id!, nonce: 7n } as never) },
];

describe("Disk faults on the state store", () => {
  const table: { fault: string; calls: number; refused: number; fileIntact: number; rolledBack: number; recovered: number }[] = [];
  after(() => {
    console.log("      disk faults (fault × call: refused / file intact / memory rolled back / recovered):");
    for (const row of table) console.log(`        ${row.fault.padEnd(56)} ${row.refused}/${row.calls} ${row.fileIntact}/${row.calls} ${row.rolledBack}/${row.calls} ${row.recovered}/${row.calls}`);
  });

  for (const fault of FAULTS) {
    it(`${fault.name}: every mutating call is refused, file and memory unchanged, then recovers`, async () => {
      const row = { fault: fault.name, calls: 0, refused: 0, fileIntact: 0, rolledBack: 0, recovered: 0 };
      table.push(row);
      for (const call of CALLS) {
        const t = tempDir("riskkeeper-disk-");
        const file = path.join(t.dir, "state.json");
        let failing = false;
        const store = await StateStore.open(file, {
          clock: new SimulatedClock(1_000),
          writeFile: (f, text) => (failing ? fault.inject(f, text) : writeFileAtomic(f, text)),
        });
        try {
          const id = await call.setup(store);
          const onDisk = readFileSync(file, "utf8");
          const inMemory = JSON.stringify(store.snapshot(), (_, v) => (typeof v === "bigint" ? `${v}n` : v));
          failing = true;
          row.calls++;
          const error = await call.run(store, id).then(() => undefined, (e: unknown) => e as { code?: string; message: string });
          expect(error, `${call.name}: accepted during ${fault.name}`).to.not.equal(undefined);
          expect(error!.code, call.name).to.equal("STATE_INVALID");
          expect(error!.message, call.name).to.match(/state not written/);
          row.refused++;
          expect(readFileSync(file, "utf8"), `${call.name}: file changed`).to.equal(onDisk);
          JSON.parse(readFileSync(file, "utf8"));
          expect(readdirSync(t.dir).filter((n) => n.endsWith(".tmp") || n.endsWith(".aside")), "leftovers").to.deep.equal([]);
          row.fileIntact++;
          expect(JSON.stringify(store.snapshot(), (_, v) => (typeof v === "bigint" ? `${v}n` : v)), `${call.name}: memory not rolled back`).to.equal(inMemory);
          row.rolledBack++;
          // The fault ends: the same call lands, and a reopened store agrees with memory.
          failing = false;
          await call.run(store, id);
          const expected = JSON.stringify(store.snapshot(), (_, v) => (typeof v === "bigint" ? `${v}n` : v));
          await store.close();
          const reopened = await StateStore.open(file, { clock: new SimulatedClock(2_000) });
          expect(JSON.stringify(reopened.snapshot(), (_, v) => (typeof v === "bigint" ? `${v}n` : v)), `${call.name}: reopened differs`).to.equal(expected);
          await reopened.close();
          row.recovered++;
        } finally {
          await store.close();
          t.cleanup();
        }
      }
    });
  }

  it("a fault in the middle of queued writes fails only its own call; the calls queued after it see the rolled-back state", async () => {
    const t = tempDir("riskkeeper-disk-");
    const file = path.join(t.dir, "state.json");
    let writes = 0;
    const store = await StateStore.open(file, {
      clock: new SimulatedClock(1_000),
      writeFile: (f, text) => (++writes === 3 ? Promise.reject(errno("ENOSPC")) : writeFileAtomic(f, text)),
    });
    try {
      // writes: 1 = open, 2..: one per call below, fired without awaiting (they queue).
      const results = await Promise.allSettled([store.begin("ETH-USD", H(1)), store.begin("ETH-USD", H(2)), store.begin("ETH-USD", H(3))]);
      expect(results.map((r) => r.status)).to.deep.equal(["fulfilled", "rejected", "fulfilled"]);
      expect(store.list().map((r) => r.observationHash)).to.deep.equal([H(1), H(3)]);
      await store.close();
      const reopened = await StateStore.open(file, { clock: new SimulatedClock(2_000) });
      expect(reopened.list().map((r) => r.observationHash)).to.deep.equal([H(1), H(3)]);
      await reopened.close();
      table.push({ fault: "ENOSPC mid-queue (3 queued calls)", calls: 1, refused: 1, fileIntact: 1, rolledBack: 1, recovered: 1 });
    } finally {
      await store.close();
      t.cleanup();
    }
  });

  it("a real full file system (64 KiB tmpfs in a private mount namespace): refused, intact, rolled back, recovers", function () {
    this.timeout(60_000);
    const probe = spawnSync("unshare", ["-rm", "true"], { stdio: "ignore" });
    if (probe.status !== 0) {
      console.log("      (skipped: unshare -rm is not permitted here; the injected ENOSPC case above still runs)");
      this.skip();
    }
    const t = tempDir("riskkeeper-tmpfs-");
    try {
      const child = path.join(here, "..", "..", "bench", "chaos-disk-full.ts");
      const out = execFileSync("unshare", ["-rm", "sh", "-c", `mount -t tmpfs -o size=64k tmpfs "$1" && exec "$2" "$3" "$1"`, "sh", t.dir, process.execPath, child], { encoding: "utf8" });
      const result = JSON.parse(out.trim().split("\n").pop()!);
      console.log(`      real ENOSPC: ${out.trim()}`);
      expect(result).to.deep.include({ code: "STATE_INVALID", causeCode: "ENOSPC", fileIntact: true, memoryRolledBack: true, fileParses: true, recovered: true });
      expect(result.tempFilesLeft).to.deep.equal([]);
      expect(result.reopenedRecords).to.equal(result.failedAt + 1);
      table.push({ fault: "real ENOSPC on a 64 KiB tmpfs", calls: 1, refused: 1, fileIntact: 1, rolledBack: 1, recovered: 1 });
    } finally {
      t.cleanup();
    }
  });
});
