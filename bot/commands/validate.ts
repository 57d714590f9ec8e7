import path from "node:path";
import { RiskkeeperError } from "../errors.ts";
import { parseCommandArgs } from "./args.ts";
import type { Command } from "./types.ts";

const USAGE = `riskkeeper validate --proposal FILE [--fork-url URL] [--block N] [--deployment FILE] [--no-rpc-proxy] [--rpc-cache DIR] [--rpc-rps N]
                    [--data PRICES.csv] [--rounds ROUNDS.csv] [--scenario-file PRICES.csv] [--monte-carlo N] [--mc-worst K]
                    [--window ROUNDS] [--horizon ROUNDS] [--scenarios K] [--positions N] [--seed N]
                    [--delay ROUNDS] [--via keeper|governance] [--json]

Without --fork-url the embedded in-process chain is deployed fresh. With it, the fork goes through
a loopback RPC proxy (rate cap --rpc-rps, default 25/s; back-off on 429 and 5xx; disk cache of
answers at the pinned block under --rpc-cache, default cache/fork-rpc-cache) unless --no-rpc-proxy.
Scenarios (any combination; a seeded synthetic crash when none is given):
  --data FILE           the K worst drawdown windows and the worst rally of a price file, judged over
                        --horizon rounds (default 24), each played over --window rounds (default 720)
                        from 24 rounds before the move;
  --rounds FILE         real Chainlink rounds (a rounds CSV), the same windows counted in rounds, each
                        round at its own recorded time; a file shorter than the window is played whole;
  --scenario-file FILE  any price series, played whole as recorded;
  --monte-carlo N       GARCH(1,1)-t fitted on the history (--data, else --rounds, else
                        --scenario-file), N seeded paths of --window steps, the --mc-worst K (default 1)
                        worst drawdowns and K worst rallies kept.
Positions: a seeded population of N (default 200) opened under each parameter set, plus any the
protocol already holds. Exit code 0 on pass, 1 on fail.`;

const stringify = (value: unknown) => JSON.stringify(value, (_, v) => (typeof v === "bigint" ? v.toString() : v), 2);

export const command: Command = {
  summary: "prove a proposed update on a fork: replay stress through the oracle, liquidate, compare bad debt with the current parameters",
  usage: USAGE,
  async run(argv, io) {
    const args = parseCommandArgs("validate", argv, {
      proposal: { type: "string" },
      "fork-url": { type: "string" },
      block: { type: "string" },
      deployment: { type: "string" },
      data: { type: "string" },
      rounds: { type: "string" },
      "scenario-file": { type: "string" },
      "monte-carlo": { type: "string" },
      "mc-worst": { type: "string" },
      "no-rpc-proxy": { type: "boolean", default: false },
      "rpc-cache": { type: "string" },
      "rpc-rps": { type: "string" },
      window: { type: "string" },
      horizon: { type: "string" },
      scenarios: { type: "string" },
      positions: { type: "string" },
      seed: { type: "string" },
      delay: { type: "string" },
      via: { type: "string" },
      json: { type: "boolean", default: false },
    });
    const { values } = args;
    const proposalFile = args.required("proposal", "FILE");
    const via = args.oneOf("via", ["keeper", "governance"] as const, "keeper");
    const window = args.integer("window", { min: 2, default: 720 });
    const horizon = args.integer("horizon", { min: 1, default: Math.min(24, window) });
    if (horizon > window) throw args.usage(`the horizon (${horizon}) cannot exceed the window (${window})`, "--horizon");
    const k = args.integer("scenarios", { min: 1, default: 2 });
    const positions = args.integer("positions", { min: 0, default: 200 });
    const seed = args.integer("seed", { min: 0, default: 1 });
    const delay = args.integer("delay", { min: 0, default: 0 });
    const block = args.integer("block", { min: 0 });
    if (block !== undefined && !values["fork-url"]) throw args.usage("--block needs --fork-url", "--block");
    const monteCarloPaths = args.integer("monte-carlo", { min: 1, default: 0 });
    const mcWorst = args.integer("mc-worst", { min: 1, default: 1 });
    if (values["mc-worst"] !== undefined && monteCarloPaths === 0) throw args.usage("--mc-worst needs --monte-carlo N", "--mc-worst");
    const rps = args.integer("rpc-rps", { min: 1 });
    if ((values["no-rpc-proxy"] || values["rpc-cache"] || rps !== undefined) && !values["fork-url"]) {
      throw args.usage("--no-rpc-proxy, --rpc-cache and --rpc-rps need --fork-url", "--fork-url");
    }

    const { readProposalFile, readDeploymentFile } = await import("../proposal.ts");
    const proposal = await readProposalFile(proposalFile);
    const deploymentFile = values.deployment ?? proposal.deploymentFile;
    if (values["fork-url"] && !deploymentFile) {
      throw args.usage("a fork needs the deployment's addresses: --deployment FILE or \"deployment\" in the proposal", "--deployment");
    }

    const fork = await import("../fork/index.ts");
    const scenarios = [];
    let history: { t: ArrayLike<number>; price: ArrayLike<number>; source: string } | undefined;
    if (values.data) {
      const { loadPrices } = await import("../data/prices.ts");
      const { series } = await loadPrices(values.data);
      scenarios.push(...fork.worstWindows(series.t, series.close, { windowSteps: window, horizonSteps: horizon, k, direction: "down" }));
      scenarios.push(...fork.worstWindows(series.t, series.close, { windowSteps: window, horizonSteps: horizon, k: 1, direction: "up" }));
      history = { t: series.t, price: series.close, source: values.data };
    }
    if (values.rounds) {
      const { loadRounds } = await import("../data/rounds.ts");
      const { rounds } = await loadRounds(values.rounds);
      scenarios.push(...fork.roundsScenarios(rounds, { windowRounds: window, horizonRounds: horizon, k, label: `Chainlink rounds (${path.basename(values.rounds)})` }));
      history ??= { t: rounds.updatedAt, price: rounds.answer, source: values.rounds };
    }
    if (values["scenario-file"]) {
      const { loadPrices } = await import("../data/prices.ts");
      const file = values["scenario-file"];
      const { series } = await loadPrices(file);
      scenarios.push(fork.scenarioFromPath(`recorded series ${path.basename(file)} (${series.close.length} rounds)`, "recorded", series.t, series.close));
      history ??= { t: series.t, price: series.close, source: file };
    }
    let monteCarlo: (Omit<Awaited<ReturnType<typeof fork.monteCarloScenarios>>, "scenarios"> & { history: string }) | undefined;
    if (monteCarloPaths > 0) {
      if (!history) throw args.usage("--monte-carlo fits its model on history: give --data, --rounds or --scenario-file", "--monte-carlo");
      const mc = await fork.monteCarloScenarios(history.t, history.price, { paths: monteCarloPaths, steps: window, k: mcWorst, seed });
      scenarios.push(...mc.scenarios);
      monteCarlo = { model: mc.model, simulated: mc.simulated, history: history.source };
    }
    if (scenarios.length === 0) scenarios.push(fork.syntheticCrash({ seed, steps: window }));

    const session = await fork.openForkSession({
      ...(values["fork-url"] ? { forkUrl: values["fork-url"] } : {}),
      ...(block !== undefined ? { blockNumber: block } : {}),
      ...(deploymentFile && values["fork-url"] ? { deployment: await readDeploymentFile(deploymentFile) } : {}),
      ...(values["no-rpc-proxy"]
        ? { rpcProxy: false as const }
        : { rpcProxy: { ...(values["rpc-cache"] ? { cacheDir: path.resolve(values["rpc-cache"]) } : {}), ...(rps !== undefined ? { maxRequestsPerSecond: rps } : {}) } }),
    });
    try {
      if (session.deployment.market.name !== proposal.market) {
        throw new RiskkeeperError("INPUT_INVALID", `market '${proposal.market}' is not the deployment's market '${session.deployment.market.name}'`, { input: `${proposalFile}: market` });
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
      const text = fork.formatValidationReport(report) + (monteCarlo
        ? `\nmonte carlo: GARCH(1,1)-t on ${monteCarlo.model.n} returns of ${monteCarlo.history} (nu ${monteCarlo.model.params.nu?.toFixed(2)}, persistence ${(monteCarlo.model.params.alpha + monteCarlo.model.params.beta).toFixed(3)}); ${monteCarlo.simulated.paths} paths, median drawdown ${(monteCarlo.simulated.medianDrawdown * 100).toFixed(1)}%, median rally ${(monteCarlo.simulated.medianRally * 100).toFixed(1)}%`
        : "");
      io.stdout(values.json ? stringify({ ...report, ...(monteCarlo ? { monteCarlo } : {}) }) : text);
      return report.verdict === "pass" ? 0 : 1;
    } finally {
      await session.close();
    }
  },
};
