// Health and metrics over real HTTP on loopback: /healthz and /metrics content, status codes,
// no secrets served, and the server stopped after each test.
import { writeFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { SimulatedClock } from "../../bot/keeper/clock.ts";
import { buildHealthReport, collectKeeperMetrics, startHealthServer, type HealthServer } from "../../bot/keeper/health.ts";
import { KillSwitch } from "../../bot/keeper/kill-switch.ts";
import { createKeeperMetrics, MetricsRegistry } from "../../bot/keeper/metrics.ts";
import { Scheduler } from "../../bot/keeper/scheduler.ts";
import { StateStore } from "../../bot/keeper/state.ts";
import { tempDir } from "./helpers.ts";

const T0 = Date.UTC(2026, 0, 1);
const H = (n: number) => `0x${n.toString(16).padStart(64, "0")}`;
const RPC = "https://eth-mainnet.g.alchemy.com/v2/Sup3rSecretApiKey99";
const schedule = { watch: "*/5 * * * * *", calibrate: "0 * * * *" };

describe("keeper/health", () => {
  let t: ReturnType<typeof tempDir>;
  let server: HealthServer | undefined;
  let store: StateStore | undefined;
  beforeEach(() => { t = tempDir(); });
  afterEach(async () => {
    await server?.close();
    await store?.close();
    server = undefined;
    store = undefined;
    t.cleanup();
  });

  async function keeper() {
    const clock = new SimulatedClock(T0);
    store = await StateStore.open(path.join(t.dir, "state.json"), { clock });
    const kill = new KillSwitch(path.join(t.dir, "KILL"));
    const metrics = createKeeperMetrics();
    collectKeeperMetrics(metrics, { store, killSwitch: kill });
    let fail = true;
    const s = new Scheduler({
      clock, metrics, killSwitch: kill,
      markets: [{ name: "ETH-USD", schedule }, { name: "BTC-USD", schedule }],
      run: async (ctx) => {
        if (ctx.market === "BTC-USD" && fail) { fail = false; throw new Error(`timeout calling ${RPC}`); }
      },
      onRunEnd: (m, o) => store!.recordRun(m, o),
    });
    const { record } = await store.begin("ETH-USD", H(1));
    const { record: r2 } = await store.begin("ETH-USD", H(2));
    await store.reject(r2.updateId, { code: "backtest-coverage", message: "kupiec p=0.002" });
    await store.begin("BTC-USD", H(3));
    metrics.submissions.inc({ market: "ETH-USD", mode: "direct" });
    metrics.rpcErrors.inc({ endpoint: "chain" }, 2);
    await clock.advance(60_000);
    await s.trigger("ETH-USD");
    await s.trigger("BTC-USD");
    const startedAt = T0;
    server = await startHealthServer({ port: 0, metrics, report: () => buildHealthReport({ clock, startedAt, scheduler: s, store, killSwitch: kill }), secrets: [RPC] });
    return { clock, s, kill, record, metrics };
  }

  it("binds to 127.0.0.1 by default and serves /healthz with runs, pending updates, kill switch and last errors", async () => {
    const { kill } = await keeper();
    expect(server!.host).to.equal("127.0.0.1");
    expect(server!.port).to.be.greaterThan(0);
    let res = await fetch(`${server!.url}/healthz`);
    expect(res.status).to.equal(200);
    expect(res.headers.get("content-type")).to.contain("application/json");
    const body = await res.json() as any;
    expect(body).to.deep.include({ status: "degraded", live: true, pendingUpdates: 2, submissionsAllowed: true, uptimeSeconds: 60 });
    expect(body.markets["ETH-USD"]).to.deep.include({ lastRunAt: "2026-01-01T00:01:00.000Z", lastSuccessAt: "2026-01-01T00:01:00.000Z", lastRunOk: true, pending: 1, runs: 1 });
    expect(body.markets["BTC-USD"]).to.deep.include({ lastRunOk: false, failures: 1, pending: 1 });
    expect(body.lastErrors).to.deep.equal([{ market: "BTC-USD", at: "2026-01-01T00:01:00.000Z", message: "timeout calling https://eth-mainnet.g.alchemy.com/v2/***" }]);
    expect(body.killSwitch).to.deep.include({ engaged: false });
    expect(body.alerts).to.deep.equal([]);

    writeFileSync(kill.file, "");
    res = await fetch(`${server!.url}/healthz`);
    const killed = await res.json() as any;
    expect(killed.submissionsAllowed).to.equal(false);
    expect(killed.killSwitch).to.deep.include({ engaged: true, fileExists: true });
  });

  it("serves /metrics in Prometheus text format with counters and gauges, no secrets", async () => {
    const { kill } = await keeper();
    writeFileSync(kill.file, "");
    const res = await fetch(`${server!.url}/metrics`);
    expect(res.status).to.equal(200);
    expect(res.headers.get("content-type")).to.equal("text/plain; version=0.0.4; charset=utf-8");
    const text = await res.text();
    for (const line of [
      "# TYPE riskkeeper_runs_total counter",
      'riskkeeper_runs_total{market="ETH-USD",outcome="ok"} 1',
      'riskkeeper_runs_total{market="BTC-USD",outcome="error"} 1',
      'riskkeeper_updates{state="observed"} 2',
      'riskkeeper_updates{state="rejected"} 1',
      'riskkeeper_updates{state="confirmed"} 0',
      'riskkeeper_pending_updates{market="ETH-USD"} 1',
      "# TYPE riskkeeper_rejections_total counter",
      'riskkeeper_rejections_total{market="ETH-USD",reason="backtest-coverage"} 1',
      'riskkeeper_submissions_total{market="ETH-USD",mode="direct"} 1',
      'riskkeeper_rpc_errors_total{endpoint="chain"} 2',
      `riskkeeper_last_run_timestamp_seconds{market="ETH-USD"} ${T0 / 1000 + 60}`,
      "riskkeeper_kill_switch_engaged 1",
    ]) expect(text.split("\n"), line).to.include(line);
    // Every non-comment line is `name{labels} value`.
    for (const line of text.trim().split("\n").filter((l) => !l.startsWith("#"))) expect(line).to.match(/^[a-z_:]+(\{[^}]*\})? [-+0-9.eInfNa]+$/);
    expect(text).to.not.contain("Sup3rSecretApiKey99");
  });

  it("answers 404 for other paths, 405 for other methods, 503 once stopped", async () => {
    const clock = new SimulatedClock(T0);
    let stopped = false;
    server = await startHealthServer({ port: 0, metrics: createKeeperMetrics(), report: () => buildHealthReport({ clock, startedAt: T0, stopped }) });
    expect((await fetch(`${server.url}/nope`)).status).to.equal(404);
    const post = await fetch(`${server.url}/healthz`, { method: "POST" });
    expect(post.status).to.equal(405);
    expect(post.headers.get("allow")).to.equal("GET, HEAD");
    expect((await fetch(`${server.url}/healthz`)).status).to.equal(200);
    stopped = true;
    const res = await fetch(`${server.url}/healthz`);
    expect(res.status).to.equal(503);
    expect(((await res.json()) as any).status).to.equal("stopped");
  });

  it("stops listening on close()", async () => {
    const s = await startHealthServer({ port: 0, metrics: createKeeperMetrics(), report: () => buildHealthReport({ clock: new SimulatedClock(T0), startedAt: T0 }) });
    await fetch(`${s.url}/healthz`);
    await s.close();
    const error = await fetch(`${s.url}/healthz`).then(() => undefined, (e: unknown) => e);
    expect(error).to.be.instanceOf(Error);
  });

  it("metrics registry escapes label values and refuses wrong labels", () => {
    const r = new MetricsRegistry();
    const c = r.counter("x_total", "help", ["market"]);
    c.inc({ market: 'a"b\\c\nd' });
    expect(r.render()).to.contain('x_total{market="a\\"b\\\\c\\nd"} 1');
    expect(() => c.inc({})).to.throw(/expected labels market/);
    expect(() => c.inc({ market: "m" }, -1)).to.throw(/only goes up/);
    expect(() => r.counter("x_total", "again")).to.throw(/twice/);
  });

  it("raises the pipelines' alerts (a change by another writer) and turns the status to degraded", () => {
    const clock = new SimulatedClock(Date.parse("2026-01-01T00:00:00Z"));
    const quiet = buildHealthReport({ clock, startedAt: clock.now(), alerts: () => [] });
    expect(quiet.status).to.equal("ok");
    const report = buildHealthReport({
      clock,
      startedAt: clock.now(),
      alerts: () => [
        { market: "ETH-USD", at: Date.parse("2026-01-01T00:00:00Z"), message: "maintenanceMarginBps changed by another writer: 500 -> 900" },
        { market: "ETH-USD", at: Date.parse("2026-01-01T01:00:00Z"), message: "read-back mismatch after the update: volAnnualPpm=800000 differ on chain" },
      ],
    });
    expect(report.status).to.equal("degraded");
    expect(report.alerts.map((a) => a.at)).to.deep.equal(["2026-01-01T01:00:00.000Z", "2026-01-01T00:00:00.000Z"]);
    expect(report.alerts[1].message).to.equal("maintenanceMarginBps changed by another writer: 500 -> 900");
  });
});
