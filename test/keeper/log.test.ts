// Logs: JSON lines to the file, readable lines to the terminal, updateId on every line of an
// update, level from config, and redaction of keys, passwords and RPC URLs with API keys.
import { readFileSync } from "node:fs";
import path from "node:path";
import { Writable } from "node:stream";
import { expect } from "chai";
import { SimulatedClock } from "../../bot/keeper/clock.ts";
import { createKeeperLogger, createRedactor, forUpdate, redactUrl } from "../../bot/keeper/log.ts";
import { tempDir } from "./helpers.ts";

const PRIVATE_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const T0 = Date.UTC(2026, 0, 2, 3, 4, 5);

function capture(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  return { stream: new Writable({ write(c, _e, cb) { chunks.push(String(c)); cb(); } }), text: () => chunks.join("") };
}

describe("keeper/log", () => {
  const urls: { name: string; url: string; expected: string }[] = [
    { name: "Alchemy key in the path", url: "https://eth-mainnet.g.alchemy.com/v2/AbCdEf123456", expected: "https://eth-mainnet.g.alchemy.com/v2/***" },
    { name: "Infura key in the path", url: "https://mainnet.infura.io/v3/0123456789abcdef0123456789abcdef", expected: "https://mainnet.infura.io/v3/***" },
    { name: "QuickNode token segment", url: "https://red-dawn-abc.quiknode.pro/a1b2c3d4e5f6a7b8c9d0e1f2/", expected: "https://red-dawn-abc.quiknode.pro/***/" },
    { name: "user:password", url: "https://alice:hunter2@rpc.example.org:8545/", expected: "https://***@rpc.example.org:8545/" },
    { name: "key in the query", url: "wss://rpc.example.org/ws?apikey=SECRET&x=1", expected: "wss://rpc.example.org/ws?apikey=***&x=***" },
    { name: "plain local URL untouched", url: "http://127.0.0.1:8545/", expected: "http://127.0.0.1:8545/" },
  ];
  for (const c of urls) it(`redactUrl: ${c.name}`, () => expect(redactUrl(c.url)).to.equal(c.expected));

  it("redacts private keys, secret fields and URLs deeply, keeps public hashes in hash fields", () => {
    const r = createRedactor(["my-known-secret-value"]);
    const out = r.value({
      message: `signer ${PRIVATE_KEY} via https://eth-mainnet.g.alchemy.com/v2/AbCdEf123456`,
      nested: { password: "hunter2", privateKey: PRIVATE_KEY.slice(2), list: [{ apiKey: "k" }, PRIVATE_KEY] },
      evidenceHash: PRIVATE_KEY,
      txHash: PRIVATE_KEY,
      note: "contains my-known-secret-value here",
      header: "Authorization failed for Bearer eyJhbGciOiJIUzI1NiJ9.abc.def",
      amount: 10n ** 20n,
      error: new Error(`cannot connect to https://u:p@host.example/v3/0123456789abcdef0123456789abcdef`),
    }) as any;
    expect(out.message).to.equal("signer 0x*** via https://eth-mainnet.g.alchemy.com/v2/***");
    expect(out.nested).to.deep.equal({ password: "***", privateKey: "***", list: [{ apiKey: "***" }, "0x***"] });
    expect(out.evidenceHash).to.equal(PRIVATE_KEY);
    expect(out.txHash).to.equal(PRIVATE_KEY);
    expect(out.note).to.equal("contains *** here");
    expect(out.header).to.equal("Authorization failed for Bearer ***");
    expect(out.amount).to.equal("100000000000000000000");
    expect(out.error.message).to.equal("cannot connect to https://***@host.example/v3/***");
    expect(out.error.stack).to.not.contain("0123456789abcdef0123456789abcdef");
  });

  it("writes JSON lines to the file and readable lines to the terminal, with updateId on every line of an update", async () => {
    const t = tempDir();
    try {
      const file = path.join(t.dir, "logs", "keeper.log");
      const term = capture();
      const rpc = "https://eth-mainnet.g.alchemy.com/v2/AbCdEf123456";
      const { logger, close } = createKeeperLogger({ level: "info", file, terminal: term.stream, clock: new SimulatedClock(T0), secrets: [rpc] });
      const log = forUpdate(logger, { updateId: "ETH-USD-000007", market: "ETH-USD" });
      log.info("calibrated", { buffer: 0.07, rpc });
      log.warn(`signing with ${PRIVATE_KEY}`, { password: "hunter2" });
      log.debug("not at info level");
      logger.error(new Error(`rpc ${rpc} timed out`));
      await close();

      const lines = readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l));
      expect(lines).to.have.length(3);
      expect(lines[0]).to.deep.equal({ level: "info", message: "calibrated", updateId: "ETH-USD-000007", market: "ETH-USD", buffer: 0.07, rpc: "https://eth-mainnet.g.alchemy.com/v2/***", timestamp: "2026-01-02T03:04:05.000Z" });
      expect(lines[1]).to.deep.include({ level: "warn", message: "signing with 0x***", password: "***", updateId: "ETH-USD-000007" });
      expect(lines[2].level).to.equal("error");
      expect(lines[2].message).to.equal("rpc https://eth-mainnet.g.alchemy.com/v2/*** timed out");
      const all = readFileSync(file, "utf8") + term.text();
      expect(all).to.not.contain("AbCdEf123456").and.not.contain("hunter2").and.not.contain(PRIVATE_KEY.slice(2));
      expect(term.text().split("\n")[0]).to.equal("2026-01-02T03:04:05.000Z info  [ETH-USD ETH-USD-000007] calibrated buffer=0.07 rpc=https://eth-mainnet.g.alchemy.com/v2/***");
    } finally {
      t.cleanup();
    }
  });

  it("a log file that cannot be written is reported once and does not stop logging", async () => {
    const t = tempDir();
    try {
      const term = capture();
      // The "file" is a folder: opening it fails after start-up, as a full disk would.
      const { logger, close } = createKeeperLogger({ level: "info", file: t.dir, terminal: term.stream, clock: new SimulatedClock(T0) });
      logger.info("first");
      // Wait (bounded) for the open to fail: the error arrives asynchronously.
      for (let i = 0; i < 200 && !term.text().includes("cannot write"); i++) await new Promise((r) => setTimeout(r, 10));
      logger.info("second");
      await close();
      expect(term.text()).to.contain(`cannot write the log file ${t.dir}`);
      expect(term.text()).to.contain("info  second");
    } finally {
      t.cleanup();
    }
  });

  it("takes its level from config", async () => {
    const term = capture();
    const { logger, close } = createKeeperLogger({ level: "debug", terminal: term.stream, clock: new SimulatedClock(T0) });
    logger.debug("visible");
    await close();
    expect(term.text()).to.contain("debug visible");
  });
});
