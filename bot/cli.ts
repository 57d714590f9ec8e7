#!/usr/bin/env node
// The one entry point: `riskkeeper <command> [options]`. Each command lives in bot/commands/ and
// is loaded only when asked for, so `riskkeeper calibrate` never pays for Hardhat's start-up.
import { isRiskkeeperError } from "./errors.ts";
import type { Command, CommandIO } from "./commands/types.ts";

const COMMANDS: Record<string, () => Promise<{ command: Command }>> = {
  start: () => import("./commands/start.ts"),
  calibrate: () => import("./commands/calibrate.ts"),
  smile: () => import("./commands/smile.ts"),
  "data inspect": () => import("./commands/data-inspect.ts"),
  signals: () => import("./commands/signals.ts"),
  backtest: () => import("./commands/backtest.ts"),
  sweep: () => import("./commands/sweep.ts"),
  validate: () => import("./commands/validate.ts"),
  replay: () => import("./commands/replay.ts"),
  run: () => import("./commands/run.ts"),
  status: () => import("./commands/status.ts"),
  propose: () => import("./commands/propose.ts"),
};

const io: CommandIO = {
  stdout: (text) => process.stdout.write(text.endsWith("\n") ? text : `${text}\n`),
  stderr: (text) => process.stderr.write(text.endsWith("\n") ? text : `${text}\n`),
};

async function printHelp(): Promise<void> {
  io.stdout("riskkeeper <command> [options]\n\nCommands:");
  for (const [name, load] of Object.entries(COMMANDS)) {
    const { command } = await load();
    io.stdout(`  ${name.padEnd(14)} ${command.summary}`);
  }
  io.stdout("\nRun `riskkeeper <command> --help` for a command's options.");
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    await printHelp();
    return name === undefined ? 1 : 0;
  }
  // Two-word commands (`data inspect`) are registered under their joined name.
  const joined = rest[0] !== undefined ? `${name} ${rest[0]}` : undefined;
  const key = joined !== undefined && COMMANDS[joined] ? joined : name;
  const args = key === joined ? rest.slice(1) : rest;
  const load = COMMANDS[key];
  if (!load) {
    io.stderr(`riskkeeper: unknown command '${name}'. Run 'riskkeeper help' for the list.`);
    return 2;
  }
  const { command } = await load();
  if (args.includes("--help") || args.includes("-h")) {
    io.stdout(`${command.usage}\n\n${command.summary}`);
    return 0;
  }
  try {
    return await command.run(args, io);
  } catch (error) {
    if (isRiskkeeperError(error)) {
      io.stderr(`riskkeeper ${key}: ${error.message} [${error.code}]`);
      return 2;
    }
    throw error;
  }
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => { process.exitCode = code; },
    (error: unknown) => {
      io.stderr(`riskkeeper: unexpected failure: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
      process.exitCode = 1;
    },
  );
}
