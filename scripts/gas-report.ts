// Gas of the calls a keeper and an upkeep make, measured on the in-process EDR chain.
// `npm run bench:gas` prints a Markdown table (the README's gas section is this output).
import { network } from "hardhat";
import { AbiCoder } from "ethers";
import { deployRiskkeeper } from "../deploy/deploy.ts";
import { PARAM } from "../deploy/market-config.ts";

const connection = await network.create();
const { ethers, networkHelpers: helpers } = connection;
const d = await deployRiskkeeper(ethers);
const [deployer, keeper, , alice] = await ethers.getSigners();
const steward = await ethers.getContractAt("RiskParameterSteward", d.contracts.steward, keeper);
const upkeep = await ethers.getContractAt("StewardUpkeep", d.contracts.upkeep, deployer);
const feed = await ethers.getContractAt("ReplayAggregator", d.contracts.feed, deployer);
const protocol = await ethers.getContractAt("DemoMarginProtocol", d.contracts.protocol, alice);
const token = await ethers.getContractAt("DemoUSD", d.contracts.collateral, deployer);
const id = d.market.id;
const evidence = ethers.id("gas-report");
const rows: Array<[string, bigint]> = [];
const measure = async (label: string, send: () => Promise<{ wait: () => Promise<{ gasUsed: bigint } | null> }>) => {
  const receipt = await (await send()).wait();
  rows.push([label, receipt!.gasUsed]);
};

await helpers.time.increase(3_600);
await measure("keeper updateParams, 1 parameter", () => steward.updateParams(id, [[PARAM.initialMarginBps, 1_100]], evidence));
await measure("keeper updateParams, 3 margin parameters", () =>
  steward.updateParams(id, [[PARAM.maintenanceMarginBps, 550], [PARAM.liquidationBufferBps, 120], [PARAM.volAnnualPpm, 900_000]], evidence));
await measure("keeper updateParams, 5 smile parameters", () =>
  steward.updateParams(id, [[PARAM.sviAPpm, 20_000], [PARAM.sviBPpm, 150_000], [PARAM.sviRhoPpm, -250_000], [PARAM.sviMPpm, 10_000], [PARAM.sviSigmaPpm, 120_000]], evidence));
await helpers.time.increase(3_600);
await measure("keeper queueUpdate, 1 parameter", () => steward.queueUpdate(id, [[PARAM.initialMarginBps, 1_200]], evidence));
await helpers.time.increase(600);
const [needed, performData] = await upkeep.checkUpkeep("0x");
if (!needed) throw new Error("gas report: upkeep found nothing to perform");
await measure("upkeep performUpkeep (re-check + apply 1 parameter)", () => upkeep.performUpkeep(performData));
const checkGas = await upkeep.checkUpkeep.estimateGas(AbiCoder.defaultAbiCoder().encode(["uint256"], [0]));
rows.push(["upkeep checkUpkeep (simulated, view)", checkGas]);

const now = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
await measure("feed loadRounds, 100 rounds", () =>
  feed.loadRounds([...Array(100).keys()].map((i) => BigInt(i + 1)), Array(100).fill(3_000n * 10n ** 8n), Array(100).fill(now), Array(100).fill(now)));
await measure("feed publishThrough (one round)", () => feed.publishThrough(1));
await (await token.mint(alice.address, 10n ** 24n)).wait();
await (await token.connect(alice).getFunction("approve")(d.contracts.protocol, 10n ** 24n)).wait();
await measure("protocol openPosition", () => protocol.openPosition(true, 2_000n * 10n ** 18n, 10_000n * 10n ** 18n));

console.log("| call | gas |\n|---|---:|");
for (const [label, gas] of rows) console.log(`| ${label} | ${gas.toLocaleString("en-US")} |`);
await connection.close();
