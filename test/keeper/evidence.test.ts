// Evidence bundles: canonical JSON, the keccak256 hash, the file written before the hash is used.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { keccak256, toUtf8Bytes } from "ethers";
import { isRiskkeeperError } from "../../bot/errors.ts";
import { canonicalJson, evidenceFile, evidenceHash, readEvidence, verifyEvidence, writeEvidence, type EvidenceBundle } from "../../bot/keeper/evidence.ts";
import { tempDir } from "./helpers.ts";

const bundle = (): EvidenceBundle => ({
  dataReport: { rows: 8760, source: "binance-spot-1h/ETHUSDT.csv", last: "2024-12-31T23:00:00Z" },
  modelFit: { model: "fhs-ewma", lambda: 0.94, buffer: 0.0712 },
  backtest: { kupiecP: 0.41, breaches: 84 },
  fork: null,
  configHash: `0x${"ab".repeat(32)}`,
  proposal: { market: "ETH-USD", updates: [{ parameter: "maintenanceMarginBps", value: 725n, current: 600n }] },
});

describe("keeper/evidence", () => {
  const cases: { name: string; value: unknown; expected: string }[] = [
    { name: "sorted keys, nested", value: { b: 1, a: { d: [1, 2], c: "x" } }, expected: '{"a":{"c":"x","d":[1,2]},"b":1}' },
    { name: "bigint as decimal string", value: { v: 123456789012345678901234567890n, n: -5n }, expected: '{"n":"-5","v":"123456789012345678901234567890"}' },
    { name: "undefined members dropped, undefined in arrays null", value: { a: undefined, b: [undefined, null] }, expected: '{"b":[null,null]}' },
    { name: "unicode and escapes", value: { "é": "line\n\"q\"" }, expected: '{"é":"line\\n\\"q\\""}' },
    { name: "dates as ISO strings", value: { t: new Date(Date.UTC(2026, 0, 1)) }, expected: '{"t":"2026-01-01T00:00:00.000Z"}' },
  ];
  for (const c of cases) it(`canonicalJson: ${c.name}`, () => expect(canonicalJson(c.value)).to.equal(c.expected));

  it("canonicalJson refuses values without a canonical form, naming where", () => {
    for (const [value, at] of [[{ a: { b: Number.NaN } }, "$.a.b"], [{ f: () => 1 }, "$.f"], [[1, Infinity], "$[1]"]] as const) {
      try {
        canonicalJson(value);
        expect.fail("should throw");
      } catch (error) {
        expect(isRiskkeeperError(error, "INPUT_INVALID")).to.equal(true);
        expect((error as { input: string }).input).to.equal(at);
      }
    }
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalJson(cyclic)).to.throw(/cycle/);
  });

  it("the hash does not depend on key order and is keccak256 of the canonical text", () => {
    const a = { x: 1, y: [1n, 2n] };
    const b = { y: [1n, 2n], x: 1 };
    expect(evidenceHash(a)).to.equal(evidenceHash(b));
    expect(evidenceHash(a)).to.equal(keccak256(toUtf8Bytes('{"x":1,"y":["1","2"]}')));
  });

  it("writes <stateDir>/evidence/<hash>.json and verifies it; a tampered file fails verification", async () => {
    const t = tempDir();
    try {
      const { hash, file } = await writeEvidence(t.dir, bundle());
      expect(file).to.equal(path.join(t.dir, "evidence", `${hash}.json`));
      expect(hash).to.equal(evidenceHash(bundle()));
      expect(readFileSync(file, "utf8")).to.equal(canonicalJson(bundle()));
      expect(await verifyEvidence(file, hash)).to.deep.equal({ ok: true, actual: hash });
      const back = await readEvidence(t.dir, hash);
      expect((back.proposal as { updates: { value: string }[] }).updates[0].value).to.equal("725");
      // Same bundle again: same file, no error.
      expect((await writeEvidence(t.dir, bundle())).hash).to.equal(hash);

      writeFileSync(file, readFileSync(file, "utf8").replace("725", "925"));
      const bad = await verifyEvidence(file, hash);
      expect(bad.ok).to.equal(false);
      expect(bad.actual).to.match(/^0x[0-9a-f]{64}$/).and.not.equal(hash);
      const e = await readEvidence(t.dir, hash).then(() => undefined, (x: unknown) => x);
      expect(isRiskkeeperError(e, "STATE_INVALID")).to.equal(true);
      expect(await verifyEvidence(path.join(t.dir, "missing.json"), hash)).to.deep.equal({ ok: false, actual: undefined });
    } finally {
      t.cleanup();
    }
  });

  it("refuses a bundle with a missing stage or a bad config hash, writing nothing", async () => {
    const t = tempDir();
    try {
      const { fork: _fork, ...noFork } = bundle();
      for (const [b, input] of [[noFork, "evidence.fork"], [{ ...bundle(), configHash: "abc" }, "evidence.configHash"]] as const) {
        const e = await writeEvidence(t.dir, b as EvidenceBundle).then(() => undefined, (x: unknown) => x);
        expect(isRiskkeeperError(e, "INPUT_INVALID")).to.equal(true);
        expect((e as { input: string }).input).to.equal(input);
      }
      expect(existsSync(path.join(t.dir, "evidence"))).to.equal(false);
      expect(() => evidenceFile(t.dir, "../../etc/passwd")).to.throw(/not an evidence hash/);
    } finally {
      t.cleanup();
    }
  });
});
