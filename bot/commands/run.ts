import { readdirSync } from "node:fs";
import path from "node:path";
import { parseCommandArgs } from "./args.ts";
import { RiskkeeperError } from "../errors.ts";
import type { Command } from "./types.ts";
import type { JsonValue } from "../keeper/state.ts";
import { POLICIES_DIR, loadPolicy } from "./backtest-input.ts";

const USAGE = `riskkeeper run --config FILE [--keystore FILE] [--shadow] [--once]

Starts the keeper against a live chain (or a node/fork given by the config's rpcUrl): per market,
the signal watch and calibration cadence of the config's schedule, an immediate run when stress
rises, and the whole pipeline (calibration, bounded rule, backtest gate, fork gate, submission,
read-back). The keeper key comes from an encrypted JSON keystore (--keystore) whose password is
read from RISKKEEPER_KEYSTORE_PASSWORD. --shadow does everything but submit (no key needed): each
update it would have made ends as a record rejected with code "shadow", with its evidence, and
changes made by other writers are reported. --once runs every market once and exits (1 when a
market's run failed).
Health and metrics: http://127.0.0.1:<health.port>/healthz and /metrics. SIGTERM/SIGINT stop it.
For the embedded default (no chain to give), use \`riskkeeper start\`.`;

export function knownPolicies(): string[] {
  return readdirSync(POLICIES_DIR).filter((f) => f.endsWith(".json")).map((f) => f.replace(/\.json$/, ""));
}

export const command: Command = {
  summary: "run the keeper against a live chain (or --shadow: everything but the submission)",
  usage: USAGE,
  async run(argv, io) {
    const args = parseCommandArgs("run", argv, { config: { type: "string" }, keystore: { type: "string" }, shadow: { type: "boolean" }, once: { type: "boolean" } });
    const values = { ...args.values, config: args.required("config", "FILE") };
    const { loadKeeperConfig } = await import("../keeper/config.ts");
    const config = await loadKeeperConfig(values.config, { knownPolicies: knownPolicies() });
    if (config.deployment.kind === "embedded" || !config.rpcUrl) {
      throw new RiskkeeperError("CONFIG_INVALID", "run needs a chain: set rpcUrl and a deployment file (for the embedded default use `riskkeeper start`)", { input: `${values.config}: rpcUrl` });
    }
    if (config.submission.mode !== "direct") {
      // Proposals and queued upkeep updates are sent by `riskkeeper propose`, with a human in the loop.
      throw new RiskkeeperError("CONFIG_INVALID", `run submits bounded updates directly to the steward; submission.mode "${config.submission.mode}" goes through \`riskkeeper propose --via ${config.submission.mode}\``, { input: `${values.config}: submission.mode` });
    }
    if (!values.shadow && !values.keystore) throw args.usage("--keystore FILE is required to submit (or use --shadow)", "--keystore");
    if (config.deployment.kind !== "file" || !config.deployment.file) {
      throw new RiskkeeperError("CONFIG_INVALID", "run reads the contracts from a deployment file (deploy/deploy.ts --out)", { input: `${values.config}: deployment` });
    }

    const { readDeploymentFile } = await import("../proposal.ts");
    const { connectRpc, assertChainId } = await import("../chain/provider.ts");
    const { bindSteward, errorInterfaces } = await import("../chain/bindings.ts");
    const { keeperChainPort } = await import("../chain/keeper-port.ts");
    const { TxManager } = await import("../chain/tx-manager.ts");
    const { loadKeystoreSigner } = await import("../chain/keys.ts");
    const { loadPrices } = await import("../data/prices.ts");
    const { createBufferModel } = await import("../backtest/model.ts");
    const { startKeeperRuntime } = await import("../keeper/runtime.ts");
    const { SeriesHistory } = await import("../keeper/history.ts");
    const { managedRulesFromPolicy } = await import("../keeper/decide.ts");
    const { MarketPipeline } = await import("../keeper/pipeline.ts");
    const { ForkValidationGate, WalkForwardGate } = await import("../keeper/gates.ts");
    const { configHash } = await import("../keeper/config.ts");
    const { FeedHistory } = await import("../keeper/feed-history.ts");
    const { ChainlinkReader } = await import("../data/chainlink-reader.ts");
    const { PoliteRpc, httpTransport } = await import("../data/rpc.ts");
    const { maskRpcUrl } = await import("../chain/provider.ts");

    const deployment = await readDeploymentFile(config.deployment.file);
    const { provider } = await connectRpc(config.rpcUrl);
    await assertChainId(provider, deployment.chainId, `the deployment ${config.deployment.file}`);
    const signer = values.shadow ? undefined : await loadKeystoreSigner(values.keystore!, { envVar: "RISKKEEPER_KEYSTORE_PASSWORD", env: process.env });
    const steward = bindSteward(deployment.contracts.steward, provider);
    // Feed reads go through the polite client (rate limit, retries, immutable-round cache).
    const feedRpc = new PoliteRpc(httpTransport(config.rpcUrl), { label: maskRpcUrl(config.rpcUrl), requestsPerSecond: config.rpcRequestsPerSecond });
    type MarketHistory = InstanceType<typeof SeriesHistory> | InstanceType<typeof FeedHistory>;
    // A feed history reads the rounds published since the last look, before each run and watch.
    const refreshed = async (m: { history: MarketHistory }, nowMs: number) => {
      if (m.history instanceof FeedHistory) await m.history.refresh(Math.floor(nowMs / 1000));
      return m.history;
    };

    // Markets: each must be the deployment's market (one steward market per deployment file).
    const markets = await Promise.all(config.markets.map(async (m, i) => {
      if (m.name !== deployment.market.name) {
        throw new RiskkeeperError("CONFIG_INVALID", `market '${m.name}' is not the deployment's market '${deployment.market.name}'`, { input: `${values.config}: markets[${i}].name` });
      }
      const policy = loadPolicy(m.policy.file ?? path.join(POLICIES_DIR, `${m.policy.name}.json`));
      const file = m.data !== undefined ? await loadPrices(m.data) : undefined;
      const fileReport = file ? (JSON.parse(JSON.stringify({ rowsKept: file.report.rowsKept, gaps: file.report.gaps?.count })) as JsonValue) : undefined;
      if (m.history.source === "file") {
        return { config: m, policy, history: new SeriesHistory(file!.series, { source: m.data!, report: fileReport!, stressConfig: config.stress.signals }) as MarketHistory };
      }
      if (!m.feed) throw new RiskkeeperError("CONFIG_INVALID", 'history "feed" needs the feed address', { input: `${values.config}: markets[${i}].feed` });
      const history: MarketHistory = new FeedHistory({
        feed: new ChainlinkReader(feedRpc, m.feed),
        intervalSeconds: policy.intervalSeconds,
        lookbackSeconds: policy.lookbackSteps * policy.intervalSeconds,
        maxRounds: m.history.maxRounds,
        stressConfig: config.stress.signals,
        ...(file ? { backfill: { series: file.series, source: m.data!, report: fileReport! } } : {}),
      });
      return { config: m, policy, history };
    }));

    let runtime: Awaited<ReturnType<typeof startKeeperRuntime>> | undefined;
    const pipelines = new Map<string, InstanceType<typeof MarketPipeline>>();
    let manager: InstanceType<typeof TxManager> | undefined;
    runtime = await startKeeperRuntime({
      config,
      secrets: [config.rpcUrl],
      schedule: !values.once,
      alerts: () => [...pipelines.values()].flatMap((p) => p.alerts),
      run: async (ctx, rt) => {
        const m = markets.find((x) => x.config.name === ctx.market)!;
        let pipeline = pipelines.get(ctx.market);
        if (!pipeline) {
          // One manager for the signer, whatever the number of markets: it alone allocates nonces.
          manager ??= signer
            ? new TxManager({
                provider, signer, chainId: BigInt(deployment.chainId), journal: rt.store.journalFor(),
                fees: { maxFeePerGas: BigInt(Math.round(config.gas.maxFeePerGasGwei * 1e9)), maxPriorityFeePerGas: BigInt(Math.round(config.gas.maxPriorityFeePerGasGwei * 1e9)) },
                clock: { now: () => rt.clock.now(), sleep: (ms) => rt.clock.sleep(ms) },
                errorInterfaces: errorInterfaces(),
                maxGasLimit: BigInt(config.gas.gasLimit),
              })
            : undefined;
          const chain = manager
            ? keeperChainPort({ provider, steward, manager })
            : { ...keeperChainPort({ provider, steward, manager: undefined as never }), submit: async () => { throw new RiskkeeperError("SUBMISSION_REFUSED", "shadow mode submits nothing", { input: "--shadow" }); } };
          pipeline = new MarketPipeline(
            { name: m.config.name, marketId: deployment.market.id, policy: m.policy, model: createBufferModel(m.policy.modelSpec), rules: managedRulesFromPolicy(m.policy), history: m.history },
            {
              store: rt.store,
              chain,
              backtestGate: new WalkForwardGate(m.history, m.policy),
              ...(config.fork.enabled
                ? { forkGate: new ForkValidationGate(m.history, { forkUrl: config.fork.url ?? config.rpcUrl!, deployment, timeoutMs: config.fork.timeoutMs, ...(config.fork.blockNumber !== undefined ? { blockNumber: config.fork.blockNumber } : {}) }) }
                : {}),
              stateDir: rt.stateDir,
              configHash: configHash(config),
              logger: rt.logger,
              ...(values.shadow ? { shadow: true } : {}),
            },
          );
          pipelines.set(ctx.market, pipeline);
        }
        await refreshed(m, rt.clock.now());
        const result = await pipeline.run(ctx.submissionsAllowed);
        io.stdout(`${new Date(rt.clock.now()).toISOString()} ${ctx.market} ${result.outcome}: ${result.changes ? result.changes.map((c) => `${c.parameter}=${c.value}`).join(", ") + " — " : ""}${result.reason.slice(0, 300)}`);
      },
      watch: async (market, rt) => {
        const history = await refreshed(markets.find((x) => x.config.name === market)!, rt.clock.now());
        return { level: history.stressAt(Math.floor(rt.clock.now() / 1000)).level };
      },
    });
    if (values.once) {
      // A failed run is logged and recorded by the scheduler; --once also says so in its exit code.
      const failed: string[] = [];
      for (const m of config.markets) {
        const outcome = await runtime.scheduler.trigger(m.name, "manual");
        if (!outcome.ok) failed.push(m.name);
      }
      await runtime.stop();
      provider.destroy();
      if (failed.length > 0) io.stderr(`riskkeeper run: the run of ${failed.join(", ")} failed (see the log)`);
      return failed.length > 0 ? 1 : 0;
    }
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once("SIGTERM", stop);
      process.once("SIGINT", stop);
    });
    await runtime.stop();
    provider.destroy();
    return 0;
  },
};
