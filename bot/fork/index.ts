// Fork validation: sessions, oracle takeover, scenarios, the protocol adapter and the gate.
export { openForkSession, probeRpc, forkPoint, maskUrl, type ForkSession, type ForkSessionOptions } from "./session.ts";
export { ReplayFeedDriver, type NetworkClock } from "./oracle.ts";
export { takeOverFeed, replayStorageLayout, TAKEOVER_OWNER, type FeedTakeover, type FeedTakeoverKind, type StorageSlot } from "./takeover.ts";
export { startRpcProxy, explicitBlock, type RpcProxy, type RpcProxyOptions, type RpcStats } from "./rpc-proxy.ts";
export {
  worstWindows, rebaseScenario, syntheticCrash, scenarioFromPath, monteCarloScenarios, roundsScenarios,
  type Scenario, type ScenarioRound, type ScenarioKind, type MonteCarloOptions, type MonteCarloResult, type RoundsHistory,
} from "./scenarios.ts";
export { seededPopulation, type PositionSpec, type PopulationOptions } from "./population.ts";
export { DemoProtocolAdapter, type ProtocolAdapter, type MarginParams, type PositionHealth, type WatchedPosition, type LiquidationResult } from "./adapter.ts";
export {
  validateProposal, formatValidationReport, DEFAULT_THRESHOLDS,
  type ParamChange, type ValidationOptions, type ValidationReport, type ValidationThresholds, type ScenarioOutcome,
} from "./validate.ts";
