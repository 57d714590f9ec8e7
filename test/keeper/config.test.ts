// Keeper config: defaults, path resolution, and every bad input refused with the key path named.
import { writeFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { isRiskkeeperError } from "../../bot/errors.ts";
import { configHash, defaultEmbeddedConfig, loadKeeperConfig, validateKeeperConfig } from "../../bot/keeper/config.ts";
import { folderContents, tempDir } from "./helpers.ts";

const FEED = "0x5f4eC3Df9cbd43714FE2740f5E3616155c5b8419";
const STEWARD = "0x1111111111111111111111111111111111111111";
const PROTOCOL = "0x2222222222222222222222222222222222222222";
const KNOWN = ["default-1h", "default-1d"];

function expectConfigError(fn: () => unknown, input: string, pattern?: RegExp): void {
  try {
    fn();
  } catch (error) {
    expect(isRiskkeeperError(error, "CONFIG_INVALID"), String(error)).to.equal(true);
    expect((error as { input: string }).input).to.equal(input);
    if (pattern) expect((error as Error).message).to.match(pattern);
    return;
  }
  expect.fail(`expected CONFIG_INVALID at ${input}`);
}

describe("keeper/config", () => {
  let t: ReturnType<typeof tempDir>;
  let doc: any;
  beforeEach(() => {
    t = tempDir();
    writeFileSync(path.join(t.dir, "eth.csv"), "time,close\n");
    doc = {
      rpcUrl: "https://eth-mainnet.g.alchemy.com/v2/SECRETKEY123",
      deployment: { steward: STEWARD, protocol: PROTOCOL },
      markets: [{ name: "ETH-USD", feed: FEED, data: "eth.csv", policy: "default-1h" }],
    };
  });
  afterEach(() => t.cleanup());
  const validate = (d: unknown = doc) => validateKeeperConfig(d, { knownPolicies: KNOWN, baseDir: t.dir, source: "keeper.json" });

  it("resolves a minimal config with defaults and absolute paths", () => {
    const c = validate();
    expect(c.markets[0]).to.deep.include({ name: "ETH-USD", feed: FEED, steward: STEWARD, protocol: PROTOCOL, data: path.join(t.dir, "eth.csv") });
    expect(c.markets[0].policy).to.deep.equal({ name: "default-1h" });
    expect(c.markets[0].schedule).to.deep.equal({ watch: "*/5 * * * * *", calibrate: "0 * * * *" });
    expect(c.health).to.deep.equal({ host: "127.0.0.1", port: 9464, enabled: true });
    expect(c.log.level).to.equal("info");
    expect(c.state.file).to.equal(path.join(t.dir, ".riskkeeper", "state.json"));
    expect(c.killSwitchFile).to.equal(path.join(t.dir, ".riskkeeper", "KILL"));
    expect(c.submission.mode).to.equal("direct");
    expect(c.stress.triggerLevel).to.equal("stressed");
    expect(c.stress.signals.vol.ewmaLambda).to.equal(0.94);
    expect(c.fork).to.deep.equal({ enabled: true, timeoutMs: 120_000 });
  });

  it("takes per-market schedules over the top-level ones, and a policy file by path", () => {
    writeFileSync(path.join(t.dir, "mine.json"), "{}");
    doc.schedule = { watch: "*/10 * * * * *", calibrate: "0 0 * * *" };
    doc.markets.push({ name: "BTC-USD", feed: STEWARD, data: "eth.csv", policy: "mine.json", schedule: { watch: "*/2 * * * * *" } });
    const c = validate();
    expect(c.markets[0].schedule).to.deep.equal({ watch: "*/10 * * * * *", calibrate: "0 0 * * *" });
    expect(c.markets[1].schedule).to.deep.equal({ watch: "*/2 * * * * *", calibrate: "0 0 * * *" });
    expect(c.markets[1].policy).to.deep.equal({ name: "mine", file: path.join(t.dir, "mine.json") });
  });

  const bad: { name: string; edit: (d: any) => void; input: string; pattern?: RegExp }[] = [
    { name: "missing feed address", edit: (d) => delete d.markets[0].feed, input: "keeper.json: markets[0].feed", pattern: /missing/ },
    { name: "feed not an address", edit: (d) => { d.markets[0].feed = "0x1234"; }, input: "keeper.json: markets[0].feed", pattern: /not an address/ },
    { name: "feed with a bad checksum", edit: (d) => { d.markets[0].feed = FEED.replace("eC3", "Ec3"); }, input: "keeper.json: markets[0].feed", pattern: /checksum/ },
    { name: "second market's feed", edit: (d) => d.markets.push({ name: "B", feed: "nope", data: "eth.csv", policy: "default-1d" }), input: "keeper.json: markets[1].feed", pattern: /not an address/ },
    { name: "unknown policy", edit: (d) => { d.markets[0].policy = "yolo"; }, input: "keeper.json: markets[0].policy", pattern: /unknown policy 'yolo'; known policies: default-1h, default-1d/ },
    { name: "policy file absent", edit: (d) => { d.markets[0].policy = "nope.json"; }, input: "keeper.json: markets[0].policy", pattern: /file not found/ },
    { name: "malformed cron (bad value)", edit: (d) => { d.schedule = { watch: "*/5 * * * * 99" }; }, input: "keeper.json: schedule.watch", pattern: /malformed cron expression/ },
    { name: "malformed cron (4 fields)", edit: (d) => { d.markets[0].schedule = { calibrate: "0 0 * *" }; }, input: "keeper.json: markets[0].schedule.calibrate", pattern: /expected 5 fields/ },
    { name: "malformed cron (words)", edit: (d) => { d.markets[0].schedule = { watch: "every five seconds" }; }, input: "keeper.json: markets[0].schedule.watch", pattern: /malformed cron/ },
    { name: "duplicate market", edit: (d) => d.markets.push({ ...d.markets[0] }), input: "keeper.json: markets[1].name", pattern: /twice/ },
    { name: "no markets", edit: (d) => { d.markets = []; }, input: "keeper.json: markets" },
    { name: "data file absent", edit: (d) => { d.markets[0].data = "missing.csv"; }, input: "keeper.json: markets[0].data", pattern: /file not found/ },
    { name: "unknown key (typo)", edit: (d) => { d.markets[0].polcy = "x"; }, input: "keeper.json: markets[0].polcy", pattern: /unknown key/ },
    { name: "history source unknown", edit: (d) => { d.markets[0].history = "oracle"; }, input: "keeper.json: markets[0].history", pattern: /expected "feed" or "file"/ },
    { name: "history file without a data file", edit: (d) => { d.markets[0].history = "file"; delete d.markets[0].data; }, input: "keeper.json: markets[0].data", pattern: /history "file" calibrates on a data file/ },
    { name: "history maxRounds not an integer", edit: (d) => { d.markets[0].history = { source: "feed", maxRounds: 1.5 }; }, input: "keeper.json: markets[0].history.maxRounds" },
    { name: "rpcRequestsPerSecond zero", edit: (d) => { d.rpcRequestsPerSecond = 0; }, input: "keeper.json: rpcRequestsPerSecond" },
    { name: "steward not an address", edit: (d) => { d.deployment.steward = 42; }, input: "keeper.json: deployment.steward" },
    { name: "zero address", edit: (d) => { d.markets[0].feed = "0x0000000000000000000000000000000000000000"; }, input: "keeper.json: markets[0].feed", pattern: /zero address/ },
    { name: "rpcUrl missing off the embedded chain", edit: (d) => delete d.rpcUrl, input: "keeper.json: rpcUrl" },
    { name: "rpcUrl not a URL (value not echoed)", edit: (d) => { d.rpcUrl = "SECRET-not-a-url"; }, input: "keeper.json: rpcUrl", pattern: /^(?!.*SECRET)/ },
    { name: "submission mode", edit: (d) => { d.submission = { mode: "yolo" }; }, input: "keeper.json: submission.mode" },
    { name: "log level", edit: (d) => { d.log = { level: "verbose" }; }, input: "keeper.json: log.level" },
    { name: "health port", edit: (d) => { d.health = { port: 70000 }; }, input: "keeper.json: health.port" },
    { name: "gas priority above max fee", edit: (d) => { d.gas = { maxFeePerGasGwei: 10, maxPriorityFeePerGasGwei: 20 }; }, input: "keeper.json: gas.maxPriorityFeePerGasGwei" },
    { name: "trigger level", edit: (d) => { d.stress = { triggerLevel: "calm" }; }, input: "keeper.json: stress.triggerLevel" },
    { name: "signal bands not increasing", edit: (d) => { d.stress = { signals: { vol: { ratio: { elevated: 3, stressed: 2, critical: 1 } } } }; }, input: "keeper.json: stress.signals.vol.ratio" },
    { name: "keepTerminalPerMarket", edit: (d) => { d.state = { keepTerminalPerMarket: 0 }; }, input: "keeper.json: state.keepTerminalPerMarket" },
    { name: "root not an object", edit: () => {}, input: "keeper.json: (root)" },
  ];
  for (const c of bad) {
    it(`refuses: ${c.name}`, () => {
      if (c.input.endsWith("(root)")) return expectConfigError(() => validate([]), c.input);
      c.edit(doc);
      expectConfigError(() => validate(), c.input, c.pattern);
    });
  }

  it("loadKeeperConfig resolves paths against the file's folder and writes nothing on a bad file", async () => {
    const file = path.join(t.dir, "keeper.json");
    writeFileSync(file, JSON.stringify(doc));
    const ok = await loadKeeperConfig(file, { knownPolicies: KNOWN });
    expect(ok.markets[0].data).to.equal(path.join(t.dir, "eth.csv"));
    expect(ok.source).to.equal(file);

    for (const broken of ["{ not json", JSON.stringify({ ...doc, markets: [{ ...doc.markets[0], policy: "yolo" }] })]) {
      writeFileSync(file, broken);
      const before = folderContents(t.dir);
      const error = await loadKeeperConfig(file, { knownPolicies: KNOWN }).then(() => undefined, (e: unknown) => e);
      expect(isRiskkeeperError(error, "CONFIG_INVALID")).to.equal(true);
      expect((error as Error).message).to.contain(file);
      expect(folderContents(t.dir)).to.deep.equal(before);
    }
  });

  it("has an embedded default and a config hash that ignores secrets", () => {
    const c = defaultEmbeddedConfig({ knownPolicies: KNOWN, dataFile: "eth.csv", replaySource: "rounds.csv", baseDir: t.dir });
    expect(c.deployment.kind).to.equal("embedded");
    expect(c.markets[0].replay?.source).to.equal(path.join(t.dir, "rounds.csv"));
    expect(c.health.port).to.equal(0);
    const a = validate();
    const b = validate({ ...doc, rpcUrl: "https://eth-mainnet.g.alchemy.com/v2/OTHERKEY" });
    expect(configHash(a)).to.match(/^0x[0-9a-f]{64}$/);
    expect(configHash(a)).to.equal(configHash(b));
    expect(configHash(a)).to.not.equal(configHash(validate({ ...doc, gas: { gasLimit: 600_000 } })));
  });
});
