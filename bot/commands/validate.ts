import { parseArgs } from "node:util";
import { RiskkeeperError } from "../errors.ts";
import type { Command } from "./types.ts";

const USAGE = `riskkeeper validate --proposal FILE [--fork-url URL] [--block N] [--deployment FILE]
                    [--data PRICES.csv] [--window ROUNDS] [--horizon ROUNDS] [--scenarios K] [--positions N] [--seed N]
                    [--delay ROUNDS] [--via keeper|governance] [--json]

Without --fork-url the embedded in-process chain is deployed fresh. Scenarios: the K worst
drawdown windows and the worst rally of --data, judged over --horizon rounds (default 24) and
each played over --window rounds (default 720) from 24 rounds before the move, or a seeded
synthetic crash when no data is given. Positions: a seeded population of N (default 200) opened
under each parameter set, plus any the protocol already holds. Exit code 0 on pass, 1 on fail.`;

function intOption(value: string | undefined, name: string, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < min) {
    throw new RiskkeeperError("CLI_USAGE", `expected an integer >= ${min}, got '${value}'`, { input: `--${name}` });
  }
  return Number(value);
}

const stringify = (value: unknown) => JSON.stringify(value, (_, v) => (typeof v === "bigint" ? v.toString() : v), 2);

export const command: Command = {
  summary: "prove a proposed update on a fork: replay stress through the oracle, liquidate, compare bad debt with the current parameters",
  usage: USAGE,
  async run(argv, io) {
    const { values } = parseArgs({
      args: argv,
      options: {
        proposal: { type: "string" },
        "fork-url": { type: "string" },
        block: { type: "string" },
        deployment: { type: "string" },
        data: { type: "string" },
        window: { type: "string" },
        horizon: { type: "string" },
        scenarios: { type: "string" },
        positions: { type: "string" },
        seed: { type: "string" },
        delay: { type: "string" },
        via: { type: "string" },
        json: { type: "boolean", default: false },
      },
    });
    if (!values.proposal) throw new RiskkeeperError("CLI_USAGE", "--proposal FILE is required", { input: "validate" });
    const via = values.via ?? "keeper";
    if (via !== "keeper" && via !== "governance") throw new RiskkeeperError("CLI_USAGE", `expected keeper or governance, got '${via}'`, { input: "--via" });
    const window = intOption(values.window, "window", 720, 2);
    const horizon = intOption(values.horizon, "horizon", Math.min(24, window), 1);
    if (horizon > window) throw new RiskkeeperError("CLI_USAGE", `the horizon (${horizon}) cannot exceed the window (${window})`, { input: "--horizon" });
    const k = intOption(values.scenarios, "scenarios", 2, 1);
    const positions = intOption(values.positions, "positions", 200, 0);
    const seed = intOption(values.seed, "seed", 1, 0);
    const delay = intOption(values.delay, "delay", 0, 0);
    const block = values.block === undefined ? undefined : intOption(values.block, "block", 0, 0);
    if (block !== undefined && !values["fork-url"]) throw new RiskkeeperError("CLI_USAGE", "--block needs --fork-url", { input: "--block" });

    const { readProposalFile, readDeploymentFile } = await import("../proposal.ts");
    const proposal = await readProposalFile(values.proposal);
    const deploymentFile = values.deployment ?? proposal.deploymentFile;
    if (values["fork-url"] && !deploymentFile) {
      throw new RiskkeeperError("CLI_USAGE", "a fork needs the deployment's addresses: --deployment FILE or \"deployment\" in the proposal", { input: "--deployment" });
    }

    const fork = await import("../fork/index.ts");
    const scenarios = [];
    if (values.data) {
      const { loadPrices } = await import("../data/prices.ts");
      const { series } = await loadPrices(values.data);
      scenarios.push(...fork.worstWindows(series.t, series.close, { windowSteps: window, horizonSteps: horizon, k, direction: "down" }));
      scenarios.push(...fork.worstWindows(series.t, series.close, { windowSteps: window, horizonSteps: horizon, k: 1, direction: "up" }));
    } else {
      scenarios.push(fork.syntheticCrash({ seed, steps: window }));
    }

    const session = await fork.openForkSession({
      ...(values["fork-url"] ? { forkUrl: values["fork-url"] } : {}),
      ...(block !== undefined ? { blockNumber: block } : {}),
      ...(deploymentFile && values["fork-url"] ? { deployment: await readDeploymentFile(deploymentFile) } : {}),
    });
    try {
      if (session.deployment.market.name !== proposal.market) {
        throw new RiskkeeperError("INPUT_INVALID", `market '${proposal.market}' is not the deployment's market '${session.deployment.market.name}'`, { input: `${values.proposal}: market` });
      }
      const progress = process.stderr.isTTY && !values.json
        ? (e: { set: string; scenario: string; round: number; rounds: number }) => {
            if (e.round % 24 === 0 || e.round === e.rounds) process.stderr.write(`\r${e.set}: ${e.scenario} ${e.round}/${e.rounds}   `);
          }
        : undefined;
      const report = await fork.validateProposal(session, proposal.updates, {
        scenarios,
        population: { count: positions, seed },
        liquidationDelayRounds: delay,
        path: via,
        ...(progress ? { onProgress: progress } : {}),
      });
      if (progress) process.stderr.write("\n");
      io.stdout(values.json ? stringify(report) : fork.formatValidationReport(report));
      return report.verdict === "pass" ? 0 : 1;
    } finally {
      await session.close();
    }
  },
};
