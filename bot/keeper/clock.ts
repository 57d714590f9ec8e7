// Time for the keeper. Only bot/keeper owns time: everything that needs "now", a delay or a
// schedule takes a Clock, so the live keeper (RealClock, node-schedule underneath) and a replay of
// history (SimulatedClock, driven by advance()) run the same code.
//
// Cron expressions have 5 fields (minute hour day month weekday) or 6 (a leading seconds field),
// always evaluated in UTC.
import { AsyncLocalStorage } from "node:async_hooks";
import cronParser from "cron-parser";
import schedule from "node-schedule";
import { RiskkeeperError } from "../errors.ts";

/** A scheduled job or timer; cancel() is idempotent. */
export interface ScheduledTask {
  cancel(): void;
  /** Next time (ms since epoch) the task fires, or undefined when it never will again. */
  nextRun(): number | undefined;
}

export type TaskCallback = () => void | Promise<void>;

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Resolves after `ms` of this clock's time. */
  sleep(ms: number): Promise<void>;
  /** Runs `fn` at every time matching the cron expression (UTC). Throws CONFIG_INVALID on a bad expression. */
  schedule(cron: string, fn: TaskCallback): ScheduledTask;
  /** Runs `fn` once, `ms` from now. */
  after(ms: number, fn: TaskCallback): ScheduledTask;
  /**
   * Starts `fn` now as a task of this clock and returns its result. Work started outside a clock
   * callback (a run started by trigger()) goes through here, so a simulated clock waits for it.
   */
  spawn<T>(fn: () => Promise<T>): Promise<T>;
}

/**
 * Parses a cron expression strictly (5 or 6 fields, UTC) and returns its iterator. cron-parser alone
 * accepts "" and 4 fields; node-schedule silently returns null for a bad rule: neither is an error
 * an operator sees, so the field count is checked here.
 */
export function parseCron(cron: string, currentDateMs: number, input = "cron") {
  if (typeof cron !== "string") throw new RiskkeeperError("CONFIG_INVALID", "expected a cron expression string", { input });
  const fields = cron.trim().split(/\s+/).filter((f) => f.length > 0);
  if (fields.length !== 5 && fields.length !== 6) {
    throw new RiskkeeperError("CONFIG_INVALID", `malformed cron expression '${cron}': expected 5 fields (min hour day month weekday) or 6 (with leading seconds), got ${fields.length}`, { input });
  }
  try {
    return cronParser.parseExpression(cron, { tz: "UTC", currentDate: new Date(currentDateMs) });
  } catch (error) {
    throw new RiskkeeperError("CONFIG_INVALID", `malformed cron expression '${cron}': ${(error as Error).message}`, { input, cause: error });
  }
}

/** Throws CONFIG_INVALID naming `input` unless `cron` is a valid 5- or 6-field expression. */
export function validateCron(cron: string, input = "cron"): void {
  parseCron(cron, 0, input).next();
}

/**
 * Runs a job callback without letting its failure become an unhandled rejection (which would end
 * the process): callbacks report their own errors (the scheduler logs them); anything that still
 * escapes becomes a process warning.
 */
function runDetached(fn: TaskCallback): void {
  Promise.resolve()
    .then(fn)
    .catch((error: unknown) => { process.emitWarning(`riskkeeper: a scheduled job failed: ${error instanceof Error ? error.message : String(error)}`); });
}

/** Wall-clock time with node-schedule for cron jobs. */
export class RealClock implements Clock {
  now(): number {
    return Date.now();
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
  }

  schedule(cron: string, fn: TaskCallback): ScheduledTask {
    validateCron(cron);
    const job = schedule.scheduleJob({ rule: cron, tz: "Etc/UTC" }, () => { runDetached(fn); });
    if (job === null) throw new RiskkeeperError("CONFIG_INVALID", `node-schedule refused the cron expression '${cron}'`, { input: "cron" });
    return {
      cancel: () => { job.cancel(); },
      nextRun: () => job.nextInvocation()?.getTime(),
    };
  }

  spawn<T>(fn: () => Promise<T>): Promise<T> {
    return fn();
  }

  after(ms: number, fn: TaskCallback): ScheduledTask {
    let due: number | undefined = Date.now() + ms;
    const timer = setTimeout(() => { due = undefined; runDetached(fn); }, Math.max(0, ms));
    return {
      cancel: () => { clearTimeout(timer); due = undefined; },
      nextRun: () => due,
    };
  }
}

interface SimEvent {
  at: number;
  seq: number;
  fire: () => void;
  cancelled: boolean;
}

/** A callback started by the simulated clock, tracked until it settles. */
interface SimTask {
  done: boolean;
  /** Waiting on this clock's sleep(): cannot progress until advance() reaches its wake time. */
  sleeping: number;
  promise: Promise<void>;
}

/**
 * Simulated time for replays and tests. Nothing happens until advance(ms): due events (cron jobs,
 * timers, sleeps) fire in time order (ties in the order they were scheduled), the clock reads each
 * event's own time while it fires, and after each event advance() waits until every callback it
 * started has finished or is itself waiting on this clock's sleep() — so the same inputs always give
 * the same sequence, whatever I/O the callbacks do in between.
 */
export class SimulatedClock implements Clock {
  #now: number;
  #seq = 0;
  #events: SimEvent[] = [];
  #tasks = new Set<SimTask>();
  #context = new AsyncLocalStorage<SimTask>();
  #wake: (() => void) | undefined;

  constructor(startMs = 0) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  sleep(ms: number): Promise<void> {
    const task = this.#context.getStore();
    if (task) task.sleeping++;
    return new Promise((resolve) => {
      this.#push(this.#now + Math.max(0, ms), () => {
        if (task) task.sleeping--;
        resolve();
      });
      this.#wake?.();
    });
  }

  schedule(cron: string, fn: TaskCallback): ScheduledTask {
    let iterator = parseCron(cron, this.#now);
    let current: SimEvent | undefined;
    let cancelled = false;
    const arm = (): void => {
      const at = iterator.next().toDate().getTime();
      current = this.#push(at, () => {
        if (cancelled) return;
        void this.#start(fn).catch(() => {});
        arm();
      });
    };
    arm();
    return {
      cancel: () => { cancelled = true; if (current) current.cancelled = true; },
      nextRun: () => (cancelled ? undefined : current?.at),
    };
  }

  after(ms: number, fn: TaskCallback): ScheduledTask {
    const event = this.#push(this.#now + Math.max(0, ms), () => { void this.#start(fn).catch(() => {}); });
    let fired = false;
    const original = event.fire;
    event.fire = () => { fired = true; original(); };
    return {
      cancel: () => { event.cancelled = true; },
      nextRun: () => (event.cancelled || fired ? undefined : event.at),
    };
  }

  spawn<T>(fn: () => Promise<T>): Promise<T> {
    return this.#start(fn);
  }

  /** Number of events (jobs, timers, sleeps) still pending. */
  pending(): number {
    return this.#events.filter((e) => !e.cancelled).length;
  }

  /** Moves time forward by `ms`, firing every event due on the way. */
  async advance(ms: number): Promise<void> {
    if (!(Number.isFinite(ms) && ms >= 0)) throw new RiskkeeperError("INPUT_INVALID", `expected ms >= 0, got ${ms}`, { input: "advance" });
    await this.advanceTo(this.#now + ms);
  }

  /** Moves time forward to `targetMs` (never back), firing every event due on the way. */
  async advanceTo(targetMs: number): Promise<void> {
    if (targetMs < this.#now) throw new RiskkeeperError("INPUT_INVALID", `cannot go back in time (${targetMs} < ${this.#now})`, { input: "advanceTo" });
    await this.settle();
    for (;;) {
      this.#events = this.#events.filter((e) => !e.cancelled);
      this.#events.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.#events[0];
      if (!next || next.at > targetMs) break;
      this.#events.shift();
      this.#now = Math.max(this.#now, next.at);
      next.fire();
      await this.settle();
    }
    this.#now = targetMs;
  }

  /** Waits until every started callback has finished or is sleeping on this clock. */
  async settle(): Promise<void> {
    for (;;) {
      const running = [...this.#tasks].filter((t) => !t.done && t.sleeping === 0);
      if (running.length === 0) return;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        for (const t of running) t.promise.then(resolve, resolve);
      });
      this.#wake = undefined;
      for (const t of [...this.#tasks]) if (t.done) this.#tasks.delete(t);
    }
  }

  #push(at: number, fire: () => void): SimEvent {
    const event: SimEvent = { at, seq: this.#seq++, fire, cancelled: false };
    this.#events.push(event);
    return event;
  }

  #start<T>(fn: () => T | Promise<T>): Promise<T> {
    const task: SimTask = { done: false, sleeping: 0, promise: Promise.resolve() };
    this.#tasks.add(task);
    const result = this.#context.run(task, async () => {
      try {
        return await fn();
      } finally {
        task.done = true;
      }
    });
    // A callback's failure is its owner's to report (the scheduler logs run errors); the clock
    // only keeps time.
    task.promise = result.then(() => {}, () => {});
    this.#wake?.();
    return result;
  }
}
