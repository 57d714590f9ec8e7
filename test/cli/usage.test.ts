// Every command refuses a bad option or number with CLI_USAGE naming the option and the command,
// before it reads a file or opens a chain (the files named here do not exist).
import { expect } from "chai";
import { main } from "../../bot/cli.ts";
import type { Command } from "../../bot/commands/types.ts";
import { isRiskkeeperError } from "../../bot/errors.ts";

const load = (file: string) => async (): Promise<Command> => (await import(`../../bot/commands/${file}.ts`) as { command: Command }).command;

const CASES: { command: string; load: () => Promise<Command>; argv: string[]; input: string; message: RegExp }[] = [
  { command: "calibrate", load: load("calibrate"), argv: ["--input", "x.csv", "--frobnicate"], input: "--frobnicate", message: /unknown option --frobnicate/ },
  { command: "calibrate", load: load("calibrate"), argv: ["--input", "x.csv", "--steps", "abc"], input: "--steps", message: /expected an integer >= 1, got 'abc'/ },
  { command: "calibrate", load: load("calibrate"), argv: ["--input", "x.csv", "--steps", "0"], input: "--steps", message: /expected an integer >= 1, got '0'/ },
  { command: "calibrate", load: load("calibrate"), argv: ["--input", "x.csv", "--model", "ewma", "--lambda", "NaN"], input: "--lambda", message: /expected a number > 0 and < 1, got 'NaN'/ },
  { command: "calibrate", load: load("calibrate"), argv: ["--input", "x.csv", "--period-seconds", "-60"], input: "--period-seconds", message: /expected a number > 0, got '-60'/ },
  { command: "calibrate", load: load("calibrate"), argv: ["--input", "x.csv", "--model", "arma"], input: "--model", message: /expected one of ewma, garch, gjr, got 'arma'/ },
  { command: "calibrate", load: load("calibrate"), argv: ["--input", "x.csv", "--lambda", "0.94"], input: "--lambda", message: /applies to --model ewma only/ },
  { command: "calibrate", load: load("calibrate"), argv: ["--input"], input: "--input", message: /--input: needs a value/ },
  { command: "calibrate", load: load("calibrate"), argv: ["x.csv"], input: "x.csv", message: /unexpected argument 'x\.csv'/ },
  { command: "smile", load: load("smile"), argv: ["--input", "x.csv", "--strike", "3000"], input: "--strike", message: /unknown option --strike/ },
  { command: "smile", load: load("smile"), argv: ["--input", "x.csv", "--weights", "heavy"], input: "--weights", message: /expected one of vega, spread, equal, got 'heavy'/ },
  { command: "smile", load: load("smile"), argv: ["--input", "x.csv", "--json=1"], input: "--json", message: /--json: takes no value/ },
  { command: "smile", load: load("smile"), argv: ["--currency", "ETH"], input: "--input", message: /--input is required/ },
  { command: "backtest", load: load("backtest"), argv: ["--input", "x.csv", "--nope"], input: "--nope", message: /unknown option --nope/ },
  { command: "backtest", load: load("backtest"), argv: ["--input", "x.csv", "--z2-simulations", "-5"], input: "--z2-simulations", message: /expected an integer >= 0, got '-5'/ },
  { command: "backtest", load: load("backtest"), argv: ["--input", "x.csv", "--z2-simulations", "Infinity"], input: "--z2-simulations", message: /got 'Infinity'/ },
  { command: "backtest", load: load("backtest"), argv: ["--input", "--json"], input: "--input", message: /--input: needs a value/ },
  { command: "backtest", load: load("backtest"), argv: ["--json"], input: "--input", message: /--input FILE is required/ },
  { command: "sweep", load: load("sweep"), argv: ["--input", "x.csv", "--grid", "g.json", "--workers", "0"], input: "--workers", message: /expected an integer >= 1, got '0'/ },
  { command: "sweep", load: load("sweep"), argv: ["--input", "x.csv", "--grid", "g.json", "--top", "ten"], input: "--top", message: /expected an integer >= 0, got 'ten'/ },
  { command: "sweep", load: load("sweep"), argv: ["--input", "x.csv"], input: "--grid", message: /--grid GRID\.json is required/ },
  { command: "data inspect", load: load("data-inspect"), argv: ["x.csv", "--limit", "-1"], input: "--limit", message: /expected an integer >= 0, got '-1'/ },
  { command: "data inspect", load: load("data-inspect"), argv: ["x.csv", "--bad-tick", "big"], input: "--bad-tick", message: /expected a number >= 0, got 'big'/ },
  { command: "data inspect", load: load("data-inspect"), argv: ["x.csv", "--fill", "back"], input: "--fill", message: /expected one of none, forward, got 'back'/ },
  { command: "data inspect", load: load("data-inspect"), argv: ["x.csv", "y.csv"], input: "file", message: /expected one file, got 2/ },
  { command: "signals", load: load("signals"), argv: ["x.csv", "--heartbeat", "1h"], input: "--heartbeat", message: /expected a number >= 0, got '1h'/ },
  { command: "signals", load: load("signals"), argv: ["x.csv", "--decimals", "8.5"], input: "--decimals", message: /expected an integer >= 0, got '8\.5'/ },
  { command: "signals", load: load("signals"), argv: ["x.csv", "--at"], input: "--at", message: /--at: needs a value/ },
  { command: "validate", load: load("validate"), argv: ["--proposal", "p.json", "--horizon", "abc"], input: "--horizon", message: /expected an integer >= 1, got 'abc'/ },
  { command: "validate", load: load("validate"), argv: ["--proposal", "p.json", "--window", "1"], input: "--window", message: /expected an integer >= 2, got '1'/ },
  { command: "validate", load: load("validate"), argv: ["--proposal", "p.json", "--window", "48", "--horizon", "49"], input: "--horizon", message: /cannot exceed the window \(48\)/ },
  { command: "validate", load: load("validate"), argv: ["--proposal", "p.json", "--seed", "-1"], input: "--seed", message: /expected an integer >= 0, got '-1'/ },
  { command: "validate", load: load("validate"), argv: ["--proposal", "p.json", "--monte-carlo", "1e999"], input: "--monte-carlo", message: /got '1e999'/ },
  { command: "validate", load: load("validate"), argv: ["--proposal", "p.json", "--via", "safe"], input: "--via", message: /expected one of keeper, governance, got 'safe'/ },
  { command: "validate", load: load("validate"), argv: ["--proposal", "p.json", "--fork"], input: "--fork", message: /unknown option --fork/ },
  { command: "validate", load: load("validate"), argv: ["--proposal", "p.json", "--rpc-rps", "10"], input: "--fork-url", message: /need --fork-url/ },
  { command: "validate", load: load("validate"), argv: ["--json"], input: "--proposal", message: /--proposal FILE is required/ },
  { command: "propose", load: load("propose"), argv: ["--proposal", "p.json", "--confirmations", "0"], input: "--confirmations", message: /expected an integer >= 1, got '0'/ },
  { command: "propose", load: load("propose"), argv: ["--proposal", "p.json", "--max-fee-gwei", "1e3"], input: "--max-fee-gwei", message: /at most 9 decimal places, got '1e3'/ },
  { command: "propose", load: load("propose"), argv: ["--proposal", "p.json", "--priority-fee-gwei", "0.0000000001"], input: "--priority-fee-gwei", message: /at most 9 decimal places/ },
  { command: "propose", load: load("propose"), argv: ["--proposal", "p.json", "--safe-call", "execute"], input: "--safe-call", message: /expected one of setParams, updateParams, queueUpdate, got 'execute'/ },
  { command: "propose", load: load("propose"), argv: ["--proposal", "p.json", "--via", "email"], input: "--via", message: /expected one of direct, governance, safe, automation, got 'email'/ },
  { command: "propose", load: load("propose"), argv: ["--dry-run"], input: "--proposal", message: /--proposal FILE is required/ },
  { command: "status", load: load("status"), argv: ["--state"], input: "--state", message: /--state: needs a value/ },
  { command: "status", load: load("status"), argv: ["state.json"], input: "state.json", message: /unexpected argument 'state\.json'/ },
];

describe("cli: usage errors name the option and the command", () => {
  for (const c of CASES) {
    it(`${c.command} ${c.argv.join(" ")}`, async () => {
      const command = await c.load();
      const error = await command.run(c.argv, { stdout: () => {}, stderr: () => {} }).then(() => undefined, (e: unknown) => e);
      expect(isRiskkeeperError(error, "CLI_USAGE"), String(error)).to.equal(true);
      const e = error as Error & { input?: string };
      expect(e.input).to.equal(c.input);
      expect(e.message).to.match(c.message);
      expect(e.message).to.contain(`riskkeeper ${c.command} --help`);
    });
  }

  it("through the CLI entry: exit code 2 and one line naming the command, the option and the code", async () => {
    const write = process.stderr.write.bind(process.stderr);
    let err = "";
    process.stderr.write = ((chunk: string) => { err += chunk; return true; }) as typeof process.stderr.write;
    let code: number;
    try {
      code = await main(["validate", "--proposal", "p.json", "--horizon", "abc"]);
    } finally {
      process.stderr.write = write;
    }
    expect(code).to.equal(2);
    expect(err).to.equal("riskkeeper validate: --horizon: expected an integer >= 1, got 'abc' (see 'riskkeeper validate --help') [CLI_USAGE]\n");
  });
});
