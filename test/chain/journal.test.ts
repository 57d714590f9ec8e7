import { expect } from "chai";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { isChainError } from "../../bot/chain/errors.ts";
import { JsonFileJournal, MemoryJournal, type SubmissionRecord } from "../../bot/chain/journal.ts";

const record = (updateId: string, nonce: number): SubmissionRecord => ({
  updateId, chainId: "31337", from: "0x" + "11".repeat(20), to: "0x" + "22".repeat(20), data: "0x", value: "0",
  nonce, gasLimit: "21000", status: "sent", attempts: [], reorgs: [], createdAt: 1, updatedAt: 1,
});

describe("chain: submission journal", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "riskkeeper-journal-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("JsonFileJournal: concurrent puts all land, atomically, and a new instance reads them", async () => {
    const file = path.join(dir, "sub", "journal.json");
    const journal = new JsonFileJournal(file);
    expect(await journal.get("a")).to.equal(undefined);
    await Promise.all(Array.from({ length: 20 }, (_, i) => journal.put(record(`id-${i}`, i))));
    await journal.put({ ...record("id-3", 3), status: "confirmed" });
    const fresh = new JsonFileJournal(file);
    expect((await fresh.all()).length).to.equal(20);
    expect((await fresh.get("id-3"))!.status).to.equal("confirmed");
    expect(await readdir(path.dirname(file))).to.deep.equal(["journal.json"]); // no temp file left
    expect(JSON.parse(await readFile(file, "utf8")).version).to.equal(1);
  });

  it("JsonFileJournal: a corrupt file is an error naming the file, never silently reset", async () => {
    const file = path.join(dir, "journal.json");
    await writeFile(file, "{ not json");
    const error = await new JsonFileJournal(file).get("x").catch((e: unknown) => e);
    expect(isChainError(error, "JOURNAL_INVALID")).to.equal(true);
    expect((error as Error).message).to.include(file);
    await writeFile(file, JSON.stringify({ version: 2, submissions: {} }));
    expect(isChainError(await new JsonFileJournal(file).put(record("x", 0)).catch((e: unknown) => e), "JOURNAL_INVALID")).to.equal(true);
    expect(JSON.parse(await readFile(file, "utf8")).version).to.equal(2);
  });

  it("MemoryJournal copies records in and out", async () => {
    const journal = new MemoryJournal();
    const r = record("a", 0);
    await journal.put(r);
    r.status = "failed";
    expect((await journal.get("a"))!.status).to.equal("sent");
  });
});
