// Typed bindings of the contracts the bot calls. The ABI comes from the compiled artifacts
// (artifacts.ts); this file only types the functions used, and lists them so that loading a
// binding fails at once when the artifact lacks one (test/chain/bindings.test.ts checks every
// listed function against the artifact's signature).
import { Contract, type ContractRunner, type Interface } from "ethers";
import { contractInterface, type ArtifactOptions, type ContractName } from "./artifacts.ts";

/** (param id, value) as the steward's ParamUpdate struct. */
export type ParamUpdateTuple = [param: number, value: bigint];

export interface StewardBoundsResult {
  min: bigint;
  max: bigint;
  maxStep: bigint;
  minDelaySeconds: bigint;
  stepKind: bigint;
}

export interface QueuedUpdateResult {
  market: string;
  evidenceHash: string;
  queuedAt: bigint;
  executableAt: bigint;
  expiresAt: bigint;
  status: bigint;
  updates: Array<{ param: bigint; value: bigint }>;
}

export interface StewardReads {
  KEEPER_ROLE(): Promise<string>;
  GUARDIAN_ROLE(): Promise<string>;
  EXECUTOR_ROLE(): Promise<string>;
  DEFAULT_ADMIN_ROLE(): Promise<string>;
  hasRole(role: string, account: string): Promise<boolean>;
  getAllParams(market: string): Promise<[bigint[], bigint[]] & { values: bigint[]; updatedAts: bigint[] }>;
  getBounds(market: string, param: number): Promise<StewardBoundsResult>;
  marketExists(market: string): Promise<boolean>;
  isFrozen(market: string): Promise<boolean>;
  stewardFrozen(): Promise<boolean>;
  /** Empty bytes ("0x") when the update would pass, else the ABI-encoded custom error. */
  checkUpdate(market: string, updates: ParamUpdateTuple[]): Promise<string>;
  checkQueued(updateId: bigint): Promise<string>;
  queuedUpdateCount(): Promise<bigint>;
  getQueuedUpdate(updateId: bigint): Promise<QueuedUpdateResult>;
  queueTiming(): Promise<[bigint, bigint]>;
}

export interface StewardCalls {
  updateParams: [market: string, updates: ParamUpdateTuple[], evidenceHash: string];
  queueUpdate: [market: string, updates: ParamUpdateTuple[], evidenceHash: string];
  setParams: [market: string, updates: ParamUpdateTuple[], evidenceHash: string];
}

export interface GovernorReads {
  state(proposalId: bigint): Promise<bigint>;
  hashProposal(targets: string[], values: bigint[], calldatas: string[], descriptionHash: string): Promise<bigint>;
  proposalSnapshot(proposalId: bigint): Promise<bigint>;
  proposalDeadline(proposalId: bigint): Promise<bigint>;
  proposalEta(proposalId: bigint): Promise<bigint>;
  proposalNeedsQueuing(proposalId: bigint): Promise<boolean>;
  proposalThreshold(): Promise<bigint>;
  getVotes(account: string, timepoint: bigint): Promise<bigint>;
  clock(): Promise<bigint>;
  timelock(): Promise<string>;
}

export interface GovernorCalls {
  propose: [targets: string[], values: bigint[], calldatas: string[], description: string];
  queue: [targets: string[], values: bigint[], calldatas: string[], descriptionHash: string];
  execute: [targets: string[], values: bigint[], calldatas: string[], descriptionHash: string];
  castVote: [proposalId: bigint, support: number];
}

export interface UpkeepReads {
  checkUpkeep(checkData: string): Promise<[boolean, string]>;
}
export interface UpkeepCalls {
  performUpkeep: [performData: string];
}

/** Functions of each binding, as the artifact must declare them (full signatures). */
export const BOUND_FUNCTIONS = {
  RiskParameterSteward: [
    "KEEPER_ROLE()", "GUARDIAN_ROLE()", "EXECUTOR_ROLE()", "DEFAULT_ADMIN_ROLE()", "hasRole(bytes32,address)",
    "getAllParams(bytes32)", "getBounds(bytes32,uint8)", "marketExists(bytes32)", "isFrozen(bytes32)", "stewardFrozen()",
    "checkUpdate(bytes32,(uint8,int256)[])", "checkQueued(uint256)", "queuedUpdateCount()", "getQueuedUpdate(uint256)", "queueTiming()",
    "updateParams(bytes32,(uint8,int256)[],bytes32)", "queueUpdate(bytes32,(uint8,int256)[],bytes32)", "setParams(bytes32,(uint8,int256)[],bytes32)",
  ],
  RiskGovernor: [
    "state(uint256)", "hashProposal(address[],uint256[],bytes[],bytes32)", "proposalSnapshot(uint256)", "proposalDeadline(uint256)",
    "proposalEta(uint256)", "proposalNeedsQueuing(uint256)", "proposalThreshold()", "getVotes(address,uint256)", "clock()", "timelock()",
    "propose(address[],uint256[],bytes[],string)", "queue(address[],uint256[],bytes[],bytes32)", "execute(address[],uint256[],bytes[],bytes32)",
    "castVote(uint256,uint8)",
  ],
  StewardUpkeep: ["checkUpkeep(bytes)", "performUpkeep(bytes)"],
  RiskTimelock: [],
  RiskVotesToken: [],
} as const satisfies Record<ContractName, readonly string[]>;

export interface Binding<Reads, Calls> {
  name: ContractName;
  address: string;
  iface: Interface;
  /** View calls through the runner's provider. */
  read: Reads;
  /** ABI-encodes a state-changing call for the transaction manager. */
  encode<K extends keyof Calls & string>(fn: K, args: Calls[K]): string;
}

function bind<Reads, Calls>(name: ContractName, address: string, runner: ContractRunner | null, options: ArtifactOptions): Binding<Reads, Calls> {
  const iface = contractInterface(name, BOUND_FUNCTIONS[name], options);
  return {
    name,
    address,
    iface,
    read: new Contract(address, iface, runner) as unknown as Reads,
    encode: (fn, args) => iface.encodeFunctionData(fn, args as unknown as unknown[]),
  };
}

export type StewardBinding = Binding<StewardReads, StewardCalls>;
export type GovernorBinding = Binding<GovernorReads, GovernorCalls>;
export type UpkeepBinding = Binding<UpkeepReads, UpkeepCalls>;

export const bindSteward = (address: string, runner: ContractRunner | null, options: ArtifactOptions = {}): StewardBinding =>
  bind("RiskParameterSteward", address, runner, options);
export const bindGovernor = (address: string, runner: ContractRunner | null, options: ArtifactOptions = {}): GovernorBinding =>
  bind("RiskGovernor", address, runner, options);
export const bindUpkeep = (address: string, runner: ContractRunner | null, options: ArtifactOptions = {}): UpkeepBinding =>
  bind("StewardUpkeep", address, runner, options);

/** Interfaces whose custom errors a revert of the bot's calls may carry (steward, governor, timelock, upkeep). */
export function errorInterfaces(options: ArtifactOptions = {}): Interface[] {
  return (["RiskParameterSteward", "RiskGovernor", "RiskTimelock", "StewardUpkeep"] as const).map((n) => contractInterface(n, [], options));
}
