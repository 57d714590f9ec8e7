// Option parsing shared by `riskkeeper data inspect` and `riskkeeper signals`: one positional file,
// `--name value` options from an allowed list, and boolean flags. Unknown options are CLI_USAGE errors.
import { RiskkeeperError } from "../errors.ts";

export interface ParsedArgs {
  positional: string[];
  options: Map<string, string>;
  flags: Set<string>;
}

export function parseArgs(argv: string[], valued: readonly string[], flags: readonly string[], usage: string): ParsedArgs {
  const out: ParsedArgs = { positional: [], options: new Map(), flags: new Set() };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("--")) { out.positional.push(a); continue; }
    const eq = a.indexOf("=");
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
    if (flags.includes(name)) { out.flags.add(name); continue; }
    if (!valued.includes(name)) throw new RiskkeeperError("CLI_USAGE", `unknown option --${name}\n${usage}`, { input: `--${name}` });
    const value = eq > 0 ? a.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new RiskkeeperError("CLI_USAGE", `--${name} needs a value\n${usage}`, { input: `--${name}` });
    out.options.set(name, value);
  }
  return out;
}

/** A positive number option (or undefined when absent); CLI_USAGE names the option when malformed. */
export function numberOption(args: ParsedArgs, name: string, integer = false): number | undefined {
  const v = args.options.get(name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!(n >= 0) || !Number.isFinite(n) || (integer && !Number.isInteger(n))) {
    throw new RiskkeeperError("CLI_USAGE", `expected a ${integer ? "non-negative integer" : "non-negative number"}, got '${v}'`, { input: `--${name}` });
  }
  return n;
}
