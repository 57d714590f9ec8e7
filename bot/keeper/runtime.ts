// The keeper's runtime, assembled from a validated config: state store (locked), logger, kill
// switch, metrics, health server and scheduler, in an order that writes nothing until every check
// has passed — a bad state file or a held lock fails before the log file or anything else exists.
// The pipeline itself (signals → calibration → rule → gates → submission) is passed in as `run`;
// this module owns only time, state, logs, health and the schedule.
import path from "node:path";
import type { Writable } from "node:stream";
import type winston from "winston";
import { RealClock, type Clock } from "./clock.ts";
import type { KeeperConfig } from "./config.ts";
import { buildHealthReport, collectKeeperMetrics, startHealthServer, type HealthReport, type HealthServer } from "./health.ts";
import { KillSwitch } from "./kill-switch.ts";
import { createKeeperLogger, forMarket } from "./log.ts";
import { createKeeperMetrics, type KeeperMetrics } from "./metrics.ts";
import { Scheduler, type RunContext, type WatchResult } from "./scheduler.ts";
import { StateStore } from "./state.ts";

export interface KeeperRuntime {
  config: KeeperConfig;
  clock: Clock;
  store: StateStore;
  logger: winston.Logger;
  metrics: KeeperMetrics;
  killSwitch: KillSwitch;
  scheduler: Scheduler;
  /** Absent when config.health.enabled is false. */
  health?: HealthServer;
  /** Folder of the state file; evidence bundles go to `<stateDir>/evidence/`. */
  stateDir: string;
  startedAt: number;
  report(): HealthReport;
  /** Stops the schedule, waits for runs in progress, closes the health server, logs and the state lock. */
  stop(): Promise<void>;
}

export interface KeeperRuntimeOptions {
  config: KeeperConfig;
  /** Default: the real clock. A replay passes a SimulatedClock. */
  clock?: Clock;
  /** One pipeline run for a market. The runtime's parts come along (store, logger, kill switch...). */
  run: (ctx: RunContext & { log: winston.Logger }, runtime: KeeperRuntime) => Promise<void>;
  /** The signal watch (stress level of a market). Absent: calibration cadence and trigger() only. */
  watch?: (market: string, runtime: KeeperRuntime) => Promise<WatchResult>;
  /** Secrets to mask in logs and health output besides the config's RPC URLs (e.g. the signer's key). */
  secrets?: readonly string[];
  /** Readable log lines go here. Default process.stderr; false: none. */
  terminal?: Writable | false;
  /** SIGUSR2 toggles the kill switch. Default true. */
  signalHandlers?: boolean;
  /** Alerts for /healthz (e.g. the pipelines' foreign-change and read-back alerts). */
  alerts?: () => ReadonlyArray<{ market: string; at: number; message: string }>;
  /** Start the schedule's jobs. Default true (false: trigger() only, e.g. `riskkeeper run --once`). */
  schedule?: boolean;
}

/** Starts the keeper's runtime. Throws (writing nothing) on a bad or locked state file. */
export async function startKeeperRuntime(options: KeeperRuntimeOptions): Promise<KeeperRuntime> {
  const { config } = options;
  const clock = options.clock ?? new RealClock();
  const startedAt = clock.now();
  const secrets = [...(options.secrets ?? []), ...(config.rpcUrl ? [config.rpcUrl] : []), ...(config.fork.url ? [config.fork.url] : [])];

  // 1. State: validated before the lock is taken; STATE_INVALID / STATE_LOCKED leave no trace.
  const store = await StateStore.open(config.state.file, { clock, keepTerminalPerMarket: config.state.keepTerminalPerMarket });
  const cleanups: Array<() => Promise<void> | void> = [() => store.close()];
  try {
    // 2. Logs.
    const { logger, close: closeLog } = createKeeperLogger({
      level: config.log.level,
      ...(config.log.file ? { file: config.log.file } : {}),
      ...(options.terminal !== undefined ? { terminal: options.terminal } : {}),
      clock,
      secrets,
    });
    cleanups.unshift(closeLog);

    // 3. Kill switch, metrics, scheduler.
    const killSwitch = new KillSwitch(config.killSwitchFile);
    if (options.signalHandlers ?? true) cleanups.unshift(killSwitch.installSignalHandler("SIGUSR2"));
    const unsubscribe = killSwitch.onToggle((s) => logger.warn(s.engaged ? "kill switch engaged: submissions stopped" : "kill switch released", { killSwitch: s }));
    cleanups.unshift(() => { unsubscribe(); });
    const metrics = createKeeperMetrics();
    collectKeeperMetrics(metrics, { store, killSwitch });

    let stopped = false;
    const runtime = {} as KeeperRuntime;
    const scheduler = new Scheduler({
      clock,
      markets: config.markets,
      triggerLevel: config.stress.triggerLevel,
      killSwitch,
      logger,
      metrics,
      run: (ctx) => options.run({ ...ctx, log: forMarket(logger, ctx.market).child({ runId: ctx.runId }) }, runtime),
      ...(options.watch ? { watch: (market: string) => options.watch!(market, runtime) } : {}),
      onRunEnd: (market, outcome) => store.recordRun(market, outcome),
    });

    // 4. Health server last (it may fail to bind: everything above is undone).
    let health: HealthServer | undefined;
    const report = (): HealthReport => buildHealthReport({ clock, startedAt, scheduler, store, killSwitch, stopped, ...(options.alerts ? { alerts: options.alerts } : {}) });
    if (config.health.enabled) {
      health = await startHealthServer({ host: config.health.host, port: config.health.port, report, metrics, secrets });
      cleanups.unshift(() => health!.close());
    }

    Object.assign(runtime, {
      config, clock, store, logger, metrics, killSwitch, scheduler, stateDir: path.dirname(config.state.file), startedAt, report,
      ...(health ? { health } : {}),
      stop: async () => {
        if (stopped) return;
        stopped = true;
        await scheduler.stop();
        logger.info("keeper stopped");
        for (const c of cleanups) await c();
      },
    } satisfies KeeperRuntime);

    if (options.schedule ?? true) scheduler.start();
    logger.info("keeper started", {
      markets: config.markets.map((m) => m.name),
      submission: config.submission.mode,
      stateFile: config.state.file,
      health: health ? health.url : "disabled",
      killSwitch: killSwitch.engaged() ? "ENGAGED" : "off",
    });
    return runtime;
  } catch (error) {
    for (const c of cleanups) await Promise.resolve(c()).catch(() => {});
    throw error;
  }
}
