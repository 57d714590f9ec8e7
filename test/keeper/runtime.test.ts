// The runtime assembled from a config: start-up refusals that write nothing, and a replay on the
// simulated clock with a stand-in pipeline that moves records through the state machine, writes
// evidence, logs with updateId, respects the kill switch and resumes after a restart.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { isRiskkeeperError } from "../../bot/errors.ts";
import { SimulatedClock } from "../../bot/keeper/clock.ts";
import { configHash, loadKeeperConfig, type KeeperConfig } from "../../bot/keeper/config.ts";
import { evidenceHash, verifyEvidence, writeEvidence } from "../../bot/keeper/evidence.ts";
import { forUpdate } from "../../bot/keeper/log.ts";
import { startKeeperRuntime, type KeeperRuntime } from "../../bot/keeper/runtime.ts";
import type { RunContext } from "../../bot/keeper/scheduler.ts";
import { STATE_SCHEMA_VERSION } from "../../bot/keeper/state.ts";
import type { StressLevel } from "../../bot/signals/index.ts";
import { folderContents, tempDir } from "./helpers.ts";

const FEED = "0x5f4eC3Df9cbd43714FE2740f5E3616155c5b8419";
const KNOWN = ["default-1h"];
const T0 = Date.UTC(2026, 0, 1);

describe("keeper/runtime", () => {
  let t: ReturnType<typeof tempDir>;
  let configFile: string;
  let doc: any;
  beforeEach(() => {
    t = tempDir();
    writeFileSync(path.join(t.dir, "eth.csv"), "time,close\n");
    configFile = path.join(t.dir, "keeper.json");
    doc = {
      markets: [{ name: "ETH-USD", feed: FEED, data: "eth.csv", policy: "default-1h", schedule: { watch: "*/30 * * * * *", calibrate: "0 * * * *" } }],
      health: { port: 0 },
      log: { level: "debug", file: "logs/keeper.log" },
      state: { file: "run/state.json" },
      killSwitchFile: "run/KILL",
    };
  });
  afterEach(() => t.cleanup());

  async function start(clock: SimulatedClock, run: (ctx: RunContext, r: KeeperRuntime) => Promise<void> = async () => {}, watch?: () => Promise<{ level: StressLevel }>): Promise<KeeperRuntime> {
    writeFileSync(configFile, JSON.stringify(doc));
    const config = await loadKeeperConfig(configFile, { knownPolicies: KNOWN });
    return startKeeperRuntime({ config, clock, run, ...(watch ? { watch } : {}), terminal: false, signalHandlers: false });
  }

  const refusals: { name: string; setup: (d: any, dir: string) => void; code: string; mentions: (dir: string) => string }[] = [
    { name: "a config with a missing feed address", setup: (d) => delete d.markets[0].feed, code: "CONFIG_INVALID", mentions: () => "markets[0].feed: missing" },
    { name: "an unknown policy", setup: (d) => { d.markets[0].policy = "aggressive"; }, code: "CONFIG_INVALID", mentions: () => "markets[0].policy: unknown policy 'aggressive'" },
    { name: "a malformed cron expression", setup: (d) => { d.markets[0].schedule.calibrate = "0 25 * * *"; }, code: "CONFIG_INVALID", mentions: () => "markets[0].schedule.calibrate: malformed cron expression" },
    {
      name: "a state file from a newer version",
      setup: (_d, dir) => { mkdirSync(path.join(dir, "run")); writeFileSync(path.join(dir, "run", "state.json"), JSON.stringify({ schemaVersion: STATE_SCHEMA_VERSION + 1 })); },
      code: "STATE_INVALID",
      mentions: (dir) => `${path.join(dir, "run", "state.json")}: schemaVersion ${STATE_SCHEMA_VERSION + 1} is newer`,
    },
    {
      name: "a locked state file",
      setup: (_d, dir) => { mkdirSync(path.join(dir, "run")); writeFileSync(path.join(dir, "run", "state.json.lock"), JSON.stringify({ pid: 1, hostname: "keeper-2.prod", startedAt: "2026-01-01T00:00:00.000Z" })); },
      code: "STATE_LOCKED",
      mentions: () => "locked by pid 1 on keeper-2.prod since 2026-01-01T00:00:00.000Z",
    },
  ];
  for (const r of refusals) {
    it(`refuses to start with ${r.name}: a clear error naming the key or file, nothing written`, async () => {
      r.setup(doc, t.dir);
      writeFileSync(configFile, JSON.stringify(doc));
      const before = folderContents(t.dir);
      const error = await start(new SimulatedClock(T0)).then((rt) => rt.stop().then(() => undefined), (e: unknown) => e);
      expect(isRiskkeeperError(error), String(error)).to.equal(true);
      expect((error as { code: string }).code).to.equal(r.code);
      expect((error as Error).message).to.contain(r.mentions(t.dir));
      expect(folderContents(t.dir)).to.deep.equal(before);
      expect(existsSync(path.join(t.dir, "logs"))).to.equal(false);
    });
  }

  it("undoes everything when the health port is taken: the lock is released and a retry starts", async () => {
    const blocker = await import("node:http").then((http) => http.createServer());
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", r));
    try {
      doc.health = { port: (blocker.address() as { port: number }).port };
      const error = await start(new SimulatedClock(T0)).then(() => undefined, (e: unknown) => e);
      expect((error as NodeJS.ErrnoException).code).to.equal("EADDRINUSE");
      expect(existsSync(path.join(t.dir, "run", "state.json.lock"))).to.equal(false);
    } finally {
      await new Promise((r) => blocker.close(r));
    }
    doc.health = { port: 0 };
    const rt = await start(new SimulatedClock(T0));
    await rt.stop();
  });

  it("replays hours of simulated time: records through the state machine, evidence on disk first, logs with updateId, kill switch honoured, resume after restart", async () => {
    const clock = new SimulatedClock(T0);
    const levels: StressLevel[] = ["calm", "calm", "stressed", "stressed", "calm"];
    let tick = 0;
    let observation = 0;
    // A stand-in pipeline: every run observes new data; without permission to submit it stops at
    // fork-validated and leaves the record for the next run to resume.
    const pipeline = async (ctx: RunContext, rt: KeeperRuntime): Promise<void> => {
      const resumable = rt.store.pending(ctx.market)[0];
      const { record } = resumable ? { record: resumable } : await rt.store.begin(ctx.market, evidenceHash({ obs: ++observation }), { rows: 100 + observation });
      const log = forUpdate(rt.logger, record);
      log.info("run", { reason: ctx.reason, from: record.state });
      const order = ["observed", "calibrated", "bounded", "backtested", "fork-validated"] as const;
      for (const stage of order.slice(order.indexOf(record.state as (typeof order)[number]) + 1)) {
        if (stage === "fork-validated") {
          const { hash } = await writeEvidence(rt.stateDir, { dataReport: { rows: 100 }, modelFit: { buffer: 0.07 }, backtest: { ok: true }, fork: { badDebt: 0n }, configHash: configHash(rt.config), proposal: { market: ctx.market, value: 725n } });
          await rt.store.advance(record.updateId, stage, { evidenceHash: hash });
        } else {
          await rt.store.advance(record.updateId, stage, { evidence: { at: clock.now() } });
        }
        log.debug("stage", { stage });
      }
      if (!ctx.submissionsAllowed()) {
        log.warn("kill switch engaged: not submitting");
        return;
      }
      await rt.store.advance(record.updateId, "submitted");
      await rt.store.journal.put({ updateId: record.updateId, nonce: 7n, txHash: `0x${"1".repeat(64)}` });
      await clock.sleep(12_000); // one block
      await rt.store.advance(record.updateId, "confirmed");
      rt.metrics.submissions.inc({ market: ctx.market, mode: rt.config.submission.mode });
      log.info("confirmed");
    };

    let rt = await start(clock, pipeline, async () => ({ level: levels[Math.min(tick++, levels.length - 1)] }));
    expect(rt.health!.host).to.equal("127.0.0.1");
    await clock.advance(120_000); // watches every 30 s: calm, calm, stressed at 90 s (→ run, one 12 s block), stressed
    expect(rt.store.list({ state: "confirmed" })).to.have.length(1);

    writeFileSync(rt.config.killSwitchFile, "");
    await clock.advance(3_600_000); // the hourly calibration: stops at fork-validated
    const held = rt.store.pending("ETH-USD");
    expect(held.map((r) => r.state)).to.deep.equal(["fork-validated"]);
    const health = await (await fetch(`${rt.health!.url}/healthz`)).json() as any;
    expect(health).to.deep.include({ submissionsAllowed: false, pendingUpdates: 1 });
    const metrics = await (await fetch(`${rt.health!.url}/metrics`)).text();
    expect(metrics).to.contain('riskkeeper_submissions_total{market="ETH-USD",mode="direct"} 1');
    expect(metrics).to.contain('riskkeeper_updates{state="fork-validated"} 1');
    await rt.stop();
    expect(existsSync(`${rt.config.state.file}.lock`)).to.equal(false);

    // Restart: the held record is resumed, not duplicated.
    rmSync(rt.config.killSwitchFile);
    rt = await start(clock, pipeline);
    const outcome = rt.scheduler.trigger("ETH-USD", "manual");
    await clock.advance(20_000);
    expect(await outcome).to.deep.equal({ ok: true, coalesced: false });
    const all = rt.store.list();
    expect(all.map((r) => `${r.updateId}:${r.state}`)).to.deep.equal(["ETH-USD-000001:confirmed", "ETH-USD-000002:confirmed"]);
    for (const r of all) expect((await verifyEvidence(path.join(rt.stateDir, "evidence", `${r.evidenceHash}.json`), r.evidenceHash!)).ok).to.equal(true);
    await rt.stop();

    const lines = readFileSync(path.join(t.dir, "logs", "keeper.log"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    const updateLines = lines.filter((l) => ["run", "stage", "confirmed", "kill switch engaged: not submitting"].includes(l.message));
    expect(updateLines.length).to.be.greaterThan(8);
    for (const l of updateLines) expect(l.updateId, l.message).to.match(/^ETH-USD-00000[12]$/);
    expect(lines.find((l) => l.message === "keeper started")).to.deep.include({ timestamp: new Date(T0).toISOString() });
    expect(lines.filter((l) => l.message === "stress rose: triggering a run")).to.have.length(1);
  });
});
