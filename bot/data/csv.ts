// Streaming CSV reader: yields rows (in batches per 64 KiB chunk) with their 1-based file line
// numbers, so memory stays bounded by the chunk size, not the file. Handles a UTF-8 BOM, CRLF line ends, blank lines and
// RFC 4180 quoted fields (without embedded newlines). A row cap (`maxRows`) turns a runaway input
// into a clear DATA_TOO_LARGE error instead of an out-of-memory crash.
import { createReadStream, statSync } from "node:fs";
import { RiskkeeperError } from "../errors.ts";

/** Longest line accepted (a file without newlines is not a CSV; this keeps memory bounded). */
const MAX_LINE = 1 << 20;

export interface CsvReadOptions {
  /** Stop with DATA_TOO_LARGE once more than this many data rows have been read. Default: no cap. */
  maxRows?: number;
  /** The file has no header row: `header` is then empty and every line is a data row. */
  headerless?: boolean;
}

export interface CsvRow {
  /** 1-based line number in the file (the header is line 1). */
  line: number;
  fields: string[];
}

export interface CsvFile {
  path: string;
  /** Header names, trimmed and unquoted (empty when the file is headerless). */
  header: string[];
  /** Line number of the header (1 unless the file starts with blank lines). */
  headerLine: number;
  /** Data rows in batches (use either `batches` or `rows`, not both). */
  batches: AsyncGenerator<CsvRow[]>;
  rows: AsyncGenerator<CsvRow>;
  /** Stops reading and releases the file (safe to call at any time, and more than once). */
  close(): void;
}

/** Splits one CSV line; the fast path (no quote character) is a plain split. */
export function splitCsvLine(text: string): string[] {
  if (text.indexOf('"') < 0) return text.split(",");
  const out: string[] = [];
  let cur = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') { cur += '"'; i++; } else quoted = false;
      } else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") { out.push(cur); cur = ""; }
    else cur += ch;
  }
  out.push(cur);
  return out;
}

/**
 * Opens `path` and reads its header. Throws DATA_EMPTY when the file cannot be read or has no
 * non-blank line. Rows come in batches (one per 64 KiB chunk) to keep the per-row cost low;
 * `rows` flattens them for callers that prefer one row at a time.
 *
 * @example
 * const csv = await openCsv("prices.csv", { maxRows: 1_000_000 });
 * for await (const batch of csv.batches) for (const { line, fields } of batch) { ... }
 */
export async function openCsv(path: string, options: CsvReadOptions = {}): Promise<CsvFile> {
  try {
    statSync(path);
  } catch (cause) {
    throw new RiskkeeperError("DATA_EMPTY", `cannot read file (${(cause as NodeJS.ErrnoException).code ?? "error"})`, { input: path, cause });
  }
  const stream = createReadStream(path, { encoding: "utf8", highWaterMark: 1 << 16 });
  const chunks = stream[Symbol.asyncIterator]() as AsyncIterator<string>;
  let lineNo = 0;
  let rest = "";
  let eof = false;
  /** Next chunk of complete lines (the last one may lack its newline at EOF); null at the end. */
  async function nextLines(): Promise<string[] | null> {
    while (!eof) {
      const next = await chunks.next();
      let text: string;
      if (next.done) {
        eof = true;
        text = rest;
        rest = "";
        if (text.length === 0) return null;
        return [text];
      }
      text = rest + next.value;
      const cut = text.lastIndexOf("\n");
      if (cut < 0) {
        if (text.length > MAX_LINE) {
          stream.destroy();
          throw new RiskkeeperError("DATA_BAD_VALUE", `line ${lineNo + 1} is longer than ${MAX_LINE} characters: not a CSV file?`, { input: `${path}:${lineNo + 1}` });
        }
        rest = text;
        continue;
      }
      rest = text.slice(cut + 1);
      return text.slice(0, cut).split("\n");
    }
    return null;
  }
  const clean = (line: string): string => (line.charCodeAt(line.length - 1) === 13 ? line.slice(0, -1) : line);

  let header: string[] = [];
  let headerLine = 0;
  let pending: string[] = [];
  let pendingStart = 0;
  outer: for (;;) {
    const lines = await nextLines();
    if (lines === null) break;
    for (let k = 0; k < lines.length; k++) {
      lineNo++;
      let text = clean(lines[k]);
      if (lineNo === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      if (text.trim() === "") continue;
      if (options.headerless) {
        lines[k] = text;
        pending = lines.slice(k);
        pendingStart = lineNo;
      } else {
        header = splitCsvLine(text).map((h) => h.trim());
        headerLine = lineNo;
        pending = lines.slice(k + 1);
        pendingStart = lineNo + 1;
      }
      break outer;
    }
  }
  if (!options.headerless && header.length === 0) {
    stream.destroy();
    throw new RiskkeeperError("DATA_EMPTY", "file is empty (no header row)", { input: path });
  }
  const maxRows = options.maxRows ?? Infinity;
  lineNo = pendingStart - 1;
  let count = 0;
  async function* batches(): AsyncGenerator<CsvRow[]> {
    try {
      let lines: string[] | null = pending;
      while (lines !== null) {
        const batch: CsvRow[] = [];
        for (let k = 0; k < lines.length; k++) {
          lineNo++;
          const text = clean(lines[k]);
          if (text.length === 0 || (text.charCodeAt(0) <= 32 && text.trim() === "")) continue;
          if (++count > maxRows) {
            throw new RiskkeeperError("DATA_TOO_LARGE", `more than ${maxRows} data rows (row cap maxRows); raise the cap or split the file`, {
              input: `${path}:${lineNo}`,
              details: { maxRows },
            });
          }
          batch.push({ line: lineNo, fields: splitCsvLine(text) });
        }
        if (batch.length > 0) yield batch;
        lines = await nextLines();
      }
    } finally {
      stream.destroy();
    }
  }
  const b = batches();
  async function* rows(): AsyncGenerator<CsvRow> {
    for await (const batch of b) yield* batch;
  }
  return { path, header, headerLine, batches: b, rows: rows(), close: () => { stream.destroy(); } };
}

/** Case-insensitive header lookup: the index of the first of `names` present, or -1. */
export function findColumn(header: readonly string[], names: readonly string[]): number {
  const lower = header.map((h) => h.toLowerCase());
  for (const n of names) {
    const i = lower.indexOf(n.toLowerCase());
    if (i >= 0) return i;
  }
  return -1;
}
