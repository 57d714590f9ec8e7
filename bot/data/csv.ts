// Streaming CSV reader: yields one row at a time with its 1-based file line number, so memory stays
// bounded by the longest line, not the file. Handles a UTF-8 BOM, CRLF line ends, blank lines and
// RFC 4180 quoted fields (without embedded newlines). A row cap (`maxRows`) turns a runaway input
// into a clear DATA_TOO_LARGE error instead of an out-of-memory crash.
import { createReadStream, statSync } from "node:fs";
import { createInterface } from "node:readline";
import { RiskkeeperError } from "../errors.ts";

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
  rows: AsyncGenerator<CsvRow>;
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
 * Opens `path` and reads its header. Throws DATA_EMPTY when the file has no non-blank line and
 * FEED_FAILED-free plain I/O errors (ENOENT) as DATA_EMPTY with the OS reason as cause.
 *
 * @example
 * const csv = await openCsv("prices.csv", { maxRows: 1_000_000 });
 * for await (const { line, fields } of csv.rows) { ... }
 */
export async function openCsv(path: string, options: CsvReadOptions = {}): Promise<CsvFile> {
  try {
    statSync(path);
  } catch (cause) {
    throw new RiskkeeperError("DATA_EMPTY", `cannot read file (${(cause as NodeJS.ErrnoException).code ?? "error"})`, { input: path, cause });
  }
  const stream = createReadStream(path, { encoding: "utf8", highWaterMark: 1 << 16 });
  const rl = createInterface({ input: stream, crlfDelay: Infinity });
  const it = rl[Symbol.asyncIterator]();
  let lineNo = 0;
  let header: string[] = [];
  let headerLine = 0;
  let first: CsvRow | undefined;
  for (;;) {
    const next = await it.next();
    if (next.done) break;
    lineNo++;
    let text = next.value;
    if (lineNo === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    if (text.trim() === "") continue;
    if (options.headerless) first = { line: lineNo, fields: splitCsvLine(text) };
    else {
      header = splitCsvLine(text).map((h) => h.trim());
      headerLine = lineNo;
    }
    break;
  }
  if (!options.headerless && header.length === 0) {
    rl.close();
    stream.destroy();
    throw new RiskkeeperError("DATA_EMPTY", "file is empty (no header row)", { input: path });
  }
  const maxRows = options.maxRows ?? Infinity;
  async function* rows(): AsyncGenerator<CsvRow> {
    let count = 0;
    try {
      if (first) { count++; yield first; }
      for (;;) {
        const next = await it.next();
        if (next.done) break;
        lineNo++;
        const text = next.value;
        if (text.length === 0 || text.trim() === "") continue;
        if (++count > maxRows) {
          throw new RiskkeeperError("DATA_TOO_LARGE", `more than ${maxRows} data rows (row cap maxRows); raise the cap or split the file`, {
            input: `${path}:${lineNo}`,
            details: { maxRows },
          });
        }
        yield { line: lineNo, fields: splitCsvLine(text) };
      }
    } finally {
      rl.close();
      stream.destroy();
    }
  }
  return { path, header, headerLine, rows: rows() };
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
