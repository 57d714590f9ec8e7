// The keeper's one config file: markets (feed, data, policy, schedule), deployment, gas ceilings,
// stress triggers, fork settings, health server, logging, state, kill switch and submission mode.
// Validated once at start-up (validateKeeperConfig), with errors naming the key path
// (`markets[1].feed: not an address`); everything after trusts the resolved config. Relative paths
// are resolved against the config file's folder. Nothing here reads process.env or writes a file.
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { getAddress, isAddress, keccak256, toUtf8Bytes } from "ethers";
import { RiskkeeperError } from "../errors.ts";
import { LEVELS, resolveStressConfig, type StressConfig, type StressConfigInput, type StressLevel } from "../signals/index.ts";
import { validateCron } from "./clock.ts";
import { canonicalJson } from "./evidence.ts";

export type SubmissionMode = "direct" | "governance" | "automation";
export const SUBMISSION_MODES: readonly SubmissionMode[] = ["direct", "governance", "automation"];
export type LogLevel = "error" | "warn" | "info" | "debug";
export const LOG_LEVELS: readonly LogLevel[] = ["error", "warn", "info", "debug"];

export interface ScheduleConfig {
  /** Cron (UTC) of the signal watch. Default every 5 seconds: "*\/5 * * * * *". */
  watch: string;
  /** Cron (UTC) of the regular recalibration. Default hourly at minute 0: "0 * * * *". */
  calibrate: string;
}

export interface GasConfig {
  /** Ceiling on maxFeePerGas, in gwei: above it the keeper waits rather than pays. Default 200. */
  maxFeePerGasGwei: number;
  /** Ceiling on maxPriorityFeePerGas, in gwei. Default 5. */
  maxPriorityFeePerGasGwei: number;
  /** Gas limit of one steward call. Default 500,000 (5 smile parameters cost ~180k). */
  gasLimit: number;
}

export interface StressTriggerConfig {
  /** A watch whose snapshot reaches this level triggers an immediate run. Default "stressed". */
  triggerLevel: StressLevel;
  /** bot/signals thresholds, merged over its defaults. */
  signals: StressConfig;
}

export interface ForkConfig {
  /** Run the fork gate. Default true; false only for shadow experiments (nothing is submitted without it). */
  enabled: boolean;
  /** Archive RPC to fork; absent: the in-process chain. May hold an API key: never logged or exposed. */
  url?: string;
  /** Block to fork at; absent: latest at the time of the run. */
  blockNumber?: number;
  /** Wall-clock limit of one fork validation, ms. Default 120,000. */
  timeoutMs: number;
}

export interface DeploymentConfig {
  /** "embedded": deploy to the in-process chain at start; or a deployment JSON file; or explicit addresses. */
  kind: "embedded" | "file" | "addresses";
  file?: string;
  steward?: string;
  protocol?: string;
}

export interface MarketConfig {
  name: string;
  /** Chainlink-compatible feed address; absent when `replay` serves recorded rounds. */
  feed?: string;
  /** Recorded rounds served by a ReplayAggregator (embedded mode, replays). */
  replay?: { source: string };
  /**
   * Price history file (CSV/JSON, bot/data formats). With history "file" the calibration reads it
   * alone; with history "feed" it is the backfill the feed's rounds extend. Absent: the feed alone.
   */
  data?: string;
  /**
   * Where the calibration's history comes from. "feed": the rounds of `feed` read from the chain
   * (interval closes, no look-ahead), behind `data` when given; "file": `data` alone. Default:
   * "file" when `data` is given, else "feed".
   */
  history: { source: "feed" | "file"; maxRounds: number };
  /** A known policy name, or the resolved path of a policy JSON file. */
  policy: { name: string; file?: string };
  steward?: string;
  protocol?: string;
  schedule: ScheduleConfig;
}

export interface KeeperConfig {
  /** Where the file came from (for messages); "(default)" for the embedded default. */
  source: string;
  markets: MarketConfig[];
  deployment: DeploymentConfig;
  /** JSON-RPC URL of the chain; absent in embedded mode. May hold an API key: never logged or exposed. */
  rpcUrl?: string;
  /** Cap on feed-read requests per second to rpcUrl (the polite client's). Default 10. */
  rpcRequestsPerSecond: number;
  gas: GasConfig;
  stress: StressTriggerConfig;
  fork: ForkConfig;
  health: { host: string; port: number; enabled: boolean };
  log: { level: LogLevel; file?: string };
  state: { file: string; keepTerminalPerMarket: number };
  /** The kill switch: while this file exists, nothing is submitted (watching goes on). */
  killSwitchFile: string;
  submission: { mode: SubmissionMode };
}

export interface ValidateOptions {
  /** Policy names the caller knows (e.g. the files in policies/). A name outside the list is an error. */
  knownPolicies: readonly string[];
  /** Folder relative paths are resolved against. Default: the config file's folder, or the cwd. */
  baseDir?: string;
  /** Where the document came from, for messages. */
  source?: string;
  /** Check that referenced input files (data, replay, policy, deployment) exist. Default true. */
  checkFiles?: boolean;
}

export const DEFAULT_SCHEDULE: ScheduleConfig = Object.freeze({ watch: "*/5 * * * * *", calibrate: "0 * * * *" });
export const DEFAULT_HEALTH_PORT = 9464;
const STATE_DIR = ".riskkeeper";

const KNOWN_TOP = ["markets", "deployment", "rpcUrl", "rpcRequestsPerSecond", "gas", "schedule", "stress", "fork", "health", "log", "state", "killSwitchFile", "submission"];
const KNOWN_MARKET = ["name", "feed", "replay", "data", "history", "policy", "steward", "protocol", "schedule"];
export const DEFAULT_FEED_MAX_ROUNDS = 5_000;

type Obj = Record<string, unknown>;

/** Validates a parsed config document and resolves it with defaults; throws CONFIG_INVALID naming the key path. */
export function validateKeeperConfig(doc: unknown, options: ValidateOptions): KeeperConfig {
  const source = options.source ?? "config";
  const baseDir = options.baseDir ?? process.cwd();
  const checkFiles = options.checkFiles ?? true;
  const fail = (key: string, message: string, cause?: unknown): never => {
    throw new RiskkeeperError("CONFIG_INVALID", message, { input: `${source}: ${key}`, ...(cause !== undefined ? { cause } : {}) });
  };
  const obj = (v: unknown, key: string): Obj => {
    if (typeof v !== "object" || v === null || Array.isArray(v)) fail(key, "expected a JSON object");
    return v as Obj;
  };
  const optObj = (v: unknown, key: string): Obj => (v === undefined ? {} : obj(v, key));
  const noUnknown = (o: Obj, known: readonly string[], prefix: string): void => {
    for (const k of Object.keys(o)) if (!known.includes(k)) fail(`${prefix}${k}`, `unknown key; expected one of ${known.join(", ")}`);
  };
  const str = (v: unknown, key: string): string => {
    if (typeof v !== "string" || v.trim().length === 0) fail(key, v === undefined ? "missing" : "expected a non-empty string");
    return v as string;
  };
  const num = (v: unknown, key: string, def: number, check: (n: number) => boolean, what: string): number => {
    if (v === undefined) return def;
    if (typeof v !== "number" || !Number.isFinite(v) || !check(v)) fail(key, `expected ${what}, got ${JSON.stringify(v)}`);
    return v as number;
  };
  const address = (v: unknown, key: string): string => {
    if (v === undefined) fail(key, "missing; expected an address");
    if (typeof v !== "string" || !/^0x[0-9a-fA-F]{40}$/.test(v)) fail(key, `not an address: ${JSON.stringify(v)}`);
    if (!isAddress(v)) fail(key, `bad address checksum: ${v as string}`);
    if (/^0x0{40}$/.test(v as string)) fail(key, "the zero address is not a contract");
    return getAddress(v as string);
  };
  const file = (v: unknown, key: string): string => {
    const p = path.resolve(baseDir, str(v, key));
    if (checkFiles && !existsSync(p)) fail(key, `file not found: ${p}`);
    return p;
  };
  const cron = (v: unknown, key: string, def: string): string => {
    if (v === undefined) return def;
    if (typeof v !== "string") fail(key, "expected a cron expression string");
    try {
      validateCron(v as string, key);
    } catch (error) {
      fail(key, (error as RiskkeeperError).message.replace(`${key}: `, ""), error);
    }
    return (v as string).trim();
  };
  const url = (v: unknown, key: string): string | undefined => {
    if (v === undefined) return undefined;
    const s = str(v, key);
    let u: URL | undefined;
    try { u = new URL(s); } catch { /* below */ }
    // The value is not echoed: it may carry an API key.
    if (!u || !["http:", "https:", "ws:", "wss:"].includes(u.protocol)) fail(key, "expected an http(s) or ws(s) URL");
    return s;
  };

  const root = obj(doc, "(root)");
  noUnknown(root, KNOWN_TOP, "");

  const topSchedule = optObj(root.schedule, "schedule");
  noUnknown(topSchedule, ["watch", "calibrate"], "schedule.");
  const defaultSchedule: ScheduleConfig = {
    watch: cron(topSchedule.watch, "schedule.watch", DEFAULT_SCHEDULE.watch),
    calibrate: cron(topSchedule.calibrate, "schedule.calibrate", DEFAULT_SCHEDULE.calibrate),
  };

  // Deployment first: market addresses may come from it.
  let deployment: DeploymentConfig;
  if (root.deployment === undefined || root.deployment === "embedded") deployment = { kind: "embedded" };
  else if (typeof root.deployment === "string") deployment = { kind: "file", file: file(root.deployment, "deployment") };
  else {
    const d = obj(root.deployment, "deployment");
    noUnknown(d, ["steward", "protocol"], "deployment.");
    deployment = { kind: "addresses", steward: address(d.steward, "deployment.steward"), protocol: address(d.protocol, "deployment.protocol") };
  }

  if (!Array.isArray(root.markets) || root.markets.length === 0) fail("markets", root.markets === undefined ? "missing; expected a non-empty array of markets" : "expected a non-empty array of markets");
  const names = new Set<string>();
  const markets = (root.markets as unknown[]).map((raw, i): MarketConfig => {
    const k = `markets[${i}]`;
    const m = obj(raw, k);
    noUnknown(m, KNOWN_MARKET, `${k}.`);
    const name = str(m.name, `${k}.name`);
    if (name.length > 31) fail(`${k}.name`, "at most 31 characters (stored on-chain as bytes32)");
    if (names.has(name)) fail(`${k}.name`, `market '${name}' appears twice`);
    names.add(name);
    let replay: MarketConfig["replay"];
    if (m.replay !== undefined) {
      const r = obj(m.replay, `${k}.replay`);
      noUnknown(r, ["source"], `${k}.replay.`);
      replay = { source: file(r.source, `${k}.replay.source`) };
    }
    if (m.feed === undefined && replay === undefined) fail(`${k}.feed`, "missing; give the feed address, or replay.source for recorded rounds");
    const feed = m.feed === undefined ? undefined : address(m.feed, `${k}.feed`);
    if (feed !== undefined && replay !== undefined) fail(`${k}`, "give either feed or replay, not both");

    let history: MarketConfig["history"];
    {
      const h = typeof m.history === "string" || m.history === undefined ? { source: m.history } : obj(m.history, `${k}.history`);
      noUnknown(h, ["source", "maxRounds"], `${k}.history.`);
      const source = h.source ?? (m.data !== undefined ? "file" : "feed");
      if (source !== "feed" && source !== "file") fail(`${k}.history${typeof m.history === "string" ? "" : ".source"}`, `expected "feed" or "file", got ${JSON.stringify(source)}`);
      if (source === "file" && m.data === undefined) fail(`${k}.data`, 'missing; history "file" calibrates on a data file');
      if (source === "feed" && feed === undefined && replay === undefined) fail(`${k}.feed`, 'missing; history "feed" reads the feed\'s rounds');
      const maxRounds = num(h.maxRounds, `${k}.history.maxRounds`, DEFAULT_FEED_MAX_ROUNDS, (n) => Number.isInteger(n) && n >= 2 && n <= 1_000_000, "an integer in [2, 1000000]");
      history = { source: source as "feed" | "file", maxRounds };
    }

    let policy: MarketConfig["policy"];
    const p = str(m.policy, `${k}.policy`);
    if (options.knownPolicies.includes(p)) policy = { name: p };
    else if (p.endsWith(".json")) policy = { name: path.basename(p, ".json"), file: file(p, `${k}.policy`) };
    else fail(`${k}.policy`, `unknown policy '${p}'; known policies: ${options.knownPolicies.join(", ") || "(none)"}, or a path to a .json policy file`);

    const s = optObj(m.schedule, `${k}.schedule`);
    noUnknown(s, ["watch", "calibrate"], `${k}.schedule.`);
    const steward = m.steward === undefined ? deployment.steward : address(m.steward, `${k}.steward`);
    const protocol = m.protocol === undefined ? deployment.protocol : address(m.protocol, `${k}.protocol`);
    return {
      name,
      ...(feed !== undefined ? { feed } : {}),
      ...(replay !== undefined ? { replay } : {}),
      ...(m.data !== undefined ? { data: file(m.data, `${k}.data`) } : {}),
      history,
      policy: policy!,
      ...(steward !== undefined ? { steward } : {}),
      ...(protocol !== undefined ? { protocol } : {}),
      schedule: {
        watch: cron(s.watch, `${k}.schedule.watch`, defaultSchedule.watch),
        calibrate: cron(s.calibrate, `${k}.schedule.calibrate`, defaultSchedule.calibrate),
      },
    };
  });

  const rpcUrl = url(root.rpcUrl, "rpcUrl");
  if (deployment.kind !== "embedded" && rpcUrl === undefined) fail("rpcUrl", "missing; a deployment file or addresses need the chain's RPC URL (omit deployment for the embedded chain)");

  const g = optObj(root.gas, "gas");
  noUnknown(g, ["maxFeePerGasGwei", "maxPriorityFeePerGasGwei", "gasLimit"], "gas.");
  const gas: GasConfig = {
    maxFeePerGasGwei: num(g.maxFeePerGasGwei, "gas.maxFeePerGasGwei", 200, (n) => n > 0, "a positive number of gwei"),
    maxPriorityFeePerGasGwei: num(g.maxPriorityFeePerGasGwei, "gas.maxPriorityFeePerGasGwei", 5, (n) => n >= 0, "a number of gwei >= 0"),
    gasLimit: num(g.gasLimit, "gas.gasLimit", 500_000, (n) => Number.isSafeInteger(n) && n >= 21_000 && n <= 30_000_000, "an integer in [21000, 30000000]"),
  };
  if (gas.maxPriorityFeePerGasGwei > gas.maxFeePerGasGwei) fail("gas.maxPriorityFeePerGasGwei", "must not exceed gas.maxFeePerGasGwei");

  const st = optObj(root.stress, "stress");
  noUnknown(st, ["triggerLevel", "signals"], "stress.");
  const triggerLevel = st.triggerLevel === undefined ? "stressed" : st.triggerLevel;
  if (typeof triggerLevel !== "string" || !LEVELS.includes(triggerLevel as StressLevel) || triggerLevel === "calm") {
    fail("stress.triggerLevel", `expected one of elevated, stressed, critical, got ${JSON.stringify(triggerLevel)}`);
  }
  let signals: StressConfig;
  try {
    signals = resolveStressConfig(optObj(st.signals, "stress.signals") as StressConfigInput);
  } catch (error) {
    const e = error as RiskkeeperError;
    throw new RiskkeeperError("CONFIG_INVALID", e.message.replace(/^[^:]*: /, ""), { input: `${source}: stress.signals.${e.input ?? ""}`, cause: error });
  }

  const f = optObj(root.fork, "fork");
  noUnknown(f, ["enabled", "url", "blockNumber", "timeoutMs"], "fork.");
  if (f.enabled !== undefined && typeof f.enabled !== "boolean") fail("fork.enabled", "expected true or false");
  const forkUrl = url(f.url, "fork.url");
  const fork: ForkConfig = {
    enabled: (f.enabled as boolean | undefined) ?? true,
    ...(forkUrl !== undefined ? { url: forkUrl } : {}),
    ...(f.blockNumber !== undefined ? { blockNumber: num(f.blockNumber, "fork.blockNumber", 0, (n) => Number.isSafeInteger(n) && n >= 0, "a block number") } : {}),
    timeoutMs: num(f.timeoutMs, "fork.timeoutMs", 120_000, (n) => Number.isSafeInteger(n) && n > 0, "a positive integer of ms"),
  };

  const h = optObj(root.health, "health");
  noUnknown(h, ["host", "port", "enabled"], "health.");
  if (h.enabled !== undefined && typeof h.enabled !== "boolean") fail("health.enabled", "expected true or false");
  const health = {
    host: h.host === undefined ? "127.0.0.1" : str(h.host, "health.host"),
    port: num(h.port, "health.port", DEFAULT_HEALTH_PORT, (n) => Number.isInteger(n) && n >= 0 && n <= 65535, "a port in [0, 65535] (0: any free port)"),
    enabled: (h.enabled as boolean | undefined) ?? true,
  };

  const l = optObj(root.log, "log");
  noUnknown(l, ["level", "file"], "log.");
  const level = l.level === undefined ? "info" : l.level;
  if (typeof level !== "string" || !LOG_LEVELS.includes(level as LogLevel)) fail("log.level", `expected one of ${LOG_LEVELS.join(", ")}, got ${JSON.stringify(level)}`);
  const logFile = l.file === undefined ? path.resolve(baseDir, STATE_DIR, "keeper.log") : path.resolve(baseDir, str(l.file, "log.file"));

  const s = optObj(root.state, "state");
  noUnknown(s, ["file", "keepTerminalPerMarket"], "state.");
  const state = {
    file: path.resolve(baseDir, s.file === undefined ? path.join(STATE_DIR, "state.json") : str(s.file, "state.file")),
    keepTerminalPerMarket: num(s.keepTerminalPerMarket, "state.keepTerminalPerMarket", 50, (n) => Number.isSafeInteger(n) && n >= 1, "an integer >= 1"),
  };
  const killSwitchFile = path.resolve(baseDir, root.killSwitchFile === undefined ? path.join(STATE_DIR, "KILL") : str(root.killSwitchFile, "killSwitchFile"));

  const sub = optObj(root.submission, "submission");
  noUnknown(sub, ["mode"], "submission.");
  const mode = sub.mode === undefined ? "direct" : sub.mode;
  if (typeof mode !== "string" || !SUBMISSION_MODES.includes(mode as SubmissionMode)) fail("submission.mode", `expected one of ${SUBMISSION_MODES.join(", ")}, got ${JSON.stringify(mode)}`);
  if (mode === "automation" && deployment.kind === "addresses") fail("submission.mode", "automation needs the upkeep address: use a deployment file (or the embedded deployment)");

  return {
    source,
    markets,
    deployment,
    ...(rpcUrl !== undefined ? { rpcUrl } : {}),
    rpcRequestsPerSecond: num(root.rpcRequestsPerSecond, "rpcRequestsPerSecond", 10, (n) => n > 0 && n <= 10_000, "a number in (0, 10000]"),
    gas,
    stress: { triggerLevel: triggerLevel as StressLevel, signals: signals! },
    fork,
    health,
    log: { level: level as LogLevel, file: logFile },
    state,
    killSwitchFile,
    submission: { mode: mode as SubmissionMode },
  };
}

/** Reads and validates a config file; relative paths resolve against its folder. Writes nothing. */
export async function loadKeeperConfig(file: string, options: Omit<ValidateOptions, "source" | "baseDir"> & { baseDir?: string }): Promise<KeeperConfig> {
  const text = await readFile(file, "utf8").catch((error: unknown) => {
    throw new RiskkeeperError("CONFIG_INVALID", `cannot read the config file: ${(error as Error).message}`, { input: file, cause: error });
  });
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new RiskkeeperError("CONFIG_INVALID", `not valid JSON: ${(error as Error).message}`, { input: file, cause: error });
  }
  return validateKeeperConfig(doc, { ...options, source: file, baseDir: options.baseDir ?? path.dirname(path.resolve(file)) });
}

/**
 * The embedded default: one market (ETH-USD) replaying recorded Chainlink rounds on the in-process
 * chain, calibrated from the given price history with the given policy, state under `stateDir`.
 */
export function defaultEmbeddedConfig(options: {
  knownPolicies: readonly string[];
  dataFile: string;
  replaySource: string;
  policy?: string;
  baseDir?: string;
}): KeeperConfig {
  return validateKeeperConfig(
    {
      markets: [{ name: "ETH-USD", replay: { source: options.replaySource }, data: options.dataFile, policy: options.policy ?? "default-1h" }],
      deployment: "embedded",
      submission: { mode: "direct" },
      health: { port: 0 },
    },
    { knownPolicies: options.knownPolicies, source: "(default)", baseDir: options.baseDir ?? process.cwd(), checkFiles: false },
  );
}

/** keccak256 of the canonical resolved config with secrets (RPC URLs) and its source left out: the evidence bundle's configHash. */
export function configHash(config: KeeperConfig): string {
  const { rpcUrl: _rpc, source: _source, fork, ...rest } = config;
  const { url: _url, ...forkRest } = fork;
  return keccak256(toUtf8Bytes(canonicalJson({ ...rest, fork: { ...forkRest, forked: _url !== undefined }, rpc: _rpc !== undefined })));
}
