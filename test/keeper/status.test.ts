// `riskkeeper status`: reads the state file without locking or writing; text and JSON.
import path from "node:path";
import { expect } from "chai";
import { main } from "../../bot/cli.ts";
import { command as status } from "../../bot/commands/status.ts";
import type { CommandIO } from "../../bot/commands/types.ts";
import { SimulatedClock } from "../../bot/keeper/clock.ts";
import { writeEvidence } from "../../bot/keeper/evidence.ts";
import { StateStore } from "../../bot/keeper/state.ts";
import { folderContents, tempDir } from "./helpers.ts";

const H = (n: number) => `0x${n.toString(16).padStart(64, "0")}`;

function capture(): CommandIO & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (t) => out.push(t), stderr: (t) => err.push(t) };
}

describe("riskkeeper status", () => {
  let t: ReturnType<typeof tempDir>;
  let file: string;
  let store: StateStore;
  beforeEach(async () => {
    t = tempDir();
    file = path.join(t.dir, "state.json");
    const clock = new SimulatedClock(Date.UTC(2026, 0, 1));
    store = await StateStore.open(file, { clock });
    const { hash } = await writeEvidence(t.dir, { dataReport: {}, modelFit: {}, backtest: {}, fork: null, configHash: H(1), proposal: {} });
    const a = await store.begin("ETH-USD", H(1));
    for (const s of ["calibrated", "bounded", "backtested", "fork-validated"] as const) await store.advance(a.record.updateId, s, s === "fork-validated" ? { evidenceHash: hash } : {});
    await store.advance(a.record.updateId, "submitted");
    await store.advance(a.record.updateId, "confirmed");
    await clock.advance(3_600_000);
    const b = await store.begin("ETH-USD", H(2));
    await store.reject(b.record.updateId, { code: "fork-bad-debt", message: "bad debt +12 USD" });
    await store.begin("BTC-USD", H(3));
    await store.recordRun("ETH-USD", { ok: true });
    await store.recordRun("BTC-USD", { ok: false, error: "rpc timeout" });
  });
  afterEach(async () => {
    await store.close();
    t.cleanup();
  });

  it("prints records by state, pending, last per market and the lock holder, writing nothing", async () => {
    const before = folderContents(t.dir);
    const io = capture();
    expect(await status.run(["--state", file], io)).to.equal(0);
    const text = io.out.join("\n");
    expect(text).to.contain(`state file ${file} (schemaVersion 2)`);
    expect(text).to.match(new RegExp(`lock: held by pid ${process.pid} on .* \\(running\\)`));
    expect(text).to.contain("records: observed 1, calibrated 0, bounded 0, backtested 0, fork-validated 0, submitted 0, confirmed 1, rejected 1");
    expect(text).to.contain("pending: 1\n  BTC-USD-000003  observed");
    expect(text).to.contain("ETH-USD: created 2, confirmed 1, rejected 1 (fork-bad-debt 1), compacted 0");
    expect(text).to.contain("last update ETH-USD-000002 rejected at 2026-01-01T01:00:00.000Z (fork-bad-debt at observed: bad debt +12 USD)");
    expect(text).to.contain("last run 2026-01-01T01:00:00.000Z FAILED: rpc timeout");
    expect(folderContents(t.dir)).to.deep.equal(before);
  });

  it("--json prints the summary; the CLI registers the command", async () => {
    await store.close();
    const io = capture();
    expect(await status.run(["--state", file, "--json"], io)).to.equal(0);
    const s = JSON.parse(io.out.join(""));
    expect(s.lock).to.equal(null);
    expect(s.byState).to.include({ observed: 1, confirmed: 1, rejected: 1 });
    expect(s.markets["ETH-USD"].lastUpdate).to.deep.include({ updateId: "ETH-USD-000002", state: "rejected" });
    expect(s.markets["ETH-USD"].lastSuccessAt).to.equal("2026-01-01T01:00:00.000Z");
    expect(s.pending.map((p: { updateId: string }) => p.updateId)).to.deep.equal(["BTC-USD-000003"]);
    const prev = process.stdout.write;
    let printed = "";
    process.stdout.write = ((chunk: string) => { printed += chunk; return true; }) as typeof process.stdout.write;
    try {
      expect(await main(["status", "--state", file, "--json"])).to.equal(0);
    } finally {
      process.stdout.write = prev;
    }
    expect(JSON.parse(printed).file).to.equal(file);
  });

  it("reports a missing file, and refuses a newer-version file with a clear error", async () => {
    const io = capture();
    expect(await status.run(["--state", path.join(t.dir, "none.json")], io)).to.equal(1);
    expect(io.err.join("")).to.contain("no state file at");
    const { writeFileSync } = await import("node:fs");
    const newer = path.join(t.dir, "newer.json");
    writeFileSync(newer, JSON.stringify({ schemaVersion: 99 }));
    const error = await status.run(["--state", newer], capture()).then(() => undefined, (e: unknown) => e);
    expect((error as Error).message).to.contain(newer).and.contain("schemaVersion 99 is newer");
  });
});
