// The keeper's runtime in one import: config, clock, state, evidence, logs, metrics, health,
// kill switch, scheduler and their assembly (see docs/keeper.md).
export { RealClock, SimulatedClock, parseCron, validateCron, type Clock, type ScheduledTask, type TaskCallback } from "./clock.ts";
export {
  configHash, defaultEmbeddedConfig, loadKeeperConfig, validateKeeperConfig, DEFAULT_SCHEDULE, DEFAULT_HEALTH_PORT, SUBMISSION_MODES, LOG_LEVELS,
  type KeeperConfig, type MarketConfig, type ScheduleConfig, type GasConfig, type ForkConfig, type DeploymentConfig, type StressTriggerConfig,
  type SubmissionMode, type LogLevel, type ValidateOptions,
} from "./config.ts";
export {
  StateStore, readStateSnapshot, migrateState, emptyState, UPDATE_STAGES, UPDATE_STATES, TERMINAL_STATES, STATE_SCHEMA_VERSION,
  type UpdateRecord, type UpdateStage, type UpdateState, type Rejection, type Transition, type JournalRecord, type SubmissionJournalView,
  type StateData, type StateSnapshot, type MarketCounters, type StateStoreOptions, type JsonValue,
} from "./state.ts";
export { acquireStateLock, readLockHolder, lockFileOf, holderAlive, describeHolder, type LockHolder, type StateLock } from "./lock.ts";
export { writeFileAtomic } from "./atomic-file.ts";
export { canonicalJson, evidenceHash, evidenceFile, writeEvidence, readEvidence, verifyEvidence, type EvidenceBundle } from "./evidence.ts";
export { createKeeperLogger, createRedactor, redactionFormat, redactUrl, forUpdate, forMarket, MASK, type KeeperLogger, type KeeperLoggerOptions, type Redactor } from "./log.ts";
export { MetricsRegistry, Counter, Gauge, SourcedCounter, createKeeperMetrics, setStateMetrics, type KeeperMetrics, type Labels } from "./metrics.ts";
export { startHealthServer, buildHealthReport, collectKeeperMetrics, type HealthReport, type HealthServer, type HealthServerOptions, type MarketHealth } from "./health.ts";
export { KillSwitch, type KillSwitchStatus } from "./kill-switch.ts";
export { Scheduler, type RunContext, type RunOutcome, type RunReason, type WatchResult, type MarketRunStats, type SchedulerOptions } from "./scheduler.ts";
export { startKeeperRuntime, type KeeperRuntime, type KeeperRuntimeOptions } from "./runtime.ts";
