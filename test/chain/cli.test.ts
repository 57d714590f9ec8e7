// `riskkeeper propose` end to end against a JSON-RPC server over the in-process chain: files in a
// temp dir (keystore, proposal, deployment, journal, log, Safe batch), the password from the
// injected environment. The last test greps everything written and printed for the key and the
// password.
import { expect } from "chai";
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Wallet } from "ethers";
import { network } from "hardhat";
import { isChainError } from "../../bot/chain/errors.ts";
import { validateSafeBatch } from "../../bot/chain/safe-batch.ts";
import { runPropose } from "../../bot/commands/propose.ts";
import { deployRiskkeeper, writeDeployment, type Deployment } from "../../deploy/deploy.ts";
import { EVIDENCE, writeKeystore } from "./support.ts";

describe("chain: riskkeeper propose (CLI) over JSON-RPC", () => {
  const keeper = Wallet.createRandom();
  const stranger = Wallet.createRandom();
  const password = "pw-" + Wallet.createRandom().address.slice(2, 18);
  const env = { RISKKEEPER_KEYSTORE_PASSWORD: password };
  let server: Awaited<ReturnType<typeof network.createServer>>;
  let connection: Awaited<ReturnType<typeof network.create>>;
  let rpc: string;
  let dir: string; // everything the command writes
  let keys: string; // keystores (inputs, encrypted)
  let deployment: Deployment;
  const printed: string[] = [];
  const io = { stdout: (t: string) => { printed.push(t); }, stderr: (t: string) => { printed.push(t); } };
  const run = (...argv: string[]) => runPropose(argv, io, env, { interactive: false });
  const last = () => printed.slice(-8).join("\n");

  const writeProposal = async (name: string, updates: Array<{ parameter: string; value: string }>, extra: Record<string, unknown> = {}) => {
    const file = path.join(dir, name);
    await writeFile(file, JSON.stringify({ market: "ETH-USD", updates, evidenceHash: EVIDENCE, evidenceSummary: "EWMA vol 92%, FHS ES 18%", deployment: "deployment.json", ...extra }));
    return file;
  };

  before(async () => {
    server = await network.createServer("default", "127.0.0.1", 0);
    const { port } = await server.listen();
    rpc = `http://127.0.0.1:${port}`;
    connection = await network.create({ network: "localhost", override: { url: rpc } });
    const [deployer, , guardian] = await connection.ethers.getSigners();
    deployment = await deployRiskkeeper(connection.ethers, { signers: { deployer: deployer!, keeper, guardian: guardian! } });
    await connection.networkHelpers.setBalance(keeper.address, 10n ** 20n);
    await connection.networkHelpers.setBalance(stranger.address, 10n ** 20n);
    await connection.networkHelpers.time.increase(3_600);
    dir = await mkdtemp(path.join(tmpdir(), "riskkeeper-cli-"));
    keys = await mkdtemp(path.join(tmpdir(), "riskkeeper-keys-"));
    await writeKeystore(path.join(keys, "keeper.json"), keeper, password);
    await writeKeystore(path.join(keys, "stranger.json"), stranger, password);
    await writeDeployment(path.join(dir, "deployment.json"), deployment);
  });
  after(async () => {
    await connection.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
    await rm(keys, { recursive: true, force: true });
  });

  const common = () => ["--rpc", rpc, "--keystore", path.join(keys, "keeper.json"), "--journal", path.join(dir, "journal.json"), "--log", path.join(dir, "chain.log")];
  const nonce = () => connection.ethers.provider.getTransactionCount(keeper.address, "pending");

  it("--dry-run simulates and prints what would be sent; nothing is signed, sent or recorded", async () => {
    const file = await writeProposal("im.json", [{ parameter: "initialMarginBps", value: "1150" }]);
    expect(await run("--proposal", file, "--dry-run", ...common())).to.equal(0);
    expect(last()).to.include("dry run (direct): would send updateParams ETH-USD").and.include(`from ${keeper.address}`).and.include("nothing signed, sent or recorded");
    expect(await run("--proposal", file, "--dry-run", "--json", ...common())).to.equal(0);
    expect(JSON.parse(printed.at(-1)!).result.submission).to.include({ dryRun: true, to: deployment.contracts.steward });
    expect(await nonce()).to.equal(0);
    expect(await readdir(dir)).to.not.include("journal.json");
  });

  it("sends a direct update once; a re-run reconciles from the journal", async () => {
    const file = path.join(dir, "im.json");
    expect(await run("--proposal", file, ...common())).to.equal(0);
    expect(last()).to.include("updateParams ETH-USD: confirmed").and.include(`initialMarginBps: 1000 -> 1150 (evidence ${EVIDENCE})`);
    expect(await run("--proposal", file, ...common())).to.equal(0);
    expect(last()).to.include("reconciled from the journal, not re-sent");
    expect(await nonce()).to.equal(1);
    const journal = JSON.parse(await readFile(path.join(dir, "journal.json"), "utf8")) as { submissions: Record<string, { status: string }> };
    expect(Object.values(journal.submissions).map((r) => r.status)).to.deep.equal(["confirmed"]);
  });

  it("refuses an out-of-bounds proposal before sending, naming the bound", async () => {
    const file = await writeProposal("far.json", [{ parameter: "liquidationBufferBps", value: "900" }]);
    const error = await run("--proposal", file, ...common()).catch((e: unknown) => e);
    expect(isChainError(error, "BOUNDS_VIOLATION"), String(error)).to.equal(true);
    expect((error as Error).message).to.include("StepTooLarge").and.include("liquidationBufferBps");
    expect(await nonce()).to.equal(1);
  });

  it("queues through the automation path and starts a governance proposal", async () => {
    const q = await writeProposal("queue.json", [{ parameter: "liquidationBufferBps", value: "130" }]);
    expect(await run("--proposal", q, "--via", "automation", ...common())).to.equal(0);
    expect(last()).to.include("queued update #0");
    const g = await writeProposal("gov.json", [{ parameter: "initialMarginBps", value: "6000" }]);
    expect(await run("--proposal", g, "--via", "governance", ...common())).to.equal(0);
    expect(last()).to.match(/proposal \d+ was unknown: proposed/);
    expect(await run("--proposal", g, "--via", "governance", ...common())).to.equal(0);
    expect(last()).to.match(/was pending: waiting/);
    expect(await nonce()).to.equal(3);
  });

  it("exports a Safe batch (inline addresses) that passes the schema", async () => {
    const file = await writeProposal("safe.json", [{ parameter: "initialMarginBps", value: "6000" }], {
      deployment: { chainId: deployment.chainId, contracts: { steward: deployment.contracts.steward } },
    });
    const out = path.join(dir, "batch.json");
    expect(await runPropose(["--proposal", file, "--via", "safe", "--safe", "0x" + "b2".repeat(20), "--out", out], io, {}, { now: () => 1_764_000_000_000 })).to.equal(0);
    const batch = JSON.parse(await readFile(out, "utf8")) as unknown;
    expect(validateSafeBatch(batch)).to.deep.equal([]);
    expect(batch).to.include({ chainId: "31337", createdAt: 1_764_000_000_000 });
  });

  it("bad input: wrong password, signer without the keeper role, RPC on another chain — nothing sent", async () => {
    const file = path.join(dir, "im.json");
    const before = await nonce();
    const wrong = await runPropose(["--proposal", file, ...common()], io, { RISKKEEPER_KEYSTORE_PASSWORD: "wrong" }, { interactive: false }).catch((e: unknown) => e);
    expect(isChainError(wrong, "WRONG_PASSWORD"), String(wrong)).to.equal(true);
    expect((wrong as Error).message).to.include("keeper.json").and.include(keeper.address);

    const other = await writeProposal("lb.json", [{ parameter: "liquidationBufferBps", value: "110" }]);
    const role = await run("--proposal", other, ...common().map((a) => (a.endsWith("keeper.json") ? path.join(keys, "stranger.json") : a))).catch((e: unknown) => e);
    expect(isChainError(role, "MISSING_ROLE"), String(role)).to.equal(true);
    expect((role as Error).message).to.include(stranger.address).and.include("KEEPER_ROLE");
    expect(await connection.ethers.provider.getTransactionCount(stranger.address, "pending")).to.equal(0);

    await mkdir(path.join(dir, "mainnet"), { recursive: true });
    await writeDeployment(path.join(dir, "mainnet", "deployment.json"), { ...deployment, chainId: "1" });
    const mismatch = await run("--proposal", other, ...common(), "--deployment", path.join(dir, "mainnet", "deployment.json")).catch((e: unknown) => e);
    expect(isChainError(mismatch, "CHAIN_MISMATCH"), String(mismatch)).to.equal(true);
    expect((mismatch as Error).message).to.include("31337").and.include("chain 1");
    expect(await nonce()).to.equal(before);
  });

  it("writes neither the private key nor the password anywhere: journal, log, batch, output", async () => {
    const key = keeper.privateKey.slice(2).toLowerCase();
    const files = await readdir(dir, { recursive: true, withFileTypes: true });
    const written = files.filter((d) => d.isFile()).map((d) => path.join(d.parentPath, d.name));
    expect(written.map((f) => path.basename(f))).to.include.members(["journal.json", "chain.log", "batch.json"]);
    const texts = [...(await Promise.all(written.map((f) => readFile(f, "utf8")))), printed.join("\n")];
    for (const text of texts) {
      expect(text.toLowerCase()).to.not.include(key);
      expect(text).to.not.include(password);
    }
    expect((await readFile(path.join(dir, "chain.log"), "utf8")).split("\n").filter(Boolean).length).to.be.greaterThan(5);
  });
});
