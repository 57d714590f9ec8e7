import { expect } from "chai";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { inspect } from "node:util";
import { Wallet } from "ethers";
import { BOUND_FUNCTIONS, bindSteward } from "../../bot/chain/bindings.ts";
import { contractInterface, loadAbi } from "../../bot/chain/artifacts.ts";
import { isChainError } from "../../bot/chain/errors.ts";
import { keystoreAddress, loadKeystoreSigner } from "../../bot/chain/keys.ts";
import { writeKeystore } from "./support.ts";

describe("chain: keystore keys and artifact bindings", () => {
  let dir: string;
  const wallet = Wallet.createRandom();
  const password = "correct horse battery staple 7";
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "riskkeeper-keys-"));
    await writeKeystore(path.join(dir, "keeper.json"), wallet, password);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("decrypts with the password from the injected environment or a prompt", async () => {
    const file = path.join(dir, "keeper.json");
    const fromEnv = await loadKeystoreSigner(file, { envVar: "KEY_PW", env: { KEY_PW: password } });
    expect(fromEnv.address).to.equal(wallet.address);
    let asked = "";
    const fromPrompt = await loadKeystoreSigner(file, { prompt: async (q) => { asked = q; return password; } });
    expect(fromPrompt.address).to.equal(wallet.address);
    expect(asked).to.include(file);
    // The signer signs, and shows nothing of the key however it is printed.
    const signed = await fromEnv.signMessage("riskkeeper");
    expect(signed).to.match(/^0x[0-9a-f]{130}$/);
    const key = wallet.privateKey.slice(2);
    for (const shown of [JSON.stringify(fromEnv), inspect(fromEnv, { showHidden: true, depth: 5 }), String(Object.keys(fromEnv))]) {
      expect(shown.toLowerCase()).to.not.include(key);
    }
    expect(keystoreAddress(await (await import("node:fs/promises")).readFile(file, "utf8"))).to.equal(wallet.address);
  });

  it("a wrong password is a clear error naming the file and the address, never the password", async () => {
    const file = path.join(dir, "keeper.json");
    const error = await loadKeystoreSigner(file, { envVar: "KEY_PW", env: { KEY_PW: "not it" } }).catch((e: unknown) => e);
    expect(isChainError(error, "WRONG_PASSWORD"), String(error)).to.equal(true);
    expect((error as Error).message).to.include(file).and.include(wallet.address).and.not.include("not it");
    expect((error as Error).cause).to.equal(undefined);
    const missing = await loadKeystoreSigner(file, { envVar: "KEY_PW", env: {} }).catch((e: unknown) => e);
    expect(isChainError(missing, "PASSWORD_MISSING")).to.equal(true);
    expect((missing as Error).message).to.include("KEY_PW");
    await writeFile(path.join(dir, "plain.json"), JSON.stringify({ privateKey: "nope" }));
    const notKeystore = await loadKeystoreSigner(path.join(dir, "plain.json"), { envVar: "KEY_PW", env: { KEY_PW: password } }).catch((e: unknown) => e);
    expect(isChainError(notKeystore, "KEYSTORE_INVALID")).to.equal(true);
  });

  it("every bound function is in the compiled artifact with the declared signature", () => {
    for (const [name, functions] of Object.entries(BOUND_FUNCTIONS)) {
      const iface = contractInterface(name as keyof typeof BOUND_FUNCTIONS);
      for (const signature of functions) {
        expect(iface.getFunction(signature)?.format("sighash"), `${name}.${signature}`).to.equal(signature);
      }
    }
    expect(Array.isArray(loadAbi("RiskParameterSteward"))).to.equal(true);
    const steward = bindSteward("0x" + "11".repeat(20), null);
    expect(steward.encode("updateParams", ["0x" + "00".repeat(32), [[0, 1n]], "0x" + "22".repeat(32)]).slice(0, 10)).to.equal(steward.iface.getFunction("updateParams")!.selector);
  });

  it("a missing artifact or function fails at load, naming the contract", () => {
    const noBuild = (() => { try { contractInterface("RiskGovernor", [], { artifactsDir: path.join(dir, "nowhere") }); } catch (e) { return e; } })();
    expect(isChainError(noBuild, "ARTIFACT_MISSING")).to.equal(true);
    expect((noBuild as Error).message).to.include("npm run build");
    const noFn = (() => { try { contractInterface("RiskParameterSteward", ["updateEverything(bytes32)"]); } catch (e) { return e; } })();
    expect(isChainError(noFn, "ARTIFACT_MISSING")).to.equal(true);
    expect((noFn as Error).message).to.include("updateEverything");
  });
});
