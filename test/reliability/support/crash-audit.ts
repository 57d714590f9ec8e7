// What a crash run is judged by, read from the chain and the state file after the last restart:
//   duplicates      keeper transactions beyond one per update: a transaction no journal entry
//                   holds, two landed transactions for one journal entry or one evidence hash, or
//                   two keeper transactions for one update cycle (one need, served twice);
//   lost/corrupt    the state file does not parse or validate, a record breaks the state machine
//                   (history, evidence, hashes, counters), a record seen after a kill is gone or
//                   went backwards, an on-chain keeper update has no confirmed record, a submitted
//                   or confirmed record has no transaction (or no journal entry, or no evidence file);
//   incomplete      records or journal entries not in a terminal state, cycles whose update never
//                   got confirmed.
// Each count comes with its findings, one line each, so a non-zero count says what broke.
import { readdir } from "node:fs/promises";
import path from "node:path";
import { Interface } from "ethers";
import type { SubmissionRecord } from "../../../bot/chain/journal.ts";
import { changeId } from "../../../bot/chain/steward.ts";
import { verifyEvidence } from "../../../bot/keeper/evidence.ts";
import { lockFileOf } from "../../../bot/keeper/lock.ts";
import { readStateSnapshot, UPDATE_STAGES, type StateData, type UpdateRecord, type UpdateStage } from "../../../bot/keeper/state.ts";
import type { ParamName } from "../../../deploy/market-config.ts";
import type { CrashRig } from "./crash-rig.ts";

// The event as the steward declares it (contracts/interfaces): source 0 is the keeper.
const STEWARD_EVENTS = new Interface([
  "event ParamUpdated(bytes32 indexed market, uint8 indexed param, int256 oldValue, int256 newValue, bytes32 indexed evidenceHash, uint8 source)",
]);
const KEEPER_SOURCE = 0;
const JOURNAL_TERMINAL = new Set(["confirmed", "reverted", "failed"]);

export interface CycleSpan {
  cycle: number;
  /** Head block when the cycle's update had been made necessary (keeper txs of the cycle come after). */
  startBlock: number;
}

export interface KeeperTx {
  hash: string;
  blockNumber: number;
  nonce: number;
  status: number;
  /** Evidence hashes of its keeper ParamUpdated events (empty for a reverted or no-op call). */
  evidenceHashes: string[];
  cycle: number;
}

export interface CrashAudit {
  duplicates: number;
  lostOrCorrupt: number;
  incomplete: number;
  findings: { duplicates: string[]; lostOrCorrupt: string[]; incomplete: string[] };
  keeperTxs: number;
  keeperNonce: number;
  journalEntries: number;
  records: { total: number; byState: Record<string, number>; rejectedByCode: Record<string, number> };
  /** Files a killed writer left behind (temp files): not corruption, reported. */
  litter: string[];
  /** Evidence bundles no record names (a restart that rebuilt a bundle differently would leave one). */
  orphanEvidence: string[];
  lockLeft: boolean;
}

/** The submission id the pipeline's direct path gives a record (bot/chain/steward.ts changeId). */
export function submissionIdOf(rig: Pick<CrashRig, "deployment">, record: UpdateRecord): string | undefined {
  const bounded = record.evidence.bounded as { changes?: Array<{ parameter: string; value: string }> } | undefined;
  if (!record.evidenceHash || !bounded?.changes) return undefined;
  return changeId("direct", rig.deployment.chainId, rig.deployment.contracts.steward, {
    market: record.market,
    marketId: rig.deployment.market.id,
    updates: bounded.changes.map((c) => ({ parameter: c.parameter as ParamName, value: BigInt(c.value) })),
    evidenceHash: record.evidenceHash,
  });
}

const stageIndex = (s: string) => UPDATE_STAGES.indexOf(s as UpdateStage);

/** Checks one record against the state machine; returns what is wrong (empty when valid). */
async function recordProblems(r: UpdateRecord, id: string, data: StateData, evidenceDir: string): Promise<string[]> {
  const out: string[] = [];
  const bad = (m: string) => out.push(`${id}: ${m}`);
  if (r.updateId !== id) bad(`updateId ${r.updateId} under another key`);
  if (r.idempotencyKey !== `${r.market}:${r.observationHash}`) bad("idempotencyKey is not market:observationHash");
  const seq = Number(/-(\d+)$/.exec(id)?.[1]);
  if (!(seq >= 1 && seq < data.nextSeq)) bad(`sequence ${seq} outside [1, nextSeq ${data.nextSeq})`);
  const h = r.history ?? [];
  if (h.length === 0 || h[0]!.state !== "observed") bad("history does not start at observed");
  for (let i = 1; i < h.length; i++) {
    const from = h[i - 1]!.state;
    const to = h[i]!.state;
    const legal = to === "rejected" ? from !== "confirmed" && from !== "rejected" && i === h.length - 1 : stageIndex(to) === stageIndex(from) + 1;
    if (!legal) bad(`illegal transition ${from} -> ${to} in its history`);
    if (h[i]!.at < h[i - 1]!.at) bad(`history goes back in time at ${to}`);
  }
  if (h.length > 0 && h.at(-1)!.state !== r.state) bad(`state ${r.state} but history ends at ${h.at(-1)!.state}`);
  if (h.length > 0 && (r.createdAt !== h[0]!.at || r.updatedAt !== h.at(-1)!.at)) bad("createdAt/updatedAt disagree with the history");
  const reached = h.map((t) => t.state).filter((s) => s !== "rejected");
  for (const stage of ["observed", "calibrated", "bounded", "backtested", "fork-validated", "confirmed"] as const) {
    if (reached.includes(stage) && r.evidence?.[stage] === undefined) bad(`reached ${stage} without its evidence`);
  }
  if (reached.includes("submitted")) {
    if (!r.evidenceHash || !/^0x[0-9a-f]{64}$/.test(r.evidenceHash)) bad("submitted without an evidence hash");
    else if (!(await verifyEvidence(path.join(evidenceDir, `${r.evidenceHash}.json`), r.evidenceHash)).ok) bad(`evidence bundle ${r.evidenceHash} missing or not matching its hash`);
  }
  if (r.state === "rejected") {
    if (!r.rejection?.code) bad("rejected without a reason code");
    else if (h.length >= 2 && r.rejection.stage !== h.at(-2)!.state) bad(`rejection.stage ${r.rejection.stage} is not the stage it left (${h.at(-2)!.state})`);
  } else if (r.rejection) bad("a rejection on a record that is not rejected");
  if (r.state === "confirmed") {
    const c = r.evidence.confirmed as { txHash?: string; readBack?: unknown } | undefined;
    if (!c?.txHash) bad("confirmed without a txHash");
    if (c?.readBack !== "ok") bad(`read-back after confirmation: ${JSON.stringify(c?.readBack)}`);
  }
  return out;
}

export async function auditCrashRun(
  rig: CrashRig,
  options: {
    cycles: CycleSpan[];
    /** Cycles whose update the loop saw confirmed (by updateId). */
    confirmedByCycle: Map<number, string>;
    /** Every record the loop saw (after each run): its furthest state and evidence hash. */
    seen: Map<string, { state: string; evidenceHash?: string }>;
  },
): Promise<CrashAudit> {
  const f = { duplicates: [] as string[], lostOrCorrupt: [] as string[], incomplete: [] as string[] };
  let data: StateData | undefined;
  try {
    data = (await readStateSnapshot(rig.stateFile)).data;
  } catch (error) {
    f.lostOrCorrupt.push(`state file unreadable: ${(error as Error).message}`);
  }
  const updates = data?.updates ?? {};
  const journal = (data?.journal ?? {}) as unknown as Record<string, SubmissionRecord>;

  // ---- the chain: every transaction the keeper's account sent --------------------------------
  const keeper = rig.keeperAddress.toLowerCase();
  const steward = rig.deployment.contracts.steward.toLowerCase();
  const head = await rig.headBlock();
  const txs: KeeperTx[] = [];
  const cycleOf = (block: number) => [...options.cycles].reverse().find((c) => c.startBlock < block)?.cycle ?? -1;
  for (let n = rig.deployment.blockNumber + 1; n <= head; n++) {
    const block = (await rig.request("eth_getBlockByNumber", [`0x${n.toString(16)}`, true])) as { transactions: Array<{ hash: string; from: string; nonce: string }> };
    for (const tx of block.transactions) {
      if (tx.from.toLowerCase() !== keeper) continue;
      const receipt = (await rig.request("eth_getTransactionReceipt", [tx.hash])) as { status: string; logs: Array<{ address: string; topics: string[]; data: string }> };
      const evidenceHashes = new Set<string>();
      for (const log of receipt.logs) {
        if (log.address.toLowerCase() !== steward) continue;
        const parsed = STEWARD_EVENTS.parseLog({ topics: log.topics, data: log.data });
        if (parsed?.name === "ParamUpdated" && Number(parsed.args[5]) === KEEPER_SOURCE) evidenceHashes.add(String(parsed.args[4]).toLowerCase());
      }
      txs.push({ hash: tx.hash.toLowerCase(), blockNumber: n, nonce: Number(BigInt(tx.nonce)), status: Number(BigInt(receipt.status)), evidenceHashes: [...evidenceHashes], cycle: cycleOf(n) });
    }
  }
  const keeperNonce = Number(BigInt((await rig.request("eth_getTransactionCount", [rig.keeperAddress, "latest"])) as string));
  // A transaction counted twice (by two rules) is still one duplicate.
  const excess = new Map<string, string>();
  const flag = (hash: string, why: string) => { if (!excess.has(hash)) excess.set(hash, why); };

  const journalOfHash = new Map<string, string>();
  for (const [id, j] of Object.entries(journal)) for (const a of j.attempts ?? []) journalOfHash.set(a.hash.toLowerCase(), id);
  if (keeperNonce !== txs.length) flag(`nonce:${keeperNonce}`, `keeper nonce ${keeperNonce} but ${txs.length} keeper transactions found in blocks`);
  for (const tx of txs) if (!journalOfHash.has(tx.hash)) flag(tx.hash, `keeper tx ${tx.hash} (nonce ${tx.nonce}, block ${tx.blockNumber}) is in no journal entry`);
  const group = <K>(key: (t: KeeperTx) => K[]) => {
    const m = new Map<K, KeeperTx[]>();
    for (const t of txs) for (const k of key(t)) m.set(k, [...(m.get(k) ?? []), t]);
    return m;
  };
  for (const [id, list] of group((t) => (journalOfHash.has(t.hash) ? [journalOfHash.get(t.hash)!] : []))) {
    for (const t of list.slice(1)) flag(t.hash, `journal entry ${id} has ${list.length} transactions on chain`);
  }
  for (const [hash, list] of group((t) => t.evidenceHashes)) {
    for (const t of list.slice(1)) flag(t.hash, `evidence ${hash} was applied by ${list.length} keeper transactions`);
  }
  for (const [cycle, list] of group((t) => [t.cycle])) {
    for (const t of list.slice(1)) flag(t.hash, `cycle ${cycle} (one necessary update) got ${list.length} keeper transactions`);
  }
  for (const [, why] of excess) f.duplicates.push(why);

  // ---- the state file ---------------------------------------------------------------------------
  if (data) {
    for (const [id, r] of Object.entries(updates)) f.lostOrCorrupt.push(...(await recordProblems(r, id, data, rig.evidenceDir)));
    const records = Object.values(updates);
    for (const [market, c] of Object.entries(data.markets)) {
      const mine = records.filter((r) => r.market === market);
      if (c.created !== mine.length + c.compacted) f.lostOrCorrupt.push(`${market}: counters say ${c.created} created, ${mine.length} records + ${c.compacted} compacted`);
      const confirmed = mine.filter((r) => r.state === "confirmed").length;
      if (c.compacted === 0 && c.confirmed !== confirmed) f.lostOrCorrupt.push(`${market}: counters say ${c.confirmed} confirmed, ${confirmed} records are`);
    }
    for (const [id, j] of Object.entries(journal)) {
      if (j.updateId !== id) f.lostOrCorrupt.push(`journal ${id}: updateId ${j.updateId} under another key`);
      if (!Array.isArray(j.attempts) || j.attempts.length === 0) f.lostOrCorrupt.push(`journal ${id}: no signed attempt`);
      if (j.status === "confirmed" && !j.attempts?.some((a) => a.hash === j.mined?.hash)) f.lostOrCorrupt.push(`journal ${id}: confirmed, but its mined hash is none of its attempts`);
      if (!JOURNAL_TERMINAL.has(j.status)) f.incomplete.push(`journal ${id}: still ${j.status}`);
    }
  }
  // Nothing the loop saw may vanish or go backwards.
  for (const [id, was] of options.seen) {
    const now = updates[id];
    if (!now) { f.lostOrCorrupt.push(`${id}: seen at ${was.state} after a run, gone at the end`); continue; }
    const forward = now.state === was.state || (now.state === "rejected" ? was.state !== "confirmed" : stageIndex(now.state) > stageIndex(was.state) && was.state !== "rejected");
    if (!forward) f.lostOrCorrupt.push(`${id}: went from ${was.state} back to ${now.state}`);
    if (was.evidenceHash && now.evidenceHash !== was.evidenceHash) f.lostOrCorrupt.push(`${id}: evidence hash changed from ${was.evidenceHash} to ${now.evidenceHash}`);
  }
  // Chain ↔ records ↔ journal.
  const confirmedRecords = Object.values(updates).filter((r) => r.state === "confirmed");
  const byTx = new Map(confirmedRecords.map((r) => [String((r.evidence.confirmed as { txHash?: string })?.txHash).toLowerCase(), r]));
  for (const tx of txs.filter((t) => t.evidenceHashes.length > 0)) {
    const r = byTx.get(tx.hash);
    if (!r) f.lostOrCorrupt.push(`on-chain keeper update ${tx.hash} (evidence ${tx.evidenceHashes.join(",")}) has no confirmed record`);
    else if (!tx.evidenceHashes.includes(r.evidenceHash!.toLowerCase())) f.lostOrCorrupt.push(`${r.updateId}: its tx ${tx.hash} carries evidence ${tx.evidenceHashes.join(",")}, the record ${r.evidenceHash}`);
  }
  const txByHash = new Map(txs.map((t) => [t.hash, t]));
  for (const r of Object.values(updates).filter((x) => x.state === "submitted" || x.state === "confirmed")) {
    const sid = submissionIdOf(rig, r);
    const j = sid ? journal[sid] : undefined;
    if (r.state === "confirmed") {
      const c = r.evidence.confirmed as { txHash?: string; submissionId?: string };
      const tx = txByHash.get(String(c.txHash).toLowerCase());
      if (!tx || tx.status !== 1) f.lostOrCorrupt.push(`${r.updateId}: confirmed with tx ${c.txHash}, ${tx ? "reverted" : "not found"} on chain`);
      if (c.submissionId !== sid) f.lostOrCorrupt.push(`${r.updateId}: submission id ${c.submissionId}, expected ${sid}`);
      if (!j) f.lostOrCorrupt.push(`${r.updateId}: confirmed without its journal entry ${sid}`);
      else if (j.status !== "confirmed" || j.mined?.hash.toLowerCase() !== String(c.txHash).toLowerCase()) f.lostOrCorrupt.push(`${r.updateId}: journal entry ${sid} is ${j.status} with ${j.mined?.hash}, the record has ${c.txHash}`);
    }
  }
  // A journal entry always belongs to a record that reached submitted.
  const sids = new Set(Object.values(updates).map((r) => submissionIdOf(rig, r)).filter(Boolean));
  for (const id of Object.keys(journal)) if (!sids.has(id)) f.lostOrCorrupt.push(`journal ${id} belongs to no record`);

  for (const r of Object.values(updates)) if (r.state !== "confirmed" && r.state !== "rejected") f.incomplete.push(`${r.updateId}: left at ${r.state}`);
  for (const c of options.cycles) if (!options.confirmedByCycle.has(c.cycle)) f.incomplete.push(`cycle ${c.cycle}: its update was never confirmed`);

  const byState: Record<string, number> = {};
  const rejectedByCode: Record<string, number> = {};
  for (const r of Object.values(updates)) {
    byState[r.state] = (byState[r.state] ?? 0) + 1;
    if (r.rejection) rejectedByCode[r.rejection.code] = (rejectedByCode[r.rejection.code] ?? 0) + 1;
  }
  const litter: string[] = [];
  for (const d of [path.dirname(rig.stateFile), rig.evidenceDir]) {
    for (const name of await readdir(d).catch(() => [] as string[])) if (name.endsWith(".tmp")) litter.push(path.join(path.basename(d), name));
  }
  const named = new Set(Object.values(updates).map((r) => r.evidenceHash));
  const orphanEvidence = (await readdir(rig.evidenceDir).catch(() => [] as string[]))
    .filter((name) => /^0x[0-9a-f]{64}\.json$/.test(name) && !named.has(name.slice(0, -5)));
  let lockLeft = false;
  try {
    await readdir(path.dirname(rig.stateFile)).then((names) => { lockLeft = names.includes(path.basename(lockFileOf(rig.stateFile))); });
  } catch { /* no state folder */ }

  return {
    duplicates: f.duplicates.length,
    lostOrCorrupt: f.lostOrCorrupt.length,
    incomplete: f.incomplete.length,
    findings: f,
    keeperTxs: txs.length,
    keeperNonce,
    journalEntries: Object.keys(journal).length,
    records: { total: Object.keys(updates).length, byState, rejectedByCode },
    litter,
    orphanEvidence,
    lockLeft,
  };
}
