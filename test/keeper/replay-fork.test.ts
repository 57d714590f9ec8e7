// `riskkeeper replay --fork-url`: the same replay on a fork of a running chain (a Hardhat node on
// 127.0.0.1 here), pinned at a block, with the period moved past the fork block's time and
// reported at its own dates; the node itself is left untouched.
import { expect } from "chai";
import { mkdtemp, readdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { isRiskkeeperError } from "../../bot/errors.ts";
import { replayTimeShift } from "../../bot/keeper/embedded.ts";
import { startLocalNode, type LocalNode } from "../support/fork-node.ts";
import { sharedDataPath } from "../support/shared-data.ts";

const DAY = 86_400;

async function runCommand(args: string[]): Promise<{ code: number; out: string }> {
  const { command } = await import("../../bot/commands/replay.ts");
  const out: string[] = [];
  const code = await command.run(args, { stdout: (t) => out.push(t), stderr: () => {} });
  return { code, out: out.join("\n") };
}

describe("riskkeeper replay --fork-url (a fork of a node on 127.0.0.1)", function () {
  this.timeout(300_000);
  let node: LocalNode;

  before(async () => {
    node = await startLocalNode();
    // Some history on the node: blocks and a transfer the fork must start from.
    const [a, b] = await node.connection.ethers.getSigners();
    await (await a.sendTransaction({ to: await b.getAddress(), value: 10n ** 18n })).wait();
    await node.connection.networkHelpers.mine(5);
  });
  after(async () => {
    await node?.close();
  });

  it("moves a period to a week past the fork block in whole days, and not at all when it already is", () => {
    const from = Date.parse("2022-11-08T12:00:00Z") / 1000;
    const chainTime = Date.parse("2026-11-25T10:17:00Z") / 1000;
    const shift = replayTimeShift(from, chainTime);
    expect(shift % DAY).to.equal(0);
    expect(from + shift - chainTime).to.be.within(7 * DAY, 8 * DAY);
    expect(replayTimeShift(chainTime + 30 * DAY, chainTime)).to.equal(0);
  });

  it("replays November 2022 on the fork against the static baseline, at the pinned block, leaving the node as it was", async function () {
    const data = sharedDataPath("binance-spot-1h/ETHUSDT_1h.csv");
    if (!data) this.skip();
    const dir = await mkdtemp(path.join(os.tmpdir(), "rk-replay-fork-"));
    const head = await node.connection.ethers.provider.getBlockNumber();
    const pinned = head - 2;
    const { code, out } = await runCommand(["--from", "2022-11-08T12:00:00Z", "--to", "2022-11-09T00:00:00Z", "--data", data!, "--positions", "10",
      "--state", path.join(dir, "state"), "--fork-url", node.url, "--fork-block", String(pinned), "--quiet", "--json"]);
    expect(code).to.equal(0);
    expect(out).to.match(new RegExp(`fork: http://127\\.0\\.0\\.1:${node.port}/? chain 31337 at block ${pinned}`));
    const { keeper, baseline } = JSON.parse(out.slice(out.indexOf("{")));
    for (const run of [keeper, baseline]) {
      expect(run.fork.blockNumber).to.equal(pinned);
      expect(run.fork.chainId).to.equal("31337");
      expect(run.fork.timeShiftSeconds % DAY).to.equal(0);
      expect(run.from).to.equal("2022-11-08T12:00:00.000Z");
      expect(run.hours).to.equal(12);
    }
    expect(keeper.updatesConfirmed, JSON.stringify(keeper.decisions)).to.be.greaterThan(0);
    expect(baseline.updatesConfirmed).to.equal(0);
    for (const d of keeper.decisions) expect(Date.parse(d.at), `decision at ${d.at} is reported in the period`).to.be.within(Date.parse("2022-11-08T12:00:00Z"), Date.parse("2022-11-09T00:00:00Z"));
    expect(await node.connection.ethers.provider.getBlockNumber(), "nothing was sent to the node").to.equal(head);
  });

  it("refuses an unreachable fork URL (masked, RPC_FAILED) and --fork-block without --fork-url, writing nothing", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "rk-replay-fork-bad-"));
    const base = ["--from", "2022-11-08T12:00:00Z", "--to", "2022-11-09T00:00:00Z", "--state", path.join(dir, "state"), "--quiet"];
    const unreachable = await runCommand([...base, "--fork-url", "http://127.0.0.1:9/v2/secretkey123456"]).then(() => undefined, (e: unknown) => e);
    expect(isRiskkeeperError(unreachable, "RPC_FAILED"), String(unreachable)).to.equal(true);
    expect(JSON.stringify({ m: (unreachable as Error).message, i: (unreachable as { input: string }).input })).to.not.include("secretkey123456");
    const orphan = await runCommand([...base, "--fork-block", "5"]).then(() => undefined, (e: unknown) => e);
    expect(isRiskkeeperError(orphan, "CLI_USAGE"), String(orphan)).to.equal(true);
    expect((orphan as { input: string }).input).to.equal("--fork-block");
    expect(await readdir(dir)).to.deep.equal([]);
  });
});
