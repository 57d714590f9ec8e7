// Clocks: the simulated clock fires cron jobs, timers and sleeps in time order, deterministically,
// and waits for what it started; the real clock schedules through node-schedule.
import { expect } from "chai";
import { isRiskkeeperError } from "../../bot/errors.ts";
import { RealClock, SimulatedClock, validateCron } from "../../bot/keeper/clock.ts";

const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);

describe("keeper/clock", () => {
  it("validateCron accepts 5 and 6 fields and refuses the rest with CONFIG_INVALID naming the input", () => {
    validateCron("*/5 * * * * *");
    validateCron("0 * * * *");
    for (const bad of ["", "* * * *", "61 * * * *", "0 0 31 2 *", "every minute", "* * * * * * *"]) {
      try {
        validateCron(bad, "schedule.watch");
        expect.fail(`accepted '${bad}'`);
      } catch (error) {
        expect(isRiskkeeperError(error, "CONFIG_INVALID"), String(error)).to.equal(true);
        expect((error as { input: string }).input).to.equal("schedule.watch");
      }
    }
  });

  it("SimulatedClock fires cron jobs and timers in time order, reading each event's own time", async () => {
    const clock = new SimulatedClock(T0);
    const seen: string[] = [];
    const every5s = clock.schedule("*/5 * * * * *", () => { seen.push(`5s@${(clock.now() - T0) / 1000}`); });
    clock.schedule("0 * * * *", () => { seen.push(`hourly@${(clock.now() - T0) / 1000}`); });
    clock.after(7_000, () => { seen.push(`timer@${(clock.now() - T0) / 1000}`); });
    expect(every5s.nextRun()).to.equal(T0 + 5_000);
    await clock.advance(12_000);
    expect(seen).to.deep.equal(["5s@5", "timer@7", "5s@10"]);
    expect(clock.now()).to.equal(T0 + 12_000);
    every5s.cancel();
    expect(every5s.nextRun()).to.equal(undefined);
    await clock.advance(3_600_000);
    expect(seen.slice(3)).to.deep.equal(["hourly@3600"]);
  });

  it("SimulatedClock waits for started callbacks, and lets them sleep on simulated time", async () => {
    const clock = new SimulatedClock(T0);
    const log: string[] = [];
    clock.after(1_000, async () => {
      log.push(`start@${clock.now() - T0}`);
      await new Promise((r) => setImmediate(r)); // real async work (I/O): advance() waits for it
      await clock.sleep(2_500);
      log.push(`woke@${clock.now() - T0}`);
      await new Promise((r) => setTimeout(r, 5));
      log.push(`end@${clock.now() - T0}`);
    });
    clock.after(2_000, () => { log.push(`other@${clock.now() - T0}`); });
    await clock.advance(3_000);
    expect(log).to.deep.equal(["start@1000", "other@2000"]);
    await clock.advance(1_000);
    expect(log).to.deep.equal(["start@1000", "other@2000", "woke@3500", "end@3500"]);
    expect(clock.now()).to.equal(T0 + 4_000);
  });

  it("SimulatedClock gives the same sequence on every run", async () => {
    const run = async () => {
      const clock = new SimulatedClock(T0);
      const out: number[] = [];
      for (let i = 0; i < 5; i++) clock.after(1000 * (5 - i), async () => { await clock.sleep(10 * i); out.push(i); });
      await clock.advance(10_000);
      return out;
    };
    expect(await run()).to.deep.equal(await run());
    expect(await run()).to.deep.equal([4, 3, 2, 1, 0]);
  });

  it("SimulatedClock refuses to go back in time", async () => {
    const clock = new SimulatedClock(T0);
    const e = await clock.advanceTo(T0 - 1).then(() => undefined, (x: unknown) => x);
    expect(isRiskkeeperError(e, "INPUT_INVALID")).to.equal(true);
  });

  it("RealClock schedules a cron job through node-schedule and a timer, both cancellable", async () => {
    const clock = new RealClock();
    const job = clock.schedule("0 0 1 1 *", () => {});
    const next = job.nextRun()!;
    expect(new Date(next).toISOString()).to.match(/-01-01T00:00:00.000Z$/);
    job.cancel();
    let fired = false;
    const timer = clock.after(60_000, () => { fired = true; });
    expect(timer.nextRun()).to.be.greaterThan(clock.now());
    timer.cancel();
    expect(timer.nextRun()).to.equal(undefined);
    await clock.sleep(1);
    expect(fired).to.equal(false);
    expect(() => clock.schedule("nope", () => {})).to.throw(/malformed cron/);
  });
});
