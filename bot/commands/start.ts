import { parseArgs } from "node:util";
import type { Command } from "./types.ts";

// Until the keeper pipeline lands, `start` brings up the on-chain side on the in-process EDR
// chain, shows the addresses and roles, and proves the path end to end once: a feed round is
// published and the keeper moves one margin buffer by one bounded step with an evidence hash.
export const command: Command = {
  summary: "deploy everything to the in-process chain, print addresses and roles, run one bounded update",
  usage: "riskkeeper start [--out FILE]",
  async run(argv, io) {
    const { values } = parseArgs({ args: argv, options: { out: { type: "string" } } });
    const { network } = await import("hardhat");
    const { deployRiskkeeper, formatDeployment, writeDeployment } = await import("../../deploy/deploy.ts");
    const { PARAM } = await import("../../deploy/market-config.ts");
    const connection = await network.create();
    try {
      const { ethers } = connection;
      const deployment = await deployRiskkeeper(ethers);
      io.stdout(formatDeployment(deployment));
      if (values.out) {
        await writeDeployment(values.out, deployment);
        io.stdout(`addresses written to ${values.out}`);
      }

      const [deployer, keeper] = await ethers.getSigners();
      // Genesis values were just set: the keeper's min delay (1 h) must pass first.
      await connection.networkHelpers.time.increase(3_600);
      const feed = await ethers.getContractAt("ReplayAggregator", deployment.contracts.feed, deployer);
      const now = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
      await (await feed.getFunction("loadRounds")([1n], [3_000n * 10n ** 8n], [now], [now])).wait();
      await (await feed.getFunction("publishThrough")(1n)).wait();

      const steward = await ethers.getContractAt("RiskParameterSteward", deployment.contracts.steward, keeper);
      const id = deployment.market.id;
      const [before] = await steward.getFunction("getParam")(id, PARAM.initialMarginBps);
      const evidenceHash = ethers.id("riskkeeper:start:demo-evidence");
      const receipt = await (await steward.getFunction("updateParams")(
        id, [[PARAM.initialMarginBps, before + 100n]], evidenceHash,
      )).wait();
      const [after] = await steward.getFunction("getParam")(id, PARAM.initialMarginBps);
      io.stdout(
        `\nkeeper update: initialMarginBps ${before} -> ${after} (evidence ${evidenceHash}, gas ${receipt!.gasUsed})` +
        `\nfeed: ${(await feed.getFunction("description")())} latest answer ${(await feed.getFunction("latestRoundData")())[1]}` +
        "\nThe keeper pipeline (signals, calibration, rules, gates) is being built; see README for status.",
      );
      return 0;
    } finally {
      await connection.close();
    }
  },
};
