// Scheduler on the simulated clock: jobs per market, stress-rise triggers, no overlapping runs
// (coalesced and counted), failures isolated, the kill switch stopping submissions only.
import { writeFileSync, rmSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { SimulatedClock } from "../../bot/keeper/clock.ts";
import { KillSwitch } from "../../bot/keeper/kill-switch.ts";
import { createKeeperMetrics } from "../../bot/keeper/metrics.ts";
import { Scheduler, type RunContext, type WatchResult } from "../../bot/keeper/scheduler.ts";
import type { StressLevel } from "../../bot/signals/index.ts";
import { tempDir } from "./helpers.ts";

const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);
const schedule = { watch: "*/5 * * * * *", calibrate: "0 * * * *" };

describe("keeper/scheduler", () => {
  it("runs each market's calibration on its cron, in time order, on the simulated clock", async () => {
    const clock = new SimulatedClock(T0);
    const runs: string[] = [];
    const s = new Scheduler({
      clock,
      markets: [{ name: "ETH-USD", schedule }, { name: "BTC-USD", schedule: { ...schedule, calibrate: "30 */2 * * *" } }],
      run: async (ctx) => { runs.push(`${ctx.market}:${ctx.reason}@${(clock.now() - T0) / 60_000}m`); },
    });
    s.start();
    await clock.advance(3 * 3_600_000);
    expect(runs).to.deep.equal([
      "BTC-USD:calibration@30m", "ETH-USD:calibration@60m", "ETH-USD:calibration@120m", "BTC-USD:calibration@150m", "ETH-USD:calibration@180m",
    ]);
    expect(s.stats()["ETH-USD"]).to.deep.include({ runs: 3, failures: 0, running: false, lastSuccessAt: T0 + 3 * 3_600_000 });
    await s.stop();
  });

  it("triggers a run when the watched stress level rises to the trigger level, not while it stays there", async () => {
    const clock = new SimulatedClock(T0);
    // Level per 5-second watch tick.
    const levels: StressLevel[] = ["calm", "elevated", "stressed", "stressed", "critical", "critical", "elevated", "stressed"];
    let tick = 0;
    const runs: string[] = [];
    const s = new Scheduler({
      clock,
      markets: [{ name: "ETH-USD", schedule }],
      watch: async (): Promise<WatchResult> => ({ level: levels[Math.min(tick++, levels.length - 1)] }),
      run: async (ctx) => { runs.push(`${ctx.reason}@${(clock.now() - T0) / 1000}s`); },
    });
    s.start();
    await clock.advance(40_000);
    expect(runs).to.deep.equal(["stress@15s", "stress@25s", "stress@40s"]);
    expect(s.stats()["ETH-USD"]).to.deep.include({ watches: 8, level: "stressed" });
    await s.stop();
  });

  it("never overlaps runs of one market: triggers during a run are coalesced into one follow-up, counted", async () => {
    const clock = new SimulatedClock(T0);
    const metrics = createKeeperMetrics();
    let inFlight = 0;
    let maxInFlight = 0;
    const runs: string[] = [];
    const s = new Scheduler({
      clock,
      metrics,
      markets: [{ name: "ETH-USD", schedule }, { name: "BTC-USD", schedule }],
      run: async (ctx: RunContext) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        runs.push(`${ctx.market}#${ctx.runId}:${ctx.reason}@${(clock.now() - T0) / 1000}`);
        await clock.sleep(10_000); // a run takes 10 s of (simulated) time
        inFlight--;
      },
    });
    const first = s.trigger("ETH-USD", "manual");
    const other = s.trigger("BTC-USD", "manual");
    await clock.advance(2_000);
    const second = s.trigger("ETH-USD", "stress");
    const third = s.trigger("ETH-USD", "stress");
    expect(s.stats()["ETH-USD"]).to.deep.include({ running: true, followUpQueued: true, coalesced: 2 });
    await clock.advance(30_000);
    expect(await first).to.deep.equal({ ok: true, coalesced: false });
    expect(await second).to.deep.equal({ ok: true, coalesced: true });
    expect(await third).to.deep.equal({ ok: true, coalesced: true });
    expect(await other).to.deep.equal({ ok: true, coalesced: false });
    expect(runs).to.deep.equal(["ETH-USD#1:manual@0", "BTC-USD#2:manual@0", "ETH-USD#3:stress@10"]);
    expect(maxInFlight).to.equal(2); // one per market
    expect(metrics.coalesced.get({ market: "ETH-USD" })).to.equal(2);
    expect(metrics.runs.get({ market: "ETH-USD", outcome: "ok" })).to.equal(2);
    // After the follow-up, a new trigger runs at once.
    const fresh = s.trigger("ETH-USD");
    await clock.advance(10_000);
    expect(await fresh).to.deep.equal({ ok: true, coalesced: false });
    await s.stop();
  });

  it("isolates failures: a failing run or watch is recorded, the schedule and the other market go on", async () => {
    const clock = new SimulatedClock(T0);
    const ended: string[] = [];
    let n = 0;
    const s = new Scheduler({
      clock,
      markets: [{ name: "ETH-USD", schedule }, { name: "BTC-USD", schedule }],
      watch: async (m) => { if (m === "BTC-USD") throw new Error("rpc down"); return { level: "calm" }; },
      run: async (ctx) => { if (ctx.market === "ETH-USD" && n++ === 0) throw new Error("data file truncated"); },
      onRunEnd: (m, o) => { ended.push(`${m}:${o.ok ? "ok" : o.error}`); },
    });
    s.start();
    await clock.advance(2 * 3_600_000);
    const st = s.stats();
    expect(st["ETH-USD"]).to.deep.include({ runs: 2, failures: 1, lastSuccessAt: T0 + 7_200_000 });
    expect(st["ETH-USD"].lastError).to.deep.equal({ at: T0 + 3_600_000, message: "data file truncated" });
    expect(st["BTC-USD"]).to.deep.include({ runs: 2, failures: 0, watchFailures: 1440 });
    expect(ended).to.deep.equal(["ETH-USD:data file truncated", "BTC-USD:ok", "ETH-USD:ok", "BTC-USD:ok"]);
    await s.stop();
    expect(await s.trigger("ETH-USD")).to.deep.include({ ok: false, error: "scheduler stopped" });
  });

  it("gives the same sequence on every replay", async () => {
    const replay = async () => {
      const clock = new SimulatedClock(T0);
      const out: string[] = [];
      const s = new Scheduler({
        clock,
        markets: ["A", "B", "C"].map((name) => ({ name, schedule: { watch: "*/7 * * * * *", calibrate: "*/2 * * * *" } })),
        watch: async (m) => ({ level: (clock.now() / 7000 + m.charCodeAt(0)) % 3 === 0 ? "critical" : "calm" }),
        run: async (ctx) => { await clock.sleep(3_000 * (ctx.market.charCodeAt(0) - 64)); out.push(`${ctx.market}:${ctx.reason}@${clock.now() - T0}`); },
      });
      s.start();
      await clock.advance(600_000);
      // stop() waits for runs in progress, which sleep on this clock: let time run on meanwhile.
      const stopping = s.stop();
      await clock.advance(60_000);
      await stopping;
      return out;
    };
    const a = await replay();
    expect(a.length).to.be.greaterThan(10);
    expect(await replay()).to.deep.equal(a);
  });

  it("the kill switch (file or SIGUSR2) stops submissions while runs and watches go on", async () => {
    const t = tempDir();
    try {
      const clock = new SimulatedClock(T0);
      const kill = new KillSwitch(path.join(t.dir, "KILL"));
      const seen: boolean[] = [];
      const s = new Scheduler({ clock, killSwitch: kill, markets: [{ name: "ETH-USD", schedule }], run: async (ctx) => { seen.push(ctx.submissionsAllowed()); } });
      expect(s.submissionsAllowed()).to.equal(true);
      await s.trigger("ETH-USD");
      writeFileSync(kill.file, "");
      expect(s.submissionsAllowed()).to.equal(false);
      await s.trigger("ETH-USD");
      rmSync(kill.file);
      expect(s.submissionsAllowed()).to.equal(true);

      const uninstall = kill.installSignalHandler();
      try {
        const toggled = new Promise((resolve) => kill.onToggle(resolve));
        process.kill(process.pid, "SIGUSR2");
        await toggled;
        expect(kill.status()).to.deep.include({ engaged: true, signalEngaged: true, fileExists: false });
        await s.trigger("ETH-USD");
        const back = new Promise((resolve) => kill.onToggle(resolve));
        process.kill(process.pid, "SIGUSR2");
        await back;
      } finally {
        uninstall();
      }
      expect(s.submissionsAllowed()).to.equal(true);
      await s.trigger("ETH-USD");
      expect(seen).to.deep.equal([true, false, false, true]);
      expect(s.stats()["ETH-USD"].runs).to.equal(4);
    } finally {
      t.cleanup();
    }
  });
});
