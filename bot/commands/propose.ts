import { appendFileSync } from "node:fs";
import { mkdir, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { parseCommandArgs } from "./args.ts";
import type { Command, CommandIO } from "./types.ts";

const USAGE = `riskkeeper propose --proposal FILE [--via direct|governance|safe|automation] [--dry-run] [--retry-failed]
                   [--rpc URL] [--keystore FILE] [--deployment FILE] [--journal FILE]
                   [--max-fee-gwei N] [--priority-fee-gwei N] [--confirmations N]
                   [--safe ADDRESS] [--safe-call setParams|updateParams|queueUpdate] [--out FILE]
                   [--log FILE] [--json]

Sends the proposal's change on chain through the steward (direct: bounded updateParams;
automation: queueUpdate for the upkeep), through the Governor (one step per run: propose, then
queue and execute once allowed; re-run to advance), or exports it as a Safe Transaction Builder
batch (safe: nothing is sent). Before sending: the chain id is checked against the deployment, the
signer's role and the steward's bounds are checked, and the call is simulated. Every transaction is
recorded in the journal (default .riskkeeper/journal-<chainId>.json) under an id derived from the
change, so a re-run never sends it twice.

The keystore password is read from RISKKEEPER_KEYSTORE_PASSWORD, or prompted for on a terminal.
--rpc defaults to http://127.0.0.1:8545; --confirmations to 1 on local chains (31337, 1337), else 2.
--dry-run simulates and prints what would be sent; it signs, sends and records nothing.
--retry-failed sends again a change the journal records as failed (refused by the node, nonce
taken by another transaction, abandoned after a reorg); sent, mined and confirmed ones never are.`;

export const PASSWORD_ENV = "RISKKEEPER_KEYSTORE_PASSWORD";

async function promptHidden(question: string): Promise<string> {
  const { createInterface } = await import("node:readline");
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  // Echo the question only, never the typed characters.
  (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = (s: string) => {
    if (s.includes(question)) process.stderr.write(question);
  };
  return new Promise((resolve) =>
    rl.question(question, (answer) => {
      rl.close();
      process.stderr.write("\n");
      resolve(answer);
    }),
  );
}

/** The command with its environment injected (the CLI edge passes process.env). */
export async function runPropose(argv: string[], io: CommandIO, env: Readonly<Record<string, string | undefined>>, options: { now?: () => number; interactive?: boolean } = {}): Promise<number> {
  const args = parseCommandArgs("propose", argv, {
    proposal: { type: "string" },
    via: { type: "string" },
    "dry-run": { type: "boolean", default: false },
    "retry-failed": { type: "boolean", default: false },
    rpc: { type: "string" },
    keystore: { type: "string" },
    deployment: { type: "string" },
    journal: { type: "string" },
    "max-fee-gwei": { type: "string" },
    "priority-fee-gwei": { type: "string" },
    confirmations: { type: "string" },
    safe: { type: "string" },
    "safe-call": { type: "string" },
    out: { type: "string" },
    log: { type: "string" },
    json: { type: "boolean", default: false },
  });
  const { values } = args;
  const proposalFile = args.required("proposal", "FILE");
  const safeCall = args.oneOf("safe-call", ["setParams", "updateParams", "queueUpdate"] as const);
  const confirmations = args.integer("confirmations", { min: 1 });
  // Gwei amounts stay decimal strings for parseUnits: a float would not keep every digit.
  const maxFeeGwei = args.decimal("max-fee-gwei", 9, "100");
  const priorityFeeGwei = args.decimal("priority-fee-gwei", 9, "1.5");
  const chain = await import("../chain/index.ts");
  const via = args.oneOf("via", chain.VIAS, "direct");

  const { proposal, deployment } = await chain.readSubmissionInput(proposalFile, values.deployment);
  if (!deployment) throw args.usage("no addresses: give --deployment FILE or \"deployment\" in the proposal", "--deployment");
  const change = chain.toMarketChange(proposal, proposalFile);
  const now = options.now ?? Date.now;

  const logFile = values.log;
  const logger = (event: { type: string; [k: string]: unknown }) => {
    const line = JSON.stringify({ at: new Date(now()).toISOString(), ...event }, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
    if (logFile) appendFileSync(logFile, `${line}\n`);
    if (!values.json) io.stderr(`[chain] ${event.type}${event.hash ? ` ${String(event.hash)}` : ""}${event.error ? `: ${String(event.error)}` : ""}`);
  };

  let outcome: Awaited<ReturnType<typeof chain.propose>>;
  let close = () => undefined as void;
  if (via === "safe") {
    if (!values.safe) throw args.usage("--safe ADDRESS (the Safe that executes the batch) is required with --via safe", "--safe");
    let provider;
    if (values.rpc) {
      provider = (await chain.connectRpc(values.rpc)).provider;
      close = () => provider!.destroy();
    }
    try {
      outcome = await chain.propose({
        change, deployment, via, dryRun: values["dry-run"], ...(provider ? { provider } : {}),
        safe: { address: values.safe, createdAt: now(), ...(safeCall ? { call: safeCall } : {}) },
      });
    } finally {
      close();
    }
  } else {
    if (!values.keystore) throw args.usage("--keystore FILE is required to sign (also for --dry-run, which checks the password)", "--keystore");
    const source = env[PASSWORD_ENV] !== undefined || !(options.interactive ?? process.stdin.isTTY)
      ? { envVar: PASSWORD_ENV, env }
      : { prompt: promptHidden };
    const signer = await chain.loadKeystoreSigner(values.keystore, source);
    const { provider, chainId } = await chain.connectRpc(values.rpc ?? "http://127.0.0.1:8545");
    try {
      const local = chainId === 31337n || chainId === 1337n;
      const { parseUnits } = await import("ethers");
      const journalFile = values.journal ?? path.join(".riskkeeper", `journal-${deployment.chainId}.json`);
      outcome = await chain.propose({
        change, deployment, via, dryRun: values["dry-run"], retryFailed: values["retry-failed"], provider, signer,
        journal: new chain.JsonFileJournal(journalFile),
        fees: {
          maxFeePerGas: parseUnits(maxFeeGwei, "gwei"),
          maxPriorityFeePerGas: parseUnits(priorityFeeGwei, "gwei"),
        },
        confirmations: confirmations ?? (local ? 1 : 2),
        pollIntervalMs: local ? 250 : 3_000,
        logger,
      });
    } finally {
      provider.destroy();
    }
  }

  if (outcome.via === "safe") {
    const text = `${JSON.stringify(outcome.batch, null, 2)}\n`;
    if (values.out) {
      await mkdir(path.dirname(path.resolve(values.out)), { recursive: true });
      const temp = `${values.out}.${process.pid}.tmp`;
      await writeFile(temp, text);
      await rename(temp, values.out);
      io.stdout(`Safe Transaction Builder batch written to ${values.out} (${outcome.batch.transactions.length} transaction, checksum ${outcome.batch.meta.checksum})`);
    } else {
      io.stdout(text);
    }
    return 0;
  }
  if (values.json) {
    io.stdout(JSON.stringify(chain.outcomeJson(outcome), null, 2));
    return 0;
  }
  io.stdout(describe(outcome));
  return 0;
}

function describe(outcome: Exclude<Awaited<ReturnType<typeof import("../chain/index.ts")["propose"]>>, { via: "safe" }>): string {
  const sub = outcome.via === "governance" ? outcome.step.submission : outcome.result.submission;
  const lines: string[] = [];
  if (sub?.dryRun) {
    lines.push(
      `dry run (${outcome.via}): would send ${sub.label ?? sub.updateId}`,
      `  from ${sub.from} to ${sub.to} on chain ${sub.chainId}, nonce ${sub.nonce}, gas limit ${sub.gasLimit}`,
      `  maxFeePerGas ${sub.maxFeePerGas} wei (base fee ${sub.baseFeePerGas}${sub.feeWithinCeiling ? "" : ", above the ceiling: a real run would wait"}), tip ${sub.maxPriorityFeePerGas} wei`,
      `  data ${sub.data}`,
      sub.alreadyInJournal ? "  (already in the journal: a real run would reconcile it, not send)" : "  nothing signed, sent or recorded",
    );
  } else if (sub) {
    lines.push(`${sub.record.label ?? sub.record.updateId}: ${sub.record.status} in tx ${sub.receipt.hash} (block ${sub.receipt.blockNumber}, gas ${sub.receipt.gasUsed})${sub.resumed ? " — reconciled from the journal, not re-sent" : ""}`);
  }
  if (outcome.via === "direct") {
    for (const e of outcome.result.events) lines.push(`  ${e.parameter}: ${e.oldValue} -> ${e.newValue} (evidence ${e.evidenceHash})`);
  } else if (outcome.via === "automation" && outcome.result.queued) {
    const q = outcome.result.queued;
    lines.push(`  queued update #${q.queueId}: the upkeep may apply it from ${q.executableAt} until ${q.expiresAt} (unix seconds)`);
  } else if (outcome.via === "governance") {
    const s = outcome.step;
    lines.push(`proposal ${s.proposalId} was ${s.state}: ${s.action}${s.note ? ` (${s.note})` : ""}`);
    if (s.action === "proposed" || s.action === "queued" || s.action === "waiting") lines.push("  re-run the same command to advance it (queue, then execute once the timelock allows)");
  }
  return lines.join("\n");
}

export const command: Command = {
  summary: "send a proposal on chain: direct bounded update, queued for automation, through governance, or as a Safe batch",
  usage: USAGE,
  run: (argv, io) => runPropose(argv, io, process.env),
};
