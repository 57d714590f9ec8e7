// Timestamps: detect the format of a time column from its first value (ISO-8601 date or date-time,
// Unix seconds, milliseconds or microseconds), then parse every later value in that same format, so a
// file that switches format mid-way is an error naming the line. Everything inside the keeper is
// Unix seconds (a float, so milliseconds survive).
import { RiskkeeperError } from "../errors.ts";

export type TimeFormat = "unix_s" | "unix_ms" | "unix_us" | "iso8601_date" | "iso8601_datetime";

const NUMERIC = /^\d+(\.\d+)?$/;
// 2024-01-02, 2024-01-02 03:04, 2024-01-02T03:04:05.678Z, 2024-01-02 03:04:05+02:00
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/;

/** Detects the format of one timestamp cell, or returns undefined when it is not a timestamp. */
export function detectTimeFormat(value: string): TimeFormat | undefined {
  const v = value.trim();
  if (NUMERIC.test(v)) {
    const n = Number(v);
    if (n < 1e11) return "unix_s"; // 1e11 s is the year 5138; 1e11 ms is 1973-03-03
    if (n < 1e14) return "unix_ms";
    if (n < 1e17) return "unix_us"; // Binance spot klines use microseconds from 2025 on
    return undefined;
  }
  const m = ISO.exec(v);
  if (!m) return undefined;
  return m[4] === undefined ? "iso8601_date" : "iso8601_datetime";
}

/** Parses `value` in `format` to Unix seconds; NaN when it does not match that format. */
export function parseTime(value: string, format: TimeFormat): number {
  const v = value.trim();
  switch (format) {
    case "unix_s":
    case "unix_ms":
    case "unix_us": {
      // Fast path (millions of rows): digits only, then the magnitude must match the format.
      const c0 = v.charCodeAt(0);
      if (!(c0 >= 48 && c0 <= 57)) return NaN;
      const n = Number(v);
      if (!(n >= 0)) return NaN;
      if (format === "unix_s") return n < 1e11 ? n : NaN;
      if (format === "unix_ms") return n >= 1e11 && n < 1e14 ? n / 1e3 : NaN;
      return n >= 1e14 && n < 1e17 ? n / 1e6 : NaN;
    }
    default: {
      const m = ISO.exec(v);
      if (!m) return NaN;
      if ((m[4] === undefined) !== (format === "iso8601_date")) return NaN;
      const ms = Date.UTC(+m[1], +m[2] - 1, +m[3], m[4] ? +m[4] : 0, m[5] ? +m[5] : 0, m[6] ? +m[6] : 0);
      let s = ms / 1e3 + (m[7] ? Number(m[7]) : 0);
      const tz = m[8];
      if (tz && tz !== "Z") {
        const sign = tz[0] === "-" ? -1 : 1;
        const digits = tz.slice(1).replace(":", "");
        s -= sign * (Number(digits.slice(0, 2)) * 3600 + Number(digits.slice(2)) * 60);
      }
      // Reject impossible dates (2024-02-30) that Date.UTC would silently roll over.
      const d = new Date(ms);
      if (d.getUTCDate() !== +m[3] || d.getUTCMonth() !== +m[2] - 1) return NaN;
      return s;
    }
  }
}

/** Parses a user-supplied time (`--at`): ISO-8601 or Unix seconds/ms. Throws INPUT_INVALID. */
export function parseTimeArg(value: string, input: string): number {
  const f = detectTimeFormat(value);
  const t = f ? parseTime(value, f) : NaN;
  if (!Number.isFinite(t)) throw new RiskkeeperError("INPUT_INVALID", `'${value}' is not an ISO-8601 time or Unix seconds/milliseconds`, { input });
  return t;
}

/** Unix seconds to `2024-01-02T03:04:05Z` (milliseconds shown only when present). */
export function isoTime(seconds: number): string {
  if (!Number.isFinite(seconds)) return String(seconds);
  const iso = new Date(Math.round(seconds * 1000)).toISOString();
  return iso.endsWith(".000Z") ? `${iso.slice(0, -5)}Z` : iso;
}

const UNIT: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/** Parses an interval such as `30s`, `15m`, `1h`, `1d`, `1w` (or plain seconds) to seconds. */
export function parseInterval(value: string, input = "interval"): number {
  const m = /^(\d+(?:\.\d+)?)\s*([smhdw]?)$/.exec(value.trim());
  const seconds = m ? Number(m[1]) * (m[2] ? UNIT[m[2]] : 1) : NaN;
  if (!(seconds > 0) || !Number.isFinite(seconds)) {
    throw new RiskkeeperError("INPUT_INVALID", `'${value}' is not an interval like 15m, 1h or 1d`, { input });
  }
  return seconds;
}

/** Seconds to the shortest exact label: 3600 -> "1h", 90 -> "90s". */
export function formatInterval(seconds: number): string {
  for (const [u, n] of [["w", 604800], ["d", 86400], ["h", 3600], ["m", 60]] as const) {
    if (seconds >= n && seconds % n === 0) return `${seconds / n}${u}`;
  }
  return `${seconds}s`;
}
