// Secrets and access: the health server binds to loopback by default and is not reachable on any
// other interface; /healthz, /metrics, 404, 405 and the 500 path never serve a key, a password or
// an RPC URL's credentials, even when every one of them is planted in the report's inputs (error
// messages, market names, label values); the winston JSON file masks the same; the fork and chain
// layers' URL maskers (maskUrl, maskRpcUrl) hide the key in real providers' URL shapes.
import { readFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { maskRpcUrl } from "../../bot/chain/provider.ts";
import { maskUrl } from "../../bot/fork/session.ts";
import { SimulatedClock } from "../../bot/keeper/clock.ts";
import { startHealthServer, type HealthReport } from "../../bot/keeper/health.ts";
import { createKeeperLogger } from "../../bot/keeper/log.ts";
import { createKeeperMetrics } from "../../bot/keeper/metrics.ts";
import { tempDir } from "../keeper/helpers.ts";

const PRIVATE_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
/** [secret fragment, text carrying it]: RPC URLs of real providers' shapes and other credentials. */
const PLANTED: { name: string; secret: string; text: string }[] = [
  { name: "Alchemy key in path", secret: "AbCdEf0123456789AbCdEf0123456789", text: "https://eth-mainnet.g.alchemy.com/v2/AbCdEf0123456789AbCdEf0123456789" },
  { name: "Infura project id", secret: "0123456789abcdef0123456789abcdef", text: "https://mainnet.infura.io/v3/0123456789abcdef0123456789abcdef" },
  { name: "Infura websocket", secret: "fedcba9876543210fedcba9876543210", text: "wss://mainnet.infura.io/ws/v3/fedcba9876543210fedcba9876543210" },
  { name: "QuickNode token", secret: "4f1c2e9a8b7d6c5e4f3a2b1c0d9e8f7a6b5c4d3e", text: "https://little-wind-123.quiknode.pro/4f1c2e9a8b7d6c5e4f3a2b1c0d9e8f7a6b5c4d3e/" },
  { name: "user:password", secret: "hunter2-pw", text: "https://keeper:hunter2-pw@rpc.internal.example:8545/" },
  { name: "key in query", secret: "QueryKey777xyz", text: "https://rpc.example.org/?apikey=QueryKey777xyz&chain=1" },
  { name: "short key after /v2/", secret: "shortK3y12", text: "https://rpc.example.org/v2/shortK3y12" },
  { name: "private key", secret: PRIVATE_KEY.slice(2), text: PRIVATE_KEY },
  { name: "bearer token", secret: "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0", text: "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.c2VjcmV0" },
];
const KEYSTORE_PASSWORD = "correct horse battery staple";

const get = async (url: string, method = "GET") => {
  const response = await fetch(url, { method });
  return { status: response.status, text: await response.text() };
};

describe("Secrets and access", () => {
  const figures = { planted: PLANTED.length + 1, responsesChecked: 0, logLinesChecked: 0, leaks: 0 };
  after(() => {
    console.log(`      secrets: ${figures.planted} planted secrets; ${figures.responsesChecked} HTTP responses and ${figures.logLinesChecked} log lines grepped; ${figures.leaks} leaks`);
  });

  /** A report with every secret planted in free text, market names and error messages. */
  const plantedReport = (): HealthReport => ({
    status: "degraded", live: true, now: "2026-11-25T10:00:00.000Z", startedAt: "2026-11-25T09:00:00.000Z", uptimeSeconds: 3_600,
    submissionsAllowed: true, killSwitch: null, pendingUpdates: 0,
    alerts: [{ market: "ETH-USD", at: "2026-11-25T10:00:00.000Z", message: `maintenanceMarginBps changed by another writer via ${PLANTED.map((p) => p.text).join(" ; ")}` }],
    markets: {
      "ETH-USD": { running: false, followUpQueued: false, pending: 0, runs: 3, failures: 3, coalesced: 0,
        lastError: { at: "2026-11-25T10:00:00.000Z", message: `rpc failed: ${PLANTED.map((p) => p.text).join(" ; ")} password ${KEYSTORE_PASSWORD}` } },
    },
    lastErrors: PLANTED.map((p) => ({ market: "ETH-USD", at: "2026-11-25T10:00:00.000Z", message: `${p.name}: request to ${p.text} failed` })),
  });

  for (const known of [true, false]) {
    it(`health server ${known ? "with" : "without"} the secrets declared: no planted secret in any response`, async () => {
      const metrics = createKeeperMetrics();
      // Label values are where a careless caller would put a URL.
      metrics.rpcErrors.inc({ endpoint: PLANTED[0].text });
      metrics.runs.inc({ market: `ETH-USD ${PLANTED[4].text}`, outcome: "error" });
      let explode = false;
      const server = await startHealthServer({
        port: 0, metrics,
        report: () => {
          if (explode) throw new Error(`cannot build the report: ${PLANTED.map((p) => p.text).join(" ")}`);
          return plantedReport();
        },
        ...(known ? { secrets: [...PLANTED.map((p) => p.text), KEYSTORE_PASSWORD] } : {}),
      });
      try {
        expect(server.host, "default bind address").to.equal("127.0.0.1");
        const responses = [
          await get(`${server.url}/healthz`), await get(`${server.url}/metrics`), await get(`${server.url}/nope`),
          await get(`${server.url}/healthz`, "POST"),
        ];
        explode = true;
        responses.push(await get(`${server.url}/healthz`));
        expect(responses.map((r) => r.status)).to.deep.equal([200, 200, 404, 405, 500]);
        for (const r of responses) {
          figures.responsesChecked++;
          for (const p of PLANTED) {
            if (r.text.includes(p.secret)) figures.leaks++;
            expect(r.text, `${p.name} served (HTTP ${r.status})`).to.not.contain(p.secret);
          }
          // A free-text password can only be masked when it is declared (runtime.ts declares the RPC URLs).
          if (known) expect(r.text, "declared keystore password served").to.not.contain(KEYSTORE_PASSWORD);
        }
        expect(responses[0].text).to.contain("rpc.internal.example"); // hosts stay readable
      } finally {
        await server.close();
      }
    });
  }

  it("is not reachable on any non-loopback interface when bound by default", async function () {
    const server = await startHealthServer({ port: 0, metrics: createKeeperMetrics(), report: plantedReport });
    try {
      const external = Object.values(os.networkInterfaces()).flat().filter((i) => i && !i.internal && i.family === "IPv4").map((i) => i!.address);
      if (external.length === 0) {
        console.log("      (no non-loopback IPv4 interface here: bind address checked above only)");
        this.skip();
      }
      for (const address of external) {
        const outcome = await new Promise<string>((resolve) => {
          const socket = net.connect({ host: address, port: server.port });
          socket.setTimeout(2_000, () => { socket.destroy(); resolve("timeout"); });
          socket.once("connect", () => { socket.destroy(); resolve("connected"); });
          socket.once("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? "error"));
        });
        expect(outcome, `reachable on ${address}`).to.not.equal("connected");
      }
    } finally {
      await server.close();
    }
  });

  it("winston JSON file: no planted secret in messages, fields, errors and causes", async () => {
    const t = tempDir("riskkeeper-secrets-");
    try {
      const file = path.join(t.dir, "keeper.log");
      const { logger, close } = createKeeperLogger({ level: "debug", file, terminal: false, clock: new SimulatedClock(0), secrets: [KEYSTORE_PASSWORD] });
      for (const p of PLANTED) {
        logger.warn(`rpc ${p.text} failed`, { rpcUrl: p.text, detail: { url: p.text, nested: [p.text] } });
        logger.error("submission failed", { error: new Error(`fetch ${p.text}: 429`, { cause: new Error(`upstream ${p.text}`) }) });
      }
      logger.info("unlocking keystore", { password: KEYSTORE_PASSWORD, note: `with ${KEYSTORE_PASSWORD}` });
      await close();
      const text = readFileSync(file, "utf8");
      figures.logLinesChecked += text.trim().split("\n").length;
      for (const p of PLANTED) {
        if (text.includes(p.secret)) figures.leaks++;
        expect(text, `${p.name} in the log file`).to.not.contain(p.secret);
      }
      expect(text).to.not.contain(KEYSTORE_PASSWORD);
    } finally {
      t.cleanup();
    }
  });

  for (const [label, mask] of [["bot/fork maskUrl", maskUrl], ["bot/chain maskRpcUrl", maskRpcUrl]] as const) {
    it(`${label}: real providers' URL shapes keep the host and lose the key`, () => {
      for (const p of PLANTED.filter((x) => /^(https?|wss?):/.test(x.text))) {
        const masked = mask(p.text);
        // Both maskers share the log's rule (bot/url-mask.ts): short keys after /vN/ are masked too.
        expect(masked, `${label}(${p.name})`).to.not.contain(p.secret);
        expect(masked).to.contain(new URL(p.text).hostname);
      }
    });
  }
});
