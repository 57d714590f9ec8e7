// Static checks over contracts/**/*.sol: the compiler's own warnings (solc from npm, the version
// Hardhat uses) plus a few rules read from the AST and the source. Every finding is either fixed
// or listed with its reason in scripts/lint-solidity.allow.json (and docs/reliability.md); a
// finding not on that list fails the run.
//
//   node scripts/lint-solidity.ts            # prints findings; exit 1 on any not allowed
//   node scripts/lint-solidity.ts --json     # machine-readable
//
// Rules:
//   solc-warning          a compiler warning in one of our files
//   floating-pragma       `pragma solidity ^x` (or >=) instead of a pinned version
//   tx-origin             any use of tx.origin
//   unchecked-no-comment  an `unchecked { }` block without a comment on the line or the two above
//   call-before-write     a state variable written after an external call in the same function
//                         (checks-effects-interactions; reentrancy needs a guard or a reason)
//   admin-no-event        a state-changing function behind an access modifier that emits no event
//                         (directly or through internal functions it calls)
//   low-level-call        `.call` / `.delegatecall` / `.staticcall` (return value must be handled)
//   assembly              inline assembly
//   selfdestruct          selfdestruct
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const solc = require("solc") as { compile(input: string, callbacks: { import: (p: string) => { contents?: string; error?: string } }): string };

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const contractsDir = path.join(root, "contracts");

export interface Finding { rule: string; file: string; line: number; subject: string; message: string }
interface AllowEntry { rule: string; file: string; subject: string; reason: string }

function listSol(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? listSol(path.join(dir, d.name)) : d.name.endsWith(".sol") ? [path.join(dir, d.name)] : []);
}

type Node = { nodeType: string; src: string; [key: string]: unknown };
function walk(node: unknown, visit: (n: Node) => void): void {
  if (Array.isArray(node)) { for (const x of node) walk(x, visit); return; }
  if (!node || typeof node !== "object") return;
  const n = node as Node;
  if (typeof n.nodeType === "string") visit(n);
  for (const value of Object.values(n)) if (value && typeof value === "object") walk(value, visit);
}
const offsetOf = (n: Node) => Number(n.src.split(":")[0]);

/** Lints every .sol file under `dir`; file names in findings are relative to `base`. */
export function lintSolidity(dir = contractsDir, base = root): Finding[] {
  const files = listSol(dir);
  const sources: Record<string, { content: string }> = {};
  for (const f of files) sources[path.relative(base, f)] = { content: readFileSync(f, "utf8") };
  const input = {
    language: "Solidity",
    sources,
    settings: { optimizer: { enabled: true, runs: 200 }, evmVersion: "cancun", outputSelection: { "*": { "": ["ast"] } } },
  };
  const findImport = (p: string) => {
    for (const candidate of [path.join(root, "node_modules", p), path.join(base, p)]) {
      try { return { contents: readFileSync(candidate, "utf8") }; } catch { /* next */ }
    }
    return { error: `not found: ${p}` };
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImport })) as {
    errors?: { severity: string; message: string; type: string; sourceLocation?: { file: string; start: number } }[];
    sources: Record<string, { ast: Node }>;
  };
  const findings: Finding[] = [];
  const lineOf = (file: string, offset: number) => sources[file].content.slice(0, offset).split("\n").length;
  for (const e of output.errors ?? []) {
    if (e.severity === "error") throw new Error(`solc: ${e.message}`);
    const file = e.sourceLocation?.file;
    if (!file || !(file in sources)) continue;
    findings.push({ rule: "solc-warning", file, line: lineOf(file, e.sourceLocation!.start), subject: e.message.slice(0, 80), message: `${e.type}: ${e.message}` });
  }

  for (const file of Object.keys(sources)) {
    const text = sources[file].content;
    const lines = text.split("\n");
    lines.forEach((line, i) => {
      const code = line.replace(/\/\/.*$/, "");
      const pragma = /pragma solidity\s+([^;]+);/.exec(code);
      if (pragma && /[\^>~<]/.test(pragma[1])) findings.push({ rule: "floating-pragma", file, line: i + 1, subject: pragma[1].trim(), message: `floating pragma ${pragma[1].trim()}` });
      if (/\btx\.origin\b/.test(code)) findings.push({ rule: "tx-origin", file, line: i + 1, subject: "tx.origin", message: "tx.origin used" });
      if (/\bunchecked\s*\{/.test(code)) {
        const context = [line, lines[i - 1] ?? "", lines[i - 2] ?? ""].join("\n");
        if (!/\/\/|\/\*/.test(context)) findings.push({ rule: "unchecked-no-comment", file, line: i + 1, subject: "unchecked", message: "unchecked block without a comment saying why it is safe" });
      }
      if (/\bselfdestruct\s*\(/.test(code)) findings.push({ rule: "selfdestruct", file, line: i + 1, subject: "selfdestruct", message: "selfdestruct" });
    });

    const ast = output.sources[file].ast;
    walk(ast, (contract) => {
      if (contract.nodeType !== "ContractDefinition") return;
      const contractName = String(contract.name);
      const functions = (contract.nodes as Node[]).filter((n) => n.nodeType === "FunctionDefinition");
      const byId = new Map<number, Node>(functions.map((fn) => [Number(fn.id), fn]));
      const stateVarIds = new Set((contract.nodes as Node[]).filter((n) => n.nodeType === "VariableDeclaration" && n.stateVariable).map((n) => Number(n.id)));
      const emitsEvent = (fn: Node, seen = new Set<number>()): boolean => {
        if (seen.has(Number(fn.id))) return false;
        seen.add(Number(fn.id));
        let emits = false;
        walk(fn.body, (n) => {
          if (n.nodeType === "EmitStatement") emits = true;
          if (n.nodeType === "FunctionCall") {
            const callee = (n.expression as Node & { referencedDeclaration?: number });
            const target = callee?.referencedDeclaration !== undefined ? byId.get(callee.referencedDeclaration) : undefined;
            if (target && emitsEvent(target, seen)) emits = true;
          }
        });
        return emits;
      };
      for (const fn of functions) {
        if (!fn.body) continue;
        const name = `${contractName}.${String(fn.name || fn.kind)}`;
        const line = lineOf(file, offsetOf(fn));
        // External calls and state writes, in source order.
        const calls: { at: number; what: string }[] = [];
        const writes: { at: number; what: string }[] = [];
        walk(fn.body, (n) => {
          if (n.nodeType === "InlineAssembly") findings.push({ rule: "assembly", file, line: lineOf(file, offsetOf(n)), subject: name, message: `inline assembly in ${name}` });
          if (n.nodeType === "FunctionCall") {
            const expr = n.expression as Node & { memberName?: string; expression?: Node & { typeDescriptions?: { typeString?: string } } };
            if (expr?.nodeType === "MemberAccess") {
              const base = String(expr.expression?.typeDescriptions?.typeString ?? "");
              const member = String(expr.memberName);
              if (["call", "delegatecall", "staticcall"].includes(member)) {
                findings.push({ rule: "low-level-call", file, line: lineOf(file, offsetOf(n)), subject: name, message: `.${member} in ${name}` });
                calls.push({ at: offsetOf(n), what: `.${member}` });
              } else if (/^contract |^address/.test(base) && !["balance", "code", "codehash"].includes(member)) {
                const fnType = String((expr as Node & { typeDescriptions?: { typeString?: string } }).typeDescriptions?.typeString ?? "");
                if (!/\b(view|pure)\b/.test(fnType)) calls.push({ at: offsetOf(n), what: `${base.replace(/^contract /, "")}.${member}` });
              } else if (/^(safeTransfer|safeTransferFrom|transfer|transferFrom)$/.test(member) && /IERC20|contract/.test(base)) {
                calls.push({ at: offsetOf(n), what: member });
              }
            }
          }
          const target = n.nodeType === "Assignment" ? (n.leftHandSide as Node) : n.nodeType === "UnaryOperation" && /\+\+|--|delete/.test(String(n.operator)) ? (n.subExpression as Node) : undefined;
          if (target) {
            let base: Node | undefined = target;
            while (base && (base.nodeType === "IndexAccess" || base.nodeType === "MemberAccess")) base = (base.baseExpression ?? base.expression) as Node;
            const ref = base && (base as Node & { referencedDeclaration?: number }).referencedDeclaration;
            const isStorageRef = base && String((base as Node & { typeDescriptions?: { typeString?: string } }).typeDescriptions?.typeString ?? "").includes(" storage ref");
            if (ref !== undefined && (stateVarIds.has(ref) || isStorageRef)) writes.push({ at: offsetOf(n), what: String((base as Node & { name?: string }).name) });
          }
        });
        const firstCall = calls.sort((a, b) => a.at - b.at)[0];
        const late = firstCall ? writes.filter((w) => w.at > firstCall.at) : [];
        if (firstCall && late.length > 0) {
          findings.push({ rule: "call-before-write", file, line, subject: name, message: `${name}: ${late.map((w) => w.what).join(", ")} written after external call ${firstCall.what}` });
        }
        const modifiers = (fn.modifiers as Node[] | undefined ?? []).map((m) => String((m.modifierName as Node & { name?: string }).name));
        const guarded = modifiers.some((m) => /^only/.test(m));
        const mutating = !["view", "pure"].includes(String(fn.stateMutability));
        if (guarded && mutating && !emitsEvent(fn)) {
          findings.push({ rule: "admin-no-event", file, line, subject: name, message: `${name} (${modifiers.join(", ")}) changes state without emitting an event` });
        }
      }
    });
  }
  return findings.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
}

function main(): void {
  const findings = lintSolidity();
  const allowFile = path.join(root, "scripts", "lint-solidity.allow.json");
  const allow = JSON.parse(readFileSync(allowFile, "utf8")) as AllowEntry[];
  const matches = (a: AllowEntry, f: Finding) => a.rule === f.rule && (a.file === "*" || a.file === f.file) && (a.subject === "*" || a.subject === f.subject);
  const allowed = (f: Finding) => allow.find((a) => matches(a, f));
  const open = findings.filter((f) => !allowed(f));
  const unused = allow.filter((a) => !findings.some((f) => matches(a, f)));
  if (process.argv.includes("--json")) {
    console.log(JSON.stringify({ findings: findings.map((f) => ({ ...f, allowed: allowed(f)?.reason })), open, unusedAllowEntries: unused }, null, 2));
  } else {
    const counts: Record<string, number> = {};
    for (const f of findings) counts[f.rule] = (counts[f.rule] ?? 0) + 1;
    for (const f of findings) {
      const a = allowed(f);
      console.log(`${a ? "accepted" : "OPEN    "} ${f.rule.padEnd(21)} ${f.file}:${f.line}  ${f.message}${a ? `\n         reason: ${a.reason}` : ""}`);
    }
    for (const a of unused) console.log(`stale allow entry (nothing matches): ${a.rule} ${a.file} ${a.subject}`);
    console.log(`\nlint:sol: ${Object.keys(sourcesCount()).length} files, ${findings.length} findings (${JSON.stringify(counts)}), ${findings.length - open.length} accepted with a reason, ${open.length} open`);
  }
  if (open.length > 0 || unused.length > 0) process.exitCode = 1;
}
const sourcesCount = () => Object.fromEntries(listSol(contractsDir).map((f) => [f, 1]));

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
