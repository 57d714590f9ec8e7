// `riskkeeper status [--state FILE] [--json]`: what the keeper's state file holds — records by
// state, the pending (non-terminal) ones, the last update and run per market, and who holds the
// lock. Reads only: no lock is taken and nothing is written, so it is safe beside a running keeper.
import path from "node:path";
import { describeHolder, holderAlive } from "../keeper/lock.ts";
import { readStateSnapshot, UPDATE_STATES, type StateSnapshot, type UpdateRecord } from "../keeper/state.ts";
import { parseCommandArgs } from "./args.ts";
import type { Command } from "./types.ts";

const USAGE = `riskkeeper status [--state FILE] [--json]

  --state   the keeper's state file (default .riskkeeper/state.json, the config default)
  --json    print the summary as JSON`;

interface RecordSummary {
  updateId: string;
  market: string;
  state: string;
  createdAt: string;
  updatedAt: string;
  evidenceHash?: string;
  rejection?: { code: string; message: string; stage: string };
}

export interface StatusSummary {
  file: string;
  exists: boolean;
  schemaVersion: number;
  lock: { pid: number; hostname: string; startedAt: string; alive: boolean | null } | null;
  byState: Record<string, number>;
  pending: RecordSummary[];
  markets: Record<string, {
    created: number;
    confirmed: number;
    rejected: Record<string, number>;
    compacted: number;
    lastRun?: { at: string; ok: boolean; error?: string };
    lastSuccessAt?: string;
    lastUpdate?: RecordSummary;
  }>;
}

const iso = (ms: number): string => new Date(ms).toISOString();

function summariseRecord(r: UpdateRecord): RecordSummary {
  return {
    updateId: r.updateId,
    market: r.market,
    state: r.state,
    createdAt: iso(r.createdAt),
    updatedAt: iso(r.updatedAt),
    ...(r.evidenceHash ? { evidenceHash: r.evidenceHash } : {}),
    ...(r.rejection ? { rejection: { code: r.rejection.code, message: r.rejection.message, stage: r.rejection.stage } } : {}),
  };
}

/** The status summary of a state snapshot (pure: for the command and for tests). */
export function summariseState(snap: StateSnapshot): StatusSummary {
  const records = Object.values(snap.data.updates).sort((a, b) => a.createdAt - b.createdAt || a.updateId.localeCompare(b.updateId));
  const byState = Object.fromEntries(UPDATE_STATES.map((s) => [s, 0])) as Record<string, number>;
  for (const r of records) byState[r.state] = (byState[r.state] ?? 0) + 1;
  const markets: StatusSummary["markets"] = {};
  const names = [...new Set([...Object.keys(snap.data.markets), ...records.map((r) => r.market)])].sort();
  for (const m of names) {
    const c = snap.data.markets[m] ?? { created: 0, confirmed: 0, rejected: {}, compacted: 0 };
    const last = records.filter((r) => r.market === m).sort((a, b) => b.updatedAt - a.updatedAt || b.updateId.localeCompare(a.updateId))[0];
    markets[m] = {
      created: c.created,
      confirmed: c.confirmed,
      rejected: { ...c.rejected },
      compacted: c.compacted,
      ...(c.lastRun ? { lastRun: { at: iso(c.lastRun.at), ok: c.lastRun.ok, ...(c.lastRun.error ? { error: c.lastRun.error } : {}) } } : {}),
      ...(c.lastSuccessAt !== undefined ? { lastSuccessAt: iso(c.lastSuccessAt) } : {}),
      ...(last ? { lastUpdate: summariseRecord(last) } : {}),
    };
  }
  const h = snap.lockHolder;
  return {
    file: snap.file,
    exists: snap.exists,
    schemaVersion: snap.data.schemaVersion,
    lock: h ? { ...h, alive: holderAlive(h) ?? null } : null,
    byState,
    pending: records.filter((r) => r.state !== "confirmed" && r.state !== "rejected").map(summariseRecord),
    markets,
  };
}

export function formatStatus(s: StatusSummary): string {
  const lines = [`state file ${s.file} (schemaVersion ${s.schemaVersion})`];
  if (s.lock) {
    const alive = s.lock.alive === null ? "on another host" : s.lock.alive ? "running" : "STALE: that process is gone";
    lines.push(`lock: held by ${describeHolder(s.lock)} (${alive})`);
  } else lines.push("lock: free (no keeper running on this file)");
  lines.push(`records: ${Object.entries(s.byState).map(([k, v]) => `${k} ${v}`).join(", ")}`);
  lines.push(`pending: ${s.pending.length}`);
  for (const p of s.pending) lines.push(`  ${p.updateId}  ${p.state.padEnd(14)} since ${p.updatedAt}${p.evidenceHash ? `  evidence ${p.evidenceHash}` : ""}`);
  for (const [m, c] of Object.entries(s.markets)) {
    const rejected = Object.entries(c.rejected).map(([k, v]) => `${k} ${v}`).join(", ");
    lines.push(`${m}: created ${c.created}, confirmed ${c.confirmed}, rejected ${Object.values(c.rejected).reduce((a, b) => a + b, 0)}${rejected ? ` (${rejected})` : ""}, compacted ${c.compacted}`);
    if (c.lastRun) lines.push(`  last run ${c.lastRun.at} ${c.lastRun.ok ? "ok" : `FAILED: ${c.lastRun.error ?? "(no message)"}`}${c.lastSuccessAt ? `; last success ${c.lastSuccessAt}` : ""}`);
    if (c.lastUpdate) {
      const u = c.lastUpdate;
      lines.push(`  last update ${u.updateId} ${u.state} at ${u.updatedAt}${u.rejection ? ` (${u.rejection.code} at ${u.rejection.stage}: ${u.rejection.message})` : ""}${u.evidenceHash ? ` evidence ${u.evidenceHash}` : ""}`);
    }
  }
  return lines.join("\n");
}

export const command: Command = {
  summary: "print what the keeper's state file holds: records by state, pending, last per market, lock holder",
  usage: USAGE,
  async run(argv, io) {
    const { values } = parseCommandArgs("status", argv, { state: { type: "string" }, json: { type: "boolean", default: false } });
    const file = path.resolve(values.state ?? path.join(".riskkeeper", "state.json"));
    const snap = await readStateSnapshot(file);
    if (!snap.exists) {
      io.stderr(`riskkeeper status: no state file at ${file}; the keeper has not run with it (use --state FILE)`);
      return 1;
    }
    const summary = summariseState(snap);
    io.stdout(values.json ? JSON.stringify(summary, null, 2) : formatStatus(summary));
    return 0;
  },
};
