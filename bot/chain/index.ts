// The chain layer: the only part of the bot that talks to a provider. See docs/chain.md.
export { CONTRACT_SOURCES, artifactPath, contractInterface, loadAbi, type ArtifactOptions, type ContractName } from "./artifacts.ts";
export {
  BOUND_FUNCTIONS, bindGovernor, bindSteward, bindUpkeep, errorInterfaces,
  type Binding, type GovernorBinding, type GovernorCalls, type GovernorReads, type ParamUpdateTuple,
  type StewardBinding, type StewardCalls, type StewardReads, type UpkeepBinding,
} from "./bindings.ts";
export { ChainError, isChainError, type ChainErrorReason } from "./errors.ts";
export {
  PROPOSAL_STATES, advanceGovernanceProposal, buildGovernanceProposal, followGovernanceProposal, hashProposal, proposalDescription, proposalState,
  type FollowOptions, type GovernanceProposal, type GovernanceStep, type ProposalStateName,
} from "./governance.ts";
export { JsonFileJournal, MemoryJournal, type SubmissionAttempt, type SubmissionJournal, type SubmissionRecord, type SubmissionStatus } from "./journal.ts";
export { keystoreAddress, loadKeystoreSigner, type KeystoreSigner, type PasswordSource } from "./keys.ts";
export { parseInlineDeployment, readSubmissionInput, toMarketChange, type ChainDeployment, type SubmissionInput } from "./proposal-file.ts";
export { VIAS, outcomeJson, propose, type ProposeConfig, type ProposeOutcome, type Via } from "./propose.ts";
export { assertChainId, connectRpc, fromEip1193, maskRpcUrl } from "./provider.ts";
export { decodeRevertData, formatRevert, revertDataOf, type DecodedRevert } from "./revert.ts";
export {
  SAFE_BATCH_SCHEMA, TX_BUILDER_VERSION, buildSafeBatch, safeBatchChecksum, validateAgainstSchema, validateSafeBatch,
  type SafeBatch, type SafeBatchOptions, type SafeBatchTransaction, type SafeCall,
} from "./safe-batch.ts";
export {
  assertStewardRole, assertWithinBounds, changeId, judgeKeeperUpdate, paramUpdatedEvents, readMarketState, submitDirectUpdate, submitQueuedUpdate, updateTuples,
  type DirectUpdateResult, type KeeperVerdict, type MarketChange, type OnChainMarket, type ParamUpdatedEvent, type QueuedUpdateResult,
} from "./steward.ts";
export {
  TxManager, systemClock,
  type ChainEvent, type ChainLogger, type Clock, type DryRunResult, type FeePolicy, type SubmitResult, type TxManagerOptions, type TxRequest, type TxSigner,
} from "./tx-manager.ts";
