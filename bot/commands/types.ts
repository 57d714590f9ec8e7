// Shape shared by every CLI command module in bot/commands/.
export interface CommandIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export interface Command {
  /** One line shown by `riskkeeper help`. */
  summary: string;
  usage: string;
  /** Returns the process exit code. Throws RiskkeeperError for bad input. */
  run(argv: string[], io: CommandIO): Promise<number>;
}
