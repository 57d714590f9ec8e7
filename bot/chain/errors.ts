// Errors of the chain layer. Each is a RiskkeeperError (so the CLI edge prints it with its code)
// and carries a `reason` a program can check without parsing text:
//   isChainError(e, "FEE_ABOVE_CEILING")
import { isError } from "ethers";
import { RiskkeeperError, type RiskkeeperErrorCode } from "../errors.ts";

export type ChainErrorReason =
  | "INPUT_INVALID" // a malformed argument (address, option)
  | "ARTIFACT_MISSING" // compiled artifact not found or lacks a function the bindings use
  | "CHAIN_MISMATCH" // the RPC serves another chain than the deployment's
  | "RPC_FAILED"
  | "KEYSTORE_INVALID" // unreadable or malformed keystore file
  | "WRONG_PASSWORD"
  | "PASSWORD_MISSING"
  | "MISSING_ROLE" // the signer lacks the role the call needs
  | "BOUNDS_VIOLATION" // the steward would reject the update (mirror and/or checkUpdate)
  | "SIMULATION_REVERTED" // eth_call / estimateGas reverted
  | "FEE_ABOVE_CEILING" // base fee stayed above the configured ceiling for the whole wait
  | "GAS_ABOVE_LIMIT" // the transaction needs more gas than the configured ceiling
  | "SEND_FAILED" // the node refused the signed transaction
  | "TX_REVERTED" // mined with status 0
  | "NONCE_CONSUMED" // the nonce was used by a transaction not in the journal
  | "CONFIRMATION_TIMEOUT" // still unconfirmed at the end of the wait (the journal resumes it)
  | "JOURNAL_CONFLICT" // same update id, different transaction
  | "JOURNAL_INVALID"
  | "PROPOSAL_STATE"; // a governance proposal in a state that does not allow the step

const CODE: Record<ChainErrorReason, RiskkeeperErrorCode> = {
  INPUT_INVALID: "INPUT_INVALID",
  ARTIFACT_MISSING: "CONFIG_INVALID",
  CHAIN_MISMATCH: "CHAIN_MISMATCH",
  RPC_FAILED: "RPC_FAILED",
  KEYSTORE_INVALID: "INPUT_INVALID",
  WRONG_PASSWORD: "INPUT_INVALID",
  PASSWORD_MISSING: "INPUT_INVALID",
  MISSING_ROLE: "SUBMISSION_REFUSED",
  BOUNDS_VIOLATION: "BOUNDS_VIOLATION",
  SIMULATION_REVERTED: "SUBMISSION_REFUSED",
  FEE_ABOVE_CEILING: "SUBMISSION_REFUSED",
  GAS_ABOVE_LIMIT: "SUBMISSION_REFUSED",
  // A definite refusal (the node does not hold the transaction, its nonce is free): the update is
  // settled as refused so the market can propose afresh; retrying the same one would never send.
  SEND_FAILED: "SUBMISSION_REFUSED",
  TX_REVERTED: "SUBMISSION_REFUSED",
  NONCE_CONSUMED: "STATE_INVALID",
  CONFIRMATION_TIMEOUT: "RPC_FAILED",
  JOURNAL_CONFLICT: "STATE_INVALID",
  JOURNAL_INVALID: "STATE_INVALID",
  PROPOSAL_STATE: "SUBMISSION_REFUSED",
};

export interface ChainErrorOptions {
  input?: string;
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class ChainError extends RiskkeeperError {
  readonly reason: ChainErrorReason;
  constructor(reason: ChainErrorReason, message: string, options: ChainErrorOptions = {}) {
    super(CODE[reason], message, options);
    this.reason = reason;
  }
}

export function isChainError(error: unknown, reason?: ChainErrorReason): error is ChainError {
  return error instanceof ChainError && (reason === undefined || error.reason === reason);
}

// Node's socket errors: ethers' Node HTTP client passes them through without an ethers code.
const SOCKET_ERRORS = new Set(["ECONNRESET", "ECONNREFUSED", "ECONNABORTED", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN"]);

/**
 * True when a provider call failed between the keeper and the node (no answer, an HTTP error
 * status, a lost connection, a body that is not a JSON-RPC answer), false when the node answered
 * (a revert, a refusal). After a transport failure nothing is known about the call, so it is
 * never a verdict on it: the same call may succeed when it is tried again.
 */
export function isTransportFailure(error: unknown): boolean {
  if (error instanceof ChainError) return error.reason === "RPC_FAILED";
  if (isError(error, "SERVER_ERROR") || isError(error, "NETWORK_ERROR") || isError(error, "TIMEOUT") || isError(error, "CANCELLED") || isError(error, "BAD_DATA")) return true;
  if (isError(error, "UNSUPPORTED_OPERATION")) return error.operation === "bodyJson";
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && SOCKET_ERRORS.has(code);
}
