// The one argument parser of the CLI commands: node:util parseArgs for the grammar, with every
// failure turned into CLI_USAGE naming the option and the command, and typed readers for numbers,
// choices and required options so that `--horizon abc` is refused before any work is done.
import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import { RiskkeeperError } from "../errors.ts";

/** The values node:util parseArgs returns in strict mode for these options. */
export type ArgValues<T extends ParseArgsOptionsConfig> = ReturnType<typeof parseArgs<{ args: string[]; options: T; strict: true }>>["values"];

/** Names of the string-valued options of T (the ones a number or a choice can be read from). */
export type StringOption<T extends ParseArgsOptionsConfig> = { [K in keyof T]: T[K]["type"] extends "string" ? K : never }[keyof T] & string;

/** Bounds a number option must respect; min/max are inclusive, above/below exclusive. */
export interface NumberBounds {
  min?: number;
  max?: number;
  above?: number;
  below?: number;
}

export interface CommandArgs<T extends ParseArgsOptionsConfig> {
  /** The command as typed after `riskkeeper` (e.g. "data inspect"), for messages. */
  readonly command: string;
  readonly values: ArgValues<T>;
  readonly positionals: string[];
  /** CLI_USAGE about `input` (an option like "--window", or an argument), naming the command. */
  usage(message: string, input: string): RiskkeeperError;
  /** The option's value; CLI_USAGE "--NAME [META] is required" when it is absent. */
  required(name: StringOption<T>, meta?: string): string;
  /** A finite number within the bounds, or the fallback (undefined when none) when absent. */
  number(name: StringOption<T>, bounds: NumberBounds & { default: number }): number;
  number(name: StringOption<T>, bounds?: NumberBounds): number | undefined;
  /** A safe integer within the bounds, or the fallback (undefined when none) when absent. */
  integer(name: StringOption<T>, bounds: NumberBounds & { default: number }): number;
  integer(name: StringOption<T>, bounds?: NumberBounds): number | undefined;
  /**
   * A non-negative decimal kept as written (at most `places` fraction digits), for amounts that go
   * to ethers' parseUnits: a round trip through a float would change the digits.
   */
  decimal(name: StringOption<T>, places: number, fallback: string): string;
  /** One of `choices`, or the fallback (undefined when none) when absent. */
  oneOf<C extends string>(name: StringOption<T>, choices: readonly C[], fallback: C): C;
  oneOf<C extends string>(name: StringOption<T>, choices: readonly C[]): C | undefined;
}

export interface ParseCommandOptions {
  /** Accept positional arguments (the command checks how many); otherwise one is CLI_USAGE. */
  positionals?: boolean;
}

// Plain decimal notation, optionally with an exponent: no hex, no "Infinity", no blanks, which
// Number() would otherwise accept or turn into 0.
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function describeBounds(kind: string, b: NumberBounds): string {
  const parts: string[] = [];
  if (b.above !== undefined) parts.push(`> ${b.above}`);
  if (b.min !== undefined) parts.push(`>= ${b.min}`);
  if (b.below !== undefined) parts.push(`< ${b.below}`);
  if (b.max !== undefined) parts.push(`<= ${b.max}`);
  return parts.length === 0 ? kind : `${kind} ${parts.join(" and ")}`;
}

function withinBounds(n: number, b: NumberBounds): boolean {
  return (b.min === undefined || n >= b.min) && (b.max === undefined || n <= b.max)
    && (b.above === undefined || n > b.above) && (b.below === undefined || n < b.below);
}

/**
 * Parses `argv` for `riskkeeper <command>` against node:util parseArgs option descriptors.
 *
 * @example
 * const args = parseCommandArgs("validate", argv, { horizon: { type: "string" }, json: { type: "boolean", default: false } });
 * const horizon = args.integer("horizon", { min: 1, default: 24 }); // "--horizon abc" → CLI_USAGE, input "--horizon"
 */
export function parseCommandArgs<T extends ParseArgsOptionsConfig>(command: string, argv: readonly string[], options: T, config: ParseCommandOptions = {}): CommandArgs<T> {
  const hint = ` (see 'riskkeeper ${command} --help')`;
  const usage = (message: string, input: string): RiskkeeperError =>
    new RiskkeeperError("CLI_USAGE", `${message}${hint}`, { input, details: { command } });

  // Non-strict mode with tokens: node's strict errors carry the option only inside an English
  // message, while the tokens say exactly which argument was wrong and how.
  const { values, positionals, tokens } = parseArgs({ args: [...argv], options, strict: false, allowPositionals: true, tokens: true });
  for (const token of tokens) {
    if (token.kind === "positional") {
      if (!config.positionals) throw usage(`unexpected argument '${token.value}'`, token.value);
      continue;
    }
    if (token.kind !== "option") continue;
    const spec = Object.hasOwn(options, token.name) ? options[token.name] : undefined;
    if (!spec) throw usage(`unknown option ${token.rawName}`, token.rawName);
    if (spec.type === "boolean") {
      if (token.inlineValue) throw usage(`takes no value, got '${token.value}'`, token.rawName);
      continue;
    }
    // A following "--flag" taken as the value means the value was forgotten; "-5" may be meant.
    const missing = token.value === undefined || token.value === ""
      || (!token.inlineValue && token.value.startsWith("-") && !NUMBER.test(token.value));
    if (missing) throw usage("needs a value", token.rawName);
  }

  const raw = (name: string): string | undefined => values[name] as string | undefined;
  const readNumber = (name: string, kind: "a number" | "an integer", bounds: NumberBounds & { default?: number }): number | undefined => {
    const text = raw(name);
    if (text === undefined) return bounds.default;
    const n = NUMBER.test(text) ? Number(text) : NaN;
    const ok = kind === "an integer" ? Number.isSafeInteger(n) : Number.isFinite(n);
    if (!ok || !withinBounds(n, bounds)) throw usage(`expected ${describeBounds(kind, bounds)}, got '${text}'`, `--${name}`);
    return n;
  };

  return {
    command,
    values: values as ArgValues<T>,
    positionals,
    usage,
    required(name: string, meta?: string): string {
      const v = raw(name);
      if (v === undefined) throw usage(`--${name}${meta ? ` ${meta}` : ""} is required`, `--${name}`);
      return v;
    },
    number: ((name: string, bounds: NumberBounds & { default?: number } = {}) => readNumber(name, "a number", bounds)) as CommandArgs<T>["number"],
    integer: ((name: string, bounds: NumberBounds & { default?: number } = {}) => readNumber(name, "an integer", bounds)) as CommandArgs<T>["integer"],
    decimal(name: string, places: number, fallback: string): string {
      const v = raw(name) ?? fallback;
      const match = /^\d+(?:\.(\d+))?$/.exec(v);
      if (!match || (match[1]?.length ?? 0) > places) {
        throw usage(`expected a non-negative decimal number with at most ${places} decimal places, got '${v}'`, `--${name}`);
      }
      return v;
    },
    oneOf: ((name: string, choices: readonly string[], fallback?: string) => {
      const v = raw(name);
      if (v === undefined) return fallback;
      if (!choices.includes(v)) throw usage(`expected one of ${choices.join(", ")}, got '${v}'`, `--${name}`);
      return v;
    }) as CommandArgs<T>["oneOf"],
  };
}

/** The keys of `values` that are set (exactOptionalPropertyTypes forbids passing undefined ones on). */
export function pick<T extends object, K extends keyof T>(values: T, keys: readonly K[]): { [P in K]?: Exclude<T[P], undefined> } {
  const out: Partial<Record<K, unknown>> = {};
  for (const k of keys) if (values[k] !== undefined) out[k] = values[k];
  return out as { [P in K]?: Exclude<T[P], undefined> };
}
