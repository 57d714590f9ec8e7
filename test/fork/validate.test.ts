import { expect } from "chai";
import { openForkSession, syntheticCrash, validateProposal, formatValidationReport, type ForkSession, type ValidationOptions } from "../../bot/fork/index.ts";
import { isRiskkeeperError } from "../../bot/errors.ts";

// The validation gate on the embedded chain: same population, same crash, current vs proposed.
const crash = syntheticCrash({ seed: 7, steps: 96, crashFraction: 0.35, crashSteps: 12 });
const options: ValidationOptions = {
  scenarios: [crash],
  population: { count: 30, seed: 3 },
  liquidationDelayRounds: 0,
};

describe("fork validation gate (embedded chain)", () => {
  let session: ForkSession;
  before(async () => {
    session = await openForkSession();
  });
  after(async () => {
    await session?.close();
  });

  it("fails a proposal that lowers margins below what the crash needs, with bad debt", async function () {
    this.timeout(120_000);
    // A keeper cannot go this far in one step: the steward would reject it, so this is the
    // governance path, judged only by its outcome.
    const report = await validateProposal(session, [
      { parameter: "initialMarginBps", value: 300n },
      { parameter: "maintenanceMarginBps", value: 150n },
    ], { ...options, path: "governance" });
    const [current] = report.current.outcomes;
    const [proposed] = report.proposed.outcomes;
    console.log(formatValidationReport(report).split("\n").map((l) => `      ${l}`).join("\n"));
    expect(report.verdict).to.equal("fail");
    expect(current.badDebt).to.equal(0n);
    expect(proposed.badDebt > 0n).to.equal(true);
    expect(proposed.underwaterLiquidations).to.be.greaterThan(0);
    expect(report.reasons.some((r) => r.includes("bad debt"))).to.equal(true);
    expect(report.steward.wouldAccept).to.equal(false);
    expect(report.steward.rejection).to.match(/^StewardStepTooLarge/);
    expect(report.oracle.takeover).to.equal("replay");
    expect(report.rpc).to.equal(undefined);
  });

  it("passes a bounded tightening, and the same scenario gives the same outcome twice", async function () {
    this.timeout(120_000);
    await session.connection.networkHelpers.time.increase(3_600); // past the genesis min delay
    const change = [{ parameter: "initialMarginBps" as const, value: 1_200n }, { parameter: "maintenanceMarginBps" as const, value: 600n }];
    const first = await validateProposal(session, change, options);
    const second = await validateProposal(session, change, options);
    expect(first.verdict, first.reasons.join("; ")).to.equal("pass");
    expect(first.steward).to.deep.equal({ path: "keeper", wouldAccept: true });
    const strip = (r: typeof first) => JSON.stringify(r, (_, v) => (typeof v === "bigint" ? v.toString() : v));
    expect(strip(second)).to.equal(strip(first));
    expect(first.proposed.outcomes[0].liquidations).to.be.greaterThan(0);
    expect(first.proposed.outcomes[0].badDebt).to.equal(0n);
  });

  it("fails, never passes, a keeper proposal the steward would reject", async function () {
    this.timeout(120_000);
    const report = await validateProposal(session, [{ parameter: "initialMarginBps", value: 5_001n }], options);
    expect(report.verdict).to.equal("fail");
    expect(report.reasons[0]).to.match(/steward would reject the update: StewardValueOutOfRange/);
  });

  it("rejects an empty proposal and a chain state left unchanged", async () => {
    const before = await session.connection.ethers.provider.getBlockNumber();
    await validateProposal(session, [], options).then(
      () => expect.fail("expected an error"),
      (error) => expect(isRiskkeeperError(error, "INPUT_INVALID")).to.equal(true),
    );
    expect(await session.connection.ethers.provider.getBlockNumber()).to.equal(before);
  });
});
