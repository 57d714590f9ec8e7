// One error type for the whole keeper. Every error carries a stable code a program can check
// (`isRiskkeeperError(e, "DATA_BAD_VALUE")`) and, where the fault is in an input, names that input
// (a file and line, a config key, a feed address) so the operator knows what to fix.

export type RiskkeeperErrorCode =
  | "INPUT_INVALID" // a value passed by the caller is malformed or out of range
  | "DATA_EMPTY"
  | "DATA_MISSING_COLUMN"
  | "DATA_BAD_VALUE"
  | "DATA_TIME_ORDER"
  | "DATA_TOO_LARGE"
  | "MODEL_INPUT" // non-finite, too short, or otherwise unusable model input
  | "MODEL_FIT"
  | "POLICY_INVALID"
  | "CONFIG_INVALID"
  | "FEED_FAILED"
  | "RPC_FAILED"
  | "CHAIN_MISMATCH"
  | "STATE_INVALID"
  | "STATE_LOCKED"
  | "BOUNDS_VIOLATION"
  | "SUBMISSION_REFUSED"
  | "CLI_USAGE";

export interface RiskkeeperErrorOptions {
  /** What the error is about: a file:line, a config key, a parameter name, an address. */
  input?: string;
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class RiskkeeperError extends Error {
  override readonly name = "RiskkeeperError";
  readonly code: RiskkeeperErrorCode;
  readonly input: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: RiskkeeperErrorCode, message: string, options: RiskkeeperErrorOptions = {}) {
    super(options.input ? `${options.input}: ${message}` : message, { cause: options.cause });
    this.code = code;
    this.input = options.input;
    this.details = options.details;
  }
}

export function isRiskkeeperError(error: unknown, code?: RiskkeeperErrorCode): error is RiskkeeperError {
  return error instanceof RiskkeeperError && (code === undefined || error.code === code);
}

/** Throws INPUT_INVALID naming the argument unless `condition` holds (ethers' assertArgument habit). */
export function assertInput(condition: unknown, message: string, input: string, code: RiskkeeperErrorCode = "INPUT_INVALID"): asserts condition {
  if (!condition) throw new RiskkeeperError(code, message, { input });
}

/** Rejects NaN and ±Infinity so that no silent NaN travels through the models. */
export function assertFinite(value: number, input: string, code: RiskkeeperErrorCode = "MODEL_INPUT"): void {
  if (!Number.isFinite(value)) throw new RiskkeeperError(code, `expected a finite number, got ${value}`, { input });
}
