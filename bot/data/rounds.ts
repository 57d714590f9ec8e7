// Chainlink round history from CSV: `roundId,answer,startedAt,updatedAt[,answeredInRound]` (camelCase
// or snake_case; our shared files also carry `phase_id`, `aggregator_round_id`, `answer_raw`). Proxy
// round ids are decoded into phase and aggregator round (id = phase << 64 | aggregatorRound) and
// checked against the phase columns when present. Answers come from `answer_raw` / 10^decimals when
// the raw integer is there (decimals given or inferred from `answer`), else from `answer` (scaled by
// 10^-decimals when `decimals` is given, i.e. `answer` is then the raw integer).
import { RiskkeeperError } from "../errors.ts";
import { Float64Column } from "./columns.ts";
import { findColumn, openCsv } from "./csv.ts";
import { detectTimeFormat, isoTime, parseTime, type TimeFormat } from "./time.ts";

const PHASE_SHIFT = 64n;
const AGG_MASK = (1n << 64n) - 1n;

/** Splits a proxy round id into its phase id and the aggregator's own round id. */
export function decodeRoundId(roundId: bigint): { phaseId: number; aggregatorRoundId: bigint } {
  if (roundId < 0n) throw new RiskkeeperError("INPUT_INVALID", `round id must be >= 0, got ${roundId}`, { input: "roundId" });
  return { phaseId: Number(roundId >> PHASE_SHIFT), aggregatorRoundId: roundId & AGG_MASK };
}

/** The proxy round id for `aggregatorRoundId` in phase `phaseId`. */
export function encodeRoundId(phaseId: number, aggregatorRoundId: bigint): bigint {
  if (!Number.isInteger(phaseId) || phaseId < 0 || phaseId > 0xffff) {
    throw new RiskkeeperError("INPUT_INVALID", `phase id must be a uint16, got ${phaseId}`, { input: "phaseId" });
  }
  if (aggregatorRoundId < 0n || aggregatorRoundId > AGG_MASK) {
    throw new RiskkeeperError("INPUT_INVALID", `aggregator round id must be a uint64, got ${aggregatorRoundId}`, { input: "aggregatorRoundId" });
  }
  return (BigInt(phaseId) << PHASE_SHIFT) | aggregatorRoundId;
}

/** `raw / 10^decimals` as the nearest double (exact decimal string first, then one rounding). */
export function scaleAnswer(raw: bigint, decimals: number): number {
  if (decimals === 0) return Number(raw);
  const neg = raw < 0n;
  const s = (neg ? -raw : raw).toString().padStart(decimals + 1, "0");
  const x = Number(`${s.slice(0, -decimals)}.${s.slice(-decimals)}`);
  return neg ? -x : x;
}

/** Round history in columns; index i is one round, in file order (sorted by updatedAt). */
export interface RoundSeries {
  decimals: number | null;
  roundId: bigint[];
  phaseId: Uint16Array;
  aggregatorRoundId: Float64Array;
  /** Raw integer answers when the file has them (else null). */
  answerRaw: bigint[] | null;
  answer: Float64Array;
  /** NaN when the file has no startedAt. */
  startedAt: Float64Array;
  updatedAt: Float64Array;
  line: Float64Array;
}

export interface PhaseSummary {
  phaseId: number;
  rounds: number;
  firstRound: number;
  lastRound: number;
  firstUpdatedAt: string;
  lastUpdatedAt: string;
  /** Aggregator round ids skipped inside the phase (consecutive ids expected). */
  missingRounds: number;
}

export interface RoundsReport {
  file: string;
  columns: Record<string, string>;
  timeFormat: TimeFormat;
  decimals: { value: number | null; source: "given" | "inferred" | "none" };
  rowsRead: number;
  rowsKept: number;
  first: string | null;
  last: string | null;
  phases: PhaseSummary[];
  duplicates: { dropped: number; lines: number[] };
  rejected: { count: number; list: { line: number; value: string; reason: "non-finite" | "non-positive" }[] };
  /** Rows whose answeredInRound differs from roundId (a carried-over, stale answer). */
  answeredInEarlierRound: { count: number; lines: number[] };
  /** Seconds between consecutive updates (across all phases). */
  updateIntervals: { median: number; max: number; maxAt: string | null } | null;
  heartbeat: { seconds: number; graceSeconds: number; over: number; overWithGrace: number; longest: { after: string; afterLine: number; seconds: number } | null } | null;
  largestMove: { line: number; at: string; logReturn: number } | null;
}

export interface LoadRoundsOptions {
  /** Answer decimals (8 for USD feeds, 18 for stETH/ETH); inferred from answer_raw/answer when both exist. */
  decimals?: number;
  /** Heartbeat in seconds: counts update intervals above it (e.g. 3600 for ETH/USD). */
  heartbeatSeconds?: number;
  /** Slack on the heartbeat before an interval counts in `overWithGrace`. Default 60 s (SOURCE.md counts ETH/USD intervals above 3,660 s). */
  graceSeconds?: number;
  maxRows?: number;
  listLimit?: number;
}

const ROUND_ID = ["round_id", "roundId"];
const PHASE = ["phase_id", "phaseId"];
const AGG = ["aggregator_round_id", "aggregatorRoundId"];
const RAW = ["answer_raw", "answerRaw"];
const ANSWER = ["answer"];
const STARTED = ["started_at", "startedAt"];
const UPDATED = ["updated_at", "updatedAt", "updated_at_utc"];
const ANSWERED_IN = ["answered_in_round", "answeredInRound"];

function parseBig(text: string | undefined): bigint | undefined {
  const s = text?.trim();
  if (!s || !/^-?\d+$/.test(s)) return undefined;
  return BigInt(s);
}

/**
 * Loads a Chainlink rounds CSV with a report.
 *
 * @example
 * const { rounds, report } = await loadRounds("chainlink_eth_usd_rounds.csv", { heartbeatSeconds: 3600 });
 */
export async function loadRounds(path: string, options: LoadRoundsOptions = {}): Promise<{ rounds: RoundSeries; report: RoundsReport }> {
  const csv = await openCsv(path, { maxRows: options.maxRows });
  const h = csv.header;
  const at1 = `${path}:${csv.headerLine}`;
  const col = {
    roundId: findColumn(h, ROUND_ID), phase: findColumn(h, PHASE), agg: findColumn(h, AGG), raw: findColumn(h, RAW),
    answer: findColumn(h, ANSWER), started: findColumn(h, STARTED), updated: findColumn(h, UPDATED), answeredIn: findColumn(h, ANSWERED_IN),
  };
  if (col.roundId < 0) throw new RiskkeeperError("DATA_MISSING_COLUMN", `no round id column (roundId or round_id); columns: ${h.join(", ")}`, { input: at1 });
  if (col.updated < 0) throw new RiskkeeperError("DATA_MISSING_COLUMN", `no updatedAt column (updatedAt, updated_at or updated_at_utc); columns: ${h.join(", ")}`, { input: at1 });
  if (col.answer < 0 && col.raw < 0) throw new RiskkeeperError("DATA_MISSING_COLUMN", `no answer column (answer or answer_raw); columns: ${h.join(", ")}`, { input: at1 });
  const limit = options.listLimit ?? 20;
  const grace = options.graceSeconds ?? 60;
  let decimals: number | null = options.decimals ?? null;
  let decimalsSource: RoundsReport["decimals"]["source"] = decimals !== null ? "given" : "none";
  const answerIsRaw = col.raw < 0 && decimals !== null; // plain `answer` holds the integer

  const columns: Record<string, string> = { roundId: h[col.roundId], updatedAt: h[col.updated] };
  if (col.raw >= 0) columns.answerRaw = h[col.raw];
  if (col.answer >= 0) columns.answer = h[col.answer];
  if (col.started >= 0) columns.startedAt = h[col.started];
  if (col.phase >= 0) columns.phaseId = h[col.phase];
  if (col.agg >= 0) columns.aggregatorRoundId = h[col.agg];
  if (col.answeredIn >= 0) columns.answeredInRound = h[col.answeredIn];
  const width = Math.max(...Object.values(col)) + 1;

  const roundIds: bigint[] = [];
  const raws: bigint[] = [];
  const phaseCol = new Float64Column();
  const aggCol = new Float64Column();
  const answerCol = new Float64Column();
  const startedCol = new Float64Column();
  const updatedCol = new Float64Column();
  const lineCol = new Float64Column();
  const report: RoundsReport = {
    file: path, columns, timeFormat: "unix_s", decimals: { value: decimals, source: decimalsSource }, rowsRead: 0, rowsKept: 0, first: null, last: null,
    phases: [], duplicates: { dropped: 0, lines: [] }, rejected: { count: 0, list: [] }, answeredInEarlierRound: { count: 0, lines: [] },
    updateIntervals: null, heartbeat: null, largestMove: null,
  };
  let format: TimeFormat | undefined;
  let phase: PhaseSummary | undefined;
  let lastRoundId = -1n;
  let lastUpdated = NaN;
  let lastLine = 0;
  let lastAnswer = NaN;
  let largest = -1;
  const intervals: number[] = [];
  let hbOver = 0, hbOverGrace = 0;
  let longest: { after: string; afterLine: number; seconds: number } | null = null;

  for await (const { line, fields } of csv.rows) {
    const input = `${path}:${line}`;
    report.rowsRead++;
    if (fields.length < width) throw new RiskkeeperError("DATA_BAD_VALUE", `expected at least ${width} fields, found ${fields.length}`, { input });
    const rid = parseBig(fields[col.roundId]);
    if (rid === undefined || rid < 0n) throw new RiskkeeperError("DATA_BAD_VALUE", `round id '${fields[col.roundId]}' is not a non-negative integer`, { input });
    const { phaseId, aggregatorRoundId } = decodeRoundId(rid);
    if (col.phase >= 0 && fields[col.phase].trim() !== String(phaseId)) {
      throw new RiskkeeperError("DATA_BAD_VALUE", `phase id ${fields[col.phase]} does not match round id ${rid} (phase ${phaseId})`, { input });
    }
    if (col.agg >= 0 && fields[col.agg].trim() !== String(aggregatorRoundId)) {
      throw new RiskkeeperError("DATA_BAD_VALUE", `aggregator round id ${fields[col.agg]} does not match round id ${rid} (round ${aggregatorRoundId})`, { input });
    }
    const rawU = fields[col.updated];
    if (format === undefined) {
      format = detectTimeFormat(rawU);
      if (!format) throw new RiskkeeperError("DATA_BAD_VALUE", `updatedAt '${rawU}' is not an ISO-8601 time or Unix seconds`, { input });
      report.timeFormat = format;
    }
    const updated = parseTime(rawU, format);
    if (Number.isNaN(updated)) throw new RiskkeeperError("DATA_BAD_VALUE", `updatedAt '${rawU}' does not match the format of the first row (${format})`, { input });
    const started = col.started >= 0 ? parseTime(fields[col.started], format) : NaN;
    if (col.started >= 0 && Number.isNaN(started)) throw new RiskkeeperError("DATA_BAD_VALUE", `startedAt '${fields[col.started]}' is not a ${format} time`, { input });

    // answer
    let raw: bigint | undefined;
    let answer: number;
    let answerText: string;
    if (col.raw >= 0 || answerIsRaw) {
      const c = col.raw >= 0 ? col.raw : col.answer;
      answerText = fields[c];
      raw = parseBig(answerText);
      if (raw === undefined) {
        reject(line, answerText, "non-finite");
        continue;
      }
      if (decimals === null && col.answer >= 0) {
        const dec = Number(fields[col.answer]);
        if (dec > 0 && raw > 0n) {
          decimals = Math.round(Math.log10(Number(raw) / dec));
          decimalsSource = "inferred";
          report.decimals = { value: decimals, source: decimalsSource };
        }
      }
      answer = decimals !== null ? scaleAnswer(raw, decimals) : Number(raw);
    } else {
      answerText = fields[col.answer];
      answer = answerText.trim() === "" ? NaN : Number(answerText);
    }
    if (!Number.isFinite(answer)) { reject(line, answerText, "non-finite"); continue; }
    if (answer <= 0) { reject(line, answerText, "non-positive"); continue; }

    if (report.rowsKept > 0) {
      if (rid === lastRoundId) {
        report.duplicates.dropped++;
        if (report.duplicates.lines.length < limit) report.duplicates.lines.push(line);
        continue;
      }
      if (rid < lastRoundId || updated < lastUpdated) {
        throw new RiskkeeperError("DATA_TIME_ORDER", `round ${rid} (updated ${isoTime(updated)}) comes after round ${lastRoundId} (updated ${isoTime(lastUpdated)}, line ${lastLine}); rows must be sorted by round and time`, { input });
      }
      const dt = updated - lastUpdated;
      intervals.push(dt);
      if (options.heartbeatSeconds !== undefined) {
        if (dt > options.heartbeatSeconds) hbOver++;
        if (dt > options.heartbeatSeconds + grace) hbOverGrace++;
      }
      if (!longest || dt > longest.seconds) longest = { after: isoTime(lastUpdated), afterLine: lastLine, seconds: dt };
      const ret = Math.log(answer / lastAnswer);
      if (Math.abs(ret) > largest) {
        largest = Math.abs(ret);
        report.largestMove = { line, at: isoTime(updated), logReturn: Math.round(ret * 1e6) / 1e6 };
      }
    } else report.first = isoTime(updated);

    if (col.answeredIn >= 0) {
      const air = parseBig(fields[col.answeredIn]);
      if (air !== undefined && air !== rid) {
        report.answeredInEarlierRound.count++;
        if (report.answeredInEarlierRound.lines.length < limit) report.answeredInEarlierRound.lines.push(line);
      }
    }
    const agg = Number(aggregatorRoundId);
    if (!phase || phase.phaseId !== phaseId) {
      phase = { phaseId, rounds: 0, firstRound: agg, lastRound: agg, firstUpdatedAt: isoTime(updated), lastUpdatedAt: isoTime(updated), missingRounds: 0 };
      report.phases.push(phase);
    } else {
      phase.missingRounds += agg - phase.lastRound - 1;
    }
    phase.rounds++;
    phase.lastRound = agg;
    phase.lastUpdatedAt = isoTime(updated);

    report.rowsKept++;
    report.last = isoTime(updated);
    lastRoundId = rid; lastUpdated = updated; lastLine = line; lastAnswer = answer;
    roundIds.push(rid);
    if (raw !== undefined) raws.push(raw);
    phaseCol.push(phaseId); aggCol.push(agg); answerCol.push(answer); startedCol.push(started); updatedCol.push(updated); lineCol.push(line);
  }

  function reject(line: number, value: string, reason: "non-finite" | "non-positive"): void {
    report.rejected.count++;
    if (report.rejected.list.length < limit) report.rejected.list.push({ line, value, reason });
  }

  if (report.rowsRead === 0) throw new RiskkeeperError("DATA_EMPTY", "no data rows after the header", { input: path });
  if (report.rowsKept === 0) throw new RiskkeeperError("DATA_EMPTY", `all ${report.rowsRead} rows were rejected`, { input: path, details: { report } });
  if (intervals.length > 0) {
    const sorted = Float64Array.from(intervals).sort();
    const mid = sorted.length >> 1;
    const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    report.updateIntervals = { median, max: sorted[sorted.length - 1], maxAt: longest?.after ?? null };
  }
  if (options.heartbeatSeconds !== undefined) {
    report.heartbeat = { seconds: options.heartbeatSeconds, graceSeconds: grace, over: hbOver, overWithGrace: hbOverGrace, longest };
  }
  const rounds: RoundSeries = {
    decimals,
    roundId: roundIds,
    phaseId: Uint16Array.from(phaseCol.toArray()),
    aggregatorRoundId: aggCol.toArray(),
    answerRaw: raws.length === roundIds.length ? raws : null,
    answer: answerCol.toArray(),
    startedAt: startedCol.toArray(),
    updatedAt: updatedCol.toArray(),
    line: lineCol.toArray(),
  };
  return { rounds, report };
}

export interface SampleComparison {
  /** Samples whose time falls inside the history's span. */
  samplesInSpan: number;
  /** ...whose round is the one the history says was latest at the sample time. */
  matching: number;
  /** ...that name another round: the proxy served something the history does not show (e.g. another phase). */
  differing: { count: number; firstDay: string | null; lastDay: string | null; phases: Record<string, number> };
}

/**
 * Checks a daily sample of a feed (the round live at each day's 23:59:59 UTC, as the proxy served it)
 * against a full round history: on each sampled day, was the history's latest round the one the
 * proxy served? Days that differ show a history the consumers did not read, like the phase-6 rounds
 * of ETH/USD that ran beside phase 5 until 2023-05-07.
 */
export function compareDailySamples(history: RoundSeries, daily: RoundSeries): SampleComparison {
  const out: SampleComparison = { samplesInSpan: 0, matching: 0, differing: { count: 0, firstDay: null, lastDay: null, phases: {} } };
  const first = history.updatedAt[0];
  const last = history.updatedAt[history.updatedAt.length - 1];
  for (let i = 0; i < daily.updatedAt.length; i++) {
    const sampleAt = Math.floor(daily.updatedAt[i] / 86400) * 86400 + 86399;
    if (sampleAt < first || sampleAt > last) continue;
    out.samplesInSpan++;
    let lo = 0, hi = history.updatedAt.length - 1, idx = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (history.updatedAt[mid] <= sampleAt) { idx = mid; lo = mid + 1; } else hi = mid - 1;
    }
    if (idx >= 0 && history.roundId[idx] === daily.roundId[i]) out.matching++;
    else {
      const day = isoTime(sampleAt).slice(0, 10);
      const d = out.differing;
      d.count++;
      d.firstDay ??= day;
      d.lastDay = day;
      d.phases[String(daily.phaseId[i])] = (d.phases[String(daily.phaseId[i])] ?? 0) + 1;
    }
  }
  return out;
}
