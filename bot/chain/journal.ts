// The submission journal: one record per update id, written before a signed transaction is
// broadcast and after every change of its state, so that a retry or a restart reconciles what was
// sent instead of sending again. The keeper may plug any store behind `SubmissionJournal`;
// `JsonFileJournal` is a small atomic JSON file (temp file + rename), `MemoryJournal` is for tests.
//
// A record holds only public data: addresses, calldata, fees, hashes and the signed raw
// transactions (public once broadcast; kept so a dropped one can be re-broadcast unchanged).
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { ChainError } from "./errors.ts";

export type SubmissionStatus =
  | "signed" // intent recorded: nonce and hash known, broadcast not yet acknowledged
  | "sent" // broadcast, not mined (or un-mined by a reorg)
  | "mined" // in a block, waiting for confirmations
  | "confirmed" // mined with status 1 and enough confirmations: counts
  | "reverted" // mined with status 0
  | "failed"; // never landed and never will (refused by the node, nonce used by another tx, abandoned)

export interface SubmissionAttempt {
  hash: string;
  /** Signed raw transaction (public once broadcast). */
  raw: string;
  maxFeePerGas: string;
  maxPriorityFeePerGas: string;
  /** Clock time of signing, ms. */
  at: number;
}

export interface MinedAt {
  hash: string;
  blockNumber: number;
  blockHash: string;
}

/** The transaction of a submission, before fees: what the journal records and a dry run reports. */
export interface SubmissionIntent {
  updateId: string;
  label?: string;
  chainId: string;
  from: string;
  to: string;
  data: string;
  value: string;
  nonce: number;
  gasLimit: string;
}

export interface SubmissionRecord extends SubmissionIntent {
  status: SubmissionStatus;
  /** Every signed version of the transaction (same nonce), oldest first. */
  attempts: SubmissionAttempt[];
  mined?: MinedAt;
  /** Blocks that held the transaction and were later reorganised away. */
  reorgs: Array<MinedAt & { noticedAt: number }>;
  error?: string;
  /** Earlier failed tries of this id (retryFailed), oldest first. */
  superseded?: Array<{ nonce: number; attempts: SubmissionAttempt[]; error: string }>;
  createdAt: number;
  updatedAt: number;
}

export interface SubmissionJournal {
  get(updateId: string): Promise<SubmissionRecord | undefined>;
  put(record: SubmissionRecord): Promise<void>;
}

/** In-memory journal (tests, dry runs). Records are copied in and out. */
export class MemoryJournal implements SubmissionJournal {
  readonly #records = new Map<string, SubmissionRecord>();
  async get(updateId: string): Promise<SubmissionRecord | undefined> {
    const r = this.#records.get(updateId);
    return r ? structuredClone(r) : undefined;
  }
  async put(record: SubmissionRecord): Promise<void> {
    this.#records.set(record.updateId, structuredClone(record));
  }
  all(): SubmissionRecord[] {
    return [...this.#records.values()].map((r) => structuredClone(r));
  }
}

interface JournalFile {
  version: 1;
  submissions: Record<string, SubmissionRecord>;
}

/**
 * A JSON file `{ version: 1, submissions: { [updateId]: record } }`, rewritten atomically on every
 * put (write to a temp file, then rename). Writes from one process are serialised; the file is
 * not meant to be shared by two live processes.
 */
export class JsonFileJournal implements SubmissionJournal {
  readonly file: string;
  #chain: Promise<unknown> = Promise.resolve();

  constructor(file: string) {
    this.file = path.resolve(file);
  }

  async #load(): Promise<JournalFile> {
    let text: string;
    try {
      text = await readFile(this.file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return { version: 1, submissions: {} };
      throw new ChainError("JOURNAL_INVALID", `cannot read the journal: ${(error as Error).message}`, { input: this.file, cause: error });
    }
    try {
      const doc = JSON.parse(text) as JournalFile;
      if (doc.version !== 1 || typeof doc.submissions !== "object" || doc.submissions === null) throw new Error("expected { version: 1, submissions: {...} }");
      return doc;
    } catch (error) {
      throw new ChainError("JOURNAL_INVALID", `corrupt journal: ${(error as Error).message}`, { input: this.file, cause: error });
    }
  }

  async get(updateId: string): Promise<SubmissionRecord | undefined> {
    await this.#chain.catch(() => undefined);
    return (await this.#load()).submissions[updateId];
  }

  async all(): Promise<SubmissionRecord[]> {
    await this.#chain.catch(() => undefined);
    return Object.values((await this.#load()).submissions);
  }

  put(record: SubmissionRecord): Promise<void> {
    const next = this.#chain.catch(() => undefined).then(async () => {
      const doc = await this.#load();
      doc.submissions[record.updateId] = record;
      await mkdir(path.dirname(this.file), { recursive: true });
      const temp = `${this.file}.${process.pid}.tmp`;
      await writeFile(temp, `${JSON.stringify(doc, null, 2)}\n`);
      await rename(temp, this.file);
    });
    this.#chain = next;
    return next;
  }
}
