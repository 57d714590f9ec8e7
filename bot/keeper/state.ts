// The state store: every proposed update's life, on lowdb, in one JSON file.
//
//   observed → calibrated → bounded → backtested → fork-validated → submitted → confirmed
//        └──────────┴───────────┴──────────┴────────────┴──────────────┴──→ rejected (code, message)
//
// A record only moves forward, one stage at a time, or to `rejected` from any non-terminal stage;
// anything else is STATE_INVALID. Each transition is written (atomically and durably: temp file,
// fsync, rename, folder fsync) before the call returns, so the caller writes a stage BEFORE doing
// its side effect; if the write fails the in-memory state is rolled back and the old file stays.
// A record is keyed for idempotency by market + observation hash: a restarted keeper that sees the
// same observation resumes the record instead of starting a second one. Terminal records beyond
// the last N per market are compacted into counters, so the file stays bounded. One keeper per file
// (lock.ts). The file carries schemaVersion; older files are migrated (a backup is kept), newer
// ones refused.
import { copyFile, readFile } from "node:fs/promises";
import path from "node:path";
import { Low, type Adapter } from "lowdb";
import { RiskkeeperError } from "../errors.ts";
import { writeFileAtomic } from "./atomic-file.ts";
import type { Clock } from "./clock.ts";
import { verifyEvidence } from "./evidence.ts";
import { acquireStateLock, readLockHolder, type LockHolder, type StateLock } from "./lock.ts";

export const UPDATE_STAGES = ["observed", "calibrated", "bounded", "backtested", "fork-validated", "submitted", "confirmed"] as const;
export type UpdateStage = (typeof UPDATE_STAGES)[number];
export type UpdateState = UpdateStage | "rejected";
export const UPDATE_STATES: readonly UpdateState[] = [...UPDATE_STAGES, "rejected"];
export const TERMINAL_STATES: readonly UpdateState[] = ["confirmed", "rejected"];

export const STATE_SCHEMA_VERSION = 2;

export type JsonValue = null | boolean | number | string | bigint | JsonValue[] | { [key: string]: JsonValue };

export interface Transition {
  state: UpdateState;
  /** ms since epoch, from the keeper's clock. */
  at: number;
  note?: string;
}

export interface Rejection {
  /** Short stable reason code, counted in metrics (e.g. "backtest-coverage", "fork-bad-debt", "bounds"). */
  code: string;
  message: string;
  /** The stage the record was in when it was rejected. */
  stage: UpdateStage;
  at: number;
}

export interface UpdateRecord {
  updateId: string;
  market: string;
  /** market + ":" + observation hash. */
  idempotencyKey: string;
  observationHash: string;
  state: UpdateState;
  createdAt: number;
  updatedAt: number;
  history: Transition[];
  /** Evidence added by each stage, under the stage's name. */
  evidence: Partial<Record<UpdateStage, JsonValue>>;
  /** The evidence bundle's hash (evidence.ts); required before `submitted`. */
  evidenceHash?: string;
  rejection?: Rejection;
}

export interface MarketCounters {
  created: number;
  confirmed: number;
  rejected: Record<string, number>;
  /** Terminal records dropped by compaction (still counted above). */
  compacted: number;
  lastRun?: { at: number; ok: boolean; error?: string };
  lastSuccessAt?: number;
  /**
   * The managed parameters as this keeper last read or set them on chain (value and update time,
   * seconds). A later read that differs is another writer's change, also across a restart.
   */
  lastSeenParams?: Record<string, { value: number; updatedAt: number }>;
}

/** A submission journal record (the chain tx manager's): any JSON object with an updateId. */
export interface JournalRecord {
  updateId: string;
  [key: string]: unknown;
}

/**
 * A journal over the state file, structurally a bot/chain `SubmissionJournal` when typed with its
 * record: `store.journalFor<SubmissionRecord>()`.
 */
export interface SubmissionJournalView<R extends { updateId: string } = JournalRecord> {
  get(updateId: string): Promise<R | undefined>;
  put(record: R): Promise<void>;
}

export interface StateData {
  schemaVersion: number;
  nextSeq: number;
  updates: Record<string, UpdateRecord>;
  journal: Record<string, JournalRecord>;
  markets: Record<string, MarketCounters>;
}

export interface StateStoreOptions {
  clock: Clock;
  /** Terminal records kept per market; older ones are compacted into counters. Default 50. */
  keepTerminalPerMarket?: number;
  /** Where evidence bundles live. Default `<state file's folder>/evidence` (evidence.ts). */
  evidenceDir?: string;
  /** Replaces the atomic writer (tests inject failures). */
  writeFile?: (file: string, text: string) => Promise<void>;
}

// bigint survives the file as {"$bigint":"123"} (journal records carry nonces, gas, wei amounts).
function replacer(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? { $bigint: value.toString(10) } : value;
}
function reviver(_key: string, value: unknown): unknown {
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    const keys = Object.keys(value);
    const tagged = (value as { $bigint?: unknown }).$bigint;
    if (keys.length === 1 && typeof tagged === "string" && /^-?\d+$/.test(tagged)) return BigInt(tagged);
  }
  return value;
}

function cloneData(data: StateData): StateData {
  return structuredClone(data);
}

/** lowdb adapter: JSON with bigint tagging, durable atomic writes. */
class StateFileAdapter implements Adapter<StateData> {
  readonly file: string;
  readonly #write: (file: string, text: string) => Promise<void>;
  constructor(file: string, write: (file: string, text: string) => Promise<void>) {
    this.file = file;
    this.#write = write;
  }
  async read(): Promise<StateData | null> {
    let text: string;
    try {
      text = await readFile(this.file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw new RiskkeeperError("STATE_INVALID", `cannot read: ${(error as Error).message}`, { input: this.file, cause: error });
    }
    return parseStateText(text, this.file);
  }
  async write(data: StateData): Promise<void> {
    await this.#write(this.file, `${JSON.stringify(data, replacer, 1)}\n`);
  }
}

export function emptyState(): StateData {
  return { schemaVersion: STATE_SCHEMA_VERSION, nextSeq: 1, updates: {}, journal: {}, markets: {} };
}

function parseStateText(text: string, file: string): StateData {
  let doc: unknown;
  try {
    doc = JSON.parse(text, reviver);
  } catch (error) {
    throw new RiskkeeperError("STATE_INVALID", `not valid JSON: ${(error as Error).message}`, { input: file, cause: error });
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) throw new RiskkeeperError("STATE_INVALID", "expected a JSON object", { input: file });
  return doc as StateData;
}

// ---- migrations --------------------------------------------------------------------------------

/** v1 (the first layout): records in an array, state under `status`, rejection a bare string. */
interface StateDataV1 {
  schemaVersion: 1;
  records: Array<{ id: string; market: string; key: string; status: UpdateState; createdAt: number; updatedAt: number; reason?: string; evidenceHash?: string }>;
}

const MIGRATIONS: Record<number, (doc: any) => any> = {
  1: (v1: StateDataV1): StateData => {
    const out = emptyState();
    out.nextSeq = v1.records.length + 1;
    for (const r of v1.records) {
      const stage = (r.status === "rejected" ? "observed" : r.status) as UpdateStage;
      out.updates[r.id] = {
        updateId: r.id,
        market: r.market,
        idempotencyKey: r.key,
        observationHash: r.key.slice(r.market.length + 1),
        state: r.status,
        createdAt: r.createdAt,
        updatedAt: r.updatedAt,
        history: [{ state: r.status, at: r.updatedAt, note: "migrated from schemaVersion 1 (earlier history not kept)" }],
        evidence: {},
        ...(r.evidenceHash ? { evidenceHash: r.evidenceHash } : {}),
        ...(r.status === "rejected" ? { rejection: { code: "legacy", message: r.reason ?? "(no reason recorded)", stage, at: r.updatedAt } } : {}),
      };
      const c = (out.markets[r.market] ??= { created: 0, confirmed: 0, rejected: {}, compacted: 0 });
      c.created++;
      if (r.status === "confirmed") c.confirmed++;
      if (r.status === "rejected") c.rejected.legacy = (c.rejected.legacy ?? 0) + 1;
    }
    return out;
  },
};

/**
 * Brings a parsed state document to the current schema. Returns it unchanged when current;
 * throws STATE_INVALID for a missing version or one newer than this keeper.
 */
export function migrateState(doc: unknown, file: string): { data: StateData; migratedFrom?: number } {
  const version = (doc as { schemaVersion?: unknown }).schemaVersion;
  if (!Number.isSafeInteger(version) || (version as number) < 1) {
    throw new RiskkeeperError("STATE_INVALID", `schemaVersion missing or invalid (${JSON.stringify(version)}): not a riskkeeper state file`, { input: file });
  }
  if ((version as number) > STATE_SCHEMA_VERSION) {
    throw new RiskkeeperError(
      "STATE_INVALID",
      `schemaVersion ${version} is newer than this keeper understands (${STATE_SCHEMA_VERSION}); run a newer riskkeeper, or restore a backup`,
      { input: file, details: { fileVersion: version, supported: STATE_SCHEMA_VERSION } },
    );
  }
  let data = doc as any;
  for (let v = version as number; v < STATE_SCHEMA_VERSION; v++) {
    const step = MIGRATIONS[v];
    if (!step) throw new RiskkeeperError("STATE_INVALID", `no migration from schemaVersion ${v}`, { input: file });
    data = step(data);
  }
  checkShape(data, file);
  return version === STATE_SCHEMA_VERSION ? { data } : { data, migratedFrom: version as number };
}

function checkShape(d: StateData, file: string): void {
  const bad = (key: string, message: string): never => { throw new RiskkeeperError("STATE_INVALID", message, { input: `${file}: ${key}` }); };
  if (!Number.isSafeInteger(d.nextSeq) || d.nextSeq < 1) bad("nextSeq", "expected an integer >= 1");
  for (const key of ["updates", "journal", "markets"] as const) {
    if (typeof d[key] !== "object" || d[key] === null || Array.isArray(d[key])) bad(key, "expected an object");
  }
  for (const [id, r] of Object.entries(d.updates)) {
    if (r.updateId !== id) bad(`updates.${id}.updateId`, "does not match its key");
    if (!UPDATE_STATES.includes(r.state)) bad(`updates.${id}.state`, `unknown state ${JSON.stringify(r.state)}`);
    if (typeof r.market !== "string" || typeof r.idempotencyKey !== "string") bad(`updates.${id}`, "market or idempotencyKey missing");
  }
}

// ---- read-only view ----------------------------------------------------------------------------

export interface StateSnapshot {
  file: string;
  exists: boolean;
  data: StateData;
  lockHolder?: LockHolder;
}

/** Reads (and migrates in memory) a state file without locking or writing: for `riskkeeper status`. */
export async function readStateSnapshot(file: string): Promise<StateSnapshot> {
  const adapter = new StateFileAdapter(file, writeFileAtomic);
  const raw = await adapter.read();
  const holder = readLockHolder(file);
  if (raw === null) return { file, exists: false, data: emptyState(), ...(holder ? { lockHolder: holder } : {}) };
  const { data } = migrateState(raw, file);
  return { file, exists: true, data, ...(holder ? { lockHolder: holder } : {}) };
}

// ---- the store ---------------------------------------------------------------------------------

function isTerminal(state: UpdateState): boolean {
  return TERMINAL_STATES.includes(state);
}

function counters(data: StateData, market: string): MarketCounters {
  return (data.markets[market] ??= { created: 0, confirmed: 0, rejected: {}, compacted: 0 });
}

export class StateStore {
  readonly file: string;
  readonly #db: Low<StateData>;
  readonly #clock: Clock;
  readonly #keep: number;
  readonly #evidenceDir: string;
  #lock: StateLock | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  private constructor(file: string, db: Low<StateData>, clock: Clock, keep: number, lock: StateLock, evidenceDir: string) {
    this.file = file;
    this.#evidenceDir = evidenceDir;
    this.#db = db;
    this.#clock = clock;
    this.#keep = keep;
    this.#lock = lock;
  }

  /**
   * Opens (or creates) the state file and takes its lock. Throws STATE_INVALID for an unreadable,
   * malformed or newer-version file and STATE_LOCKED when another keeper holds it — in both cases
   * before anything is written. An older file is migrated; the original is kept as `<file>.v<N>.bak`.
   */
  static async open(file: string, options: StateStoreOptions): Promise<StateStore> {
    const resolved = path.resolve(file);
    const keep = options.keepTerminalPerMarket ?? 50;
    if (!(Number.isSafeInteger(keep) && keep >= 1)) throw new RiskkeeperError("INPUT_INVALID", "expected an integer >= 1", { input: "keepTerminalPerMarket" });
    const adapter = new StateFileAdapter(resolved, options.writeFile ?? writeFileAtomic);
    // Validate before locking, so a bad file leaves no trace; read again under the lock.
    const before = await adapter.read();
    if (before !== null) migrateState(before, resolved);
    const lock = await acquireStateLock(resolved);
    try {
      const raw = await adapter.read();
      const db = new Low<StateData>(adapter, emptyState());
      if (raw !== null) {
        const { data, migratedFrom } = migrateState(raw, resolved);
        db.data = data;
        if (migratedFrom !== undefined) {
          await copyFile(resolved, `${resolved}.v${migratedFrom}.bak`);
          await db.write();
        }
      } else {
        await db.write();
      }
      return new StateStore(resolved, db, options.clock, keep, lock, options.evidenceDir ?? path.join(path.dirname(resolved), "evidence"));
    } catch (error) {
      await lock.release();
      throw error;
    }
  }

  /** A deep copy of the whole state (for status, health, tests). */
  snapshot(): StateData {
    return cloneData(this.#db.data);
  }

  get(updateId: string): UpdateRecord | undefined {
    const r = this.#db.data.updates[updateId];
    return r ? structuredClone(r) : undefined;
  }

  /** Records filtered by market and/or state, oldest first. */
  list(filter: { market?: string; state?: UpdateState | readonly UpdateState[] } = {}): UpdateRecord[] {
    const states = filter.state === undefined ? undefined : Array.isArray(filter.state) ? filter.state : [filter.state];
    return Object.values(this.#db.data.updates)
      .filter((r) => (filter.market === undefined || r.market === filter.market) && (states === undefined || states.includes(r.state)))
      .sort((a, b) => a.createdAt - b.createdAt || a.updateId.localeCompare(b.updateId))
      .map((r) => structuredClone(r));
  }

  /** Non-terminal records (the ones a restarted keeper resumes), oldest first. */
  pending(market?: string): UpdateRecord[] {
    return this.list({ ...(market !== undefined ? { market } : {}), state: UPDATE_STAGES.filter((s) => s !== "confirmed") });
  }

  counters(): Record<string, MarketCounters> {
    return structuredClone(this.#db.data.markets);
  }

  /**
   * Starts the record for an observation, or returns the existing one with the same idempotency key
   * (market + observation hash): `resumed` is true for a non-terminal record a restarted keeper should
   * carry on with; a terminal one is returned as it is (that observation was already dealt with).
   */
  async begin(market: string, observationHash: string, evidence?: JsonValue): Promise<{ record: UpdateRecord; resumed: boolean }> {
    if (typeof market !== "string" || market.length === 0) throw new RiskkeeperError("INPUT_INVALID", "expected a market name", { input: "market" });
    if (typeof observationHash !== "string" || observationHash.length === 0) throw new RiskkeeperError("INPUT_INVALID", "expected an observation hash", { input: "observationHash" });
    const key = `${market}:${observationHash}`;
    return this.#mutate((data) => {
      const existing = Object.values(data.updates).find((r) => r.idempotencyKey === key);
      if (existing) return { record: structuredClone(existing), resumed: !isTerminal(existing.state), changed: false };
      const at = this.#clock.now();
      const updateId = `${market}-${String(data.nextSeq).padStart(6, "0")}`;
      data.nextSeq++;
      const record: UpdateRecord = {
        updateId, market, idempotencyKey: key, observationHash, state: "observed", createdAt: at, updatedAt: at,
        history: [{ state: "observed", at }],
        evidence: evidence === undefined ? {} : { observed: evidence },
      };
      data.updates[updateId] = record;
      counters(data, market).created++;
      return { record: structuredClone(record), resumed: false, changed: true };
    });
  }

  /**
   * Moves a record to the next stage (only the next one), adding that stage's evidence. Moving to
   * `submitted` requires the evidence hash (given here or earlier) AND its bundle on disk,
   * `<evidenceDir>/<hash>.json`, matching the hash: nothing goes on-chain without its evidence.
   * Written before it returns.
   */
  async advance(updateId: string, to: UpdateStage, options: { evidence?: JsonValue; evidenceHash?: string; note?: string } = {}): Promise<UpdateRecord> {
    if (to === "submitted") {
      const hash = options.evidenceHash ?? this.#db.data.updates[updateId]?.evidenceHash;
      if (hash !== undefined && /^0x[0-9a-f]{64}$/.test(hash)) {
        const file = path.join(this.#evidenceDir, `${hash}.json`);
        const check = await verifyEvidence(file, hash);
        if (!check.ok) {
          throw new RiskkeeperError("STATE_INVALID", check.actual === undefined
            ? `cannot mark submitted: evidence bundle ${file} is missing (writeEvidence first)`
            : `cannot mark submitted: evidence bundle ${file} does not match its hash (actual ${check.actual})`, { input: updateId });
        }
      }
    }
    return this.#mutate((data) => {
      const r = this.#require(data, updateId);
      const from = r.state;
      const fromIndex = UPDATE_STAGES.indexOf(from as UpdateStage);
      const toIndex = UPDATE_STAGES.indexOf(to);
      if (toIndex < 0) throw new RiskkeeperError("INPUT_INVALID", `unknown stage '${String(to)}'; expected one of ${UPDATE_STAGES.join(", ")}`, { input: "to" });
      if (isTerminal(from) || toIndex !== fromIndex + 1) {
        const legal = isTerminal(from) ? "none (terminal)" : `${UPDATE_STAGES[fromIndex + 1]} or rejected`;
        throw new RiskkeeperError("STATE_INVALID", `illegal transition ${from} → ${to}; legal from ${from}: ${legal}`, { input: updateId, details: { from, to } });
      }
      if (options.evidenceHash !== undefined) {
        if (!/^0x[0-9a-f]{64}$/.test(options.evidenceHash)) throw new RiskkeeperError("INPUT_INVALID", "expected a 32-byte lower-case hex hash", { input: "evidenceHash" });
        if (r.evidenceHash !== undefined && r.evidenceHash !== options.evidenceHash) {
          throw new RiskkeeperError("STATE_INVALID", `evidence hash already set to ${r.evidenceHash}`, { input: updateId });
        }
        r.evidenceHash = options.evidenceHash;
      }
      if (to === "submitted" && r.evidenceHash === undefined) {
        throw new RiskkeeperError("STATE_INVALID", "cannot mark submitted without an evidence hash (write the evidence bundle first)", { input: updateId });
      }
      const at = this.#clock.now();
      r.state = to;
      r.updatedAt = at;
      r.history.push(options.note !== undefined ? { state: to, at, note: options.note } : { state: to, at });
      if (options.evidence !== undefined) r.evidence[to] = options.evidence;
      if (to === "confirmed") {
        counters(data, r.market).confirmed++;
        this.#compact(data, r.market);
      }
      return { record: structuredClone(r), changed: true };
    }).then((x) => x.record);
  }

  /** Ends a non-terminal record as rejected with a reason code (counted) and message. */
  async reject(updateId: string, reason: { code: string; message: string }): Promise<UpdateRecord> {
    if (typeof reason?.code !== "string" || !/^[a-z0-9][a-z0-9_.-]{0,63}$/.test(reason.code)) {
      throw new RiskkeeperError("INPUT_INVALID", "expected a short lower-case reason code ([a-z0-9_.-], e.g. 'fork-bad-debt')", { input: "reason.code" });
    }
    return this.#mutate((data) => {
      const r = this.#require(data, updateId);
      if (isTerminal(r.state)) {
        throw new RiskkeeperError("STATE_INVALID", `illegal transition ${r.state} → rejected; ${r.state} is terminal`, { input: updateId, details: { from: r.state, to: "rejected" } });
      }
      const at = this.#clock.now();
      r.rejection = { code: reason.code, message: String(reason.message ?? ""), stage: r.state as UpdateStage, at };
      r.state = "rejected";
      r.updatedAt = at;
      r.history.push({ state: "rejected", at, note: reason.code });
      const c = counters(data, r.market);
      c.rejected[reason.code] = (c.rejected[reason.code] ?? 0) + 1;
      this.#compact(data, r.market);
      return { record: structuredClone(r), changed: true };
    }).then((x) => x.record);
  }

  /** Records the outcome of one run of a market (last run and last success, for status and health). */
  async recordRun(market: string, outcome: { ok: boolean; error?: string }): Promise<void> {
    await this.#mutate((data) => {
      const c = counters(data, market);
      const at = this.#clock.now();
      c.lastRun = outcome.ok || outcome.error === undefined ? { at, ok: outcome.ok } : { at, ok: false, error: outcome.error.slice(0, 500) };
      if (outcome.ok) c.lastSuccessAt = at;
      return { changed: true };
    });
  }

  /** Persists what the keeper last saw of a market's parameters on chain (see MarketCounters.lastSeenParams). */
  async recordSeenParams(market: string, params: Record<string, { value: number; updatedAt: number }>): Promise<void> {
    for (const [name, p] of Object.entries(params)) {
      if (!Number.isFinite(p?.value) || !Number.isSafeInteger(p?.updatedAt)) {
        throw new RiskkeeperError("INPUT_INVALID", `expected a finite value and an integer updatedAt, got ${JSON.stringify(p)}`, { input: `params.${name}` });
      }
    }
    await this.#mutate((data) => {
      const c = counters(data, market);
      const next = Object.fromEntries(Object.entries(params).map(([k, p]) => [k, { value: p.value, updatedAt: p.updatedAt }]));
      if (JSON.stringify(c.lastSeenParams) === JSON.stringify(next)) return { changed: false };
      c.lastSeenParams = next;
      return { changed: true };
    });
  }

  /** What recordSeenParams last stored for `market`, if anything. */
  seenParams(market: string): Record<string, { value: number; updatedAt: number }> | undefined {
    const seen = this.#db.data.markets[market]?.lastSeenParams;
    return seen ? structuredClone(seen) : undefined;
  }

  /**
   * The submission journal (bot/chain's tx manager) kept in the state file: records keyed by
   * updateId, persisted (atomically, before put() resolves) like the rest, compacted with their
   * update. `journalFor<SubmissionRecord>()` is a bot/chain `SubmissionJournal`.
   */
  journalFor<R extends { updateId: string } = JournalRecord>(): SubmissionJournalView<R> {
    return {
      get: async (updateId: string) => {
        await this.#queue.catch(() => {});
        const r = this.#db.data.journal[updateId];
        return r ? (structuredClone(r) as unknown as R) : undefined;
      },
      put: async (record: R) => {
        if (typeof record?.updateId !== "string" || record.updateId.length === 0) {
          throw new RiskkeeperError("INPUT_INVALID", "a journal record needs a string updateId", { input: "record.updateId" });
        }
        await this.#mutate((data) => {
          data.journal[record.updateId] = structuredClone(record) as unknown as JournalRecord;
          return { changed: true };
        });
      },
    };
  }

  /** journalFor() with plain JSON records. */
  readonly journal: SubmissionJournalView = this.journalFor();

  /** Releases the lock. Later writes are refused. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#queue.catch(() => {});
    await this.#lock?.release();
    this.#lock = undefined;
  }

  #require(data: StateData, updateId: string): UpdateRecord {
    const r = data.updates[updateId];
    if (!r) throw new RiskkeeperError("INPUT_INVALID", "no such update (compacted, or never begun)", { input: updateId });
    return r;
  }

  /** Keeps the newest `keep` terminal records of `market`; older ones (and their journal entries) go. */
  #compact(data: StateData, market: string): void {
    const terminal = Object.values(data.updates)
      .filter((r) => r.market === market && isTerminal(r.state))
      .sort((a, b) => b.updatedAt - a.updatedAt || b.updateId.localeCompare(a.updateId));
    for (const r of terminal.slice(this.#keep)) {
      delete data.updates[r.updateId];
      delete data.journal[r.updateId];
      // The transaction manager keys its entry by its own submission id, which the confirmed stage records.
      const submissionId = (r.evidence.confirmed as { submissionId?: unknown } | undefined)?.submissionId;
      if (typeof submissionId === "string") delete data.journal[submissionId];
      counters(data, market).compacted++;
    }
  }

  /**
   * Applies `fn` to a copy of the state and writes it; only when the write succeeds does the copy
   * become the state. Mutations are serialised.
   */
  #mutate<T extends { changed: boolean }>(fn: (draft: StateData) => T): Promise<T> {
    const run = async (): Promise<T> => {
      if (this.#closed) throw new RiskkeeperError("STATE_INVALID", "state store is closed", { input: this.file });
      const previous = this.#db.data;
      const draft = cloneData(previous);
      const result = fn(draft);
      if (!result.changed) return result;
      this.#db.data = draft;
      try {
        await this.#db.write();
      } catch (error) {
        this.#db.data = previous;
        throw new RiskkeeperError("STATE_INVALID", `state not written (nothing changed): ${(error as Error).message}`, { input: this.file, cause: error });
      }
      return result;
    };
    const next = this.#queue.then(run, run);
    this.#queue = next.catch(() => {});
    return next;
  }
}
