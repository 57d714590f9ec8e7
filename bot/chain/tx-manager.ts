// The transaction manager: one signer on one chain, every submission keyed by an update id.
//
// Guarantees (docs/chain.md):
//   - simulate before send: eth_call and estimateGas from the signer; a revert is decoded into the
//     contract's custom error and nothing is signed; a node that could not be asked (transport
//     failure) is RPC_FAILED, never taken for a revert, and nothing is signed either;
//   - fee ceiling: maxFeePerGas never exceeds `fees.maxFeePerGas`; while the next block's base fee
//     is above the ceiling the manager waits (injected clock) up to `maxFeeWaitMs`, then refuses;
//   - idempotency: before broadcasting, the nonce, the hash and the signed transaction are written
//     to the journal; a retry or a restart with the same update id reconciles the recorded
//     transaction (waits for it, re-broadcasts the same signed bytes if the node lost it) and never
//     signs a second transaction with another nonce;
//   - nonces: tracked locally, reconciled with getTransactionCount(pending) on every allocation;
//   - stuck transactions are replaced: same nonce, both fees bumped by >= 12.5%, still <= ceiling;
//   - a submission counts only after `confirmations` blocks, and its block is re-checked at the
//     end; a receipt that disappears (reorg) is recorded, the transaction re-checked and followed
//     again, never forgotten.
import { keccak256, type Interface, type Provider, type TransactionReceipt, type TransactionRequest } from "ethers";
import { ChainError, isTransportFailure } from "./errors.ts";
import type { SubmissionAttempt, SubmissionIntent, SubmissionJournal, SubmissionRecord } from "./journal.ts";
import { decodeRevertData, formatRevert, revertDataOf, type DecodedRevert } from "./revert.ts";
import { systemClock, type Clock } from "../sleep-clock.ts";

/** What signs: an ethers Wallet fits. Holds the key; the manager never sees it. */
export interface TxSigner {
  readonly address: string;
  signTransaction(tx: TransactionRequest): Promise<string>;
}

export { systemClock, type Clock };

/** Structured events, for a logger. They never carry key material. */
export interface ChainEvent {
  type:
    | "simulated" | "fee-wait" | "signed" | "sent" | "send-error" | "replaced" | "replace-capped" | "rebroadcast"
    | "mined" | "reorg" | "confirmed" | "reverted" | "resumed" | "already-done" | "dry-run" | "failed";
  updateId?: string;
  [key: string]: unknown;
}
export type ChainLogger = (event: ChainEvent) => void;

export interface FeePolicy {
  /** Ceiling: no transaction is signed with a higher maxFeePerGas. */
  maxFeePerGas: bigint;
  /** Priority fee (tip) asked for a first attempt. */
  maxPriorityFeePerGas: bigint;
}

export interface TxManagerOptions {
  provider: Provider;
  signer: TxSigner;
  /** Chain the manager may send on; checked against the provider before anything is sent. */
  chainId: bigint;
  journal: SubmissionJournal;
  fees: FeePolicy;
  /** Blocks (including the one holding the tx) before a submission counts. Default 2. */
  confirmations?: number;
  clock?: Clock;
  pollIntervalMs?: number; // default 2_000
  /** Longest wait for the base fee to fall under the ceiling. Default 10 min. */
  maxFeeWaitMs?: number;
  /** A sent transaction not mined after this long is replaced. Default 2 min. */
  stuckAfterMs?: number;
  /** Longest wait for mining and confirmations before CONFIRMATION_TIMEOUT (resumable). Default 30 min. */
  maxConfirmWaitMs?: number;
  /** Fee bump of a replacement, bps (>= 1250, i.e. 12.5%). */
  replacementBumpBps?: bigint;
  /** Gas limit headroom over estimateGas, bps. Default 2000 (20%). */
  gasHeadroomBps?: bigint;
  /**
   * Most gas one transaction may have (limit with headroom). Above it the submission is refused
   * before signing (SIMULATION_REVERTED is not it: the call works, it costs more than allowed).
   */
  maxGasLimit?: bigint;
  /** Interfaces used to decode custom errors of reverts. */
  errorInterfaces?: readonly Interface[];
  logger?: ChainLogger;
}

export interface TxRequest {
  /** Idempotency key: one transaction per update id, ever. */
  updateId: string;
  to: string;
  data: string;
  value?: bigint;
  /** Human label for logs and the journal ("updateParams ETH-USD"). */
  label?: string;
  /**
   * Send again when the journal records this id as "failed" (refused by the node, its nonce taken
   * by another transaction, or abandoned after a reorg). The old attempts are kept in the record;
   * their nonce is reused when nothing holds it, so at most one of them can land.
   */
  retryFailed?: boolean;
}

export interface DryRunResult extends SubmissionIntent {
  dryRun: true;
  baseFeePerGas: string;
  maxFeePerGas: string;
  maxPriorityFeePerGas: string;
  /** False when the base fee is above the ceiling now (a real run would wait). */
  feeWithinCeiling: boolean;
  /** The journal already has this update id (a real run would reconcile, not send). */
  alreadyInJournal: boolean;
  /** Status recorded in the journal, when it has the id. */
  journalStatus?: SubmissionRecord["status"];
}

export interface SubmitResult {
  dryRun: false;
  record: SubmissionRecord;
  receipt: TransactionReceipt;
  /** The journal already held the update id (a retry or a restart); nothing new was signed unless a replacement was due. */
  resumed: boolean;
}

type ResolvedOptions = Required<Omit<TxManagerOptions, "logger" | "errorInterfaces">> & { logger: ChainLogger; errorInterfaces: readonly Interface[] };

const TERMINAL_FAIL = new Set(["failed", "reverted"]);

function ceilDiv(a: bigint, b: bigint): bigint {
  return (a + b - 1n) / b;
}
/** An error in one line, for a message; ethers' shortMessage leaves out its request info (the RPC URL with its key). */
function said(error: unknown): string {
  return (error as { shortMessage?: string }).shortMessage ?? String((error as Error)?.message ?? error).split("\n")[0]!.slice(0, 300);
}
const maxBig = (a: bigint, b: bigint) => (a > b ? a : b);
const minBig = (a: bigint, b: bigint) => (a < b ? a : b);

export class TxManager {
  readonly address: string;
  readonly chainId: bigint;
  readonly #o: ResolvedOptions;
  #chainChecked = false;
  #nextNonce: number | undefined;
  readonly #inflight = new Set<number>();
  #lock: Promise<unknown> = Promise.resolve();

  constructor(options: TxManagerOptions) {
    if (options.fees.maxPriorityFeePerGas > options.fees.maxFeePerGas) {
      throw new ChainError("FEE_ABOVE_CEILING", "maxPriorityFeePerGas is above the maxFeePerGas ceiling", { input: "fees.maxPriorityFeePerGas" });
    }
    const bump = options.replacementBumpBps ?? 1250n;
    if (bump < 1250n) throw new ChainError("FEE_ABOVE_CEILING", "a replacement needs a fee bump of at least 1250 bps (12.5%)", { input: "replacementBumpBps" });
    this.address = options.signer.address;
    this.chainId = options.chainId;
    this.#o = {
      confirmations: 2,
      clock: systemClock,
      pollIntervalMs: 2_000,
      maxFeeWaitMs: 600_000,
      stuckAfterMs: 120_000,
      maxConfirmWaitMs: 1_800_000,
      gasHeadroomBps: 2_000n,
      errorInterfaces: [],
      logger: () => undefined,
      ...options,
      replacementBumpBps: bump,
    } as ResolvedOptions;
  }

  get journal(): SubmissionJournal {
    return this.#o.journal;
  }

  #log(event: ChainEvent): void {
    try {
      this.#o.logger(event);
    } catch {
      // a failing logger never stops a submission
    }
  }

  /** Refuses to work on a provider that serves another chain than the configured one (checked once per manager). */
  async assertChain(): Promise<void> {
    if (this.#chainChecked) return;
    this.#refuseOtherChain(await this.#readChainId(() => this.#o.provider.getNetwork().then((n) => n.chainId)));
    this.#chainChecked = true;
  }

  /**
   * Asks the node itself (eth_chainId) before a signature: the provider's network is fixed when it
   * is opened (connectRpc's is static), and a node behind a load balancer or restarted under a
   * live manager can serve another chain by now.
   */
  async #assertChainBeforeSigning(consequence = "nothing sent"): Promise<void> {
    const p = this.#o.provider;
    const send = (p as Partial<{ send(method: string, params: unknown[]): Promise<unknown> }>).send?.bind(p);
    this.#refuseOtherChain(await this.#readChainId(async () => (send ? BigInt(String(await send("eth_chainId", []))) : (await p.getNetwork()).chainId)), consequence);
  }

  async #readChainId(read: () => Promise<bigint>): Promise<bigint> {
    try {
      return await read();
    } catch (error) {
      throw new ChainError("RPC_FAILED", `cannot read the chain id: ${said(error)}`, { cause: error });
    }
  }

  #refuseOtherChain(actual: bigint, consequence = "nothing sent"): void {
    if (actual !== this.chainId) {
      throw new ChainError("CHAIN_MISMATCH", `the RPC serves chain ${actual}, the deployment is on chain ${this.chainId}; ${consequence}`, {
        details: { expected: this.chainId.toString(), actual: actual.toString() },
      });
    }
  }

  /** Decodes a revert with the configured interfaces. */
  decodeRevert(error: unknown): DecodedRevert | undefined {
    const data = revertDataOf(error);
    return data ? decodeRevertData(data, this.#o.errorInterfaces) : undefined;
  }

  /**
   * eth_call + estimateGas from the signer; returns the gas limit with headroom. Throws
   * SIMULATION_REVERTED when the node judged the call (a revert), RPC_FAILED when it could not be
   * asked (transport failure: nothing is known, and a retry simulates again).
   */
  async simulate(req: TxRequest): Promise<bigint> {
    const tx = { from: this.address, to: req.to, data: req.data, value: req.value ?? 0n };
    let gas: bigint;
    try {
      await this.#o.provider.call(tx);
      gas = await this.#o.provider.estimateGas(tx);
    } catch (error) {
      // Already coded by the provider (connectRpc's transport failures): passed on as they are.
      if (error instanceof ChainError) throw error;
      const label = req.label ?? req.updateId;
      if (isTransportFailure(error)) {
        throw new ChainError("RPC_FAILED", `simulation of ${label} could not reach the node: ${said(error)}; nothing sent, a retry simulates again`, {
          input: label,
          details: { from: this.address, to: req.to },
          cause: error,
        });
      }
      const decoded = this.decodeRevert(error);
      const what = decoded ? formatRevert(decoded) : said(error);
      throw new ChainError("SIMULATION_REVERTED", `simulation of ${label} reverts: ${what}; nothing sent`, {
        input: label,
        details: { revert: decoded, from: this.address, to: req.to },
        cause: error,
      });
    }
    this.#log({ type: "simulated", updateId: req.updateId, gas: gas.toString() });
    const limit = gas + (gas * this.#o.gasHeadroomBps) / 10_000n;
    if (this.#o.maxGasLimit !== undefined && limit > this.#o.maxGasLimit) {
      throw new ChainError("GAS_ABOVE_LIMIT", `${req.label ?? req.updateId} needs a gas limit of ${limit} (estimate ${gas} + headroom), above the ceiling ${this.#o.maxGasLimit}; nothing sent`, {
        input: req.label ?? req.updateId,
        details: { gas: gas.toString(), limit: limit.toString(), ceiling: this.#o.maxGasLimit.toString() },
      });
    }
    return limit;
  }

  /** Base fee of the next block (the pending block's, else projected from the latest). */
  async nextBaseFee(): Promise<bigint> {
    const p = this.#o.provider;
    const send = (p as Partial<{ send(method: string, params: unknown[]): Promise<unknown> }>).send?.bind(p);
    if (send) {
      // Raw: some nodes (EDR) return the pending block with a null number, which ethers refuses.
      try {
        const pending = (await send("eth_getBlockByNumber", ["pending", false])) as { baseFeePerGas?: string } | null;
        if (pending?.baseFeePerGas) return BigInt(pending.baseFeePerGas);
      } catch {
        // no pending block: try the fee history
      }
      try {
        const history = (await send("eth_feeHistory", ["0x1", "latest", []])) as { baseFeePerGas?: string[] } | null;
        const next = history?.baseFeePerGas?.at(-1);
        if (next) return BigInt(next);
      } catch {
        // project from the latest block
      }
    }
    const latest = await p.getBlock("latest");
    if (latest?.baseFeePerGas == null) throw new ChainError("RPC_FAILED", "the chain reports no base fee (pre-London chains are not supported)");
    const target = latest.gasLimit / 2n;
    const base = latest.baseFeePerGas;
    if (target === 0n || latest.gasUsed === target) return base;
    if (latest.gasUsed > target) return base + maxBig(1n, (base * (latest.gasUsed - target)) / target / 8n);
    return base - (base * (target - latest.gasUsed)) / target / 8n;
  }

  /** Fees for a first attempt, given the next base fee; undefined when the base fee is at or above the ceiling. */
  #feesFor(baseFee: bigint): { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint } | undefined {
    const { maxFeePerGas: ceiling, maxPriorityFeePerGas: tip } = this.#o.fees;
    if (baseFee >= ceiling) return undefined;
    const maxFee = minBig(ceiling, 2n * baseFee + tip);
    return { maxFeePerGas: maxFee, maxPriorityFeePerGas: minBig(tip, maxFee - baseFee) };
  }

  /** Waits (on the injected clock) until the base fee is under the ceiling, or refuses. */
  async #waitForFees(req: TxRequest): Promise<{ fees: { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint }; waited: boolean }> {
    const { clock } = this.#o;
    const start = clock.now();
    for (let polls = 0; ; polls++) {
      const base = await this.nextBaseFee();
      const fees = this.#feesFor(base);
      if (fees) return { fees, waited: polls > 0 };
      const waited = clock.now() - start;
      if (waited >= this.#o.maxFeeWaitMs) {
        throw new ChainError("FEE_ABOVE_CEILING", `base fee ${base} wei stayed at or above the ceiling ${this.#o.fees.maxFeePerGas} wei for ${waited} ms; nothing sent`, {
          input: req.label ?? req.updateId,
          details: { baseFeePerGas: base.toString(), ceiling: this.#o.fees.maxFeePerGas.toString(), waitedMs: waited },
        });
      }
      this.#log({ type: "fee-wait", updateId: req.updateId, baseFeePerGas: base.toString(), ceiling: this.#o.fees.maxFeePerGas.toString(), waitedMs: waited });
      await clock.sleep(this.#o.pollIntervalMs);
    }
  }

  async #withLock<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#lock.catch(() => undefined).then(fn);
    this.#lock = run;
    return run;
  }

  #intent(req: TxRequest, nonce: number, gasLimit: bigint): SubmissionIntent {
    return {
      updateId: req.updateId,
      ...(req.label ? { label: req.label } : {}),
      chainId: this.chainId.toString(),
      from: this.address,
      to: req.to,
      data: req.data,
      value: (req.value ?? 0n).toString(),
      nonce,
      gasLimit: gasLimit.toString(),
    };
  }

  /** Next nonce: the chain's pending count, or past the manager's own in-flight transactions. */
  async #allocateNonce(): Promise<number> {
    const pending = await this.#o.provider.getTransactionCount(this.address, "pending");
    const local = this.#inflight.size > 0 && this.#nextNonce !== undefined ? this.#nextNonce : 0;
    const nonce = Math.max(pending, local);
    this.#nextNonce = nonce + 1;
    return nonce;
  }

  async #sign(record: SubmissionRecord, fees: { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint }): Promise<SubmissionAttempt> {
    const raw = await this.#o.signer.signTransaction({
      type: 2,
      chainId: this.chainId,
      nonce: record.nonce,
      to: record.to,
      data: record.data,
      value: BigInt(record.value),
      gasLimit: BigInt(record.gasLimit),
      maxFeePerGas: fees.maxFeePerGas,
      maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
    });
    return {
      hash: keccak256(raw),
      raw,
      maxFeePerGas: fees.maxFeePerGas.toString(),
      maxPriorityFeePerGas: fees.maxPriorityFeePerGas.toString(),
      at: this.#o.clock.now(),
    };
  }

  async #put(record: SubmissionRecord): Promise<void> {
    record.updatedAt = this.#o.clock.now();
    await this.#o.journal.put(record);
  }

  /**
   * Broadcasts a signed transaction; "already known" counts as sent. Returns an error text when it
   * failed, with `transport` true when the outcome is unknown (timeout, connection lost, HTTP 5xx):
   * the node may have it, so such a transaction is followed, never marked failed.
   */
  async #broadcast(raw: string): Promise<{ error: string; transport: boolean } | undefined> {
    try {
      await this.#o.provider.broadcastTransaction(raw);
      return undefined;
    } catch (error) {
      const text = `${(error as Error).message ?? error}`;
      if (/already known|known transaction|already imported|already in (the )?mempool/i.test(text)) return undefined;
      const transport = isTransportFailure(error) || /ECONNRESET|ECONNREFUSED|socket hang up|fetch failed|timeout/i.test(text);
      // A transport failure is told in ethers' short message: its full one carries the RPC URL.
      return { error: transport ? said(error) : text.split("\n")[0]!.slice(0, 300), transport };
    }
  }

  /**
   * What a submission would do, without signing or sending: simulation, gas, nonce, fees now.
   */
  async dryRun(req: TxRequest): Promise<DryRunResult> {
    await this.assertChain();
    const existing = await this.#o.journal.get(req.updateId);
    const reconcile = existing !== undefined && !(existing.status === "failed" && req.retryFailed);
    // A recorded transaction is reconciled, not simulated again (after landing it would not pass).
    const gasLimit = reconcile ? BigInt(existing.gasLimit) : await this.simulate(req);
    const base = await this.nextBaseFee();
    const fees = this.#feesFor(base);
    const nonce = existing?.nonce ?? (await this.#o.provider.getTransactionCount(this.address, "pending"));
    const result: DryRunResult = {
      dryRun: true,
      ...this.#intent(req, nonce, gasLimit),
      baseFeePerGas: base.toString(),
      maxFeePerGas: (fees?.maxFeePerGas ?? this.#o.fees.maxFeePerGas).toString(),
      maxPriorityFeePerGas: (fees?.maxPriorityFeePerGas ?? 0n).toString(),
      feeWithinCeiling: fees !== undefined,
      alreadyInJournal: existing !== undefined,
      ...(existing ? { journalStatus: existing.status } : {}),
    };
    this.#log({ type: "dry-run", updateId: req.updateId, to: req.to, nonce, gasLimit: result.gasLimit, maxFeePerGas: result.maxFeePerGas });
    return result;
  }

  /**
   * Sends `req` once: simulate, wait for fees under the ceiling, record the signed transaction in
   * the journal, broadcast, follow it to `confirmations`. With an update id already in the journal,
   * reconciles the recorded transaction instead.
   *
   * @example
   * const { receipt } = await manager.submit({ updateId: "ETH-USD:0xabc…", to: steward, data });
   */
  async submit(req: TxRequest): Promise<SubmitResult> {
    await this.assertChain();
    const existing = await this.#o.journal.get(req.updateId);
    if (existing) {
      if (existing.to.toLowerCase() !== req.to.toLowerCase() || existing.data !== req.data || existing.value !== (req.value ?? 0n).toString()) {
        throw new ChainError("JOURNAL_CONFLICT", `update id ${req.updateId} is in the journal with another transaction; nothing sent`, { input: req.updateId });
      }
      if (existing.from.toLowerCase() !== this.address.toLowerCase() || existing.chainId !== this.chainId.toString()) {
        throw new ChainError("JOURNAL_CONFLICT", `update id ${req.updateId} was sent by ${existing.from} on chain ${existing.chainId}; nothing sent`, { input: req.updateId });
      }
      if (!(existing.status === "failed" && req.retryFailed)) return this.resume(existing);
    }
    let gasLimit = await this.simulate(req);
    const { fees, waited } = await this.#waitForFees(req);
    // The chain moved while the fee was too high: judge the call again on the state it meets now.
    if (waited) gasLimit = await this.simulate(req);
    const { record, fresh } = await this.#withLock(async () => {
      // Another call may have recorded the same id while this one waited.
      const again = await this.#o.journal.get(req.updateId);
      const retrying = again?.status === "failed" && req.retryFailed === true;
      if (again && !retrying) return { record: again, fresh: false };
      // Before the nonce too: a nonce taken and then not signed would leave a gap.
      await this.#assertChainBeforeSigning();
      let nonce: number;
      if (retrying && (await this.#o.provider.getTransactionCount(this.address, "pending")) === again.nonce) {
        nonce = again.nonce; // nothing holds the old nonce: reuse it, so the old attempts can never also land
        this.#nextNonce = Math.max(this.#nextNonce ?? 0, nonce + 1);
      } else {
        nonce = await this.#allocateNonce();
      }
      const now = this.#o.clock.now();
      const rec: SubmissionRecord = {
        ...this.#intent(req, nonce, gasLimit),
        status: "signed",
        attempts: [],
        reorgs: retrying ? again.reorgs : [],
        ...(retrying ? { superseded: [...(again.superseded ?? []), { nonce: again.nonce, attempts: again.attempts, error: again.error ?? "failed" }] } : {}),
        createdAt: retrying ? again.createdAt : now,
        updatedAt: now,
      };
      const attempt = await this.#sign(rec, fees);
      rec.attempts.push(attempt);
      this.#inflight.add(nonce);
      await this.#put(rec); // intent first: a crash from here on is reconciled, never re-sent
      this.#log({ type: "signed", updateId: req.updateId, nonce, hash: attempt.hash, maxFeePerGas: attempt.maxFeePerGas });
      const refused = await this.#broadcast(attempt.raw);
      if (refused) {
        this.#log({ type: "send-error", updateId: req.updateId, error: refused.error, transport: refused.transport });
        // Failed only on a definite refusal of a transaction the node does not hold. An unknown
        // outcome, or a nonce taken meanwhile, is left to follow (it re-broadcasts or concludes).
        const nonceTaken = /nonce too low|nonce has already been used|nonce.*expired/i.test(refused.error);
        const held = await this.#o.provider.getTransaction(attempt.hash).then((t) => t !== null, () => true);
        if (!refused.transport && !nonceTaken && !held) {
          rec.status = "failed";
          rec.error = refused.error;
          this.#inflight.delete(nonce);
          this.#nextNonce = undefined;
          await this.#put(rec);
          throw new ChainError("SEND_FAILED", `the node refused ${req.label ?? req.updateId}: ${refused.error}`, { input: req.label ?? req.updateId });
        }
      }
      rec.status = "sent";
      await this.#put(rec);
      this.#log({ type: "sent", updateId: req.updateId, nonce, hash: attempt.hash });
      return { record: rec, fresh: true };
    });
    return fresh ? this.#follow(record, false) : this.resume(record);
  }

  /** Reconciles a journal record (after a retry or a restart) and follows it to the end. */
  async resume(record: SubmissionRecord): Promise<SubmitResult> {
    await this.assertChain();
    if (record.status === "confirmed") {
      this.#log({ type: "already-done", updateId: record.updateId, hash: record.mined?.hash });
      // Still re-checked: a reorg after confirmation puts it back to following.
      return this.#follow(record, true);
    }
    if (TERMINAL_FAIL.has(record.status)) {
      throw new ChainError(record.status === "reverted" ? "TX_REVERTED" : "SEND_FAILED", `update ${record.updateId} is recorded as ${record.status}${record.error ? `: ${record.error}` : ""}; not sent again`, {
        input: record.updateId,
        details: { record },
      });
    }
    this.#log({ type: "resumed", updateId: record.updateId, status: record.status, nonce: record.nonce });
    this.#inflight.add(record.nonce);
    return this.#follow(record, true);
  }

  async #receiptOf(record: SubmissionRecord): Promise<TransactionReceipt | undefined> {
    for (const a of [...record.attempts].reverse()) {
      const r = await this.#o.provider.getTransactionReceipt(a.hash);
      if (r && r.blockNumber != null) return r;
    }
    return undefined;
  }

  async #knownToNode(record: SubmissionRecord): Promise<boolean> {
    for (const a of record.attempts) {
      if (await this.#o.provider.getTransaction(a.hash)) return true;
    }
    return false;
  }

  /**
   * A read while following a journaled transaction. A failure leaves the record as it stands (a
   * retry with the same update id resumes it) and is RPC_FAILED naming the read; the provider's
   * own error stays in `cause` (its full message can carry the RPC URL with its key).
   */
  async #followRead<T>(record: SubmissionRecord, what: string, read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (error) {
      throw this.#followFailure(record, what, error);
    }
  }

  #followFailure(record: SubmissionRecord, what: string, error: unknown): ChainError {
    const label = record.label ?? record.updateId;
    return new ChainError("RPC_FAILED", `${what} failed while following ${label}: ${said(error)}; the transaction is in the journal (${record.status}) and a retry with the same update id resumes it`, {
      input: label,
      details: { read: what, status: record.status, nonce: record.nonce, hashes: record.attempts.map((a) => a.hash) },
      cause: error,
    });
  }

  async #fail(record: SubmissionRecord, reason: "NONCE_CONSUMED" | "SIMULATION_REVERTED" | "TX_REVERTED", message: string, status: "failed" | "reverted" = "failed"): Promise<never> {
    record.status = status;
    record.error = message;
    this.#inflight.delete(record.nonce);
    this.#nextNonce = undefined;
    await this.#put(record);
    this.#log({ type: status === "reverted" ? "reverted" : "failed", updateId: record.updateId, error: message });
    throw new ChainError(reason, message, { input: record.label ?? record.updateId, details: { nonce: record.nonce, hashes: record.attempts.map((a) => a.hash) } });
  }

  /** Replacement fees: both fees bumped by the configured bps (rounded up), under the ceiling; undefined if impossible. */
  async #replacementFees(last: SubmissionAttempt): Promise<{ maxFeePerGas: bigint; maxPriorityFeePerGas: bigint } | undefined> {
    const bump = 10_000n + this.#o.replacementBumpBps;
    const minTip = ceilDiv(BigInt(last.maxPriorityFeePerGas) * bump, 10_000n);
    const minMax = ceilDiv(BigInt(last.maxFeePerGas) * bump, 10_000n);
    const ceiling = this.#o.fees.maxFeePerGas;
    const base = await this.nextBaseFee();
    const tip = maxBig(minTip, this.#o.fees.maxPriorityFeePerGas);
    const maxFee = minBig(ceiling, maxBig(minMax, 2n * base + tip));
    if (maxFee < minMax || tip > maxFee) return undefined;
    return { maxFeePerGas: maxFee, maxPriorityFeePerGas: tip };
  }

  async #follow(record: SubmissionRecord, resumed: boolean): Promise<SubmitResult> {
    const { clock, provider } = this.#o;
    const start = clock.now();
    // A resumed record gets a full stuck interval from now before any replacement.
    let lastSendAt = resumed ? start : record.attempts.at(-1)?.at ?? start;
    for (;;) {
      // Nonce first, then receipts: a nonce used with no receipt of ours is then really someone else's.
      const latestNonce = await this.#followRead(record, "reading the nonce", () => provider.getTransactionCount(this.address, "latest"));
      const receipt = await this.#followRead(record, "reading the receipt", () => this.#receiptOf(record));
      if (receipt) {
        const mined = { hash: receipt.hash, blockNumber: receipt.blockNumber, blockHash: receipt.blockHash };
        if (record.mined && (record.mined.blockHash !== mined.blockHash || record.mined.hash !== mined.hash)) {
          record.reorgs.push({ ...record.mined, noticedAt: clock.now() });
          this.#log({ type: "reorg", updateId: record.updateId, was: record.mined, now: mined });
        }
        if (!record.mined || record.mined.blockHash !== mined.blockHash || record.mined.hash !== mined.hash || record.status === "sent" || record.status === "signed") {
          record.mined = mined;
          if (receipt.status === 0) {
            return this.#fail(record, "TX_REVERTED", `${record.label ?? record.updateId} reverted on chain in block ${receipt.blockNumber} (${receipt.hash})`, "reverted");
          }
          record.status = "mined";
          await this.#put(record);
          this.#log({ type: "mined", updateId: record.updateId, hash: receipt.hash, blockNumber: receipt.blockNumber });
        }
        const head = await this.#followRead(record, "reading the head block", () => provider.getBlockNumber());
        if (head - receipt.blockNumber + 1 >= this.#o.confirmations) {
          const block = await this.#followRead(record, `reading block ${receipt.blockNumber}`, () => provider.getBlock(receipt.blockNumber));
          if (block?.hash === receipt.blockHash) {
            if (record.status !== "confirmed") {
              record.status = "confirmed";
              this.#inflight.delete(record.nonce);
              await this.#put(record);
              this.#log({ type: "confirmed", updateId: record.updateId, hash: receipt.hash, blockNumber: receipt.blockNumber, confirmations: head - receipt.blockNumber + 1 });
            }
            return { dryRun: false, record, receipt, resumed };
          }
        }
      } else {
        if (record.mined) {
          // Its block is gone: remember it, and follow the transaction again.
          record.reorgs.push({ ...record.mined, noticedAt: clock.now() });
          this.#log({ type: "reorg", updateId: record.updateId, was: record.mined });
          delete record.mined;
          record.status = "sent";
          this.#inflight.add(record.nonce);
          await this.#put(record);
        }
        if (latestNonce > record.nonce) {
          // Receipts can lag the nonce by a poll; look once more before concluding.
          const late = await this.#followRead(record, "reading the receipt", () => this.#receiptOf(record));
          if (!late) {
            return this.#fail(record, "NONCE_CONSUMED", `nonce ${record.nonce} of ${this.address} was used by a transaction not in the journal; ${record.label ?? record.updateId} will never land`);
          }
          continue;
        }
        if (!(await this.#followRead(record, "looking the transaction up", () => this.#knownToNode(record)))) {
          // Lost by the node (dropped, or reorganised out of the mempool): re-check it still
          // passes, then re-broadcast the same signed bytes (same nonce: it lands at most once).
          try {
            await provider.call({ from: this.address, to: record.to, data: record.data, value: BigInt(record.value) });
          } catch (error) {
            // Only the node's verdict retires the record; a call that did not reach it says nothing.
            if (isTransportFailure(error)) throw this.#followFailure(record, "re-simulating the lost transaction", error);
            const decoded = this.decodeRevert(error);
            return this.#fail(record, "SIMULATION_REVERTED", `${record.label ?? record.updateId} no longer passes simulation: ${decoded ? formatRevert(decoded) : said(error)}; not re-sent`);
          }
          const last = record.attempts.at(-1)!;
          const refused = await this.#broadcast(last.raw);
          this.#log({ type: "rebroadcast", updateId: record.updateId, hash: last.hash, ...(refused ? { error: refused.error } : {}) });
          if (record.status === "signed" && !refused) {
            record.status = "sent";
            await this.#put(record);
          }
          lastSendAt = clock.now();
        } else if (clock.now() - lastSendAt >= this.#o.stuckAfterMs) {
          const last = record.attempts.at(-1)!;
          const fees = await this.#followRead(record, "reading the base fee", () => this.#replacementFees(last));
          if (!fees) {
            this.#log({ type: "replace-capped", updateId: record.updateId, hash: last.hash, ceiling: this.#o.fees.maxFeePerGas.toString() });
          } else {
            await this.#assertChainBeforeSigning("no replacement signed; the sent transaction stays in the journal");
            const attempt = await this.#sign(record, fees);
            record.attempts.push(attempt);
            await this.#put(record); // recorded before it is broadcast, like the first
            const refused = await this.#broadcast(attempt.raw);
            this.#log({ type: "replaced", updateId: record.updateId, nonce: record.nonce, replaces: last.hash, hash: attempt.hash, maxFeePerGas: attempt.maxFeePerGas, maxPriorityFeePerGas: attempt.maxPriorityFeePerGas, ...(refused ? { error: refused.error } : {}) });
          }
          lastSendAt = clock.now();
        }
      }
      if (clock.now() - start >= this.#o.maxConfirmWaitMs) {
        throw new ChainError("CONFIRMATION_TIMEOUT", `${record.label ?? record.updateId} not confirmed after ${clock.now() - start} ms (status ${record.status}); the journal resumes it`, {
          input: record.label ?? record.updateId,
          details: { nonce: record.nonce, hashes: record.attempts.map((a) => a.hash) },
        });
      }
      await clock.sleep(this.#o.pollIntervalMs);
    }
  }
}
