// The keeper's schedule. Per market: a signal watch (cron, every few seconds) and a calibration
// cadence (cron), plus trigger(market) for an immediate run. A watch whose stress level RISES to
// the trigger level (or above) triggers a run; staying stressed does not trigger again.
//
// Never two runs of one market at once: a trigger that arrives while a run is in progress is
// coalesced (counted) into one follow-up run after it. A run's failure is recorded and logged and
// never stops the schedule or another market. The same scheduler runs on the RealClock live and on
// a SimulatedClock in a replay. The kill switch stops submissions only: runs go on, and each run is
// told whether it may submit (ctx.submissionsAllowed()).
import type winston from "winston";
import { RiskkeeperError } from "../errors.ts";
import { LEVELS, type StressLevel } from "../signals/index.ts";
import type { Clock, ScheduledTask } from "./clock.ts";
import type { ScheduleConfig } from "./config.ts";
import type { KillSwitch } from "./kill-switch.ts";
import type { KeeperMetrics } from "./metrics.ts";

export type RunReason = "calibration" | "stress" | "manual";

export interface RunContext {
  market: string;
  /** Why this run started (for a coalesced follow-up: the first coalesced trigger's reason). */
  reason: RunReason;
  /** Clock time the run started, ms. */
  startedAt: number;
  /** Per-scheduler sequence number of the run. */
  runId: number;
  /** False while the kill switch is engaged: the run may compute and record, but must not submit. */
  submissionsAllowed(): boolean;
}

export interface WatchResult {
  /** Current stress level of the market. */
  level: StressLevel;
}

export interface RunOutcome {
  ok: boolean;
  /** True when the trigger was merged into a run that was already due. */
  coalesced: boolean;
  error?: string;
}

export interface MarketRunStats {
  runs: number;
  failures: number;
  coalesced: number;
  watches: number;
  watchFailures: number;
  /** Watches skipped because the previous one was still running. */
  watchesSkipped: number;
  running: boolean;
  followUpQueued: boolean;
  level?: StressLevel;
  lastRunAt?: number;
  lastSuccessAt?: number;
  lastError?: { at: number; message: string };
}

export interface SchedulerOptions {
  clock: Clock;
  markets: ReadonlyArray<{ name: string; schedule: ScheduleConfig }>;
  /** One run of the pipeline for a market. Throwing marks the run failed. */
  run: (ctx: RunContext) => Promise<void>;
  /** The signal watch: returns the market's stress level. Absent: no watch jobs. */
  watch?: (market: string) => Promise<WatchResult>;
  /** Level at or above which a rise triggers a run. Default "stressed". */
  triggerLevel?: StressLevel;
  killSwitch?: KillSwitch;
  logger?: winston.Logger;
  metrics?: KeeperMetrics;
  /** Called after every run (e.g. StateStore.recordRun). Its failure is logged, not thrown. */
  onRunEnd?: (market: string, outcome: { ok: boolean; error?: string }) => Promise<void> | void;
}

interface MarketSlot {
  stats: MarketRunStats;
  current?: Promise<RunOutcome>;
  followUp?: { reason: RunReason; promise: Promise<RunOutcome>; resolve: (o: RunOutcome) => void };
  watching: boolean;
}

const rank = (l: StressLevel): number => LEVELS.indexOf(l);

export class Scheduler {
  readonly #o: SchedulerOptions;
  readonly #slots = new Map<string, MarketSlot>();
  #tasks: ScheduledTask[] = [];
  #runSeq = 0;
  #started = false;
  #stopped = false;

  constructor(options: SchedulerOptions) {
    this.#o = options;
    for (const m of options.markets) {
      if (this.#slots.has(m.name)) throw new RiskkeeperError("CONFIG_INVALID", `market '${m.name}' appears twice`, { input: "markets" });
      this.#slots.set(m.name, {
        stats: { runs: 0, failures: 0, coalesced: 0, watches: 0, watchFailures: 0, watchesSkipped: 0, running: false, followUpQueued: false },
        watching: false,
      });
    }
  }

  /** Schedules every market's watch and calibration jobs. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    for (const m of this.#o.markets) {
      this.#tasks.push(this.#o.clock.schedule(m.schedule.calibrate, () => { void this.trigger(m.name, "calibration"); }));
      if (this.#o.watch) this.#tasks.push(this.#o.clock.schedule(m.schedule.watch, () => this.#watch(m.name)));
    }
  }

  /** Cancels the jobs and waits for runs in progress (and queued follow-ups) to finish. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const t of this.#tasks) t.cancel();
    this.#tasks = [];
    await this.idle();
  }

  /** Resolves when no run of any market is in progress or queued. */
  async idle(): Promise<void> {
    for (;;) {
      const busy = [...this.#slots.values()].flatMap((s) => [s.current, s.followUp?.promise]).filter((p): p is Promise<RunOutcome> => p !== undefined);
      if (busy.length === 0) return;
      await Promise.all(busy);
    }
  }

  submissionsAllowed(): boolean {
    return this.#o.killSwitch ? this.#o.killSwitch.submissionsAllowed() : true;
  }

  /** A copy of every market's run statistics. */
  stats(): Record<string, MarketRunStats> {
    return Object.fromEntries([...this.#slots].map(([name, s]) => [name, { ...s.stats, ...(s.stats.lastError ? { lastError: { ...s.stats.lastError } } : {}) }]));
  }

  /**
   * Runs the market now, or — when a run is in progress — coalesces into one follow-up run after it.
   * Resolves with the outcome of the run that serves this trigger; never rejects for a run failure.
   */
  trigger(market: string, reason: RunReason = "manual"): Promise<RunOutcome> {
    const slot = this.#slots.get(market);
    if (!slot) return Promise.reject(new RiskkeeperError("INPUT_INVALID", "unknown market", { input: market }));
    if (this.#stopped) return Promise.resolve({ ok: false, coalesced: false, error: "scheduler stopped" });
    if (!slot.current) return this.#launch(market, slot, reason);
    slot.stats.coalesced++;
    this.#o.metrics?.coalesced.inc({ market });
    this.#o.logger?.debug("trigger coalesced into a follow-up run", { market, reason });
    if (!slot.followUp) {
      let resolve!: (o: RunOutcome) => void;
      const promise = new Promise<RunOutcome>((r) => { resolve = r; });
      slot.followUp = { reason, promise, resolve };
      slot.stats.followUpQueued = true;
    }
    return slot.followUp.promise;
  }

  /** Starts a run as a task of the clock (so a simulated clock waits for it). */
  #launch(market: string, slot: MarketSlot, reason: RunReason): Promise<RunOutcome> {
    slot.stats.running = true;
    const p = this.#o.clock.spawn(() => this.#execute(market, slot, reason));
    slot.current = p;
    return p;
  }

  async #execute(market: string, slot: MarketSlot, reason: RunReason): Promise<RunOutcome> {
    const runId = ++this.#runSeq;
    const startedAt = this.#o.clock.now();
    slot.stats.running = true;
    slot.stats.runs++;
    slot.stats.lastRunAt = startedAt;
    let outcome: RunOutcome;
    try {
      await this.#o.run({ market, reason, startedAt, runId, submissionsAllowed: () => this.submissionsAllowed() });
      slot.stats.lastSuccessAt = this.#o.clock.now();
      outcome = { ok: true, coalesced: false };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      slot.stats.failures++;
      slot.stats.lastError = { at: this.#o.clock.now(), message };
      this.#o.logger?.error("run failed", { market, reason, runId, error });
      outcome = { ok: false, coalesced: false, error: message };
    }
    this.#o.metrics?.runs.inc({ market, outcome: outcome.ok ? "ok" : "error" });
    this.#o.metrics?.lastRun.set({ market }, startedAt / 1000);
    if (outcome.ok) this.#o.metrics?.lastSuccess.set({ market }, this.#o.clock.now() / 1000);
    try {
      await this.#o.onRunEnd?.(market, outcome.ok ? { ok: true } : { ok: false, error: outcome.error! });
    } catch (error) {
      this.#o.logger?.error("recording the run failed", { market, runId, error });
    }
    // Hand over to the follow-up from inside this run, so there is never a moment with a trigger
    // queued and no run in progress (and a simulated clock sees the next run before this one ends).
    slot.stats.running = false;
    const followUp = slot.followUp;
    slot.followUp = undefined;
    slot.stats.followUpQueued = false;
    slot.current = undefined;
    if (followUp) {
      if (this.#stopped) followUp.resolve({ ok: false, coalesced: true, error: "scheduler stopped" });
      else void this.#launch(market, slot, followUp.reason).then((o) => followUp.resolve({ ...o, coalesced: true }));
    }
    return outcome;
  }

  async #watch(market: string): Promise<void> {
    const slot = this.#slots.get(market)!;
    if (slot.watching) {
      slot.stats.watchesSkipped++;
      return;
    }
    slot.watching = true;
    let level: StressLevel;
    try {
      ({ level } = await this.#o.watch!(market));
      if (!LEVELS.includes(level)) throw new RiskkeeperError("INPUT_INVALID", `watch returned an unknown level ${JSON.stringify(level)}`, { input: market });
      slot.stats.watches++;
    } catch (error) {
      slot.stats.watchFailures++;
      this.#o.metrics?.watchErrors.inc({ market });
      this.#o.logger?.warn("signal watch failed", { market, error });
      return;
    } finally {
      slot.watching = false;
    }
    const previous = slot.stats.level;
    slot.stats.level = level;
    this.#o.metrics?.stressLevel.set({ market }, rank(level));
    const threshold = rank(this.#o.triggerLevel ?? "stressed");
    if (rank(level) >= threshold && (previous === undefined || rank(level) > rank(previous))) {
      this.#o.logger?.info("stress rose: triggering a run", { market, from: previous ?? "(none)", to: level });
      void this.trigger(market, "stress");
    }
  }
}
