// The keeper's logs: winston, JSON lines to a file (for machines) and readable lines to the
// terminal (for people). Every line of an update carries its updateId (and market): take a child
// logger with forUpdate(). Timestamps come from the keeper's Clock, so a replay logs simulated time.
//
// Redaction runs before any transport sees a line, on the message and on every field, nested:
//   - secrets the keeper knows (private key, RPC URLs from the config): replaced wherever they appear;
//   - fields named like secrets (password, passphrase, secret, privateKey, mnemonic, apiKey, token,
//     authorization, credentials): the whole value;
//   - 32-byte hex strings (0x + 64 hex, or 64 bare hex: the shape of a private key) in free text and
//     in any field not named as a public hash — so hashes go in fields named `...Hash` (evidenceHash,
//     txHash, blockHash, observationHash, configHash) or `idempotencyKey`, where they are kept;
//   - URLs: credentials (user:pass@), the path segment after a version segment (Alchemy /v2/KEY,
//     Infura /v3/KEY), long token-like path segments (QuickNode) and every query value;
//   - "Bearer <token>" / "Basic <credentials>" in free text.
import { createWriteStream, mkdirSync, type WriteStream } from "node:fs";
import path from "node:path";
import { Writable } from "node:stream";
import { finished } from "node:stream/promises";
import winston from "winston";
import type { Clock } from "./clock.ts";
import type { LogLevel } from "./config.ts";
import { MASK, redactUrl } from "../url-mask.ts";

export { MASK, redactUrl };


const SECRET_FIELD = /pass(word|phrase)?$|secret|private.?key|mnemonic|seed.?phrase|api.?key|^token$|access.?token|auth(orization)?$|credentials?$/i;
const PUBLIC_HASH_FIELD = /hash$|^idempotencyKey$|^topics?$/i;
const HEX32 = /\b(0x)?[0-9a-fA-F]{64}\b/g;
const URL_PATTERN = /\b(?:https?|wss?):\/\/[^\s"'<>]+/gi;
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/g;

export interface Redactor {
  /** Redacts a free-text string (known secrets, 32-byte hex, URLs). */
  string(text: string): string;
  /** Redacts a value deeply, returning a copy (bigint becomes a decimal string). */
  value(value: unknown, key?: string): unknown;
}

/** Builds a redactor that also replaces the given known secrets (e.g. the signer's key, RPC URLs). */
export function createRedactor(knownSecrets: readonly string[] = []): Redactor {
  const secrets = [...new Set(knownSecrets.filter((s) => typeof s === "string" && s.length >= 6))].sort((a, b) => b.length - a.length);
  const str = (text: string, keepHex = false): string => {
    let out = text;
    for (const s of secrets) out = out.split(s).join(s.includes("://") ? redactUrl(s) : MASK);
    out = out.replace(URL_PATTERN, (m) => redactUrl(m));
    out = out.replace(BEARER, (_m, scheme: string) => `${scheme} ${MASK}`);
    if (!keepHex) out = out.replace(HEX32, (m) => (m.startsWith("0x") ? `0x${MASK}` : MASK));
    return out;
  };
  const value = (v: unknown, key?: string, seen = new WeakSet<object>()): unknown => {
    if (key !== undefined && SECRET_FIELD.test(key) && v !== undefined && v !== null && v !== "") return MASK;
    if (typeof v === "string") return str(v, key !== undefined && PUBLIC_HASH_FIELD.test(key));
    if (typeof v === "bigint") return v.toString(10);
    if (typeof v !== "object" || v === null) return v;
    if (seen.has(v)) return "[Circular]";
    seen.add(v);
    if (Array.isArray(v)) return v.map((x) => value(x, key, seen));
    if (v instanceof Error) {
      return { name: v.name, message: str(v.message), ...(v.stack ? { stack: str(v.stack) } : {}), ...("code" in v ? { code: (v as { code: unknown }).code } : {}) };
    }
    if (v instanceof Date) return v.toISOString();
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = value(x, k, seen);
    return out;
  };
  return { string: (t) => str(t), value: (v, k) => value(v, k) };
}

/** winston format applying the redactor to the message and every string-keyed field. */
export function redactionFormat(redactor: Redactor): winston.Logform.Format {
  return winston.format((info) => {
    for (const key of Object.keys(info)) {
      if (key === "level") continue;
      (info as Record<string, unknown>)[key] = key === "message" && typeof info.message === "string" ? redactor.string(info.message) : redactor.value(info[key], key);
    }
    return info;
  })();
}

export interface KeeperLoggerOptions {
  level: LogLevel;
  /** JSON-lines file (appended). Absent: no file. */
  file?: string;
  /** Readable lines go here. Default process.stderr; false: no terminal output. */
  terminal?: Writable | false;
  clock: Clock;
  /** Secret values to mask wherever they appear (the signer's key, RPC URLs with keys). */
  secrets?: readonly string[];
}

export interface KeeperLogger {
  logger: winston.Logger;
  /** Flushes and closes the file. */
  close(): Promise<void>;
}

function readableLine(info: winston.Logform.TransformableInfo): string {
  const { level, message, timestamp, updateId, market, stack, ...rest } = info as Record<string, unknown>;
  const tag = [market, updateId].filter((x) => x !== undefined).join(" ");
  const fields = Object.entries(rest)
    .filter(([k]) => typeof k === "string")
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join(" ");
  const trace = typeof stack === "string" ? `\n${stack.split("\n").slice(1).join("\n")}` : "";
  return `${String(timestamp)} ${String(level).padEnd(5)}${tag ? ` [${tag}]` : ""} ${String(message)}${fields ? ` ${fields}` : ""}${trace}`;
}

/** Creates the keeper's logger: JSON lines to `file`, readable lines to the terminal, redacted. */
export function createKeeperLogger(options: KeeperLoggerOptions): KeeperLogger {
  const redactor = createRedactor(options.secrets ?? []);
  const stamp = winston.format((info) => {
    info.timestamp = new Date(options.clock.now()).toISOString();
    return info;
  })();
  const transports: winston.transport[] = [];
  let fileStream: WriteStream | undefined;
  if (options.file) {
    mkdirSync(path.dirname(options.file), { recursive: true });
    fileStream = createWriteStream(options.file, { flags: "a" });
    // A log file that cannot be written (disk full, permissions) must not end the keeper: say so
    // once on the terminal and go on with the other transports.
    const logFile = options.file;
    let reported = false;
    fileStream.on("error", (error) => {
      if (reported) return;
      reported = true;
      (options.terminal || process.stderr).write(`riskkeeper: cannot write the log file ${logFile}: ${error.message}\n`);
    });
    transports.push(new winston.transports.Stream({ stream: fileStream, format: winston.format.json() }));
  }
  const terminal = options.terminal === undefined ? process.stderr : options.terminal;
  if (terminal) transports.push(new winston.transports.Stream({ stream: terminal, format: winston.format.printf(readableLine) }));
  if (transports.length === 0) transports.push(new winston.transports.Stream({ stream: new Writable({ write: (_c, _e, cb) => cb() }) }));
  const logger = winston.createLogger({
    level: options.level,
    levels: { error: 0, warn: 1, info: 2, debug: 3 },
    format: winston.format.combine(winston.format.errors({ stack: true }), stamp, redactionFormat(redactor)),
    transports,
    exitOnError: false,
  });
  return {
    logger,
    close: async () => {
      // Let winston pass on what it holds, then flush the file.
      await new Promise<void>((resolve) => {
        logger.once("finish", () => resolve());
        logger.end();
      });
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (fileStream) {
        fileStream.end();
        await finished(fileStream).catch(() => {});
      }
    },
  };
}

/** The child logger for one update: every line carries its updateId and market. */
export function forUpdate(logger: winston.Logger, record: { updateId: string; market: string }): winston.Logger {
  return logger.child({ updateId: record.updateId, market: record.market });
}

/** The child logger for one market's runs. */
export function forMarket(logger: winston.Logger, market: string): winston.Logger {
  return logger.child({ market });
}
